//! Message-type modules register under an id; the store's entries, `SendAs` and the command
//! line find them by that id and ask what each can do.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use serde::Serialize;

/// Something a module may or may not do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Capability {
    /// Send messages.
    Send,
    /// Receive messages.
    Receive,
    /// Create replies.
    Reply,
    /// Create forwards.
    Forward,
    /// Find text in messages.
    Find,
    /// Carry attachments.
    Attachments,
    /// Carry HTML bodies.
    Html,
    /// Send at a scheduled time.
    ScheduledSend,
    /// Send with the next connection.
    SendOnConnection,
    /// Keep account settings.
    Settings,
    /// Report progress while sending.
    Progress,
    /// Per-recipient delivery records.
    RecipientRecords,
}

impl Capability {
    /// Every capability.
    pub const ALL: [Capability; 12] = [
        Capability::Send,
        Capability::Receive,
        Capability::Reply,
        Capability::Forward,
        Capability::Find,
        Capability::Attachments,
        Capability::Html,
        Capability::ScheduledSend,
        Capability::SendOnConnection,
        Capability::Settings,
        Capability::Progress,
        Capability::RecipientRecords,
    ];
}

impl fmt::Display for Capability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = serde_json::to_value(self)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string));
        f.write_str(&name.unwrap_or_default())
    }
}

/// A message-type module.
pub trait MessageTypeModule: Send + Sync {
    /// The id it registers under and that its entries carry (`"smtp"`).
    fn id(&self) -> &'static str;
    /// One line saying what it is.
    fn description(&self) -> &'static str;
    /// Whether it does `capability`.
    fn supports(&self, capability: Capability) -> bool;
}

/// The modules known to a program.
#[derive(Clone, Default)]
pub struct Registry {
    modules: BTreeMap<&'static str, Arc<dyn MessageTypeModule>>,
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Registry {
        Registry::default()
    }

    /// A registry with the modules that ship with mailroom: SMTP and Maildir.
    pub fn standard() -> Registry {
        let mut registry = Registry::new();
        registry.register(Arc::new(crate::client::SmtpModule));
        registry.register(Arc::new(crate::maildir::MaildirModule));
        registry
    }

    /// Adds `module`, replacing one registered under the same id.
    pub fn register(&mut self, module: Arc<dyn MessageTypeModule>) {
        self.modules.insert(module.id(), module);
    }

    /// The module registered under `id`.
    pub fn get(&self, id: &str) -> Option<Arc<dyn MessageTypeModule>> {
        self.modules.get(id).cloned()
    }

    /// The registered ids, sorted.
    pub fn ids(&self) -> Vec<&'static str> {
        self.modules.keys().copied().collect()
    }

    /// Every capability of module `id`.
    pub fn capabilities(&self, id: &str) -> Vec<Capability> {
        match self.get(id) {
            Some(m) => Capability::ALL
                .into_iter()
                .filter(|c| m.supports(*c))
                .collect(),
            None => Vec::new(),
        }
    }
}

impl fmt::Debug for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.modules.keys()).finish()
    }
}

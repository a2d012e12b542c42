//! A second, small module: it "sends" Outbox messages by writing them into a Maildir folder
//! (`tmp/`, then an atomic rename into `new/`). It shares the Outbox, the message model and the
//! records with SMTP, which shows the framework is not shaped around SMTP alone.

use std::fs;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use mailroom_store::{Claim, EntryError, EntryId, Filter, RecipientState, SendState, Store};
use serde::{Deserialize, Serialize};

use crate::body::Content;
use crate::error::{Error, chain};
use crate::registry::{Capability, MessageTypeModule};
use crate::report::MessageReport;

/// The id of the Maildir module.
pub const MAILDIR_MTM: &str = "maildir";

/// The Maildir module as registered.
pub struct MaildirModule;

impl MessageTypeModule for MaildirModule {
    fn id(&self) -> &'static str {
        MAILDIR_MTM
    }

    fn description(&self) -> &'static str {
        "writes outgoing messages into a local Maildir folder"
    }

    fn supports(&self, capability: Capability) -> bool {
        use Capability::*;
        matches!(
            capability,
            Send | Attachments | Html | Settings | RecipientRecords
        )
    }
}

/// Settings of a Maildir service.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MaildirSettings {
    /// The Maildir folder (with `tmp/`, `new/` and `cur/`, created if missing).
    pub path: PathBuf,
}

/// Delivers the Outbox messages of one Maildir service.
pub struct MaildirSender {
    store: Arc<Store>,
    settings: MaildirSettings,
    service: Option<EntryId>,
    owner: String,
}

impl MaildirSender {
    /// A sender for messages of `service` (or of no service) into `settings.path`.
    pub fn new(store: Arc<Store>, settings: MaildirSettings, service: Option<EntryId>) -> Self {
        let owner = crate::host::owner_name("maildir");
        MaildirSender {
            store,
            settings,
            service,
            owner,
        }
    }

    /// Writes every queued Maildir message of the service into the folder.
    pub fn deliver_queued(&self) -> Result<Vec<MessageReport>, Error> {
        for sub in ["tmp", "new", "cur"] {
            fs::create_dir_all(self.settings.path.join(sub)).map_err(|e| {
                Error::config(format!(
                    "cannot create the Maildir {}",
                    self.settings.path.display()
                ))
                .with_source(e)
            })?;
        }
        let states = [
            SendState::Waiting,
            SendState::Scheduled,
            SendState::Resend,
            SendState::UponRequest,
        ];
        let mut filter = Filter::all().mtm(MAILDIR_MTM).send_states(&states);
        if let Some(service) = self.service {
            filter = filter.service(service);
        }
        let ids: Vec<EntryId> = self
            .store
            .children(EntryId::OUTBOX, &filter)?
            .iter()
            .map(|e| e.id)
            .collect();
        let claim = Claim {
            folder: EntryId::OUTBOX,
            service: self.service,
            states: &states,
            now: SystemTime::now(),
            due_before: Some(crate::sender::far_future()),
            owner: &self.owner,
            lease: std::time::Duration::from_secs(600),
            limit: ids.len(),
            ids: Some(&ids),
        };
        let mut reports = Vec::new();
        for mut entry in self.store.claim(&claim)? {
            let written = Content::load(&self.store, entry.id)
                .and_then(|content| self.write_one(content, entry.id));
            let now = SystemTime::now();
            match written {
                Ok(_) => {
                    for r in entry.recipients.iter_mut() {
                        r.state = RecipientState::Accepted;
                        r.time = Some(now);
                    }
                    entry.send_state = Some(SendState::Sent);
                    entry.error = None;
                    self.store
                        .finish(&entry, &self.owner, Some(EntryId::SENT))?;
                }
                Err(e) => {
                    entry.send_state = Some(SendState::Failed);
                    entry.error = Some(EntryError {
                        kind: "maildir".into(),
                        code: None,
                        text: chain(&e),
                    });
                    self.store.finish(&entry, &self.owner, None)?;
                }
            }
            reports.push(MessageReport::from_entry(&entry));
        }
        Ok(reports)
    }

    fn write_one(&self, content: Content, id: EntryId) -> std::io::Result<PathBuf> {
        let name = unique_name();
        let tmp = self.settings.path.join("tmp").join(&name);
        let file = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)?;
        let mut out = BufWriter::new(file);
        let result = content
            .write_to(&self.store, id, true, &mut out)
            .and_then(|()| {
                let file = out.into_inner().map_err(|e| e.into_error())?;
                file.sync_all()
            });
        if let Err(e) = result {
            let _ = fs::remove_file(&tmp);
            return Err(e);
        }
        let new = self.settings.path.join("new").join(&name);
        fs::rename(&tmp, &new)?;
        sync_dir(&self.settings.path.join("new"))?;
        Ok(new)
    }
}

fn unique_name() -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let host = crate::host::hostname().replace(['/', ':'], "_");
    format!(
        "{}.M{}P{}R{:08x}.{host}",
        now.as_secs(),
        now.subsec_micros(),
        std::process::id(),
        rand::random::<u32>()
    )
}

fn sync_dir(dir: &Path) -> std::io::Result<()> {
    fs::File::open(dir)?.sync_all()
}

//! `SmtpClientMtm`: the API that edits one message (the context), saves and loads it, builds
//! replies and forwards, finds text, keeps account settings, and hands messages to the Outbox.

use std::io::Read;
use std::path::Path;
use std::sync::Arc;
use std::time::SystemTime;

use mailroom_mime::{
    Attachment, ForwardMode, Mailbox, Match, Message, ReplyOptions, Scope, Source,
};
use mailroom_store::{Entry, EntryId, EntryKind, NewEntry, RecipientKind, RecipientState, Store};

use crate::error::{Error, ErrorKind, chain};
use crate::outbox::{
    MTM_ID, STREAM_ENVELOPE, STREAM_MESSAGE, STREAM_RAW, SendOption, StoredEnvelope, fix_identity,
    held_by_sender, open_attachment, parse_mailbox, recipient_records,
};
use crate::registry::{Capability, MessageTypeModule};
use crate::services::Services;
use crate::settings::{BodyEncoding, CopyToSelf, SmtpSettings};

/// Prefix of the streams holding a message's attachments.
const ATTACHMENT_PREFIX: &str = "attachment-";

/// The SMTP module as registered.
pub struct SmtpModule;

impl MessageTypeModule for SmtpModule {
    fn id(&self) -> &'static str {
        MTM_ID
    }

    fn description(&self) -> &'static str {
        "sends internet email over SMTP"
    }

    fn supports(&self, capability: Capability) -> bool {
        !matches!(capability, Capability::Receive)
    }
}

/// Edits one message at a time (the context) and hands it to the Outbox.
pub struct SmtpClientMtm {
    store: Arc<Store>,
    context: Option<Entry>,
    message: Option<Message>,
    /// The attachment streams this client wrote, by message.
    written: Vec<(EntryId, String)>,
}

/// Copies a file into a new attachment stream of message `id`; returns the stream's key.
fn copy_file(store: &Store, id: EntryId, path: &Path) -> Result<String, Error> {
    let mut file = open_attachment(path)?;
    let key = format!("{ATTACHMENT_PREFIX}{}", rand::random::<u64>());
    store.write_stream(id, &key, &mut file)?;
    Ok(key)
}

/// The stream keys a message's parts are read from.
fn stream_keys(message: &Message) -> Vec<String> {
    message
        .attachments
        .iter()
        .chain(&message.inline)
        .filter_map(|a| match &a.source {
            Source::Stream { key } => Some(key.clone()),
            _ => None,
        })
        .collect()
}

impl SmtpClientMtm {
    /// A client MTM on `store` with no context.
    pub fn new(store: Arc<Store>) -> SmtpClientMtm {
        SmtpClientMtm {
            store,
            context: None,
            message: None,
            written: Vec::new(),
        }
    }

    /// The store it works on.
    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }

    /// The context entry's id.
    pub fn context(&self) -> Option<EntryId> {
        self.context.as_ref().map(|e| e.id)
    }

    /// Makes `id` (a message or a service of this module) the context; a message is loaded.
    pub fn switch_context(&mut self, id: EntryId) -> Result<(), Error> {
        let entry = self.store.entry(id)?;
        if entry.mtm != MTM_ID || !matches!(entry.kind, EntryKind::Message | EntryKind::Service) {
            return Err(Error::input(format!(
                "entry {id} is not an SMTP message or account"
            )));
        }
        self.context = Some(entry);
        self.message = None;
        if self.context_kind() == Some(EntryKind::Message) {
            self.load()?;
        }
        Ok(())
    }

    /// Asks whether the module does `capability`: `Ok` if it does, a clear "not supported"
    /// error if not.
    pub fn query_capability(&self, capability: Capability) -> Result<(), Error> {
        if SmtpModule.supports(capability) {
            Ok(())
        } else {
            Err(Error::new(
                ErrorKind::NotSupported,
                format!("the SMTP module does not support {capability}: it only sends mail"),
            ))
        }
    }

    /// Receiving is not part of the SMTP module.
    pub fn receive(&self) -> Result<(), Error> {
        self.query_capability(Capability::Receive)
    }

    /// Creates a message in Drafts for `service` (or none), in preparation until first saved,
    /// with the account's From, Reply-To, receipt request, signature and vCard, and makes it the
    /// context.
    pub fn create_message(&mut self, service: Option<EntryId>) -> Result<EntryId, Error> {
        let settings = self.account_settings(service)?;
        let mut message = Message::default();
        if let Some(address) = &settings.address {
            let mut from = parse_mailbox("account address", address)?;
            from.name = settings.display_name.clone().filter(|n| !n.is_empty());
            message.from = Some(from);
        }
        if let Some(reply_to) = &settings.reply_to {
            message.reply_to = vec![parse_mailbox("reply-to address", reply_to)?];
        }
        if settings.request_receipts {
            let to = settings
                .receipt_address
                .as_ref()
                .or(settings.address.as_ref());
            if let Some(to) = to {
                message.receipt_to = Some(parse_mailbox("receipt address", to)?);
            }
        }
        message.signature = settings.signature.clone();
        message.vcard = settings.vcard.clone();
        let mut new = NewEntry::message(EntryId::DRAFTS, MTM_ID, service);
        new.flags.in_preparation = true;
        new.flags.visible = false;
        let json =
            serde_json::to_vec(&message).map_err(|e| Error::input("message").with_source(e))?;
        let id = self.store.create(
            &new,
            &mut [(STREAM_MESSAGE, &mut json.as_slice() as &mut dyn Read)],
        )?;
        self.context = Some(self.store.entry(id)?);
        self.message = Some(message);
        Ok(id)
    }

    /// The cached message of the context.
    pub fn message(&self) -> Result<&Message, Error> {
        self.message.as_ref().ok_or_else(no_message)
    }

    /// The cached message of the context, to change; [`save`](Self::save) commits it.
    pub fn message_mut(&mut self) -> Result<&mut Message, Error> {
        self.message.as_mut().ok_or_else(no_message)
    }

    /// Adds an addressee (`Name <addr>` or `addr`) as To, Cc or Bcc.
    pub fn add_addressee(&mut self, kind: RecipientKind, mailbox: &str) -> Result<(), Error> {
        let mailbox = parse_mailbox("addressee", mailbox)?;
        let message = self.message_mut()?;
        match kind {
            RecipientKind::To => message.to.push(mailbox),
            RecipientKind::Cc => message.cc.push(mailbox),
            RecipientKind::Bcc => message.bcc.push(mailbox),
        }
        Ok(())
    }

    /// Removes every addressee with this address (any kind, ignoring case); says if any was.
    pub fn remove_addressee(&mut self, address: &str) -> Result<bool, Error> {
        let message = self.message_mut()?;
        let before = message.to.len() + message.cc.len() + message.bcc.len();
        let same = |m: &Mailbox| m.address.as_str().eq_ignore_ascii_case(address);
        message.to.retain(|m| !same(m));
        message.cc.retain(|m| !same(m));
        message.bcc.retain(|m| !same(m));
        Ok(before != message.to.len() + message.cc.len() + message.bcc.len())
    }

    /// Sets the subject.
    pub fn set_subject(&mut self, subject: &str) -> Result<(), Error> {
        self.message_mut()?.subject = Some(subject.to_string());
        Ok(())
    }

    /// Sets the plain text body.
    pub fn set_body(&mut self, text: &str) -> Result<(), Error> {
        self.message_mut()?.text = Some(text.to_string());
        Ok(())
    }

    /// Sets the HTML alternative of the body.
    pub fn set_html(&mut self, html: &str) -> Result<(), Error> {
        self.message_mut()?.html = Some(html.to_string());
        Ok(())
    }

    /// Attaches a file: its bytes are copied into the store now, in constant memory, so the
    /// message no longer depends on the file. The file name shown is the path's last part.
    pub fn add_attachment_file(&mut self, path: &Path, content_type: &str) -> Result<(), Error> {
        let id = self.context_message_id()?;
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or_else(|| Error::input(format!("{} has no usable file name", path.display())))?
            .to_string();
        check_content_type(content_type)?;
        let key = copy_file(&self.store, id, path)?;
        self.written.push((id, key.clone()));
        let attachment = Attachment {
            file_name: Some(name),
            content_type: content_type.to_string(),
            content_id: None,
            source: Source::Stream { key },
        };
        self.message_mut()?.attachments.push(attachment);
        Ok(())
    }

    /// Copies into the store the parts that still name a file (`Attachment::from_file` put
    /// in through [`message_mut`](Self::message_mut)), as `add_attachment_file` does: what is
    /// sent is the file as it is now, whatever happens to it later.
    fn copy_attached_files(&mut self, id: EntryId) -> Result<(), Error> {
        let store = self.store.clone();
        let mut written = Vec::new();
        let message = self.message_mut()?;
        for part in message
            .attachments
            .iter_mut()
            .chain(message.inline.iter_mut())
        {
            if let Source::File { path } = &part.source {
                let key = copy_file(&store, id, path)?;
                written.push((id, key.clone()));
                part.source = Source::Stream { key };
            }
        }
        self.written.extend(written);
        Ok(())
    }

    /// Removes the attachment at `index`.
    pub fn remove_attachment(&mut self, index: usize) -> Result<Attachment, Error> {
        let message = self.message_mut()?;
        if index >= message.attachments.len() {
            return Err(Error::input(format!("there is no attachment {index}")));
        }
        Ok(message.attachments.remove(index))
    }

    /// Commits the cached message to the store and refreshes the entry's size, description,
    /// details, date, flags and email fields. The message stops being in preparation.
    pub fn save(&mut self) -> Result<(), Error> {
        self.check_editable()?;
        let mut entry = self.context_message()?.clone();
        self.message()?
            .validate()
            .map_err(|e| Error::input("invalid message").with_source(e))?;
        self.copy_attached_files(entry.id)?;
        let message = self.message()?.clone();
        let size = rendered_size(&self.store, entry.id, &message)?;
        describe(&mut entry, &message, size);
        entry.flags.in_preparation = false;
        entry.flags.visible = true;
        let json =
            serde_json::to_vec(&message).map_err(|e| Error::input("message").with_source(e))?;
        // A part's stream goes only when this save drops it: it was in the stored message, or
        // this client wrote it. Another client's attachment, written but not saved yet, stays.
        let keep = stream_keys(&message);
        let stored = read_all(&self.store, entry.id, STREAM_MESSAGE)
            .ok()
            .and_then(|json| serde_json::from_slice::<Message>(&json).ok())
            .map(|m| stream_keys(&m))
            .unwrap_or_default();
        let unused: Vec<String> = self
            .store
            .stream_names(entry.id)?
            .into_iter()
            .filter(|n| n.starts_with(ATTACHMENT_PREFIX) && !keep.contains(n))
            .filter(|n| stored.contains(n) || self.written.contains(&(entry.id, n.clone())))
            .collect();
        self.store.batch(|b| {
            b.write_stream(entry.id, STREAM_MESSAGE, &mut json.as_slice())?;
            for name in &unused {
                b.delete_stream(entry.id, name)?;
            }
            b.update(&entry)
        })?;
        self.context = Some(self.store.entry(entry.id)?);
        Ok(())
    }

    /// Deletes the context message, which must be a draft (a sent or queued message goes
    /// through `Outbox::delete`), and leaves no context.
    pub fn discard(&mut self) -> Result<(), Error> {
        let id = self.context_message_id()?;
        let entry = self.store.entry(id)?;
        if entry.parent != EntryId::DRAFTS {
            return Err(Error::input(format!(
                "message {id} is not a draft (Outbox::delete removes queued and sent messages)"
            )));
        }
        self.store.delete(id)?;
        self.context = None;
        self.message = None;
        Ok(())
    }

    /// Fills the cache from the store (a composed message, or a raw one parsed).
    pub fn load(&mut self) -> Result<(), Error> {
        let id = self.context_message_id()?;
        let names = self.store.stream_names(id)?;
        let message = if names.iter().any(|n| n == STREAM_MESSAGE) {
            let json = read_all(&self.store, id, STREAM_MESSAGE)?;
            serde_json::from_slice(&json).map_err(|e| {
                Error::new(ErrorKind::Store, "the stored message is unreadable").with_source(e)
            })?
        } else if names.iter().any(|n| n == STREAM_RAW) {
            let raw = read_all(&self.store, id, STREAM_RAW)?;
            mailroom_mime::parse_message(&raw)
                .map_err(|e| Error::input("the stored message cannot be parsed").with_source(e))?
                .message
        } else {
            return Err(Error::new(
                ErrorKind::NotFound,
                format!("message {id} has no content"),
            ));
        };
        self.context = Some(self.store.entry(id)?);
        self.message = Some(message);
        Ok(())
    }

    /// Checks that the message can be sent: a From, at least one recipient, valid header text,
    /// and nothing a plain-text account cannot carry.
    pub fn validate(&self) -> Result<(), Error> {
        let message = self.message()?;
        let settings = self.account_settings(self.context_message()?.service)?;
        if settings.body_encoding == BodyEncoding::Plain
            && (message.html.is_some()
                || !message.attachments.is_empty()
                || !message.inline.is_empty())
        {
            return Err(Error::input(
                "the account sends plain text only: remove the HTML body and attachments",
            ));
        }
        if message.from.is_none() {
            return Err(Error::input("the message has no From address"));
        }
        if message.to.is_empty() && message.cc.is_empty() && message.bcc.is_empty() {
            return Err(Error::input("the message has no recipients"));
        }
        message
            .validate()
            .map_err(|e| Error::input("invalid message").with_source(e))
    }

    /// A reply (to all, or only to the sender) to the context message, created in Drafts for
    /// the same account and made the context.
    pub fn reply(&mut self, all: bool) -> Result<EntryId, Error> {
        self.reply_as(all, None)
    }

    /// Like [`reply`](Self::reply), written as `identity` when the original's account gives no
    /// address (a message sent with no account): that address is then the From, it is left
    /// out of a reply to all, and a reply to one's own message goes to its recipients.
    pub fn reply_as(&mut self, all: bool, identity: Option<&Mailbox>) -> Result<EntryId, Error> {
        let (original, service, opts) = self.derive_from_context(identity)?;
        let reply = if all {
            mailroom_mime::reply_all(&original, &opts)
        } else {
            mailroom_mime::reply(&original, &opts)
        };
        self.create_derived(service, reply)
    }

    /// A forward of the context message, inline or as an attached message/rfc822 (without the
    /// Bcc fields a stored original keeps).
    pub fn forward(&mut self, as_attachment: bool) -> Result<EntryId, Error> {
        self.forward_as(as_attachment, None)
    }

    /// Like [`forward`](Self::forward), from `identity` when the original's account gives no
    /// address.
    pub fn forward_as(
        &mut self,
        as_attachment: bool,
        identity: Option<&Mailbox>,
    ) -> Result<EntryId, Error> {
        let (original, service, opts) = self.derive_from_context(identity)?;
        let id = self.context_message_id()?;
        let raw = self.original_bytes(id, &original)?;
        let mode = if as_attachment {
            ForwardMode::Attached
        } else {
            ForwardMode::Inline
        };
        let forward = mailroom_mime::forward(&original, Some(&raw), mode, &opts)
            .map_err(|e| Error::input("cannot forward the message").with_source(e))?;
        let streams = original
            .attachments
            .iter()
            .chain(&original.inline)
            .filter_map(|a| match &a.source {
                Source::Stream { key } if !as_attachment => Some(key.clone()),
                _ => None,
            })
            .collect::<Vec<_>>();
        let new_id = self.create_derived(service, forward)?;
        for key in streams {
            let mut reader = self.store.open_stream(id, &key)?;
            self.store.write_stream(new_id, &key, &mut reader)?;
        }
        Ok(new_id)
    }

    /// Puts the user's own text above the quote of the reply or forward in the context: in the
    /// plain text and, HTML-escaped, in the HTML part when there is one.
    pub fn write_above_quote(&mut self, text: &str) -> Result<(), Error> {
        self.message_mut()?.write_above_quote(text);
        Ok(())
    }

    /// Finds `text` in the chosen parts of the context message, ignoring case.
    pub fn find(&self, text: &str, scope: Scope) -> Result<Vec<Match>, Error> {
        Ok(mailroom_mime::find(self.message()?, text, scope))
    }

    /// Stores `settings` for the context service, after checking them.
    pub fn store_settings(&self, settings: &SmtpSettings) -> Result<(), Error> {
        settings.validate()?;
        Services::new(self.store.clone()).set_settings(self.context_service_id()?, settings)
    }

    /// The settings of the context service.
    pub fn restore_settings(&self) -> Result<SmtpSettings, Error> {
        Services::new(self.store.clone()).settings(self.context_service_id()?)
    }

    /// Saves the context message and moves it from Drafts to the Outbox, to go `when` asked
    /// (a copy to self is added if the account wants one). Returns its id; sending it now is
    /// the [`Sender`](crate::Sender)'s work.
    pub fn queue(&mut self, when: SendOption) -> Result<EntryId, Error> {
        self.check_editable()?;
        let settings = self.account_settings(self.context_message()?.service)?;
        if let (Some(address), kind) = (&settings.address, settings.copy_to_self)
            && kind != CopyToSelf::None
        {
            let me = parse_mailbox("account address", address)?;
            let message = self.message_mut()?;
            let present = message
                .to
                .iter()
                .chain(&message.cc)
                .chain(&message.bcc)
                .any(|m| m.address.as_str().eq_ignore_ascii_case(me.address.as_str()));
            if !present {
                match kind {
                    CopyToSelf::To => message.to.push(me),
                    CopyToSelf::Cc => message.cc.push(me),
                    _ => message.bcc.push(me),
                }
            }
        }
        fix_identity(self.message_mut()?);
        self.validate()?;
        self.save()?;
        let message = self.message()?.clone();
        let mut entry = self.context_message()?.clone();
        let from = message
            .from
            .as_ref()
            .map(|m| m.address.to_string())
            .unwrap_or_default();
        let envelope = serde_json::to_vec(&StoredEnvelope {
            from,
            smtputf8: message.needs_smtputf8(),
            dsn: None,
        })
        .map_err(|e| Error::input("envelope").with_source(e))?;
        let recipients = recipient_records(&message);
        when.check()?;
        let (state, scheduled) = when.initial_state();
        entry.send_state = Some(state);
        entry.scheduled = scheduled;
        entry.recipients = recipients;
        entry.error = None;
        entry.date = SystemTime::now();
        self.store.batch(|b| {
            b.write_stream(entry.id, STREAM_ENVELOPE, &mut envelope.as_slice())?;
            b.update(&entry)?;
            b.move_to(entry.id, EntryId::OUTBOX)
        })?;
        let id = entry.id;
        self.context = Some(self.store.entry(id)?);
        Ok(id)
    }

    fn account_settings(&self, service: Option<EntryId>) -> Result<SmtpSettings, Error> {
        match service {
            Some(id) => Services::new(self.store.clone()).settings(id),
            None => Ok(SmtpSettings::default()),
        }
    }

    /// The original, its account, and who replies or forwards: the account's address, else
    /// `identity`.
    fn derive_from_context(
        &self,
        identity: Option<&Mailbox>,
    ) -> Result<(Message, Option<EntryId>, ReplyOptions), Error> {
        let original = self.message()?.clone();
        let service = self.context_message()?.service;
        let settings = self.account_settings(service)?;
        let from = match &settings.address {
            Some(address) => {
                let mut from = parse_mailbox("account address", address)?;
                from.name = settings.display_name.clone();
                Some(from)
            }
            None => identity.cloned(),
        };
        let opts = ReplyOptions {
            own_addresses: from.iter().map(|m| m.address.clone()).collect(),
            from,
            include_limit: settings.include_limit,
        };
        Ok((original, service, opts))
    }

    fn create_derived(
        &mut self,
        service: Option<EntryId>,
        derived: Message,
    ) -> Result<EntryId, Error> {
        let id = self.create_message(service)?;
        let defaults = self.message()?.clone();
        let message = self.message_mut()?;
        *message = Message {
            from: derived.from.or(defaults.from),
            reply_to: defaults.reply_to,
            receipt_to: defaults.receipt_to,
            signature: defaults.signature,
            vcard: defaults.vcard,
            ..derived
        };
        // Stored at once (still in preparation), so that the reply or forward is there to
        // load again even if the context moves on before it is saved.
        let json =
            serde_json::to_vec(&*message).map_err(|e| Error::input("message").with_source(e))?;
        self.store
            .write_stream(id, STREAM_MESSAGE, &mut json.as_slice())?;
        Ok(id)
    }

    fn original_bytes(&self, id: EntryId, original: &Message) -> Result<Vec<u8>, Error> {
        if self.store.stream_names(id)?.iter().any(|n| n == STREAM_RAW) {
            return read_all(&self.store, id, STREAM_RAW);
        }
        let mut out = Vec::new();
        let options = mailroom_mime::RenderOptions {
            allow_8bit: true,
            streams: Some(Arc::new(crate::body::StoreStreams {
                store: self.store.clone(),
                id,
            })),
            ..mailroom_mime::RenderOptions::default()
        };
        original
            .render(&options, &mut out)
            .map_err(|e| Error::input("cannot render the original").with_source(e))?;
        Ok(out)
    }

    fn context_kind(&self) -> Option<EntryKind> {
        self.context.as_ref().map(|e| e.kind)
    }

    fn context_message(&self) -> Result<&Entry, Error> {
        match &self.context {
            Some(e) if e.kind == EntryKind::Message => Ok(e),
            _ => Err(Error::input("the context is not a message")),
        }
    }

    fn context_message_id(&self) -> Result<EntryId, Error> {
        Ok(self.context_message()?.id)
    }

    /// Refuses to change what is no longer the client's to change, as the store holds it now
    /// (not as cached): a sent message, one a sender is sending, one some recipients already
    /// accepted (`Outbox::resend` retries the others), or one given as raw bytes.
    fn check_editable(&self) -> Result<(), Error> {
        let id = self.context_message_id()?;
        let entry = self.store.entry(id)?;
        let accepted = entry
            .recipients
            .iter()
            .any(|r| r.state == RecipientState::Accepted);
        let why = if entry.parent == EntryId::SENT {
            "it was sent (reply to it or forward it instead)"
        } else if held_by_sender(&entry, SystemTime::now()) {
            "a sender is sending it now"
        } else if entry.parent == EntryId::OUTBOX && accepted {
            "some recipients already accepted it (Outbox::resend retries the others)"
        } else if self.store.stream_names(id)?.iter().any(|n| n == STREAM_RAW) {
            "it was given as raw bytes, which are sent as they are"
        } else {
            return Ok(());
        };
        Err(Error::input(format!(
            "message {id} cannot be changed: {why}"
        )))
    }

    fn context_service_id(&self) -> Result<EntryId, Error> {
        match &self.context {
            Some(e) if e.kind == EntryKind::Service => Ok(e.id),
            _ => Err(Error::input("the context is not an account")),
        }
    }
}

fn no_message() -> Error {
    Error::input("no message is loaded: create one or switch the context to a message")
}

fn check_content_type(content_type: &str) -> Result<(), Error> {
    let ok = content_type.split_once('/').is_some_and(|(t, s)| {
        let token = |x: &str| {
            !x.is_empty()
                && x.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"!#$&-^_.+".contains(&b))
        };
        token(t) && token(s)
    });
    if ok {
        Ok(())
    } else {
        Err(Error::input(format!(
            "invalid content type {content_type:?}"
        )))
    }
}

fn read_all(store: &Store, id: EntryId, name: &str) -> Result<Vec<u8>, Error> {
    let mut out = Vec::new();
    store
        .open_stream(id, name)?
        .read_to_end(&mut out)
        .map_err(|e| Error::new(ErrorKind::Store, format!("cannot read {name}")).with_source(e))?;
    Ok(out)
}

/// The size the message renders to (7-bit form), counted without keeping the bytes.
pub(crate) fn rendered_size(
    store: &Arc<Store>,
    id: EntryId,
    message: &Message,
) -> Result<u64, Error> {
    let options = mailroom_mime::RenderOptions {
        streams: Some(Arc::new(crate::body::StoreStreams {
            store: store.clone(),
            id,
        })),
        ..mailroom_mime::RenderOptions::default()
    };
    message
        .render(&options, std::io::sink())
        .map(|info| info.bytes)
        .map_err(|e| Error::input(format!("the message cannot be rendered: {}", chain(&e))))
}

/// Refreshes an entry's summary fields from its message.
pub(crate) fn describe(entry: &mut Entry, message: &Message, size: u64) {
    let recipients = message.to.len() + message.cc.len() + message.bcc.len();
    entry.description = message.subject.clone().unwrap_or_default();
    entry.details = message
        .to
        .iter()
        .chain(&message.cc)
        .chain(&message.bcc)
        .next()
        .map(|m| m.address.to_string())
        .unwrap_or_default();
    entry.size = size;
    entry.date = SystemTime::now();
    entry.flags.attachment = !message.attachments.is_empty();
    entry.flags.multiple_recipients = recipients > 1;
    entry.flags.complete = true;
    entry.email.html = message.html.is_some();
    entry.email.has_attachments = !message.attachments.is_empty();
    entry.email.vcard = message.vcard.is_some();
    entry.email.receipt_requested = message.receipt_to.is_some();
    entry.email.message_id = message.message_id.clone();
    entry.email.in_reply_to = message.in_reply_to.clone();
    entry.email.multipart = multipart_kind(message);
}

fn multipart_kind(message: &Message) -> Option<String> {
    let extra = !message.attachments.is_empty() || message.vcard.is_some();
    match (extra, message.html.is_some(), !message.inline.is_empty()) {
        (true, _, _) => Some("mixed".into()),
        (false, true, true) => Some("related".into()),
        (false, true, false) => Some("alternative".into()),
        _ => None,
    }
}

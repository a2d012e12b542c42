//! Putting messages into the Outbox: checked in full before anything is stored, then committed
//! in one durable transaction.

use std::collections::HashSet;
use std::io::{self, Read};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use mailroom_mime::{Address, Mailbox, Message, Source};
use mailroom_store::{
    Claim, EntryId, NewEntry, RecipientKind, RecipientRecord, RecipientState, SendState, Store,
};
use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::raw;
use crate::settings::DsnDefaults;

/// The id this module registers under, and the MTM id of its entries.
pub const MTM_ID: &str = "smtp";
/// Stream holding a composed message's model (JSON), rendered at send time.
pub(crate) const STREAM_MESSAGE: &str = "message.json";
/// Stream holding a ready RFC 5322 message, sent as is.
pub(crate) const STREAM_RAW: &str = "rfc822";
/// Stream holding the envelope (JSON).
pub(crate) const STREAM_ENVELOPE: &str = "envelope.json";

/// When a queued message goes out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SendOption {
    /// Now: the caller sends it right after queueing.
    Immediately,
    /// With the next connection to the server.
    NextConnection,
    /// Only when asked for.
    OnRequest,
    /// Not before this time.
    At(SystemTime),
}

/// The latest time a message can be scheduled for.
const SCHEDULE_LIMIT: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

impl SendOption {
    /// Refuses a scheduled time more than 100 years ahead.
    pub(crate) fn check(self) -> Result<(), Error> {
        if let SendOption::At(t) = self
            && t.duration_since(SystemTime::now())
                .is_ok_and(|ahead| ahead > SCHEDULE_LIMIT)
        {
            return Err(Error::input(
                "the scheduled time is more than 100 years ahead",
            ));
        }
        Ok(())
    }

    pub(crate) fn initial_state(self) -> (SendState, Option<SystemTime>) {
        match self {
            SendOption::Immediately | SendOption::NextConnection => (SendState::Waiting, None),
            SendOption::OnRequest => (SendState::UponRequest, None),
            SendOption::At(t) => (SendState::Scheduled, Some(t)),
        }
    }
}

/// The SMTP envelope kept with a queued message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct StoredEnvelope {
    /// MAIL FROM address; empty for the null sender.
    pub from: String,
    /// The header or an address needs SMTPUTF8.
    #[serde(default)]
    pub smtputf8: bool,
    /// DSN requests for this message, instead of the account's.
    #[serde(default)]
    pub dsn: Option<DsnDefaults>,
}

/// Recipients and sender for a ready-made message.
#[derive(Clone, Debug, Default)]
pub struct RawEnvelope {
    /// MAIL FROM; when `None`, the address of the message's From header.
    pub from: Option<String>,
    /// To recipients.
    pub to: Vec<String>,
    /// Cc recipients.
    pub cc: Vec<String>,
    /// Bcc recipients.
    pub bcc: Vec<String>,
}

/// Queues messages in the Outbox of a store.
#[derive(Clone)]
pub struct Outbox {
    store: Arc<Store>,
    service: Option<EntryId>,
    mtm: &'static str,
    dsn: Option<DsnDefaults>,
}

impl Outbox {
    /// The Outbox of `store`, for messages of `service` (or none).
    pub fn new(store: Arc<Store>, service: Option<EntryId>) -> Outbox {
        Outbox::for_module(store, MTM_ID, service)
    }

    /// The Outbox of `store`, for messages of module `mtm` and its `service` (or none).
    pub fn for_module(store: Arc<Store>, mtm: &'static str, service: Option<EntryId>) -> Outbox {
        Outbox {
            store,
            service,
            mtm,
            dsn: None,
        }
    }

    /// Asks for these delivery status notifications on the messages it queues, instead of
    /// the account's defaults. Checked now.
    pub fn with_dsn(mut self, dsn: DsnDefaults) -> Result<Outbox, Error> {
        dsn.to_dsn()?;
        self.dsn = Some(dsn);
        Ok(self)
    }

    /// Queues a composed message. Its recipients are its To, Cc and Bcc; MAIL FROM is
    /// `envelope_from`, else its From address. Date and Message-ID are fixed now if unset.
    pub fn queue_message(
        &self,
        message: &Message,
        envelope_from: Option<&str>,
        when: SendOption,
    ) -> Result<EntryId, Error> {
        let mut message = message.clone();
        message
            .validate()
            .map_err(|e| Error::input("invalid message").with_source(e))?;
        let from = message
            .from
            .as_ref()
            .ok_or_else(|| Error::input("the message has no From address (use --from)"))?;
        let envelope_from = match envelope_from {
            Some(addr) => parse_address("envelope sender", addr)?.as_str().to_string(),
            None => from.address.as_str().to_string(),
        };
        fix_identity(&mut message);
        let recipients = recipient_records(&message);
        let size = message
            .render(&mailroom_mime::RenderOptions::default(), io::sink())
            .map_err(|e| Error::input("the message cannot be rendered").with_source(e))?
            .bytes;
        // Attached files are copied into the store with the message, so that it no longer
        // depends on them.
        let mut files = Vec::new();
        for (n, part) in message
            .attachments
            .iter_mut()
            .chain(message.inline.iter_mut())
            .enumerate()
        {
            if let Source::File { path } = &part.source {
                let file = open_attachment(path)?;
                let key = format!("attachment-{n}");
                part.source = Source::Stream { key: key.clone() };
                files.push((key, file));
            }
        }
        let json =
            serde_json::to_vec(&message).map_err(|e| Error::input("message").with_source(e))?;
        let mut entry = self.new_entry(
            message.subject.clone().unwrap_or_default(),
            recipients,
            when,
        )?;
        entry.email.message_id = message.message_id.clone();
        entry.email.in_reply_to = message.in_reply_to.clone();
        entry.email.html = message.html.is_some();
        entry.email.vcard = message.vcard.is_some();
        entry.email.has_attachments = !message.attachments.is_empty();
        entry.email.receipt_requested = message.receipt_to.is_some();
        entry.flags.attachment = !message.attachments.is_empty();
        let envelope = self.envelope_json(&envelope_from, message.needs_smtputf8())?;
        let mut streams: Vec<(&str, &mut dyn Read)> = Vec::with_capacity(files.len() + 2);
        let mut json_reader = json.as_slice();
        let mut envelope_reader = envelope.as_slice();
        streams.push((STREAM_MESSAGE, &mut json_reader));
        streams.push((STREAM_ENVELOPE, &mut envelope_reader));
        for (key, file) in files.iter_mut() {
            streams.push((key.as_str(), file));
        }
        // The size the message renders to, not the sum of its streams.
        entry.size = Some(size);
        let id = self.store.create(&entry, &mut streams)?;
        Ok(id)
    }

    /// Queues a ready RFC 5322 message read from `raw`, sent as is apart from line-ending
    /// normalisation, dot-stuffing and the removal of its Bcc header.
    pub fn queue_raw(
        &self,
        raw: &mut dyn Read,
        envelope: &RawEnvelope,
        when: SendOption,
    ) -> Result<EntryId, Error> {
        let mut recipients = Vec::new();
        let mut seen = HashSet::new();
        for (list, kind) in [
            (&envelope.to, RecipientKind::To),
            (&envelope.cc, RecipientKind::Cc),
            (&envelope.bcc, RecipientKind::Bcc),
        ] {
            for addr in list {
                let parsed = parse_address("recipient", addr)?;
                if seen.insert(parsed.mailbox_key()) {
                    recipients.push(RecipientRecord::new(parsed.as_str(), kind));
                }
            }
        }
        let head = raw::read_header_block(raw)?;
        let envelope_from = match &envelope.from {
            Some(addr) => parse_address("envelope sender", addr)?.as_str().to_string(),
            None => head.author_address().ok_or_else(|| {
                Error::input("no sender: give --from or --envelope-from, or a From header")
            })?,
        };
        let mut entry = self.new_entry(head.subject().unwrap_or_default(), recipients, when)?;
        entry.size = None;
        entry.email.message_id = head.message_id();
        // The header's need only: the engine asks for SMTPUTF8 itself for an envelope address
        // with a non-ASCII local part, and sends internationalised domains as A-labels.
        let smtputf8 = !head.bytes[..head.header_len].is_ascii();
        let envelope_bytes = self.envelope_json(&envelope_from, smtputf8)?;
        let mut body = raw::WireGuard::new(head.bytes.as_slice().chain(raw));
        let id = self.store.create(
            &entry,
            &mut [
                (STREAM_RAW, &mut body as &mut dyn Read),
                (STREAM_ENVELOPE, &mut envelope_bytes.as_slice()),
            ],
        );
        match id {
            Ok(id) => Ok(id),
            Err(e) => Err(body
                .take_error()
                .map(Error::input)
                .unwrap_or_else(|| e.into())),
        }
    }

    /// Settles the messages of senders that stopped (killed, crashed, or on a machine that
    /// restarted) while holding them: the ones they may have sent become `Uncertain`, the
    /// others are free again. Senders do this themselves before they start; commands that act
    /// on queued messages do it first so that such a message never looks busy for good.
    /// Returns a report on each message made `Uncertain`.
    pub fn settle_stopped_senders(&self) -> Result<Vec<crate::MessageReport>, Error> {
        if self.mtm != MTM_ID {
            return Ok(Vec::new());
        }
        let owner = crate::host::owner_name("outbox");
        let settled = crate::sender::recover(&self.store, &owner, SystemTime::now())?;
        Ok(settled
            .iter()
            .map(crate::MessageReport::from_entry)
            .collect())
    }

    /// Cancels a queued message: it becomes `Suspended` and is not sent until resent. Refused
    /// while a sender holds it.
    pub fn cancel(&self, id: EntryId) -> Result<(), Error> {
        use SendState::*;
        let states = [Waiting, Scheduled, Resend, UponRequest, Uncertain, Failed];
        self.change_state(id, &states, "cancelled", |entry| {
            entry.send_state = Some(Suspended);
            entry.scheduled = None;
        })
    }

    /// Asks for a message to be sent again, `Uncertain`, `Suspended` and `Failed` ones included:
    /// it becomes `Waiting`, and every recipient not yet accepted is pending again.
    pub fn resend(&self, id: EntryId) -> Result<(), Error> {
        self.change_state(id, &RESENDABLE, "resent", |entry| {
            entry.send_state = Some(SendState::Waiting);
            entry.scheduled = None;
            entry.error = None;
            for r in entry.recipients.iter_mut() {
                if r.state != RecipientState::Accepted {
                    r.state = RecipientState::Pending;
                }
            }
        })
    }

    /// Deletes a message from whatever folder it is in (Drafts, the Outbox, Sent). Refused
    /// while a sender holds it: the check and the deletion are one transaction, so a sender
    /// cannot take it in between.
    pub fn delete(&self, id: EntryId) -> Result<(), Error> {
        self.settle_stopped_senders()?;
        let now = SystemTime::now();
        let held = self.store.batch(|b| {
            let entry = b.entry(id)?;
            let held = held_by_sender(&entry, now) || entry.send_state == Some(SendState::Sending);
            if !held {
                b.delete(id)?;
            }
            Ok(held)
        })?;
        if held {
            return Err(Error::input(format!(
                "message {id} cannot be deleted: a sender is sending it now (cancel it or wait)"
            )));
        }
        Ok(())
    }

    fn change_state(
        &self,
        id: EntryId,
        states: &[SendState],
        what: &str,
        change: impl FnOnce(&mut mailroom_store::Entry),
    ) -> Result<(), Error> {
        self.settle_stopped_senders()?;
        let owner = crate::host::owner_name("outbox");
        let claim = Claim {
            folder: EntryId::OUTBOX,
            service: None,
            states,
            now: SystemTime::now(),
            due_before: Some(crate::sender::far_future()),
            owner: &owner,
            lease: Duration::from_secs(60),
            limit: 1,
            ids: Some(&[id]),
        };
        let mut claimed = self.store.claim(&claim)?;
        let Some(mut entry) = claimed.pop() else {
            let entry = self.store.entry(id)?;
            let state = entry
                .send_state
                .map(|s| s.to_string())
                .unwrap_or_else(|| "none".into());
            let why = if entry.parent != EntryId::OUTBOX {
                "it is not in the Outbox".to_string()
            } else if held_by_sender(&entry, SystemTime::now()) {
                "a sender is sending it now".to_string()
            } else {
                format!("its state is {state}")
            };
            return Err(Error::input(format!(
                "message {id} cannot be {what}: {why}"
            )));
        };
        change(&mut entry);
        self.store.finish(&entry, &owner, None)?;
        Ok(())
    }

    fn envelope_json(&self, from: &str, smtputf8: bool) -> Result<Vec<u8>, Error> {
        let envelope = StoredEnvelope {
            from: from.to_string(),
            smtputf8,
            dsn: self.dsn.clone(),
        };
        serde_json::to_vec(&envelope).map_err(|e| Error::input("envelope").with_source(e))
    }

    fn new_entry(
        &self,
        subject: String,
        recipients: Vec<RecipientRecord>,
        when: SendOption,
    ) -> Result<NewEntry, Error> {
        when.check()?;
        if recipients.is_empty() {
            return Err(Error::input("no recipients (use --to, --cc or --bcc)"));
        }
        let (state, scheduled) = when.initial_state();
        let mut entry = NewEntry::message(EntryId::OUTBOX, self.mtm, self.service);
        entry.description = subject;
        entry.details = recipients[0].address.clone();
        entry.flags.complete = true;
        entry.flags.multiple_recipients = recipients.len() > 1;
        entry.send_state = Some(state);
        entry.scheduled = scheduled;
        entry.recipients = recipients;
        Ok(entry)
    }
}

/// Opens a file to attach; a directory or anything else that is not a file is the caller's
/// input error, named as such.
pub(crate) fn open_attachment(path: &std::path::Path) -> Result<std::fs::File, Error> {
    let cannot =
        |e| Error::input(format!("cannot read the attachment {}", path.display())).with_source(e);
    if !std::fs::metadata(path).map_err(cannot)?.is_file() {
        return Err(Error::input(format!(
            "the attachment {} is not a file",
            path.display()
        )));
    }
    std::fs::File::open(path).map_err(cannot)
}

/// Whether a sender holds message `entry` now (its lease has not run out).
pub(crate) fn held_by_sender(entry: &mailroom_store::Entry, now: SystemTime) -> bool {
    entry.lease.as_ref().is_some_and(|l| l.expires > now)
}

/// One pending record per To, Cc and Bcc address of `message`, in that order; an address given
/// more than once gets one record, under the first field it is in.
pub(crate) fn recipient_records(message: &Message) -> Vec<RecipientRecord> {
    let lists = [
        (&message.to, RecipientKind::To),
        (&message.cc, RecipientKind::Cc),
        (&message.bcc, RecipientKind::Bcc),
    ];
    let mut seen = HashSet::new();
    lists
        .into_iter()
        .flat_map(|(list, kind)| list.iter().map(move |m| (&m.address, kind)))
        .filter(|(address, _)| seen.insert(address.mailbox_key()))
        .map(|(address, kind)| RecipientRecord::new(address.as_str(), kind))
        .collect()
}

/// Fixes the Date and the Message-ID (a random part at the From domain) of a message about to
/// be queued, if it has none: they stay the same across retries.
pub(crate) fn fix_identity(message: &mut Message) {
    if message.date.is_none() {
        message.date = Some(time::OffsetDateTime::now_utc());
    }
    if message.message_id.is_none()
        && let Some(from) = &message.from
    {
        message.message_id = Some(mailroom_mime::new_message_id(from.address.domain()));
    }
}

/// States from which a message can be sent again when asked for by id.
pub(crate) const RESENDABLE: [SendState; 7] = [
    SendState::Waiting,
    SendState::Scheduled,
    SendState::Resend,
    SendState::UponRequest,
    SendState::Uncertain,
    SendState::Suspended,
    SendState::Failed,
];

/// Parses one address, naming what it was for in the error.
pub(crate) fn parse_address(what: &str, text: &str) -> Result<Address, Error> {
    Address::parse(text)
        .map_err(|e| Error::input(format!("invalid {what} {text:?}")).with_source(e))
}

/// Parses a mailbox (`Name <a@b>` or `a@b`), naming what it was for in the error.
pub fn parse_mailbox(what: &str, text: &str) -> Result<Mailbox, Error> {
    Mailbox::parse(text)
        .map_err(|e| Error::input(format!("invalid {what} {text:?}")).with_source(e))
}

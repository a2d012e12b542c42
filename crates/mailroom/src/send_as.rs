//! `SendAs`: create a message for an account and send or save it, in a few calls.

use std::path::Path;
use std::sync::Arc;

use mailroom_store::{EntryId, RecipientKind, Store};

use crate::client::SmtpClientMtm;
use crate::error::{Error, ErrorKind};
use crate::outbox::{MTM_ID, SendOption};
use crate::report::MessageReport;
use crate::sender::{Selection, Sender};
use crate::services::Services;
use crate::settings::{DefaultSendOption, SmtpSettings};

/// One message for one account, built with a few calls and then sent or saved.
///
/// ```no_run
/// # async fn demo(store: std::sync::Arc<mailroom::store::Store>) -> Result<(), mailroom::Error> {
/// let mut mail = mailroom::SendAs::new(store, None)?;
/// mail.to("Bob <bob@example.net>")?.subject("Lunch")?.body("At noon?")?;
/// let report = mail.send().await?;
/// println!("{:?}", report.state);
/// # Ok(()) }
/// ```
pub struct SendAs {
    client: SmtpClientMtm,
    service: EntryId,
    settings: SmtpSettings,
    id: EntryId,
    /// Saved or queued: the message is the store's now, and dropping this leaves it.
    kept: bool,
}

impl SendAs {
    /// Starts a message for the account named `account`, or the default account.
    pub fn new(store: Arc<Store>, account: Option<&str>) -> Result<SendAs, Error> {
        let services = Services::new(store.clone());
        let service = match account {
            Some(name) => services.get(MTM_ID, name)?,
            None => services.default_service(MTM_ID)?.ok_or_else(|| {
                Error::new(
                    ErrorKind::NotFound,
                    "there is no SMTP account: add one first",
                )
            })?,
        };
        let settings: SmtpSettings = services.settings(service.id)?;
        let mut client = SmtpClientMtm::new(store);
        let id = client.create_message(Some(service.id))?;
        Ok(SendAs {
            client,
            service: service.id,
            settings,
            id,
            kept: false,
        })
    }

    /// The message's id.
    pub fn id(&self) -> EntryId {
        self.id
    }

    /// Adds a To recipient.
    pub fn to(&mut self, mailbox: &str) -> Result<&mut Self, Error> {
        self.client.add_addressee(RecipientKind::To, mailbox)?;
        Ok(self)
    }

    /// Adds a Cc recipient.
    pub fn cc(&mut self, mailbox: &str) -> Result<&mut Self, Error> {
        self.client.add_addressee(RecipientKind::Cc, mailbox)?;
        Ok(self)
    }

    /// Adds a Bcc recipient.
    pub fn bcc(&mut self, mailbox: &str) -> Result<&mut Self, Error> {
        self.client.add_addressee(RecipientKind::Bcc, mailbox)?;
        Ok(self)
    }

    /// Sets the subject.
    pub fn subject(&mut self, subject: &str) -> Result<&mut Self, Error> {
        self.client.set_subject(subject)?;
        Ok(self)
    }

    /// Sets the plain text body.
    pub fn body(&mut self, text: &str) -> Result<&mut Self, Error> {
        self.client.set_body(text)?;
        Ok(self)
    }

    /// Attaches a file (copied into the store now).
    pub fn attach(&mut self, path: &Path, content_type: &str) -> Result<&mut Self, Error> {
        self.client.add_attachment_file(path, content_type)?;
        Ok(self)
    }

    /// Saves the message in Drafts without sending it.
    pub fn save(mut self) -> Result<EntryId, Error> {
        self.client.save()?;
        self.kept = true;
        Ok(self.id)
    }

    /// Queues the message as the account's send option says and, for "immediately" and "next
    /// connection" with a server set, sends it now. The report says what became of it. A
    /// message that cannot be queued (no recipient, a bad value) is discarded with this value.
    pub async fn send(mut self) -> Result<MessageReport, Error> {
        let when = match self.settings.send_option {
            DefaultSendOption::Immediately => SendOption::Immediately,
            DefaultSendOption::NextConnection => SendOption::NextConnection,
            DefaultSendOption::OnRequest => SendOption::OnRequest,
        };
        let id = self.client.queue(when)?;
        self.kept = true;
        let send_now = when != SendOption::OnRequest && self.settings.server.is_some();
        if send_now {
            let sender = Sender::new(
                self.client.store().clone(),
                self.settings.clone(),
                Some(self.service),
            );
            let mut reports = sender.send(Selection::Ids(vec![id])).await?;
            if let Some(report) = reports.pop() {
                return Ok(report);
            }
        }
        Ok(MessageReport::from_entry(&self.client.store().entry(id)?))
    }
}

impl Drop for SendAs {
    /// A message neither saved nor queued goes with this value: nothing else can reach it.
    fn drop(&mut self) {
        if !self.kept {
            let _ = self.client.discard();
        }
    }
}

//! What became of a message: the shape of `--json` output and of library results.

use mailroom_store::{Entry, EntryId, RecipientState, SendState};
use serde::Serialize;

/// The outcome of one message after a send attempt (or after queueing).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MessageReport {
    /// The message's id in the store.
    pub id: EntryId,
    /// Its send state.
    pub state: SendState,
    /// One record per recipient.
    pub recipients: Vec<RecipientReport>,
    /// The error of the last attempt, if any.
    pub error: Option<ErrorReport>,
}

/// One recipient's outcome.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RecipientReport {
    /// The address.
    pub address: String,
    /// `pending`, `accepted`, `rejected`, `deferred` or `unknown`.
    pub state: RecipientState,
    /// The server's reply code.
    pub code: Option<u16>,
    /// The enhanced status code, like `5.1.1`.
    pub enhanced: Option<String>,
    /// The server's reply text.
    pub text: Option<String>,
}

/// An error in a report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ErrorReport {
    /// Its class: `connect`, `tls`, `auth`, `timeout`, `protocol`, `rejected`, `closed`,
    /// `unsupported` (the server lacks an extension the message needs), `outcome_unknown`,
    /// `config`, `input`, `recipients`, `smtp` (anything else from the SMTP engine, such as
    /// an unreadable attachment).
    pub kind: String,
    /// Text for a person.
    pub message: String,
}

impl MessageReport {
    /// The report of a stored message as it stands.
    pub fn from_entry(entry: &Entry) -> MessageReport {
        MessageReport {
            id: entry.id,
            state: entry.send_state.unwrap_or(SendState::Waiting),
            recipients: entry
                .recipients
                .iter()
                .map(|r| RecipientReport {
                    address: r.address.clone(),
                    state: r.state,
                    code: r.code,
                    enhanced: r.enhanced.clone(),
                    text: r.text.clone(),
                })
                .collect(),
            error: entry.error.as_ref().map(|e| ErrorReport {
                kind: e.kind.clone(),
                message: e.text.clone(),
            }),
        }
    }

    /// Every recipient accepted and the message sent.
    pub fn delivered(&self) -> bool {
        self.state == SendState::Sent
            && self
                .recipients
                .iter()
                .all(|r| r.state == RecipientState::Accepted)
    }

    /// The message, or one of its recipients, failed for good.
    pub fn failed(&self) -> bool {
        self.state == SendState::Failed
            || self
                .recipients
                .iter()
                .any(|r| r.state == RecipientState::Rejected)
    }

    /// The message is still queued to go later (or its outcome is unknown).
    pub fn pending(&self) -> bool {
        !self.delivered() && !self.failed()
    }

    /// The last attempt failed because the server refused authentication.
    pub fn auth_refused(&self) -> bool {
        self.error.as_ref().is_some_and(|e| e.kind == "auth")
    }

    /// The last attempt failed because TLS could not be set up as the settings demand (a
    /// certificate not trusted, STARTTLS missing where it is required): trying again will not
    /// help until the settings or the server change.
    pub fn tls_refused(&self) -> bool {
        self.error.as_ref().is_some_and(|e| e.kind == "tls")
    }
}

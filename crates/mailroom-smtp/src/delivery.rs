//! What happened to one message.

use crate::error::Error;
use crate::reply::Reply;

/// A recipient's fate in one transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecipientStatus {
    /// The server accepted the recipient (2xx to RCPT).
    Accepted,
    /// Refused for good (5xx).
    Rejected,
    /// Refused for now (4xx): try again later.
    Deferred,
}

/// One recipient and the server's answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecipientOutcome {
    /// The address as given in the envelope.
    pub address: String,
    /// Accepted, rejected or deferred.
    pub status: RecipientStatus,
    /// The reply to RCPT.
    pub reply: Reply,
}

/// What became of the message content.
#[derive(Debug)]
pub enum DataOutcome {
    /// No recipient was accepted, so no content was sent.
    NotAttempted,
    /// The server took responsibility for the message (for the accepted recipients).
    Accepted(Reply),
    /// The server refused the content (or the DATA command).
    Rejected(Reply),
    /// The link was lost or timed out after the final dot: the server may or may not have
    /// taken the message. Never resend automatically.
    Unknown(Error),
}

/// The result of one transaction.
#[derive(Debug)]
pub struct Delivery {
    /// One outcome per envelope recipient, in envelope order.
    pub recipients: Vec<RecipientOutcome>,
    /// What became of the content.
    pub data: DataOutcome,
}

impl Delivery {
    /// Whether the server accepted the message for at least one recipient.
    pub fn is_accepted(&self) -> bool {
        matches!(self.data, DataOutcome::Accepted(_))
    }

    /// The reply code for the content, if the server gave one.
    pub fn data_code(&self) -> Option<u16> {
        match &self.data {
            DataOutcome::Accepted(reply) | DataOutcome::Rejected(reply) => Some(reply.code),
            DataOutcome::NotAttempted | DataOutcome::Unknown(_) => None,
        }
    }

    /// The recipients whose status is `Accepted` (the message reached them only when the data
    /// outcome is `Accepted`).
    pub fn accepted(&self) -> impl Iterator<Item = &RecipientOutcome> {
        self.recipients
            .iter()
            .filter(|r| r.status == RecipientStatus::Accepted)
    }
}

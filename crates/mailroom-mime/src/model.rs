//! The message model: what a person writes, kept as data until it is rendered.

use std::fmt;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::mailbox::Mailbox;

/// An email message as people write it. Serializable (the MTM stores it as JSON) and rendered
/// to RFC 5322 bytes at send time by [`Message::render`](crate::Message::render).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Message {
    /// The author.
    pub from: Option<Mailbox>,
    /// The agent that sent the message on the author's behalf.
    pub sender: Option<Mailbox>,
    /// Where replies go.
    pub reply_to: Vec<Mailbox>,
    /// Primary recipients.
    pub to: Vec<Mailbox>,
    /// Copies.
    pub cc: Vec<Mailbox>,
    /// Blind copies: envelope recipients only, never written to the header.
    pub bcc: Vec<Mailbox>,
    /// The subject, unencoded.
    pub subject: Option<String>,
    /// The origination date; the render time when `None`.
    #[serde(with = "time::serde::rfc3339::option")]
    pub date: Option<OffsetDateTime>,
    /// The Message-ID with its angle brackets, `<random@domain>`.
    pub message_id: Option<String>,
    /// The msg-id this message replies to, with angle brackets.
    pub in_reply_to: Option<String>,
    /// The thread's msg-ids, oldest first, each with angle brackets.
    pub references: Vec<String>,
    /// Further header fields (name, unencoded value), written after the standard ones.
    pub headers: Vec<(String, String)>,
    /// Priority (`X-Priority` and `Importance`).
    pub priority: Option<Priority>,
    /// Where to send a read receipt (`Disposition-Notification-To`).
    pub receipt_to: Option<Mailbox>,
    /// The plain text body.
    pub text: Option<String>,
    /// The HTML alternative of the body.
    pub html: Option<String>,
    /// Parts the HTML body refers to by `cid:` (each with a `content_id`).
    pub inline: Vec<Attachment>,
    /// Attachments, in order.
    pub attachments: Vec<Attachment>,
    /// A signature, appended to the text (after `-- `) and HTML bodies.
    pub signature: Option<String>,
    /// A vCard (the sender's contact card), attached as `text/vcard`.
    pub vcard: Option<String>,
}

/// Message priority.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Priority {
    /// `X-Priority: 1`, `Importance: high`.
    High,
    /// `X-Priority: 3`, `Importance: normal`.
    Normal,
    /// `X-Priority: 5`, `Importance: low`.
    Low,
}

/// An attachment or an inline part.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    /// The file name shown to the recipient.
    pub file_name: Option<String>,
    /// The media type, `type/subtype` (for example `application/pdf`).
    pub content_type: String,
    /// The Content-ID without angle brackets, for inline parts referenced by `cid:`.
    #[serde(default)]
    pub content_id: Option<String>,
    /// Where the bytes come from.
    pub source: Source,
}

impl Attachment {
    /// An attachment from bytes in memory.
    pub fn from_bytes(file_name: &str, content_type: &str, data: Vec<u8>) -> Attachment {
        Attachment {
            file_name: Some(file_name.to_owned()),
            content_type: content_type.to_owned(),
            content_id: None,
            source: Source::Bytes { data },
        }
    }

    /// An attachment read from a file at render time.
    pub fn from_file(file_name: &str, content_type: &str, path: impl Into<PathBuf>) -> Attachment {
        Attachment {
            file_name: Some(file_name.to_owned()),
            content_type: content_type.to_owned(),
            content_id: None,
            source: Source::File { path: path.into() },
        }
    }
}

/// Where an attachment's bytes come from. Read only while rendering, in bounded chunks.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
#[non_exhaustive]
pub enum Source {
    /// A file on disk.
    File {
        /// Its path.
        path: PathBuf,
    },
    /// Bytes held in memory (serialized as base64).
    Bytes {
        /// The bytes.
        #[serde(with = "b64")]
        data: Vec<u8>,
    },
    /// A stream opened by the caller's [`StreamOpener`](crate::StreamOpener) at render time.
    Stream {
        /// The caller's name for the stream (for example a store stream id).
        key: String,
    },
}

impl fmt::Debug for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::File { path } => write!(f, "File({path:?})"),
            Source::Bytes { data } => write!(f, "Bytes({} bytes)", data.len()),
            Source::Stream { key } => write!(f, "Stream({key:?})"),
        }
    }
}

mod b64 {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(data: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(data))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        STANDARD.decode(text).map_err(serde::de::Error::custom)
    }
}

//! Mailroom's message model, streaming MIME renderer, parser, replies, forwards and find.
//!
//! A [`Message`] holds what a person writes: addresses ([`Mailbox`], [`Address`]), subject,
//! bodies, inline parts and attachments. [`Message::render`] streams it to RFC 5322 bytes with
//! CRLF line ends, RFC 2047 encoded words, RFC 2231 file names, and no Bcc header;
//! [`strip_bcc`] does the same for messages that are already rendered. [`parse_message`] reads
//! raw messages back into the model; [`reply`], [`reply_all`] and [`forward`] build new models
//! from an original; [`find`] searches one.
//!
//! ```
//! use mailroom_mime::{Attachment, Mailbox, Message, RenderOptions};
//!
//! let message = Message {
//!     from: Some(Mailbox::parse("Jürgen <juergen@example.org>")?),
//!     to: vec![Mailbox::parse("\"Doe, Jo\" <jo@example.net>")?],
//!     bcc: vec![Mailbox::parse("audit@example.org")?],
//!     subject: Some("Grüße".into()),
//!     text: Some("Hallo Jo!".into()),
//!     attachments: vec![Attachment::from_bytes("notes.txt", "text/plain", b"notes".to_vec())],
//!     ..Message::default()
//! };
//! let mut wire = Vec::new();
//! let info = message.render(&RenderOptions::default(), &mut wire)?;
//! let text = String::from_utf8(wire)?;
//! assert!(text.contains("Subject: =?utf-8?b?R3LDvMOfZQ==?=\r\n"));
//! assert!(!text.contains("audit@example.org"));
//! assert!(text.contains(&format!("Message-ID: {}\r\n", info.message_id)));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The crate does no I/O beyond the readers and writers it is handed and the attachment files
//! a model names.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod address;
mod body;
mod find;
mod header;
mod html;
mod ids;
mod mailbox;
mod model;
mod parse;
mod raw;
mod render;
mod reply;
mod subject;
mod tree;
mod validate;

pub use address::{Address, AddressError};
pub use find::{Field, Match, Scope, find, find_in};
pub use header::address_field;
pub use html::html_to_text;
pub use ids::{format_date, new_message_id};
pub use mailbox::Mailbox;
pub use model::{Attachment, Message, Priority, Source};
pub use parse::{ParseError, Parsed, parse_message};
pub use raw::{RawInfo, strip_bcc};
pub use render::{Boundaries, RenderInfo, RenderOptions, StreamOpener};
pub use reply::{ForwardMode, ReplyOptions, forward, reply, reply_all};
pub use subject::{base_subject, forward_subject, reply_subject};
pub use validate::MessageError;

//! Mailroom's message model, streaming MIME renderer, parser, replies, forwards and find.
//!
//! A [`Message`] holds what a person writes: addresses ([`Mailbox`], [`Address`]), subject,
//! bodies, inline parts and attachments. [`Message::render`] streams it to RFC 5322 bytes with
//! CRLF line ends, RFC 2047 encoded words, RFC 2231 file names, and no Bcc header;
//! [`strip_bcc`] does the same for messages that are already rendered.
//!
//! The crate does no I/O beyond the readers and writers it is handed and the attachment files
//! a model names.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod address;
mod body;
mod header;
mod ids;
mod mailbox;
mod model;
mod raw;
mod render;
mod tree;
mod validate;

pub use address::{Address, AddressError};
pub use ids::{format_date, new_message_id};
pub use mailbox::Mailbox;
pub use model::{Attachment, Message, Priority, Source};
pub use raw::{RawInfo, strip_bcc};
pub use render::{Boundaries, RenderInfo, RenderOptions, StreamOpener};
pub use validate::MessageError;

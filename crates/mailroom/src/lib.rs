//! Mailroom: a message store with pluggable message-type modules, and an SMTP module that sends
//! internet email from it.
//!
//! This crate is the MTM layer: it wires the store ([`mailroom_store`]), the SMTP engine
//! ([`mailroom_smtp`]) and the message model ([`mailroom_mime`]) into queueing ([`Outbox`]) and
//! delivery ([`Sender`]), with settings ([`SmtpSettings`]) and live progress
//! ([`SmtpProgress`]).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod body;
mod client;
mod error;
mod host;
mod maildir;
mod outbox;
mod progress;
mod raw;
mod registry;
mod report;
mod retry;
mod send_as;
mod sender;
mod services;
mod settings;
mod view;
mod watcher;

pub use client::{SmtpClientMtm, SmtpModule};
pub use error::{Error, ErrorKind, chain as error_chain};
pub use maildir::{MAILDIR_MTM, MaildirModule, MaildirSender, MaildirSettings};
pub use outbox::{MTM_ID, Outbox, RawEnvelope, SendOption, parse_mailbox};
pub use progress::{ProgressState, SmtpProgress};
pub use raw::{check_header_block, is_header_field};
pub use registry::{Capability, MessageTypeModule, Registry};
pub use report::{ErrorReport, MessageReport, RecipientReport};
pub use retry::RetryPolicy;
pub use send_as::SendAs;
pub use sender::{Clock, Selection, Sender, StopHandle};
pub use services::{ServiceInfo, Services};
pub use settings::{
    AuthSettings, BodyEncoding, CopyToSelf, DefaultSendOption, DisabledExtensions, DsnDefaults,
    PasswordSource, RetrySettings, ServerUrl, SmtpSettings, TlsMode,
};
pub use view::{envelope_sender, write_message_bytes};
pub use watcher::{WatchTiming, Watcher};

/// Email-specific flags and fields of a message entry (receipt requested, HTML body, vCard,
/// attachments, multipart kind, Message-ID, In-Reply-To); the per-recipient delivery records
/// are [`store::RecipientRecord`]s beside them on the entry.
pub type EmailEntry = mailroom_store::EmailFields;

pub use mailroom_mime as mime;
pub use mailroom_smtp as smtp;
pub use mailroom_store as store;

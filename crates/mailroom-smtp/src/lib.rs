//! Mailroom's SMTP client: a sans-IO protocol core with a tokio and rustls transport.
//!
//! [`Session::connect`] opens a session (greeting, EHLO, STARTTLS, AUTH);
//! [`Session::send`] runs one transaction per message and reports per-recipient outcomes;
//! the session is reused for the next message. The protocol logic lives in a private
//! state machine that does no I/O; the transport only moves bytes and keeps time.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod auth;
mod body;
mod caps;
mod config;
mod core;
mod delivery;
mod envelope;
mod error;
mod event;
mod reply;
mod transport;

#[cfg(any(test, feature = "fuzzing"))]
#[doc(hidden)]
pub mod fuzzing;

pub use caps::Capabilities;
pub use config::{ClientConfig, Credentials, Disabled, Mechanism, Secret, Timeouts, TlsMode};
pub use delivery::{DataOutcome, Delivery, RecipientOutcome, RecipientStatus};
pub use envelope::{Dsn, DsnNotify, DsnReturn, Envelope};
pub use error::{Error, ErrorKind, Phase};
pub use event::{Direction, Event, Observer, SessionState, TranscriptSink};
pub use reply::{EnhancedCode, Reply};
pub use transport::Session;

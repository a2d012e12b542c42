//! Mailroom's SMTP client: a sans-IO protocol core with a tokio and rustls transport.
//!
//! [`Session::connect`] opens a session (greeting, EHLO, STARTTLS, AUTH);
//! [`Session::send`] runs one transaction per message and reports per-recipient outcomes;
//! the session is reused for the next message. [`Session::send_batch`] sends a stream of
//! messages on one session, each pipelined behind the previous one's final dot when the
//! server offers PIPELINING, and reports each outcome as it arrives. The protocol logic lives in a private
//! state machine that does no I/O; the transport only moves bytes and keeps time.
//!
//! ```no_run
//! use mailroom_smtp::{ClientConfig, Credentials, Envelope, Session};
//!
//! # async fn demo() -> Result<(), mailroom_smtp::Error> {
//! let mut config = ClientConfig::new("mail.example.org", 587); // STARTTLS required
//! config.credentials = Some(Credentials::new("alice", "secret"));
//! let mut session = Session::connect(&config, None).await?;
//! let envelope = Envelope::new("alice@example.org", ["bob@example.net"]);
//! let message = b"Subject: hi\n\nHello Bob\n"; // any line endings; dot-stuffed on the way
//! let delivery = session.send(&envelope, &message[..], Some(message.len() as u64)).await?;
//! for outcome in &delivery.recipients {
//!     println!("{}: {:?} ({})", outcome.address, outcome.status, outcome.reply);
//! }
//! session.quit().await?;
//! # Ok(())
//! # }
//! ```
//!
//! Errors say who was at fault ([`ErrorKind`]) and whether a retry can help
//! ([`Error::is_transient`]). A link lost after the final dot is not an error but
//! [`DataOutcome::Unknown`]: the message may have been delivered and must not be resent blindly.
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
pub use envelope::{Dsn, DsnNotify, DsnReturn, Envelope, ehlo_domain};
pub use error::{Error, ErrorKind, Phase};
pub use event::{Direction, Event, Observer, SessionState, TranscriptSink};
pub use reply::{EnhancedCode, Reply};
pub use transport::{Outgoing, Session};

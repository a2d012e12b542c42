//! Progress events and the redacted transcript.

/// The session's current activity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SessionState {
    /// Opening the TCP connection.
    Connecting,
    /// Waiting for the greeting.
    Greeting,
    /// Negotiating TLS.
    Tls,
    /// Authenticating.
    Authenticating,
    /// Sending a message.
    Sending,
    /// Resetting after a transaction.
    Resetting,
    /// Closing the session.
    Closing,
    /// Idle, ready for a message.
    Ready,
}

/// A progress event.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// The session moved to a new state.
    State(SessionState),
    /// Bytes of the current message handed to the connection.
    BytesSent {
        /// Bytes of the message read and sent so far.
        sent: u64,
        /// Size of the message, when the caller gave it.
        total: Option<u64>,
    },
}

/// Receives progress events. Called inline: keep it quick.
pub trait Observer: Send + Sync {
    /// One event.
    fn event(&self, event: &Event);
}

/// Who sent a transcript line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// The client (us).
    Client,
    /// The server.
    Server,
}

/// Receives the protocol transcript. Secrets and AUTH payloads are already redacted, and
/// message content is summarised as a byte count.
pub trait TranscriptSink: Send + Sync {
    /// One line, without its line ending.
    fn line(&self, direction: Direction, text: &str);
}

//! The one error type of this crate.

use std::fmt;

use crate::config::Mechanism;
use crate::reply::Reply;

/// The protocol step an error happened in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Phase {
    /// Opening the TCP connection.
    Connect,
    /// Waiting for the 220 greeting.
    Greeting,
    /// EHLO.
    Ehlo,
    /// HELO (after EHLO was refused).
    Helo,
    /// The STARTTLS command.
    StartTls,
    /// The TLS handshake.
    TlsHandshake,
    /// AUTH.
    Auth,
    /// RSET.
    Rset,
    /// MAIL FROM.
    MailFrom,
    /// RCPT TO.
    RcptTo,
    /// The DATA command.
    Data,
    /// Sending the message content.
    Message,
    /// The reply after the final dot or the last BDAT chunk.
    DataEnd,
    /// A BDAT chunk.
    Bdat,
    /// QUIT.
    Quit,
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Phase::Connect => "connect",
            Phase::Greeting => "greeting",
            Phase::Ehlo => "EHLO",
            Phase::Helo => "HELO",
            Phase::StartTls => "STARTTLS",
            Phase::TlsHandshake => "TLS handshake",
            Phase::Auth => "AUTH",
            Phase::Rset => "RSET",
            Phase::MailFrom => "MAIL FROM",
            Phase::RcptTo => "RCPT TO",
            Phase::Data => "DATA",
            Phase::Message => "message data",
            Phase::DataEnd => "end of data",
            Phase::Bdat => "BDAT",
            Phase::Quit => "QUIT",
        })
    }
}

/// The broad class of an [`Error`]: who was at fault.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The caller's input (address, argument, settings) is unusable; nothing was sent.
    Input,
    /// The TCP connection could not be opened.
    Connect,
    /// TLS failed or is not offered while required.
    Tls,
    /// The server did not answer in time.
    Timeout,
    /// The server broke the protocol.
    Protocol,
    /// Authentication failed.
    Auth,
    /// The server refused a command.
    Rejected,
    /// The server closed the session (421, 221 or end of stream).
    Closed,
    /// The server lacks an extension the message needs.
    Unsupported,
    /// Reading or writing the connection or the message failed.
    Io,
}

/// An SMTP client error. `Display` names the phase; `source()` gives the cause where any.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// Unusable input, refused before anything was written.
    Input {
        /// What is wrong.
        message: String,
    },
    /// The connection could not be opened.
    Connect {
        /// `host:port`.
        address: String,
        /// The cause.
        source: std::io::Error,
    },
    /// TLS failure or TLS required but not offered.
    Tls {
        /// What went wrong.
        message: String,
        /// The cause, if any.
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
    /// No reply in time.
    Timeout {
        /// What was waited for.
        phase: Phase,
    },
    /// The server broke the protocol.
    Protocol {
        /// Where.
        phase: Phase,
        /// What.
        message: String,
    },
    /// Authentication failed or was impossible.
    Auth {
        /// The mechanism tried, if one was.
        mechanism: Option<Mechanism>,
        /// The server's reply, if the server refused.
        reply: Option<Reply>,
        /// What went wrong.
        message: String,
    },
    /// The server refused a command.
    Rejected {
        /// Which command.
        phase: Phase,
        /// The refusal.
        reply: Reply,
    },
    /// The server closed the session.
    Closed {
        /// Where.
        phase: Phase,
        /// The 421 or 221 reply, or `None` for end of stream.
        reply: Option<Reply>,
    },
    /// The message is larger than the server's SIZE limit.
    TooLarge {
        /// Message size in bytes.
        size: u64,
        /// The server's limit.
        limit: u64,
    },
    /// The server lacks an extension this message needs.
    Unsupported {
        /// What is missing.
        message: String,
    },
    /// Reading or writing failed.
    Io {
        /// Where.
        phase: Phase,
        /// The cause.
        source: std::io::Error,
    },
}

impl Error {
    pub(crate) fn input(message: impl Into<String>) -> Error {
        Error::Input {
            message: message.into(),
        }
    }

    pub(crate) fn protocol(phase: Phase, message: impl Into<String>) -> Error {
        Error::Protocol {
            phase,
            message: message.into(),
        }
    }

    pub(crate) fn tls(message: impl Into<String>) -> Error {
        Error::Tls {
            message: message.into(),
            source: None,
        }
    }

    /// The broad class of this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Input { .. } => ErrorKind::Input,
            Error::Connect { .. } => ErrorKind::Connect,
            Error::Tls { .. } => ErrorKind::Tls,
            Error::Timeout { .. } => ErrorKind::Timeout,
            Error::Protocol { .. } => ErrorKind::Protocol,
            Error::Auth { .. } => ErrorKind::Auth,
            Error::Rejected { .. } | Error::TooLarge { .. } => ErrorKind::Rejected,
            Error::Closed { .. } => ErrorKind::Closed,
            Error::Unsupported { .. } => ErrorKind::Unsupported,
            Error::Io { .. } => ErrorKind::Io,
        }
    }

    /// Whether trying again later may succeed.
    pub fn is_transient(&self) -> bool {
        match self {
            Error::Connect { .. } | Error::Timeout { .. } | Error::Io { .. } => true,
            Error::Closed { .. } => true,
            Error::Rejected { reply, .. } => reply.is_transient(),
            Error::Auth { reply, .. } => reply.as_ref().is_some_and(Reply::is_transient),
            _ => false,
        }
    }

    /// The server reply behind this error, if any.
    pub fn reply(&self) -> Option<&Reply> {
        match self {
            Error::Rejected { reply, .. } => Some(reply),
            Error::Closed { reply, .. } | Error::Auth { reply, .. } => reply.as_ref(),
            _ => None,
        }
    }

    /// The phase the error happened in, where one applies.
    pub fn phase(&self) -> Option<Phase> {
        match self {
            Error::Connect { .. } => Some(Phase::Connect),
            Error::Auth { .. } => Some(Phase::Auth),
            Error::Timeout { phase }
            | Error::Protocol { phase, .. }
            | Error::Rejected { phase, .. }
            | Error::Closed { phase, .. }
            | Error::Io { phase, .. } => Some(*phase),
            _ => None,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Input { message } => write!(f, "invalid input: {message}"),
            Error::Connect { address, .. } => write!(f, "cannot connect to {address}"),
            Error::Tls { message, .. } => write!(f, "TLS failure: {message}"),
            Error::Timeout { phase } => write!(f, "timed out during {phase}"),
            Error::Protocol { phase, message } => {
                write!(f, "protocol error during {phase}: {message}")
            }
            Error::Auth {
                mechanism,
                reply,
                message,
            } => {
                write!(f, "authentication failed")?;
                if let Some(m) = mechanism {
                    write!(f, " ({})", m.name())?;
                }
                write!(f, ": {message}")?;
                if let Some(reply) = reply {
                    write!(f, ": {reply}")?;
                }
                Ok(())
            }
            Error::Rejected { phase, reply } => write!(f, "server refused {phase}: {reply}"),
            Error::Closed {
                phase,
                reply: Some(reply),
            } => {
                write!(f, "server closed the session during {phase}: {reply}")
            }
            Error::Closed { phase, reply: None } => {
                write!(f, "server closed the connection during {phase}")
            }
            Error::TooLarge { size, limit } => {
                write!(
                    f,
                    "message of {size} bytes exceeds the server's limit of {limit} bytes"
                )
            }
            Error::Unsupported { message } => {
                write!(f, "server lacks a needed extension: {message}")
            }
            Error::Io { phase, .. } => write!(f, "I/O error during {phase}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Connect { source, .. } | Error::Io { source, .. } => Some(source),
            Error::Tls {
                source: Some(source),
                ..
            } => Some(source.as_ref()),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_the_phase_and_the_reply() {
        let reply = Reply {
            code: 550,
            enhanced: None,
            lines: vec!["5.7.1 no relay".into()],
        };
        let err = Error::Rejected {
            phase: Phase::MailFrom,
            reply,
        };
        assert_eq!(
            err.to_string(),
            "server refused MAIL FROM: 550 5.7.1 no relay"
        );
        assert_eq!(err.kind(), ErrorKind::Rejected);
        assert!(!err.is_transient());
    }

    #[test]
    fn transient_follows_the_reply_class() {
        let reply = Reply {
            code: 451,
            enhanced: None,
            lines: vec![],
        };
        assert!(
            Error::Rejected {
                phase: Phase::MailFrom,
                reply
            }
            .is_transient()
        );
        assert!(
            Error::Timeout {
                phase: Phase::RcptTo
            }
            .is_transient()
        );
        assert!(!Error::input("x").is_transient());
    }
}

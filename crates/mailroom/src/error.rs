//! The error type of the MTM layer.

use std::fmt;

/// Who was at fault.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The caller's input (an address, a header, a file) is unusable; nothing was changed.
    Input,
    /// The settings are unusable (a bad server URL, an unreadable CA file, no password).
    Config,
    /// The server refused authentication.
    Auth,
    /// The message store failed.
    Store,
    /// The operation is not one this module does.
    NotSupported,
    /// No such message, service or stream.
    NotFound,
}

/// An error of the MTM layer: a kind, a message at this level, and the cause as `source()`.
#[derive(Debug)]
pub struct Error {
    kind: ErrorKind,
    message: String,
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

impl Error {
    /// A new error of `kind`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Error {
        Error {
            kind,
            message: message.into(),
            source: None,
        }
    }

    /// Bad input.
    pub fn input(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Input, message)
    }

    /// Bad settings.
    pub fn config(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Config, message)
    }

    /// Attaches the cause.
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Error {
        self.source = Some(Box::new(source));
        self
    }

    /// Who was at fault.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

impl From<mailroom_store::StoreError> for Error {
    fn from(e: mailroom_store::StoreError) -> Error {
        let kind = match e {
            mailroom_store::StoreError::NotFound(_)
            | mailroom_store::StoreError::StreamNotFound { .. } => ErrorKind::NotFound,
            _ => ErrorKind::Store,
        };
        Error::new(kind, "message store").with_source(e)
    }
}

/// Formats an error and its chain of causes on one line, "a: b: c".
pub fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut cur = e.source();
    while let Some(s) = cur {
        let part = s.to_string();
        if !text.ends_with(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        cur = s.source();
    }
    text
}

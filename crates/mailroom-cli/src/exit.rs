//! Exit codes (sysexits.h) and the errors that carry them.

use std::fmt;

use mailroom::{ErrorKind, MessageReport};

/// A process exit code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Exit {
    /// Every recipient accepted (or the message stored as asked).
    Ok = 0,
    /// `find` found nothing.
    NotFound = 1,
    /// The command line is wrong.
    Usage = 64,
    /// Input refused before any network traffic.
    DataErr = 65,
    /// A message or a recipient failed for good.
    Unavailable = 69,
    /// A bug.
    Software = 70,
    /// The store or a file failed.
    IoErr = 74,
    /// Left queued after a transient failure, or outcome uncertain.
    TempFail = 75,
    /// Authentication refused.
    NoPerm = 77,
    /// The configuration is unusable.
    Config = 78,
}

impl Exit {
    /// The exit code for a set of message reports: the most serious outcome wins.
    pub fn for_reports(reports: &[MessageReport]) -> Exit {
        let mut exit = Exit::Ok;
        for r in reports {
            let this = if r.auth_refused() {
                Exit::NoPerm
            } else if r.tls_refused() {
                Exit::Config
            } else if r.failed() {
                Exit::Unavailable
            } else if r.pending()
                && !(matches!(
                    r.state,
                    mailroom::store::SendState::UponRequest | mailroom::store::SendState::Scheduled
                ) && r.error.is_none())
            {
                Exit::TempFail
            } else {
                Exit::Ok
            };
            exit = exit.max_severity(this);
        }
        exit
    }

    fn rank(self) -> u8 {
        match self {
            Exit::Ok => 0,
            Exit::TempFail => 1,
            Exit::Unavailable => 2,
            Exit::NoPerm => 3,
            _ => 4,
        }
    }

    pub fn max_severity(self, other: Exit) -> Exit {
        if other.rank() > self.rank() {
            other
        } else {
            self
        }
    }
}

/// An error that ends the command, with its exit code and its JSON `kind`.
#[derive(Debug)]
pub struct CliError {
    pub exit: Exit,
    pub kind: &'static str,
    pub error: anyhow::Error,
}

impl CliError {
    pub fn new(exit: Exit, kind: &'static str, error: impl Into<anyhow::Error>) -> CliError {
        CliError {
            exit,
            kind,
            error: error.into(),
        }
    }

    pub fn input(error: impl Into<anyhow::Error>) -> CliError {
        CliError::new(Exit::DataErr, "input", error)
    }

    pub fn config(error: impl Into<anyhow::Error>) -> CliError {
        CliError::new(Exit::Config, "config", error)
    }
}

impl From<mailroom::Error> for CliError {
    fn from(e: mailroom::Error) -> CliError {
        let (exit, kind) = match e.kind() {
            ErrorKind::Input => (Exit::DataErr, "input"),
            ErrorKind::Config => (Exit::Config, "config"),
            ErrorKind::Auth => (Exit::NoPerm, "auth"),
            ErrorKind::NotFound => (Exit::DataErr, "not_found"),
            ErrorKind::Store => (Exit::IoErr, "store"),
            _ => (Exit::Software, "internal"),
        };
        CliError::new(exit, kind, e)
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#}", self.error)
    }
}

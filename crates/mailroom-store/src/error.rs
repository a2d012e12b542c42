//! The store's error type: each variant says what was at fault.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use rusqlite::ErrorCode;

use crate::entry::EntryId;

/// An error from the store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The entry does not exist (or no longer exists).
    #[error("entry {0} not found")]
    NotFound(EntryId),
    /// The entry has no stream of that name.
    #[error("entry {entry} has no stream {name:?}")]
    StreamNotFound {
        /// The entry.
        entry: EntryId,
        /// The stream name asked for.
        name: String,
    },
    /// Another connection held the store locked longer than the busy timeout.
    #[error("store {} stayed locked by another connection past the busy timeout", path.display())]
    Busy {
        /// The database file.
        path: PathBuf,
        /// What SQLite reported.
        #[source]
        source: DatabaseError,
    },
    /// The file is not a store database, or its contents are damaged.
    #[error("store {} is corrupt: {detail}", path.display())]
    Corrupt {
        /// The database file.
        path: PathBuf,
        /// What was found wrong.
        detail: String,
        /// What SQLite reported, if it was SQLite that found it.
        #[source]
        source: Option<DatabaseError>,
    },
    /// The store lies on a location this process cannot write.
    #[error("store {} is on a read-only location", path.display())]
    ReadOnly {
        /// The directory or database file.
        path: PathBuf,
        /// The refusal.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The store was written by a newer version of mailroom.
    #[error(
        "store {} has schema version {found}; this build understands up to {supported}",
        path.display()
    )]
    NewerSchema {
        /// The database file.
        path: PathBuf,
        /// The version found in the file.
        found: i64,
        /// The newest version this build knows.
        supported: i64,
    },
    /// The operation is not allowed on the entries given.
    #[error("invalid operation: {0}")]
    Invalid(InvalidOperation),
    /// The caller does not hold the lease on the entry (it expired and was taken, or was
    /// released).
    #[error("lease on entry {id} is not held by {owner:?}")]
    LeaseLost {
        /// The entry.
        id: EntryId,
        /// The owner that asked.
        owner: String,
    },
    /// Reading caller data or touching the file system failed.
    #[error("I/O error while {context}")]
    Io {
        /// What the store was doing.
        context: String,
        /// The failure.
        #[source]
        source: io::Error,
    },
    /// Any other database failure.
    #[error("database error in store {}", path.display())]
    Database {
        /// The database file.
        path: PathBuf,
        /// What SQLite reported.
        #[source]
        source: DatabaseError,
    },
}

/// Why an operation was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum InvalidOperation {
    /// Standard entries cannot be deleted or moved.
    StandardEntry(EntryId),
    /// The move or copy would put an entry inside its own subtree.
    Cycle {
        /// The entry moved or copied.
        entry: EntryId,
        /// The target parent, which lies in the entry's subtree.
        target: EntryId,
    },
    /// Only the store itself creates the root.
    CreateRoot,
    /// A stream name must be 1 to 255 bytes with no control characters.
    StreamName(String),
    /// A lease owner must not be empty.
    EmptyOwner,
    /// A store method was called from inside one of the same store's batches on the same
    /// thread (which would deadlock); use the [`Batch`](crate::Batch) handle instead.
    Reentrant,
}

impl fmt::Display for InvalidOperation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InvalidOperation::StandardEntry(id) => {
                write!(
                    f,
                    "entry {id} is a standard entry and cannot be moved or deleted"
                )
            }
            InvalidOperation::Cycle { entry, target } => {
                write!(f, "entry {target} lies inside the subtree of entry {entry}")
            }
            InvalidOperation::CreateRoot => f.write_str("a second root cannot be created"),
            InvalidOperation::StreamName(name) => write!(f, "{name:?} is not a valid stream name"),
            InvalidOperation::EmptyOwner => f.write_str("a lease owner must not be empty"),
            InvalidOperation::Reentrant => {
                f.write_str("the store was called from inside its own batch on the same thread")
            }
        }
    }
}

/// An error reported by SQLite (kept opaque so the store's API does not depend on the driver).
#[derive(Debug)]
pub struct DatabaseError(pub(crate) rusqlite::Error);

impl fmt::Display for DatabaseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl std::error::Error for DatabaseError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.source()
    }
}

/// Classifies a driver error; the path is filled in by `StoreError::at`. (Internal: the driver
/// is not part of the API.)
#[doc(hidden)]
impl From<rusqlite::Error> for StoreError {
    fn from(err: rusqlite::Error) -> Self {
        let path = PathBuf::new();
        match &err {
            rusqlite::Error::FromSqlConversionFailure(..)
            | rusqlite::Error::InvalidColumnType(..)
            | rusqlite::Error::IntegralValueOutOfRange(..) => {
                let detail = "a stored value cannot be read".into();
                return StoreError::Corrupt {
                    path,
                    detail,
                    source: Some(DatabaseError(err)),
                };
            }
            _ => {}
        }
        match err.sqlite_error_code() {
            Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => StoreError::Busy {
                path,
                source: DatabaseError(err),
            },
            Some(ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase) => StoreError::Corrupt {
                path,
                detail: "not a valid store database".into(),
                source: Some(DatabaseError(err)),
            },
            Some(ErrorCode::ReadOnly) => StoreError::ReadOnly {
                path,
                source: Box::new(DatabaseError(err)),
            },
            _ => StoreError::Database {
                path,
                source: DatabaseError(err),
            },
        }
    }
}

impl StoreError {
    /// Fills in the database path where the error was created without one.
    pub(crate) fn at(mut self, file: &Path) -> Self {
        match &mut self {
            StoreError::Busy { path, .. }
            | StoreError::Corrupt { path, .. }
            | StoreError::ReadOnly { path, .. }
            | StoreError::NewerSchema { path, .. }
            | StoreError::Database { path, .. }
                if path.as_os_str().is_empty() =>
            {
                *path = file.to_owned();
            }
            _ => {}
        }
        self
    }

    /// Maps a file-system failure at `path`, telling read-only locations apart.
    pub(crate) fn fs(context: &str, path: &Path, err: io::Error) -> Self {
        match err.kind() {
            io::ErrorKind::PermissionDenied | io::ErrorKind::ReadOnlyFilesystem => {
                StoreError::ReadOnly {
                    path: path.to_owned(),
                    source: Box::new(err),
                }
            }
            _ => StoreError::Io {
                context: format!("{context} {}", path.display()),
                source: err,
            },
        }
    }

    /// Whether waiting and trying again may help (the store was locked).
    pub fn is_busy(&self) -> bool {
        matches!(self, StoreError::Busy { .. })
    }
}

/// Shorthand for the store's results.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

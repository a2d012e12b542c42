//! Mailroom's message store: a tree of entries (root, services, folders, messages, parts) with
//! named streams per entry, kept in one embedded SQLite database.
//!
//! - Every operation is one transaction, durable when it returns (WAL with
//!   `synchronous=FULL`); [`Store::batch`] groups several into one.
//! - Streams are stored in 64 KiB chunks and read through [`StreamReader`], so a stream of any
//!   size goes in and comes out in constant memory.
//! - Several processes may open one store. Senders [`Store::claim`] messages with a lease that
//!   no other claimer takes while it is live, and that expires if its holder dies.
//! - Observers in this process get an [`Event`] after each commit; other processes follow the
//!   shared change log with [`Store::changes_since`].
//!
//! The store knows nothing of SMTP or MIME: MTMs give meaning to its fields and streams.
//!
//! ```
//! use mailroom_store::{EntryId, Filter, NewEntry, SendState, Store};
//!
//! let dir = tempfile::tempdir().unwrap();
//! let store = Store::open(dir.path()).unwrap();
//! let mut msg = NewEntry::message(EntryId::OUTBOX, "smtp", None);
//! msg.description = "Hello".into();
//! msg.send_state = Some(SendState::Waiting);
//! let id = store.create(&msg, &mut [("body", &mut &b"Hi there"[..])]).unwrap();
//! assert_eq!(store.children(EntryId::OUTBOX, &Filter::all()).unwrap()[0].id, id);
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod codec;
mod conn;
mod entry;
mod error;
mod events;
mod filter;
mod lease;
mod open;
mod ops;
mod schema;
mod staging;
mod store;
mod streams;

pub use entry::{
    EmailFields, Entry, EntryError, EntryId, EntryKind, Flags, Lease, NewEntry, ParseEnumError,
    Priority, RecipientKind, RecipientRecord, RecipientState, SendState,
};
pub use error::{DatabaseError, InvalidOperation, Result, StoreError};
pub use events::{Change, ChangeLog, Event, ObserverId};
pub use filter::{Claim, Filter, Sort, SortBy};
pub use open::{DB_FILE, OpenOptions};
pub use ops::Batch;
pub use schema::SCHEMA_VERSION;
pub use store::Store;
pub use streams::StreamReader;

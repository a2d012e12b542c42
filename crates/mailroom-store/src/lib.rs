//! Mailroom's message store: a tree of entries (root, services, folders, messages, parts) with
//! named streams per entry, kept in one embedded SQLite database.
//!
//! - Every operation is one transaction, durable when it returns (the write-ahead log is synced
//!   after the commit); [`Store::batch`] groups several into one, and
//!   [`Store::batch_with`]`(`[`Durability::Relaxed`]`, ..)` commits without the sync. Do not
//!   call the `Store`
//!   from inside a batch closure: use the [`Batch`] it hands you (a call on the same thread fails
//!   with [`InvalidOperation::Reentrant`] rather than deadlocking).
//! - Streams are stored in 64 KiB chunks (small ones inline) and read through
//!   [`StreamReader`], so a stream of any size goes in and comes out in constant memory.
//!   [`Store::create`] and [`Store::write_stream`] write streams over 1 MiB ahead in short
//!   transactions, so a huge attachment does not lock other writers out while it is stored.
//! - Several processes may open one store. Senders [`Store::claim`] messages with a lease that
//!   no other claimer takes while it is live, and that expires if its holder dies;
//!   [`Store::finish`] records the outcome, moves the message and releases it in one commit.
//!   Leases do not produce events.
//! - Observers in this process get an [`Event`] after each commit ([`Store::observe`],
//!   [`Store::subscribe`]). To follow other processes, poll [`Store::has_external_changes`]
//!   (one cheap pragma) and read what happened with [`Store::changes_since`].
//! - [`Store::open`] creates the directory (0700) and database (0600), migrates older schemas
//!   ([`SCHEMA_VERSION`]), and names the culprit when it cannot: [`StoreError::Busy`],
//!   [`StoreError::Corrupt`], [`StoreError::ReadOnly`], [`StoreError::NewerSchema`].
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
pub use store::{Durability, Store};
pub use streams::StreamReader;

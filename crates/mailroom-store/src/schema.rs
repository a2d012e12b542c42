//! The database schema, its version (`PRAGMA user_version`) and the migrations between versions.
//!
//! Version 1 holds the entry tree, recipient records and chunked streams; version 2 adds the
//! change log that lets one process see what another changed. A store of any older version is
//! migrated forward on open inside one immediate transaction, so two processes opening an old
//! store at once migrate it exactly once.

use std::path::Path;

use rusqlite::{Connection, Transaction, TransactionBehavior};

use crate::error::{Result, StoreError};

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = 2;

type Migration = fn(&Transaction<'_>) -> rusqlite::Result<()>;

/// `MIGRATIONS[n]` turns a version-`n` database into version `n + 1`.
const MIGRATIONS: [Migration; SCHEMA_VERSION as usize] = [create_v1, add_change_log_v2];

fn create_v1(tx: &Transaction<'_>) -> rusqlite::Result<()> {
    tx.execute_batch(
        "CREATE TABLE entries (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            parent INTEGER NOT NULL REFERENCES entries(id),
            kind TEXT NOT NULL,
            mtm TEXT NOT NULL,
            service INTEGER REFERENCES entries(id) ON DELETE SET NULL,
            date INTEGER NOT NULL,
            size INTEGER NOT NULL,
            description TEXT NOT NULL,
            details TEXT NOT NULL,
            flags INTEGER NOT NULL,
            priority TEXT NOT NULL,
            send_state TEXT,
            scheduled INTEGER,
            error_kind TEXT,
            error_code INTEGER,
            error_text TEXT,
            email_flags INTEGER NOT NULL,
            multipart TEXT,
            message_id TEXT,
            in_reply_to TEXT,
            lease_owner TEXT,
            lease_expires INTEGER
        );
        CREATE INDEX entries_by_parent ON entries(parent, date);
        CREATE INDEX entries_by_service ON entries(service);
        CREATE INDEX entries_queue ON entries(parent, send_state, scheduled);
        CREATE TABLE recipients (
            entry INTEGER NOT NULL REFERENCES entries(id) ON DELETE CASCADE,
            pos INTEGER NOT NULL,
            address TEXT NOT NULL,
            kind TEXT NOT NULL,
            state TEXT NOT NULL,
            code INTEGER,
            enhanced TEXT,
            text TEXT,
            time INTEGER,
            PRIMARY KEY (entry, pos)
        ) WITHOUT ROWID;
        CREATE TABLE streams (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            entry INTEGER NOT NULL REFERENCES entries(id) ON DELETE CASCADE,
            name TEXT NOT NULL,
            size INTEGER NOT NULL,
            UNIQUE (entry, name)
        );
        CREATE TABLE chunks (
            stream INTEGER NOT NULL REFERENCES streams(id) ON DELETE CASCADE,
            seq INTEGER NOT NULL,
            data BLOB NOT NULL,
            PRIMARY KEY (stream, seq)
        );",
    )?;
    let standard: [(i64, i64, &str, &str, Option<i64>); 7] = [
        (1, 1, "root", "Root", None),
        (2, 1, "service", "Local", None),
        (3, 2, "folder", "Inbox", Some(2)),
        (4, 2, "folder", "Outbox", Some(2)),
        (5, 2, "folder", "Drafts", Some(2)),
        (6, 2, "folder", "Sent", Some(2)),
        (7, 2, "folder", "Deleted", Some(2)),
    ];
    let now = crate::codec::to_micros(std::time::SystemTime::now());
    for (id, parent, kind, name, service) in standard {
        tx.execute(
            "INSERT INTO entries (id, parent, kind, mtm, service, date, size, description,
                 details, flags, priority, email_flags)
             VALUES (?1, ?2, ?3, 'local', ?4, ?5, 0, ?6, '', 1, 'normal', 0)",
            rusqlite::params![id, parent, kind, service, now, name],
        )?;
    }
    // Ids below FIRST_FREE stay reserved for standard entries.
    tx.execute(
        "UPDATE sqlite_sequence SET seq = 999 WHERE name = 'entries'",
        [],
    )?;
    Ok(())
}

fn add_change_log_v2(tx: &Transaction<'_>) -> rusqlite::Result<()> {
    tx.execute_batch(
        "CREATE TABLE changes (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            kind TEXT NOT NULL,
            entry INTEGER NOT NULL,
            parent INTEGER,
            other INTEGER
        );",
    )
}

/// Reads the schema version of an open database.
pub(crate) fn version(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("PRAGMA user_version", [], |r| r.get(0))
}

/// Brings the database up to `target` (normally [`SCHEMA_VERSION`]); refuses newer files.
pub(crate) fn migrate(conn: &mut Connection, path: &Path, target: i64) -> Result<()> {
    let found = version(conn)?;
    if found > SCHEMA_VERSION {
        return Err(newer(path, found));
    }
    if found >= target {
        return Ok(());
    }
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    // Another process may have migrated between the first read and taking the write lock.
    let found = version(&tx)?;
    if found > SCHEMA_VERSION {
        return Err(newer(path, found));
    }
    if found == 0 {
        let tables: i64 = tx.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))?;
        if tables > 0 {
            return Err(StoreError::Corrupt {
                path: path.to_owned(),
                detail: "an SQLite database that is not a mailroom store".into(),
                source: None,
            });
        }
    }
    for step in found..target {
        MIGRATIONS[step as usize](&tx)?;
        tracing::info!(from = step, to = step + 1, "migrated store schema");
    }
    tx.pragma_update(None, "user_version", target)?;
    tx.commit()?;
    Ok(())
}

fn newer(path: &Path, found: i64) -> StoreError {
    StoreError::NewerSchema {
        path: path.to_owned(),
        found,
        supported: SCHEMA_VERSION,
    }
}

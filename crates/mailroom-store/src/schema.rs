//! The database schema, its version (`PRAGMA user_version`) and the migrations between versions.
//!
//! Version 1 holds the entry tree, recipient records and chunked streams; version 2 adds the
//! change log that lets one process see what another changed; version 3 keeps streams smaller
//! than one chunk inline in their stream row; version 4 lets a stream row exist without an entry
//! while a large stream is staged; version 5 indexes a folder's messages in the order senders
//! claim them (due time, then id) in place of the index by send state, and drops the foreign
//! key of the parent column (the store keeps the tree whole itself). A store of any older version is
//! migrated forward on open inside one immediate transaction, so two processes opening an old
//! store at once migrate it exactly once.

use std::path::Path;

use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior};

use crate::codec::ENTRY_COLUMNS;

use crate::error::{Result, StoreError};

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = 5;

type Migration = fn(&Transaction<'_>) -> rusqlite::Result<()>;

/// `MIGRATIONS[n]` turns a version-`n` database into version `n + 1`.
const MIGRATIONS: [Migration; SCHEMA_VERSION as usize] = [
    create_v1,
    add_change_log_v2,
    add_inline_streams_v3,
    add_staged_streams_v4,
    rebuild_entries_v5,
];

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

fn add_inline_streams_v3(tx: &Transaction<'_>) -> rusqlite::Result<()> {
    // Streams written before this version keep their chunks; `data` stays NULL for them.
    tx.execute_batch("ALTER TABLE streams ADD COLUMN data BLOB;")
}

fn add_staged_streams_v4(tx: &Transaction<'_>) -> rusqlite::Result<()> {
    // SQLite cannot relax NOT NULL in place: rebuild the table (foreign keys are off meanwhile,
    // so dropping the old table does not cascade into the chunks).
    tx.execute_batch(
        "CREATE TABLE streams_v4 (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            entry INTEGER REFERENCES entries(id) ON DELETE CASCADE,
            name TEXT NOT NULL,
            size INTEGER NOT NULL,
            data BLOB,
            touched INTEGER,
            UNIQUE (entry, name)
        );
        INSERT INTO streams_v4 (id, entry, name, size, data)
            SELECT id, entry, name, size, data FROM streams;
        DROP TABLE streams;
        ALTER TABLE streams_v4 RENAME TO streams;
        CREATE INDEX streams_staged ON streams(touched) WHERE entry IS NULL;",
    )
}

fn rebuild_entries_v5(tx: &Transaction<'_>) -> rusqlite::Result<()> {
    // Two changes for senders. The parent column loses its foreign key: the store checks a
    // parent exists before it creates or moves anything and deletes children first, and with
    // the key SQLite journals every page a move touches, in case the statement fails halfway.
    // And a folder's messages get an index in the order senders claim them (due time, then
    // id), so a claim reads the rows it takes instead of sorting the whole folder; it also
    // serves what the index by send state served, so that one goes and a change of send state
    // rewrites no index entry. SQLite cannot drop a constraint in place: rebuild the table
    // (foreign keys are off meanwhile) and keep the id sequence as it was.
    let seq: Option<i64> = tx
        .query_row(
            "SELECT seq FROM sqlite_sequence WHERE name = 'entries'",
            [],
            |r| r.get(0),
        )
        .optional()?;
    tx.execute_batch(&format!(
        "CREATE TABLE entries_v5 (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            parent INTEGER NOT NULL,
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
        INSERT INTO entries_v5 ({ENTRY_COLUMNS}) SELECT {ENTRY_COLUMNS} FROM entries;
        DROP TABLE entries;
        ALTER TABLE entries_v5 RENAME TO entries;
        CREATE INDEX entries_by_parent ON entries(parent, date);
        CREATE INDEX entries_by_service ON entries(service);
        CREATE INDEX entries_due ON entries(parent, COALESCE(scheduled, date), id);"
    ))?;
    if let Some(seq) = seq {
        tx.execute(
            "UPDATE sqlite_sequence SET seq = max(seq, ?1) WHERE name = 'entries'",
            [seq],
        )?;
    }
    Ok(())
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
    // Table rebuilds need foreign keys off; the pragma is a no-op inside a transaction.
    conn.pragma_update(None, "foreign_keys", false)?;
    let result = migrate_locked(conn, path, target);
    conn.pragma_update(None, "foreign_keys", true)?;
    result
}

fn migrate_locked(conn: &mut Connection, path: &Path, target: i64) -> Result<()> {
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
    let broken: i64 = tx.query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| {
        r.get(0)
    })?;
    if broken > 0 {
        return Err(StoreError::Corrupt {
            path: path.to_owned(),
            detail: format!("{broken} dangling references found while migrating"),
            source: None,
        });
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

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;
    use crate::{EntryId, Event, NewEntry, SendState, Store};

    #[test]
    fn a_version_1_store_migrates_with_its_data_intact() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(crate::DB_FILE);
        let mut conn = Connection::open(&path).unwrap();
        migrate(&mut conn, &path, 1).unwrap();
        assert_eq!(version(&conn).unwrap(), 1);
        conn.execute_batch(
            "INSERT INTO entries (id, parent, kind, mtm, date, size, description, details, flags,
                 priority, send_state, email_flags, message_id)
             VALUES (1000, 4, 'message', 'smtp', 0, 5, 'old', 'a@example.com', 1, 'high',
                 'waiting', 2, '<old@example.com>');
             INSERT INTO recipients (entry, pos, address, kind, state)
             VALUES (1000, 0, 'a@example.com', 'to', 'pending');
             INSERT INTO streams (id, entry, name, size) VALUES (1, 1000, 'mime', 5);
             INSERT INTO chunks (stream, seq, data) VALUES (1, 0, X'68656C6C6F');",
        )
        .unwrap();
        drop(conn);

        let store = Store::open(dir.path()).unwrap();
        assert_eq!(
            version(&store.conn.lock().unwrap()).unwrap(),
            SCHEMA_VERSION
        );
        let old = store.entry(EntryId(1000)).unwrap();
        assert_eq!(old.description, "old");
        assert_eq!(old.send_state, Some(SendState::Waiting));
        assert_eq!(old.flags.priority, crate::Priority::High);
        assert!(old.email.html);
        assert_eq!(old.recipients[0].address, "a@example.com");
        let mut body = String::new();
        store
            .open_stream(old.id, "mime")
            .unwrap()
            .read_to_string(&mut body)
            .unwrap();
        assert_eq!(body, "hello");

        // The rebuilt stream table keeps counting ids where the old one stopped.
        store.write_stream(old.id, "more", &mut &b"x"[..]).unwrap();
        let conn = store.conn.lock().unwrap();
        let ids: Vec<i64> = conn
            .prepare("SELECT id FROM streams ORDER BY id")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(|r| r.unwrap())
            .collect();
        assert_eq!(ids, [1, 2]);
        let fk: i64 = conn
            .query_row("PRAGMA foreign_keys", [], |r| r.get(0))
            .unwrap();
        assert_eq!(fk, 1, "foreign keys back on after migrating");
        drop(conn);

        let new = store
            .create(&NewEntry::folder(EntryId::INBOX, "n"), &mut [])
            .unwrap();
        assert!(new > old.id);
        let log = store.changes_since(0, 10).unwrap();
        let events: Vec<Event> = log.changes.iter().map(|c| c.event).collect();
        let created = Event::Created {
            id: new,
            parent: EntryId::INBOX,
        };
        assert_eq!(events, [Event::Changed { id: old.id }, created]);
    }

    #[test]
    fn a_version_4_store_loses_the_parent_key_and_keeps_its_tree_and_id_sequence() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(crate::DB_FILE);
        let mut conn = Connection::open(&path).unwrap();
        migrate(&mut conn, &path, 4).unwrap();
        conn.execute_batch(
            "INSERT INTO entries (id, parent, kind, mtm, service, date, size, description,
                 details, flags, priority, send_state, email_flags, lease_owner, lease_expires)
             VALUES (1500, 4, 'message', 'smtp', 2, 7, 3, 'queued', '', 1, 'normal',
                 'waiting', 0, 'someone', 99);
             INSERT INTO recipients (entry, pos, address, kind, state)
             VALUES (1500, 0, 'a@example.com', 'to', 'pending');
             UPDATE sqlite_sequence SET seq = 2000 WHERE name = 'entries';",
        )
        .unwrap();
        drop(conn);

        let store = Store::open(dir.path()).unwrap();
        let old = store.entry(EntryId(1500)).unwrap();
        assert_eq!(old.parent, EntryId::OUTBOX);
        assert_eq!(old.service, Some(EntryId::LOCAL_SERVICE));
        assert_eq!(
            old.lease.as_ref().map(|l| l.owner.as_str()),
            Some("someone")
        );
        assert_eq!(old.recipients.len(), 1);
        // Ids deleted before the migration are not handed out again.
        let new = store
            .create(&NewEntry::folder(EntryId::INBOX, "n"), &mut [])
            .unwrap();
        assert!(new.0 > 2000, "{new}");
        let conn = store.conn.lock().unwrap();
        let keys: Vec<String> = conn
            .prepare("SELECT \"from\" FROM pragma_foreign_key_list('entries')")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(|r| r.unwrap())
            .collect();
        assert_eq!(keys, ["service"]);
        let indexes: Vec<String> = conn
            .prepare("SELECT name FROM pragma_index_list('entries') ORDER BY name")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(|r| r.unwrap())
            .collect();
        assert_eq!(
            indexes,
            ["entries_by_parent", "entries_by_service", "entries_due"]
        );
        drop(conn);
        // Recipients still go with their entry.
        store.delete(old.id).unwrap();
        let conn = store.conn.lock().unwrap();
        let left: i64 = conn
            .query_row(
                "SELECT count(*) FROM recipients WHERE entry = 1500",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(left, 0);
    }

    #[test]
    fn concurrent_first_opens_of_a_new_store_are_not_refused_as_busy() {
        let dir = tempfile::tempdir().unwrap();
        std::thread::scope(|s| {
            let handles: Vec<_> = (0..4)
                .map(|_| s.spawn(|| Store::open(dir.path()).map_err(|e| format!("{e:?}"))))
                .collect();
            for h in handles {
                h.join().unwrap().unwrap();
            }
        });
    }

    #[test]
    fn concurrent_opens_of_an_old_store_migrate_it_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(crate::DB_FILE);
        let mut conn = Connection::open(&path).unwrap();
        migrate(&mut conn, &path, 1).unwrap();
        drop(conn);
        let stores: Vec<Store> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..4)
                .map(|_| {
                    s.spawn(|| {
                        Store::open(dir.path())
                            .map_err(|e| format!("{e:?}"))
                            .unwrap()
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        for s in &stores {
            assert_eq!(version(&s.conn.lock().unwrap()).unwrap(), SCHEMA_VERSION);
        }
    }
}

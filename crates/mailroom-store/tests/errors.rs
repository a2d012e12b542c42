//! Clear errors, never panics, for stores that are locked too long, corrupt, read-only or newer
//! than this build.

use std::error::Error;
use std::path::Path;
use std::process::Command;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use mailroom_store::{DB_FILE, EntryId, NewEntry, OpenOptions, SCHEMA_VERSION, Store, StoreError};

fn short_timeout() -> OpenOptions {
    OpenOptions {
        busy_timeout: Duration::from_millis(200),
    }
}

#[test]
fn a_store_locked_past_the_busy_timeout_reports_busy() {
    let dir = tempfile::tempdir().unwrap();
    let holder = Store::open(dir.path()).unwrap();
    let waiter = Store::open_with(dir.path(), &short_timeout()).unwrap();
    let (locked_tx, locked_rx) = mpsc::channel();
    let (release_tx, release_rx) = mpsc::channel::<()>();
    std::thread::scope(|s| {
        s.spawn(move || {
            holder
                .batch(|b| {
                    b.create(&NewEntry::folder(EntryId::INBOX, "slow"), &mut [])?;
                    locked_tx.send(()).unwrap();
                    release_rx.recv().unwrap();
                    Ok(())
                })
                .unwrap();
        });
        locked_rx.recv().unwrap();
        let started = Instant::now();
        let err = waiter
            .create(&NewEntry::folder(EntryId::INBOX, "late"), &mut [])
            .unwrap_err();
        assert!(
            started.elapsed() >= Duration::from_millis(150),
            "waited for the timeout"
        );
        assert!(err.is_busy(), "{err:?}");
        let StoreError::Busy { path, source } = &err else {
            unreachable!()
        };
        assert_eq!(path, &dir.path().join(DB_FILE));
        assert!(err.source().is_some() && !source.to_string().is_empty());
        assert!(err.to_string().contains("locked"), "{err}");
        release_tx.send(()).unwrap();
    });
    // Once the holder commits, the waiter goes through.
    waiter
        .create(&NewEntry::folder(EntryId::INBOX, "later"), &mut [])
        .unwrap();
}

#[test]
fn a_file_that_is_not_a_database_is_corrupt() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(DB_FILE), vec![0x5a; 8192]).unwrap();
    let err = Store::open(dir.path()).unwrap_err();
    assert!(
        matches!(&err, StoreError::Corrupt { path, .. } if path.ends_with(DB_FILE)),
        "{err:?}"
    );
}

#[test]
fn another_programs_sqlite_database_is_not_taken_for_a_store() {
    let dir = tempfile::tempdir().unwrap();
    let other = rusqlite::Connection::open(dir.path().join(DB_FILE)).unwrap();
    other
        .execute_batch("CREATE TABLE photos (id INTEGER PRIMARY KEY)")
        .unwrap();
    drop(other);
    let err = Store::open(dir.path()).unwrap_err();
    assert!(
        matches!(&err, StoreError::Corrupt { detail, .. } if detail.contains("not a mailroom"))
    );
}

#[test]
fn damaged_pages_are_reported_as_corrupt_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let ids: Vec<EntryId> = (0..300)
        .map(|i| {
            let mut m = NewEntry::message(EntryId::OUTBOX, "smtp", None);
            m.description = format!("message {i} with a subject long enough to fill pages");
            store
                .create(&m, &mut [("body", &mut &vec![b'x'; 3000][..])])
                .unwrap()
        })
        .collect();
    drop(store); // the last connection checkpoints the WAL into the main file
    let file = dir.path().join(DB_FILE);
    let mut bytes = std::fs::read(&file).unwrap();
    let page = usize::from(u16::from_be_bytes([bytes[16], bytes[17]])); // header: page size
    for p in 1..bytes.len() / page {
        bytes[p * page..p * page + 64].fill(0xa5);
    }
    std::fs::write(&file, bytes).unwrap();
    let outcome = Store::open(dir.path()).and_then(|s| {
        s.check()?;
        ids.iter().try_for_each(|id| s.entry(*id).map(drop))
    });
    let err = outcome.unwrap_err();
    assert!(matches!(err, StoreError::Corrupt { .. }), "{err:?}");
}

#[test]
fn a_store_from_a_newer_schema_is_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    drop(Store::open(dir.path()).unwrap());
    let conn = rusqlite::Connection::open(dir.path().join(DB_FILE)).unwrap();
    conn.pragma_update(None, "user_version", SCHEMA_VERSION + 7)
        .unwrap();
    drop(conn);
    let err = Store::open(dir.path()).unwrap_err();
    assert!(
        matches!(err, StoreError::NewerSchema { found, supported, .. }
            if found == SCHEMA_VERSION + 7 && supported == SCHEMA_VERSION),
        "{err:?}"
    );
    assert!(err.to_string().contains("schema version"));
    let conn = rusqlite::Connection::open(dir.path().join(DB_FILE)).unwrap();
    let v: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(v, SCHEMA_VERSION + 7);
}

/// Makes `path` unwritable even for root (the immutable attribute), or with mode bits for
/// other users; undone on drop so the temporary directory can be removed.
struct Unwritable<'a>(&'a Path, bool);

impl<'a> Unwritable<'a> {
    fn new(path: &'a Path) -> Option<Self> {
        use std::os::unix::fs::PermissionsExt;
        let immutable = Command::new("chattr").arg("+i").arg(path).output();
        if immutable.is_ok_and(|o| o.status.success()) {
            return Some(Unwritable(path, true));
        }
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o500)).unwrap();
        // Root ignores mode bits; without chattr there is no way to make a path read-only.
        let probe = path.join("probe");
        if std::fs::write(&probe, b"x").is_ok() {
            let _ = std::fs::remove_file(probe);
            return None;
        }
        Some(Unwritable(path, false))
    }
}

impl Drop for Unwritable<'_> {
    fn drop(&mut self) {
        use std::os::unix::fs::PermissionsExt;
        if self.1 {
            let _ = Command::new("chattr").arg("-i").arg(self.0).status();
        } else {
            let _ = std::fs::set_permissions(self.0, std::fs::Permissions::from_mode(0o700));
        }
    }
}

#[test]
fn a_store_on_a_read_only_location_is_reported_as_such() {
    let dir = tempfile::tempdir().unwrap();
    let fresh = dir.path().join("fresh");
    std::fs::create_dir(&fresh).unwrap();
    let existing = dir.path().join("existing");
    drop(Store::open(&existing).unwrap());

    let Some(_fresh_guard) = Unwritable::new(&fresh) else {
        eprintln!("skipped: cannot make a directory read-only here (root without chattr)");
        return;
    };
    let err = Store::open(&fresh).unwrap_err();
    assert!(
        matches!(err, StoreError::ReadOnly { .. }),
        "new store: {err:?}"
    );
    assert!(err.source().is_some());

    // An existing store whose directory refuses the WAL files.
    let _existing_guard = Unwritable::new(&existing).unwrap();
    let err = Store::open(&existing).unwrap_err();
    assert!(
        matches!(err, StoreError::ReadOnly { .. }),
        "existing store: {err:?}"
    );
}

//! Large streams are staged in short transactions: other writers get through meanwhile, the
//! entry appears only when complete, and staged data of failed or dead writers goes away.

use std::io::Read;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use mailroom_store::{DB_FILE, EntryId, Filter, NewEntry, OpenOptions, Store, StoreError};

const MIB: usize = 1 << 20;

/// `len` bytes of a pattern, sleeping `pause` on every read.
struct Slow {
    pos: usize,
    len: usize,
    pause: Duration,
}

impl Read for Slow {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        std::thread::sleep(self.pause);
        let n = buf.len().min(self.len - self.pos).min(64 * 1024);
        for (k, b) in buf[..n].iter_mut().enumerate() {
            *b = ((self.pos + k) % 253) as u8;
        }
        self.pos += n;
        Ok(n)
    }
}

fn staged_rows(dir: &std::path::Path) -> i64 {
    let db = rusqlite::Connection::open(dir.join(DB_FILE)).unwrap();
    db.query_row(
        "SELECT count(*) FROM streams WHERE entry IS NULL",
        [],
        |r| r.get(0),
    )
    .unwrap()
}

#[test]
fn storing_a_large_stream_does_not_hold_the_write_lock_throughout() {
    let dir = tempfile::tempdir().unwrap();
    let writer = Store::open(dir.path()).unwrap();
    let other = Store::open_with(
        dir.path(),
        &OpenOptions {
            busy_timeout: Duration::from_secs(30),
        },
    )
    .unwrap();
    let done = AtomicBool::new(false);
    let (total, max_wait, commits) = std::thread::scope(|s| {
        let watcher = s.spawn(|| {
            let (mut max_wait, mut commits) = (Duration::ZERO, 0);
            while !done.load(Ordering::SeqCst) {
                let started = Instant::now();
                other
                    .create(&NewEntry::folder(EntryId::INBOX, "tick"), &mut [])
                    .unwrap();
                max_wait = max_wait.max(started.elapsed());
                commits += 1;
                // Once the entry shows, its stream is whole.
                for e in other.children(EntryId::OUTBOX, &Filter::all()).unwrap() {
                    assert_eq!(e.size, 48 * MIB as u64);
                    let stream = other.open_stream(e.id, "attachment").unwrap();
                    assert_eq!(stream.len(), 48 * MIB as u64);
                }
                std::thread::sleep(Duration::from_millis(5));
            }
            (max_wait, commits)
        });
        let started = Instant::now();
        let mut msg = NewEntry::message(EntryId::OUTBOX, "smtp", None);
        msg.description = "big".into();
        let mut data = Slow {
            pos: 0,
            len: 48 * MIB,
            pause: Duration::from_millis(2),
        };
        let id = writer
            .create(&msg, &mut [("attachment", &mut data)])
            .unwrap();
        done.store(true, Ordering::SeqCst);
        let total = started.elapsed();
        let (max_wait, commits) = watcher.join().unwrap();
        assert_eq!(writer.entry(id).unwrap().size, 48 * MIB as u64);
        (total, max_wait, commits)
    });
    eprintln!("{commits} commits meanwhile, longest wait {max_wait:?}, create took {total:?}");
    assert!(
        commits > 5,
        "only {commits} commits got through in {total:?}"
    );
    assert!(
        max_wait < total / 2,
        "a commit waited {max_wait:?} of {total:?}"
    );
    assert_eq!(staged_rows(dir.path()), 0);

    let id = writer.children(EntryId::OUTBOX, &Filter::all()).unwrap()[0].id;
    let mut r = writer.open_stream(id, "attachment").unwrap();
    let (mut buf, mut pos) = (vec![0u8; 1 << 16], 0usize);
    loop {
        let n = r.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        assert!(
            buf[..n]
                .iter()
                .enumerate()
                .all(|(k, b)| *b == ((pos + k) % 253) as u8)
        );
        pos += n;
    }
    assert_eq!(pos, 48 * MIB);
}

/// Fails after `ok` bytes.
struct Broken(usize);

impl Read for Broken {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.0 == 0 {
            return Err(std::io::Error::other("cable cut"));
        }
        let n = buf.len().min(self.0);
        buf[..n].fill(1);
        self.0 -= n;
        Ok(n)
    }
}

#[test]
fn a_large_stream_that_fails_midway_leaves_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let msg = NewEntry::message(EntryId::OUTBOX, "smtp", None);
    let err = store
        .create(&msg, &mut [("a", &mut Broken(20 * MIB))])
        .unwrap_err();
    assert!(matches!(err, StoreError::Io { .. }), "{err:?}");
    assert!(
        store
            .children(EntryId::OUTBOX, &Filter::all())
            .unwrap()
            .is_empty()
    );
    assert_eq!(staged_rows(dir.path()), 0);

    // Replacing an existing stream the same way keeps the old one.
    let id = store.create(&msg, &mut [("a", &mut &b"old"[..])]).unwrap();
    assert!(store.write_stream(id, "a", &mut Broken(3 * MIB)).is_err());
    let mut s = String::new();
    store
        .open_stream(id, "a")
        .unwrap()
        .read_to_string(&mut s)
        .unwrap();
    assert_eq!(s, "old");
    assert_eq!(staged_rows(dir.path()), 0);

    // A failure after staging (the parent is gone) also discards the staged data.
    let folder = store
        .create(&NewEntry::folder(EntryId::INBOX, "f"), &mut [])
        .unwrap();
    store.delete(folder).unwrap();
    let orphan = NewEntry::message(folder, "smtp", None);
    let err = store.create(&orphan, &mut [("a", &mut vec![0u8; 3 * MIB].as_slice())]);
    assert!(matches!(err, Err(StoreError::NotFound(f)) if f == folder));
    assert_eq!(staged_rows(dir.path()), 0);
}

#[test]
fn staged_data_of_a_dead_writer_is_swept_on_open_but_a_live_ones_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    drop(Store::open(dir.path()).unwrap());
    let micros = |t: SystemTime| t.duration_since(UNIX_EPOCH).unwrap().as_micros() as i64;
    let db = rusqlite::Connection::open(dir.path().join(DB_FILE)).unwrap();
    let now = SystemTime::now();
    for (id, touched) in [(500, now - Duration::from_secs(3600)), (501, now)] {
        db.execute(
            "INSERT INTO streams (id, entry, name, size, touched) VALUES (?1, NULL, '', 1, ?2)",
            [id, micros(touched)],
        )
        .unwrap();
        db.execute(
            "INSERT INTO chunks (stream, seq, data) VALUES (?1, 0, x'00')",
            [id],
        )
        .unwrap();
    }
    drop(db);
    drop(Store::open(dir.path()).unwrap());
    let db = rusqlite::Connection::open(dir.path().join(DB_FILE)).unwrap();
    let left: Vec<i64> = db
        .prepare("SELECT stream FROM chunks ORDER BY stream")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(left, [501]);
}

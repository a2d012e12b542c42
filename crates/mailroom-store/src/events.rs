//! Change events: delivered to observers in this process after each commit, and written to the
//! change log in the same transaction so that other processes can read them.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, mpsc};

use rusqlite::{Connection, params};
use serde::{Deserialize, Serialize};

use crate::entry::EntryId;

/// Something that happened to an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Event {
    /// An entry was created (or copied) under `parent`.
    Created {
        /// The new entry.
        id: EntryId,
        /// Its parent.
        parent: EntryId,
    },
    /// Fields or streams of an entry changed.
    Changed {
        /// The entry.
        id: EntryId,
    },
    /// An entry moved from one parent to another.
    Moved {
        /// The entry.
        id: EntryId,
        /// The old parent.
        from: EntryId,
        /// The new parent.
        to: EntryId,
    },
    /// An entry was deleted (one event per entry of a deleted subtree).
    Deleted {
        /// The entry.
        id: EntryId,
        /// Its parent before deletion.
        parent: EntryId,
    },
}

/// One event of the change log, with its position.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Change {
    /// Position in the log; increases with every event committed by any process.
    pub seq: u64,
    /// The event.
    pub event: Event,
}

/// Events read from the change log.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChangeLog {
    /// The events after the position asked for, oldest first.
    pub changes: Vec<Change>,
    /// Some events after the position asked for were pruned from the log: rescan what you show.
    pub missed: bool,
}

/// Keep this many events in the log; older ones are pruned.
const LOG_KEEP: i64 = 100_000;

/// Appends events to the change log (inside the caller's transaction).
pub(crate) fn log(conn: &Connection, events: &[Event]) -> rusqlite::Result<()> {
    let mut stmt = conn.prepare_cached(
        "INSERT INTO changes (kind, entry, parent, other) VALUES (?1, ?2, ?3, ?4)",
    )?;
    for e in events {
        let (kind, entry, parent, other) = match *e {
            Event::Created { id, parent } => ("created", id, Some(parent), None),
            Event::Changed { id } => ("changed", id, None, None),
            Event::Moved { id, from, to } => ("moved", id, Some(from), Some(to)),
            Event::Deleted { id, parent } => ("deleted", id, Some(parent), None),
        };
        stmt.execute(params![kind, entry, parent, other])?;
    }
    let last = conn.last_insert_rowid();
    let first = last - events.len() as i64;
    // Prune once every 1024 events, when this batch crossed a multiple of 1024.
    if !events.is_empty() && last / 1024 != first / 1024 {
        conn.prepare_cached("DELETE FROM changes WHERE seq <= ?1")?
            .execute([last - LOG_KEEP])?;
    }
    Ok(())
}

/// Reads up to `limit` events after `after`.
pub(crate) fn read_log(conn: &Connection, after: u64, limit: usize) -> rusqlite::Result<ChangeLog> {
    let after = i64::try_from(after).unwrap_or(i64::MAX);
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let mut stmt = conn.prepare_cached(
        "SELECT seq, kind, entry, parent, other FROM changes WHERE seq > ?1 ORDER BY seq LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![after, limit], |r| {
        let seq: i64 = r.get(0)?;
        let kind: String = r.get(1)?;
        let id: EntryId = r.get(2)?;
        let parent: Option<EntryId> = r.get(3)?;
        let other: Option<EntryId> = r.get(4)?;
        let p = parent.unwrap_or(EntryId::ROOT);
        let event = match kind.as_str() {
            "created" => Event::Created { id, parent: p },
            "moved" => Event::Moved {
                id,
                from: p,
                to: other.unwrap_or(EntryId::ROOT),
            },
            "deleted" => Event::Deleted { id, parent: p },
            _ => Event::Changed { id },
        };
        Ok(Change {
            seq: seq as u64,
            event,
        })
    })?;
    let changes = rows.collect::<rusqlite::Result<Vec<_>>>()?;
    let missed = match changes.first() {
        Some(first) => first.seq > after as u64 + 1,
        None => false,
    };
    Ok(ChangeLog { changes, missed })
}

/// The position of the newest event in the log (0 when empty).
pub(crate) fn last_seq(conn: &Connection) -> rusqlite::Result<u64> {
    conn.query_row("SELECT COALESCE(MAX(seq), 0) FROM changes", [], |r| {
        r.get::<_, i64>(0)
    })
    .map(|s| s as u64)
}

/// Identifies an observer, to remove it with [`Store::unobserve`](crate::Store::unobserve).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ObserverId(u64);

type Callback = Arc<dyn Fn(&Event) -> bool + Send + Sync>;

/// The observers of one store.
#[derive(Default)]
pub(crate) struct Observers {
    next: AtomicU64,
    list: Mutex<Vec<(ObserverId, Callback)>>,
}

impl Observers {
    /// Adds a callback; it is dropped once it returns `false`.
    pub(crate) fn add(&self, f: Callback) -> ObserverId {
        let id = ObserverId(self.next.fetch_add(1, Ordering::Relaxed));
        self.list
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push((id, f));
        id
    }

    pub(crate) fn remove(&self, id: ObserverId) -> bool {
        let mut list = self.list.lock().unwrap_or_else(|p| p.into_inner());
        let before = list.len();
        list.retain(|(i, _)| *i != id);
        list.len() != before
    }

    /// A channel that receives every event until its receiver is dropped.
    pub(crate) fn channel(&self) -> mpsc::Receiver<Event> {
        let (tx, rx) = mpsc::channel();
        self.add(Arc::new(move |e| tx.send(*e).is_ok()));
        rx
    }

    /// Delivers events to every observer, outside any store lock.
    pub(crate) fn dispatch(&self, events: &[Event]) {
        if events.is_empty() {
            return;
        }
        let current: Vec<(ObserverId, Callback)> =
            self.list.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let mut gone = Vec::new();
        for (id, f) in &current {
            if !events.iter().all(|e| f(e)) {
                gone.push(*id);
            }
        }
        for id in gone {
            self.remove(id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db() -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE changes (seq INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL,
                 entry INTEGER NOT NULL, parent INTEGER, other INTEGER);",
        )
        .unwrap();
        conn
    }

    #[test]
    fn every_event_kind_round_trips_through_the_log() {
        let conn = db();
        let (a, b, c) = (EntryId(1000), EntryId(3), EntryId(4));
        let events = [
            Event::Created { id: a, parent: b },
            Event::Changed { id: a },
            Event::Moved {
                id: a,
                from: b,
                to: c,
            },
            Event::Deleted { id: a, parent: c },
        ];
        log(&conn, &events).unwrap();
        let read = read_log(&conn, 0, 10).unwrap();
        assert!(!read.missed);
        assert_eq!(
            read.changes.iter().map(|c| c.event).collect::<Vec<_>>(),
            events
        );
        assert_eq!(
            read.changes.iter().map(|c| c.seq).collect::<Vec<_>>(),
            [1, 2, 3, 4]
        );
        assert_eq!(read_log(&conn, 2, 1).unwrap().changes[0].seq, 3);
        assert_eq!(last_seq(&conn).unwrap(), 4);
    }

    #[test]
    fn old_events_are_pruned_and_a_reader_behind_them_is_told() {
        let conn = db();
        let e = Event::Changed { id: EntryId(1000) };
        log(&conn, &[e; 5]).unwrap();
        conn.execute(
            "INSERT INTO changes (seq, kind, entry) VALUES (200703, 'changed', 1)",
            [],
        )
        .unwrap();
        // 30 more events cross seq 200704 = 196 * 1024, which prunes everything 100000 back.
        log(&conn, &[e; 30]).unwrap();
        let read = read_log(&conn, 0, 1000).unwrap();
        assert!(read.missed, "events 1..5 were pruned");
        assert_eq!(read.changes.first().unwrap().seq, 200_703);
        assert_eq!(read.changes.len(), 31);
        assert!(!read_log(&conn, 200_703, 1000).unwrap().missed);
    }
}

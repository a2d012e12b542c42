//! The [`Store`] handle: every public operation, each as one transaction.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, SystemTime};

use rusqlite::{Connection, TransactionBehavior};

use crate::conn::{Guard, Shared};
use crate::entry::{Entry, EntryId, NewEntry};
use crate::error::{Result, StoreError};
use crate::events::{self, ChangeLog, Event, ObserverId, Observers};
use crate::filter::{self, Claim, Filter};
use crate::lease;
use crate::ops::{Batch, read_entry};
use crate::staging;
use crate::streams::{self, StreamReader};

/// How a commit reaches the disk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Durability {
    /// Synced before the call returns: survives a power loss.
    Full,
    /// Written to the log but not synced: survives the death of the process, and becomes
    /// durable with the next full commit.
    Relaxed,
}

/// A message store: a tree of entries with named streams, in one SQLite database.
///
/// Every operation is one transaction, committed durably (WAL, synced) before it
/// returns. `Store` is `Send + Sync`; share it with `Arc`. Several processes may open the same
/// directory at once.
pub struct Store {
    pub(crate) path: PathBuf,
    pub(crate) conn: Arc<Shared>,
    pub(crate) observers: Observers,
    pub(crate) data_version: Mutex<Option<i64>>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) fn lock(&self) -> Result<Guard<'_>> {
        self.conn.lock().map_err(|e| e.at(&self.path))
    }

    /// Runs `f` in one immediate transaction, logs its events, commits durably, then tells
    /// observers. Nothing is written if `f` fails.
    pub fn batch<T>(&self, f: impl FnOnce(&mut Batch<'_>) -> Result<T>) -> Result<T> {
        self.batch_with(Durability::Full, f)
    }

    /// [`batch`](Self::batch) with a chosen durability. A [`Durability::Relaxed`] commit is
    /// visible to every process at once and survives the death of this one, but not a power
    /// loss until a later [`Durability::Full`] commit or [`sync`](Self::sync) (which make every
    /// earlier commit durable).
    pub fn batch_with<T>(
        &self,
        durability: Durability,
        f: impl FnOnce(&mut Batch<'_>) -> Result<T>,
    ) -> Result<T> {
        let mut conn = self.lock()?;
        let run = |conn: &mut Connection| -> Result<(T, Vec<Event>)> {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let mut batch = Batch {
                conn: &tx,
                events: Vec::new(),
            };
            let out = f(&mut batch)?;
            let events = std::mem::take(&mut batch.events);
            events::log(&tx, &events)?;
            tx.commit()?;
            Ok((out, events))
        };
        let (out, events) = run(&mut conn).map_err(|e| e.at(&self.path))?;
        drop(conn);
        if durability == Durability::Full {
            // The commit is in the log; syncing it needs no lock, so other work on this
            // connection goes on meanwhile.
            self.sync_log().map_err(|e| e.at(&self.path))?;
        }
        self.observers.dispatch(&events);
        Ok(out)
    }

    /// Makes every commit so far durable, relaxed ones included.
    pub fn sync(&self) -> Result<()> {
        self.sync_log().map_err(|e| e.at(&self.path))
    }

    /// Syncs the write-ahead log. The connection commits with `synchronous=NORMAL` (each
    /// commit is written to the log, not synced); syncing the log after a commit gives what
    /// `synchronous=FULL` gives, while relaxed commits stay cheap. It needs no lock: commits
    /// written before it starts are in the file it syncs, or, if a checkpoint took them from
    /// the log meanwhile, in the database file, which SQLite syncs after every checkpoint (and
    /// it syncs the log before one), so a later restart of the log cannot lose them.
    pub(crate) fn sync_log(&self) -> Result<()> {
        let mut wal = self.path.clone().into_os_string();
        wal.push("-wal");
        match std::fs::File::open(&wal) {
            Ok(file) => file
                .sync_data()
                .map_err(|e| StoreError::fs("syncing the write-ahead log", Path::new(&wal), e)),
            // No log: every commit is already checkpointed into the synced database file.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(StoreError::fs(
                "opening the write-ahead log",
                Path::new(&wal),
                e,
            )),
        }
    }

    fn read<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        let mut conn = self.lock()?;
        let run = |conn: &mut Connection| -> Result<T> {
            let tx = conn.transaction()?;
            let out = f(&tx)?;
            tx.finish()?;
            Ok(out)
        };
        run(&mut conn).map_err(|e| e.at(&self.path))
    }

    /// Creates an entry and its streams in one durable transaction: the entry becomes visible
    /// with all its streams complete, or not at all.
    ///
    /// Streams over 1 MiB are written ahead in steps of at most 400 ms with pauses between them
    /// (each step its own transaction, invisible to readers) and attached in the final one, so
    /// a huge attachment never holds the write lock for long. Memory stays at one chunk per
    /// large stream and at most 1 MiB per small one.
    pub fn create(&self, new: &NewEntry, streams: &mut [(&str, &mut dyn Read)]) -> Result<EntryId> {
        for (name, _) in streams.iter() {
            streams::check_name(name)?;
        }
        let mut prepared = Vec::with_capacity(streams.len());
        for (name, data) in streams.iter_mut() {
            let what = || format!("stream {name:?} of a new entry");
            match staging::prepare(*data, &what, &|f| self.step(f)) {
                Ok(p) => prepared.push((*name, p)),
                Err(e) => {
                    self.discard(&prepared);
                    return Err(e);
                }
            }
        }
        let known = prepared.iter().map(|(_, p)| p.len()).sum();
        let result = self.batch(|b| {
            b.create_with(new, Some(known), |conn, id| {
                let mut total: u64 = 0;
                for (name, p) in &prepared {
                    total = total.saturating_add(staging::attach(conn, id, name, p, true)?);
                }
                Ok(total)
            })
        });
        if result.is_err() {
            self.discard(&prepared);
        }
        result
    }

    /// Runs one step of staging in its own transaction.
    fn step(&self, f: &mut dyn FnMut(&Connection) -> Result<()>) -> Result<()> {
        self.batch(|b| f(b.conn))
    }

    fn discard(&self, prepared: &[(&str, staging::Prepared)]) {
        for (_, p) in prepared {
            staging::discard(p, &|f| self.step(f));
        }
    }

    /// Reads an entry with its recipient records.
    pub fn entry(&self, id: EntryId) -> Result<Entry> {
        self.read(|c| read_entry(c, id))
    }

    /// Writes every mutable field of `entry`, recipient records included. Parent, kind and
    /// lease are not changed here (see [`Store::move_to`], [`Store::claim`]).
    pub fn update(&self, entry: &Entry) -> Result<()> {
        self.batch(|b| b.update(entry))
    }

    /// Moves an entry under `parent`. Standard entries cannot move; an entry cannot move into
    /// its own subtree.
    pub fn move_to(&self, id: EntryId, parent: EntryId) -> Result<()> {
        self.batch(|b| b.move_to(id, parent))
    }

    /// Copies an entry, its subtree, recipient records and streams under `parent`; returns the
    /// copy's id. Leases are not copied.
    pub fn copy(&self, id: EntryId, parent: EntryId) -> Result<EntryId> {
        self.batch(|b| b.copy(id, parent))
    }

    /// Deletes an entry with its whole subtree and streams. Standard entries refuse.
    pub fn delete(&self, id: EntryId) -> Result<()> {
        self.batch(|b| b.delete(id))
    }

    /// Lists the children of `parent` that pass `filter`, sorted as it says.
    pub fn children(&self, parent: EntryId, filter: &Filter) -> Result<Vec<Entry>> {
        self.read(|c| filter::children(c, parent, filter))
    }

    /// Several small streams of `id` read whole in one transaction (`None` for a stream that
    /// does not exist). Meant for streams of a few kilobytes, such as settings or envelopes;
    /// large streams are read with [`open_stream`](Self::open_stream).
    pub fn read_small_streams(&self, id: EntryId, names: &[&str]) -> Result<Vec<Option<Vec<u8>>>> {
        self.read(|c| streams::read_small(c, id, names))
    }

    /// The ids of the children of `parent` that pass `filter`, in its order: a cheap listing
    /// for large folders.
    pub fn child_ids(&self, parent: EntryId, filter: &Filter) -> Result<Vec<EntryId>> {
        self.read(|c| filter::child_ids(c, parent, filter))
    }

    /// Replaces (or creates) a stream with everything `data` yields; returns its length. Readers
    /// see the old stream or the new one, never part of it (large streams are staged as in
    /// [`Store::create`]).
    pub fn write_stream(&self, id: EntryId, name: &str, data: &mut dyn Read) -> Result<u64> {
        streams::check_name(name)?;
        self.read(|c| crate::ops::parent_of(c, id))?;
        let what = || format!("stream {name:?} of entry {id}");
        let prepared = staging::prepare(data, &what, &|f| self.step(f))?;
        let result = self.batch(|b| {
            let n = staging::attach(b.conn, id, name, &prepared, false)?;
            b.events.push(Event::Changed { id });
            Ok(n)
        });
        if result.is_err() {
            self.discard(&[(name, prepared)]);
        }
        result
    }

    /// Opens a stream for reading in constant memory.
    pub fn open_stream(&self, id: EntryId, name: &str) -> Result<StreamReader> {
        let found = self.read(|c| streams::find(c, id, name))?;
        Ok(StreamReader::new(Arc::clone(&self.conn), found))
    }

    /// Deletes a stream; returns whether it existed.
    pub fn delete_stream(&self, id: EntryId, name: &str) -> Result<bool> {
        self.batch(|b| b.delete_stream(id, name))
    }

    /// The names of an entry's streams, sorted.
    pub fn stream_names(&self, id: EntryId) -> Result<Vec<String>> {
        self.read(|c| streams::names(c, id))
    }

    /// Atomically claims up to `claim.limit` messages under `claim.folder` whose send state is
    /// in `claim.states`, whose scheduled time (if any) is at or before `claim.now`, and whose
    /// lease is free or expired at `claim.now`; sets their lease and returns them, oldest due
    /// first. A live lease held by anyone (the same owner included) is never taken.
    pub fn claim(&self, claim: &Claim<'_>) -> Result<Vec<Entry>> {
        self.batch(|b| lease::claim(b.conn, claim))
    }

    /// Extends `owner`'s lease on `id` to now + `lease` (by the system clock); false if `owner`
    /// does not hold it.
    pub fn renew(&self, id: EntryId, owner: &str, lease: Duration) -> Result<bool> {
        self.renew_at(id, owner, SystemTime::now(), lease)
    }

    /// [`Store::renew`] at a given time, for senders that run on an injected clock (as
    /// [`Claim::now`] does).
    pub fn renew_at(
        &self,
        id: EntryId,
        owner: &str,
        now: SystemTime,
        lease: Duration,
    ) -> Result<bool> {
        self.batch(|b| lease::renew(b.conn, id, owner, now, lease))
    }

    /// Gives up `owner`'s lease on `id`; a lease held by someone else is left alone.
    pub fn release(&self, id: EntryId, owner: &str) -> Result<()> {
        self.batch(|b| lease::release(b.conn, id, owner))
    }

    /// In one durable transaction: writes `entry`'s mutable fields and recipient records, moves
    /// it under `move_to` if given, and clears the lease. Fails with
    /// [`StoreError::LeaseLost`] (writing nothing) if `owner` no longer holds the lease. A lease
    /// that expired but that nobody else has claimed since is still `owner`'s.
    pub fn finish(&self, entry: &Entry, owner: &str, move_to: Option<EntryId>) -> Result<()> {
        self.batch(|b| b.finish(entry, owner, move_to))
    }

    /// Calls `f` with every event after each commit made through this handle. `f` runs on the
    /// committing thread after the store's lock is released; it may call the store.
    pub fn observe(&self, f: impl Fn(&Event) + Send + Sync + 'static) -> ObserverId {
        self.observers.add(Arc::new(move |e| {
            f(e);
            true
        }))
    }

    /// Removes an observer; returns whether it was present.
    pub fn unobserve(&self, id: ObserverId) -> bool {
        self.observers.remove(id)
    }

    /// A channel receiving every event committed through this handle, until it is dropped.
    pub fn subscribe(&self) -> mpsc::Receiver<Event> {
        self.observers.channel()
    }

    /// Up to `limit` events committed by any process after position `after`, from the change
    /// log shared by all processes. Poll it (cheaply gated by [`Store::has_external_changes`])
    /// to follow changes made elsewhere.
    pub fn changes_since(&self, after: u64, limit: usize) -> Result<ChangeLog> {
        self.read(|c| Ok(events::read_log(c, after, limit)?))
    }

    /// The position of the newest event in the change log.
    pub fn last_change(&self) -> Result<u64> {
        self.read(|c| Ok(events::last_seq(c)?))
    }

    /// Whether another connection (another process, or another `Store` handle) committed since
    /// the last call (or since opening). Costs one pragma, no I/O beyond the WAL index.
    pub fn has_external_changes(&self) -> Result<bool> {
        let now: i64 = self
            .lock()?
            .query_row("PRAGMA data_version", [], |r| r.get(0))
            .map_err(|e| StoreError::from(e).at(&self.path))?;
        let mut seen = self.data_version.lock().unwrap_or_else(|p| p.into_inner());
        let changed = seen.is_some_and(|v| v != now);
        *seen = Some(now);
        Ok(changed)
    }

    /// Runs SQLite's integrity check; [`StoreError::Corrupt`] says what is wrong.
    pub fn check(&self) -> Result<()> {
        let report: Vec<String> = self.read(|c| {
            let mut stmt = c.prepare("PRAGMA integrity_check")?;
            let rows = stmt.query_map([], |r| r.get(0))?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })?;
        if report.len() == 1 && report[0] == "ok" {
            return Ok(());
        }
        Err(StoreError::Corrupt {
            path: self.path.clone(),
            detail: report.join("; "),
            source: None,
        })
    }
}

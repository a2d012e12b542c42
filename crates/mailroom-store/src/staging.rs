//! Large streams are written ahead of the transaction that makes them visible, in steps of at
//! most 400 ms (or 64 MiB) each with a 100 ms pause between them, so that storing a 1 GiB
//! attachment never holds the store's write lock for long and other writers (a sender finishing
//! a message in another process) get through. The pause is as long as SQLite's busy handler
//! sleeps between its later retries, so a waiting process cannot miss it.
//!
//! A staged stream is a stream row with no entry. The final transaction attaches it to its
//! entry (with the entry's creation, for [`Store::create`](crate::Store::create)); until then
//! nobody sees it. A process that dies while staging leaves rows that [`sweep`] removes once
//! they have been untouched for [`ABANDONED_AFTER`].

use std::io::Read;
use std::time::{Duration, Instant, SystemTime};

use rusqlite::{Connection, params};

use crate::codec::to_micros;
use crate::entry::EntryId;
use crate::error::{Result, StoreError};
use crate::ops::parent_of;
use crate::streams::{CHUNK, next_chunk, write};

/// Streams up to this size are held in memory and written in the final transaction.
pub(crate) const HOLD_MAX: usize = 16 * CHUNK;

/// At most this many chunks per staging transaction.
const CHUNKS_PER_STEP: usize = 1024;

/// A staging transaction commits once it has run this long.
const STEP_TIME: Duration = Duration::from_millis(400);

/// The pause between staging transactions, for other writers.
const STEP_GAP: Duration = Duration::from_millis(100);

/// Staged rows untouched for this long belong to a process that died; they are swept.
pub(crate) const ABANDONED_AFTER: Duration = Duration::from_secs(15 * 60);

/// Runs its argument in one transaction of its own.
pub(crate) type Step<'a> = &'a dyn Fn(&mut dyn FnMut(&Connection) -> Result<()>) -> Result<()>;

/// Stream data read ahead of the transaction that attaches it.
pub(crate) enum Prepared {
    /// Small enough to hold: all of it.
    Held(Vec<u8>),
    /// Already in the database under this stream id, this many bytes long.
    Staged(i64, u64),
}

impl Prepared {
    /// The stream's length.
    pub(crate) fn len(&self) -> u64 {
        match self {
            Prepared::Held(data) => data.len() as u64,
            Prepared::Staged(_, size) => *size,
        }
    }
}

/// Reads `data`: small streams into memory, large ones into a staged stream row through
/// repeated calls of `step`, each of which must run its closure in one transaction.
pub(crate) fn prepare(
    data: &mut dyn Read,
    what: &dyn Fn() -> String,
    step: Step<'_>,
) -> Result<Prepared> {
    let failed = |source| StoreError::Io {
        context: format!("reading the data for {}", what()),
        source,
    };
    let mut held = Vec::new();
    data.take(HOLD_MAX as u64)
        .read_to_end(&mut held)
        .map_err(failed)?;
    if held.len() < HOLD_MAX {
        return Ok(Prepared::Held(held));
    }
    let mut sid = 0i64;
    let mut seq = 0i64;
    let mut total = 0u64;
    step(&mut |conn| {
        conn.prepare_cached(
            "INSERT INTO streams (entry, name, size, touched) VALUES (NULL, '', 0, ?1)",
        )?
        .execute([to_micros(SystemTime::now())])?;
        sid = conn.last_insert_rowid();
        let mut insert =
            conn.prepare_cached("INSERT INTO chunks (stream, seq, data) VALUES (?1, ?2, ?3)")?;
        for chunk in held.chunks(CHUNK) {
            insert.execute(params![sid, seq, chunk])?;
            seq += 1;
            total += chunk.len() as u64;
        }
        Ok(())
    })?;
    drop(held);
    let mut buf = Vec::new();
    let mut done = false;
    let result = (|| {
        while !done {
            let started = Instant::now();
            step(&mut |conn| {
                let mut insert = conn
                    .prepare_cached("INSERT INTO chunks (stream, seq, data) VALUES (?1, ?2, ?3)")?;
                for _ in 0..CHUNKS_PER_STEP {
                    let n = next_chunk(data, &mut buf).map_err(failed)?;
                    if n > 0 {
                        insert.execute(params![sid, seq, &buf[..n]])?;
                        seq += 1;
                        total += n as u64;
                    }
                    if n < CHUNK {
                        done = true;
                        break;
                    }
                    if started.elapsed() >= STEP_TIME {
                        break;
                    }
                }
                conn.prepare_cached("UPDATE streams SET size = ?2, touched = ?3 WHERE id = ?1")?
                    .execute(params![
                        sid,
                        i64::try_from(total).unwrap_or(i64::MAX),
                        to_micros(SystemTime::now())
                    ])?;
                Ok(())
            })?;
            if !done {
                std::thread::sleep(STEP_GAP);
            }
        }
        Ok(())
    })();
    match result {
        Ok(()) => Ok(Prepared::Staged(sid, total)),
        Err(e) => {
            discard(&Prepared::Staged(sid, total), step);
            Err(e)
        }
    }
}

/// Drops staged data that will not be attached (best effort: a sweep removes what this misses).
pub(crate) fn discard(prepared: &Prepared, step: Step<'_>) {
    if let Prepared::Staged(sid, _) = prepared {
        let outcome = step(&mut |conn| {
            conn.prepare_cached("DELETE FROM streams WHERE id = ?1 AND entry IS NULL")?
                .execute([*sid])?;
            Ok(())
        });
        if let Err(e) = outcome {
            tracing::warn!(error = %e, "could not discard a staged stream; a later open sweeps it");
        }
    }
}

/// Makes prepared data stream `name` of entry `id`, replacing any stream of that name. `fresh`
/// says the entry was created in this transaction.
pub(crate) fn attach(
    conn: &Connection,
    id: EntryId,
    name: &str,
    prepared: &Prepared,
    fresh: bool,
) -> Result<u64> {
    let (sid, size) = match prepared {
        Prepared::Held(data) => return write(conn, id, name, &mut &data[..], fresh),
        Prepared::Staged(sid, size) => (*sid, *size),
    };
    if !fresh {
        parent_of(conn, id)?;
        conn.prepare_cached("DELETE FROM streams WHERE entry = ?1 AND name = ?2")?
            .execute(params![id, name])?;
    }
    let attached = conn
        .prepare_cached(
            "UPDATE streams SET entry = ?2, name = ?3, touched = NULL
             WHERE id = ?1 AND entry IS NULL",
        )?
        .execute(params![sid, id, name])?;
    if attached == 0 {
        return Err(StoreError::Io {
            context: format!("attaching stream {name:?} to entry {id}"),
            source: std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "its staged data was swept as abandoned",
            ),
        });
    }
    tracing::debug!(%id, name, bytes = size, "attached staged stream");
    Ok(size)
}

/// Removes staged streams untouched since `now - ABANDONED_AFTER`; returns how many.
pub(crate) fn sweep(conn: &Connection, now: SystemTime) -> Result<usize> {
    let cutoff = to_micros(now).saturating_sub(ABANDONED_AFTER.as_micros() as i64);
    let n = conn
        .prepare_cached("DELETE FROM streams WHERE entry IS NULL AND touched < ?1")?
        .execute([cutoff])?;
    if n > 0 {
        tracing::info!(
            streams = n,
            "swept staged streams abandoned by a dead process"
        );
    }
    Ok(n)
}

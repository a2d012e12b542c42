//! Named streams per entry, stored as 64 KiB chunk rows so that neither writing nor reading ever
//! holds more than one chunk in memory. A stream smaller than one chunk is kept inline in its
//! stream row instead, which makes small messages cheaper to enqueue. A stream is replaced as a
//! whole: the new version gets a new stream id, so a reader of the old version sees an error,
//! never a mix of both.

use std::io::{self, Read};
use std::sync::Arc;

use rusqlite::{Connection, OptionalExtension, params};

use crate::conn::Shared;
use crate::entry::EntryId;
use crate::error::{InvalidOperation, Result, StoreError};
use crate::ops::{Batch, parent_of};

/// Size of one stored chunk.
pub(crate) const CHUNK: usize = 64 * 1024;

pub(crate) fn check_name(name: &str) -> Result<()> {
    if name.is_empty() || name.len() > 255 || name.chars().any(char::is_control) {
        return Err(StoreError::Invalid(InvalidOperation::StreamName(
            name.to_owned(),
        )));
    }
    Ok(())
}

/// Replaces `buf` with the next chunk of `data` (up to [`CHUNK`] bytes); returns its length.
/// The buffer grows only as far as the data does, so small streams stay cheap.
pub(crate) fn next_chunk(data: &mut dyn Read, buf: &mut Vec<u8>) -> io::Result<usize> {
    buf.clear();
    data.take(CHUNK as u64).read_to_end(buf)
}

/// Replaces (or creates) stream `name` of entry `id` with everything `data` yields. `fresh`
/// says the entry was created in this transaction (so it exists and has no streams yet).
pub(crate) fn write(
    conn: &Connection,
    id: EntryId,
    name: &str,
    data: &mut dyn Read,
    fresh: bool,
) -> Result<u64> {
    check_name(name)?;
    if !fresh {
        parent_of(conn, id)?;
        conn.prepare_cached("DELETE FROM streams WHERE entry = ?1 AND name = ?2")?
            .execute(params![id, name])?;
    }
    let failed = |source| StoreError::Io {
        context: format!("reading the data for stream {name:?} of entry {id}"),
        source,
    };
    let mut buf = Vec::new();
    let mut n = next_chunk(data, &mut buf).map_err(failed)?;
    if n < CHUNK {
        conn.prepare_cached(
            "INSERT INTO streams (entry, name, size, data) VALUES (?1, ?2, ?3, ?4)",
        )?
        .execute(params![id, name, n as i64, &buf[..n]])?;
        return Ok(n as u64);
    }
    conn.prepare_cached("INSERT INTO streams (entry, name, size) VALUES (?1, ?2, 0)")?
        .execute(params![id, name])?;
    let sid = conn.last_insert_rowid();
    let mut insert =
        conn.prepare_cached("INSERT INTO chunks (stream, seq, data) VALUES (?1, ?2, ?3)")?;
    let mut total: u64 = 0;
    let mut seq: i64 = 0;
    while n > 0 {
        insert.execute(params![sid, seq, &buf[..n]])?;
        seq += 1;
        total += n as u64;
        if n < CHUNK {
            break;
        }
        n = next_chunk(data, &mut buf).map_err(failed)?;
    }
    conn.prepare_cached("UPDATE streams SET size = ?2 WHERE id = ?1")?
        .execute(params![sid, i64::try_from(total).unwrap_or(i64::MAX)])?;
    tracing::debug!(%id, name, bytes = total, chunks = seq, "wrote chunked stream");
    Ok(total)
}

/// Copies every stream of `from` to `to` inside the database (no data passes through memory
/// beyond SQLite's page cache).
pub(crate) fn copy_all(conn: &Connection, from: EntryId, to: EntryId) -> Result<()> {
    let streams: Vec<i64> = conn
        .prepare_cached("SELECT id FROM streams WHERE entry = ?1")?
        .query_map([from], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    for sid in streams {
        conn.prepare_cached(
            "INSERT INTO streams (entry, name, size, data) SELECT ?2, name, size, data
             FROM streams WHERE id = ?1",
        )?
        .execute(params![sid, to])?;
        let new = conn.last_insert_rowid();
        conn.prepare_cached(
            "INSERT INTO chunks (stream, seq, data) SELECT ?2, seq, data FROM chunks
             WHERE stream = ?1",
        )?
        .execute([sid, new])?;
    }
    Ok(())
}

/// The names of an entry's streams, sorted.
pub(crate) fn names(conn: &Connection, id: EntryId) -> Result<Vec<String>> {
    parent_of(conn, id)?;
    let names = conn
        .prepare_cached("SELECT name FROM streams WHERE entry = ?1 ORDER BY name")?
        .query_map([id], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(names)
}

/// Where a stream's bytes are.
pub(crate) enum Found {
    /// In chunk rows of this stream id, this many bytes in all.
    Chunked(i64, u64),
    /// Inline in the stream row.
    Inline(Vec<u8>),
}

/// Finds a stream.
pub(crate) fn find(conn: &Connection, id: EntryId, name: &str) -> Result<Found> {
    let found: Option<(i64, i64, Option<Vec<u8>>)> = conn
        .prepare_cached("SELECT id, size, data FROM streams WHERE entry = ?1 AND name = ?2")?
        .query_row(params![id, name], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?;
    match found {
        Some((_, _, Some(data))) => Ok(Found::Inline(data)),
        Some((sid, size, None)) => Ok(Found::Chunked(sid, u64::try_from(size).unwrap_or(0))),
        None => {
            parent_of(conn, id)?;
            Err(StoreError::StreamNotFound {
                entry: id,
                name: name.to_owned(),
            })
        }
    }
}

/// The contents of the streams `names` of entry `id` (`None` for a missing one), read whole,
/// in one pass over the entry's streams.
pub(crate) fn read_small(
    conn: &Connection,
    id: EntryId,
    names: &[&str],
) -> Result<Vec<Option<Vec<u8>>>> {
    let mut found: Vec<Option<Vec<u8>>> = vec![None; names.len()];
    let mut chunked = Vec::new();
    {
        let mut stmt =
            conn.prepare_cached("SELECT name, id, size, data FROM streams WHERE entry = ?1")?;
        let mut rows = stmt.query([id])?;
        while let Some(row) = rows.next()? {
            let name: String = row.get(0)?;
            let Some(i) = names.iter().position(|n| *n == name) else {
                continue;
            };
            match row.get::<_, Option<Vec<u8>>>(3)? {
                Some(data) => found[i] = Some(data),
                None => chunked.push((i, row.get::<_, i64>(1)?, row.get::<_, i64>(2)?)),
            }
        }
    }
    for (i, stream, size) in chunked {
        found[i] = Some(read_chunks(conn, stream, u64::try_from(size).unwrap_or(0))?);
    }
    if found.iter().all(Option::is_none) {
        // Nothing found: tell a missing entry apart from one without those streams.
        parent_of(conn, id)?;
    }
    Ok(found)
}

/// Every chunk of a stream, joined (`len` bytes).
pub(crate) fn read_chunks(conn: &Connection, stream: i64, len: u64) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
    let mut stmt = conn.prepare_cached("SELECT data FROM chunks WHERE stream = ?1 ORDER BY seq")?;
    let mut rows = stmt.query([stream])?;
    while let Some(row) = rows.next()? {
        let data: Vec<u8> = row.get(0)?;
        out.extend_from_slice(&data);
    }
    Ok(out)
}

impl Batch<'_> {
    /// Reads small streams whole; see
    /// [`Store::read_small_streams`](crate::Store::read_small_streams).
    pub fn read_small_streams(&self, id: EntryId, names: &[&str]) -> Result<Vec<Option<Vec<u8>>>> {
        read_small(self.conn, id, names)
    }

    /// Replaces (or creates) a stream; see [`Store::write_stream`](crate::Store::write_stream).
    pub fn write_stream(&mut self, id: EntryId, name: &str, data: &mut dyn Read) -> Result<u64> {
        let n = write(self.conn, id, name, data, false)?;
        self.events.push(crate::events::Event::Changed { id });
        Ok(n)
    }

    /// Deletes a stream; returns whether it existed.
    pub fn delete_stream(&mut self, id: EntryId, name: &str) -> Result<bool> {
        parent_of(self.conn, id)?;
        let gone = self
            .conn
            .prepare_cached("DELETE FROM streams WHERE entry = ?1 AND name = ?2")?
            .execute(params![id, name])?;
        if gone > 0 {
            self.events.push(crate::events::Event::Changed { id });
        }
        Ok(gone > 0)
    }
}

/// Reads one stream chunk by chunk; memory use stays at one chunk whatever the stream's size.
///
/// If the stream is replaced or deleted while being read, the next read fails with
/// [`io::ErrorKind::NotFound`] rather than returning bytes of two versions.
pub struct StreamReader {
    conn: Arc<Shared>,
    stream: i64,
    len: u64,
    next_seq: i64,
    delivered: u64,
    buf: Vec<u8>,
    pos: usize,
}

impl std::fmt::Debug for StreamReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamReader")
            .field("len", &self.len)
            .field("delivered", &self.delivered)
            .finish_non_exhaustive()
    }
}

impl StreamReader {
    pub(crate) fn new(conn: Arc<Shared>, found: Found) -> Self {
        let (stream, len, buf) = match found {
            Found::Chunked(stream, len) => (stream, len, Vec::new()),
            // Already whole: no chunk is ever fetched, as `delivered` reaches `len` with it.
            Found::Inline(buf) => (0, buf.len() as u64, buf),
        };
        StreamReader {
            conn,
            stream,
            len,
            next_seq: 0,
            delivered: 0,
            buf,
            pos: 0,
        }
    }

    /// The stream's length in bytes.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether the stream is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn next_chunk(&mut self) -> io::Result<bool> {
        if self.delivered >= self.len {
            return Ok(false);
        }
        let conn = self.conn.lock().map_err(io::Error::other)?;
        let chunk: Option<Vec<u8>> = conn
            .prepare_cached("SELECT data FROM chunks WHERE stream = ?1 AND seq = ?2")
            .and_then(|mut s| {
                s.query_row([self.stream, self.next_seq], |r| r.get(0))
                    .optional()
            })
            .map_err(io::Error::other)?;
        drop(conn);
        match chunk {
            Some(data) if !data.is_empty() => {
                self.buf = data;
                self.pos = 0;
                self.next_seq += 1;
                Ok(true)
            }
            _ => Err(io::Error::new(
                io::ErrorKind::NotFound,
                "the stream was replaced or deleted while being read",
            )),
        }
    }
}

impl Read for StreamReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if out.is_empty() {
            return Ok(0);
        }
        if self.pos >= self.buf.len() && !self.next_chunk()? {
            return Ok(0);
        }
        let n = out.len().min(self.buf.len() - self.pos);
        out[..n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
        self.pos += n;
        self.delivered += n as u64;
        Ok(n)
    }
}

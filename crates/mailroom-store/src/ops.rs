//! Tree operations inside one transaction: create, read, update, move, copy, delete.

use std::collections::VecDeque;
use std::io::Read;

use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension};

use crate::codec::{
    ENTRY_COLUMNS, MUTABLE_COLUMNS, MutableFields, entry_from_row, load_recipients,
    store_recipients,
};
use crate::entry::{Entry, EntryId, EntryKind, NewEntry};
use crate::error::{InvalidOperation, Result, StoreError};
use crate::events::Event;
use crate::filter::{self, Filter};

/// Several operations committed as one durable transaction; see [`Store::batch`].
///
/// Events are delivered to observers only after the whole batch commits.
///
/// [`Store::batch`]: crate::Store::batch
pub struct Batch<'a> {
    pub(crate) conn: &'a Connection,
    pub(crate) events: Vec<Event>,
}

/// The statement inserting a new entry of one kind (a literal, so statement caching is cheap).
macro_rules! insert_sql {
    ($kind:literal) => {
        concat!(
            "INSERT INTO entries (parent, kind, mtm, service, date, size, description, details,
                 flags, priority, send_state, scheduled, error_kind, error_code, error_text,
                 email_flags, multipart, message_id, in_reply_to)
             VALUES (?1, '",
            $kind,
            "', ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)"
        )
    };
}

/// The parent of an entry, or `NotFound`.
pub(crate) fn parent_of(conn: &Connection, id: EntryId) -> Result<EntryId> {
    conn.prepare_cached("SELECT parent FROM entries WHERE id = ?1")?
        .query_row([id], |r| r.get(0))
        .optional()?
        .ok_or(StoreError::NotFound(id))
}

/// Whether `candidate` is `root` or lies in its subtree.
fn in_subtree(conn: &Connection, root: EntryId, candidate: EntryId) -> Result<bool> {
    let found: Option<i64> = conn
        .prepare_cached(
            "WITH RECURSIVE up(id) AS (
                 SELECT ?1
                 UNION
                 SELECT e.parent FROM entries e JOIN up ON e.id = up.id WHERE e.parent != e.id
             )
             SELECT 1 FROM up WHERE id = ?2",
        )?
        .query_row([candidate, root], |r| r.get(0))
        .optional()?;
    Ok(found.is_some())
}

/// The entries of the subtree under `root` (itself included), parents before children.
fn subtree(conn: &Connection, root: EntryId) -> Result<Vec<(EntryId, EntryId)>> {
    let mut stmt = conn.prepare_cached("SELECT id FROM entries WHERE parent = ?1 AND id != ?1")?;
    let mut out = vec![(root, parent_of(conn, root)?)];
    let mut queue = VecDeque::from([root]);
    while let Some(id) = queue.pop_front() {
        let kids = stmt
            .query_map([id], |r| r.get(0))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        for kid in kids {
            out.push((kid, id));
            queue.push_back(kid);
        }
    }
    Ok(out)
}

impl Batch<'_> {
    /// Creates an entry and its streams; see [`Store::create`](crate::Store::create).
    ///
    /// Inside a batch, every stream is written in the batch's transaction, so a very large one
    /// holds the store's write lock for as long as it takes to write.
    pub fn create(
        &mut self,
        new: &NewEntry,
        streams: &mut [(&str, &mut dyn Read)],
    ) -> Result<EntryId> {
        // Read each stream's first chunk ahead: when every stream fits in it (the usual small
        // message), the entry's size is known at insert time.
        let mut firsts = Vec::with_capacity(streams.len());
        for (name, data) in streams.iter_mut() {
            crate::streams::check_name(name)?;
            let mut first = Vec::new();
            crate::streams::next_chunk(*data, &mut first).map_err(|source| StoreError::Io {
                context: format!("reading the data for stream {name:?} of a new entry"),
                source,
            })?;
            firsts.push(first);
        }
        let whole = firsts.iter().all(|f| f.len() < crate::streams::CHUNK);
        let known = whole.then(|| firsts.iter().map(|f| f.len() as u64).sum());
        self.create_with(new, known, |conn, id| {
            let mut total: u64 = 0;
            for ((name, data), first) in streams.iter_mut().zip(&firsts) {
                let mut all = first.as_slice().chain(&mut **data);
                let n = crate::streams::write(conn, id, name, &mut all, true)?;
                total = total.saturating_add(n);
            }
            Ok(total)
        })
    }

    /// Creates an entry, then lets `streams` add its streams and return their total size.
    /// `known` is that total when the caller knows it beforehand (it saves an update).
    pub(crate) fn create_with(
        &mut self,
        new: &NewEntry,
        known: Option<u64>,
        streams: impl FnOnce(&Connection, EntryId) -> Result<u64>,
    ) -> Result<EntryId> {
        if new.kind == EntryKind::Root {
            return Err(StoreError::Invalid(InvalidOperation::CreateRoot));
        }
        parent_of(self.conn, new.parent)?;
        if let Some(service) = new.service {
            parent_of(self.conn, service)?;
        }
        let fields = MutableFields {
            mtm: &new.mtm,
            service: new.service,
            date: new.date,
            size: new.size.or(known).unwrap_or(0),
            description: &new.description,
            details: &new.details,
            flags: &new.flags,
            send_state: new.send_state,
            scheduled: new.scheduled,
            error: new.error.as_ref(),
            email: &new.email,
        };
        let sql = match new.kind {
            EntryKind::Service => insert_sql!("service"),
            EntryKind::Folder => insert_sql!("folder"),
            EntryKind::Message => insert_sql!("message"),
            EntryKind::Part | EntryKind::Root => insert_sql!("part"),
        };
        fields.execute(self.conn, sql, new.parent.0)?;
        let id = EntryId(self.conn.last_insert_rowid());
        store_recipients(self.conn, id, &new.recipients, true)?;
        let total = streams(self.conn, id)?;
        if new.size.is_none() && known.unwrap_or(0) != total {
            self.conn
                .prepare_cached("UPDATE entries SET size = ?2 WHERE id = ?1")?
                .execute(rusqlite::params![
                    id,
                    i64::try_from(total).unwrap_or(i64::MAX)
                ])?;
        }
        self.events.push(Event::Created {
            id,
            parent: new.parent,
        });
        Ok(id)
    }

    /// Reads an entry with its recipient records.
    pub fn entry(&self, id: EntryId) -> Result<Entry> {
        read_entry(self.conn, id)
    }

    /// Lists children; see [`Store::children`](crate::Store::children).
    pub fn children(&self, parent: EntryId, filter: &Filter) -> Result<Vec<Entry>> {
        filter::children(self.conn, parent, filter)
    }

    /// Writes every mutable field; see [`Store::update`](crate::Store::update).
    pub fn update(&mut self, entry: &Entry) -> Result<()> {
        let stored = stored_row(self.conn, entry.id)?;
        update_fields(self.conn, entry, &stored, Vec::new())?;
        self.events.push(Event::Changed { id: entry.id });
        Ok(())
    }

    /// Moves an entry; see [`Store::move_to`](crate::Store::move_to).
    pub fn move_to(&mut self, id: EntryId, parent: EntryId) -> Result<()> {
        let from = parent_of(self.conn, id)?;
        check_move(self.conn, id, from, parent)?;
        if from == parent {
            return Ok(());
        }
        self.conn
            .prepare_cached("UPDATE entries SET parent = ?2 WHERE id = ?1")?
            .execute([id, parent])?;
        self.events.push(Event::Moved {
            id,
            from,
            to: parent,
        });
        Ok(())
    }

    /// Copies an entry with its subtree, streams and recipients; see
    /// [`Store::copy`](crate::Store::copy).
    pub fn copy(&mut self, id: EntryId, parent: EntryId) -> Result<EntryId> {
        if id == EntryId::ROOT {
            return Err(StoreError::Invalid(InvalidOperation::CreateRoot));
        }
        parent_of(self.conn, parent)?;
        if in_subtree(self.conn, id, parent)? {
            return Err(StoreError::Invalid(InvalidOperation::Cycle {
                entry: id,
                target: parent,
            }));
        }
        let sources = subtree(self.conn, id)?;
        let mut mapped = std::collections::HashMap::new();
        mapped.insert(sources[0].1, parent);
        let mut insert = self.conn.prepare_cached(
            "INSERT INTO entries (parent, kind, mtm, service, date, size, description, details,
                 flags, priority, send_state, scheduled, error_kind, error_code, error_text,
                 email_flags, multipart, message_id, in_reply_to)
             SELECT ?2, kind, mtm, service, date, size, description, details, flags, priority,
                 send_state, scheduled, error_kind, error_code, error_text, email_flags,
                 multipart, message_id, in_reply_to
             FROM entries WHERE id = ?1",
        )?;
        for (old, old_parent) in &sources {
            let new_parent = mapped[old_parent];
            insert.execute([*old, new_parent])?;
            let new = EntryId(self.conn.last_insert_rowid());
            mapped.insert(*old, new);
            self.conn
                .prepare_cached(
                    "INSERT INTO recipients (entry, pos, address, kind, state, code, enhanced,
                         text, time)
                     SELECT ?2, pos, address, kind, state, code, enhanced, text, time
                     FROM recipients WHERE entry = ?1",
                )?
                .execute([*old, new])?;
            crate::streams::copy_all(self.conn, *old, new)?;
            self.events.push(Event::Created {
                id: new,
                parent: new_parent,
            });
        }
        Ok(mapped[&id])
    }

    /// Deletes an entry and its subtree; see [`Store::delete`](crate::Store::delete).
    pub fn delete(&mut self, id: EntryId) -> Result<()> {
        if id.is_standard() {
            return Err(StoreError::Invalid(InvalidOperation::StandardEntry(id)));
        }
        let doomed = subtree(self.conn, id)?;
        if let Some((std, _)) = doomed.iter().find(|(e, _)| e.is_standard()) {
            return Err(StoreError::Invalid(InvalidOperation::StandardEntry(*std)));
        }
        let mut stmt = self
            .conn
            .prepare_cached("DELETE FROM entries WHERE id = ?1")?;
        // Children first, so that no statement leaves a dangling parent.
        for (e, _) in doomed.iter().rev() {
            stmt.execute([*e])?;
        }
        self.events.extend(
            doomed
                .iter()
                .map(|&(id, parent)| Event::Deleted { id, parent }),
        );
        Ok(())
    }
}

/// Reads one entry with its recipients.
pub(crate) fn read_entry(conn: &Connection, id: EntryId) -> Result<Entry> {
    let mut entry = conn
        .prepare_cached(&format!(
            "SELECT {ENTRY_COLUMNS} FROM entries WHERE id = ?1"
        ))?
        .query_row([id], entry_from_row)
        .optional()?
        .ok_or(StoreError::NotFound(id))?;
    entry.recipients = load_recipients(conn, id)?;
    Ok(entry)
}

/// What [`update_fields`] compares against: an entry's stored row.
pub(crate) struct StoredRow {
    pub parent: EntryId,
    pub lease_owner: Option<String>,
    values: Vec<Value>,
}

/// Reads the row [`update_fields`] compares against, or `NotFound`.
pub(crate) fn stored_row(conn: &Connection, id: EntryId) -> Result<StoredRow> {
    static SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        format!(
            "SELECT parent, lease_owner, {} FROM entries WHERE id = ?1",
            MUTABLE_COLUMNS.join(", ")
        )
    });
    conn.prepare_cached(&SQL)?
        .query_row([id], |r| {
            Ok(StoredRow {
                parent: r.get(0)?,
                lease_owner: r.get(1)?,
                values: (0..MUTABLE_COLUMNS.len())
                    .map(|i| r.get(i + 2))
                    .collect::<rusqlite::Result<_>>()?,
            })
        })
        .optional()?
        .ok_or(StoreError::NotFound(id))
}

/// Writes the mutable fields of `entry` that differ from `stored`, together with `also` (more
/// columns and their values), in one statement, then its recipient records. Only changed
/// columns are written, so indexes on unchanged ones are left alone.
pub(crate) fn update_fields(
    conn: &Connection,
    entry: &Entry,
    stored: &StoredRow,
    also: Vec<(&'static str, Value)>,
) -> Result<()> {
    let fields = MutableFields {
        mtm: &entry.mtm,
        service: entry.service,
        date: entry.date,
        size: entry.size,
        description: &entry.description,
        details: &entry.details,
        flags: &entry.flags,
        send_state: entry.send_state,
        scheduled: entry.scheduled,
        error: entry.error.as_ref(),
        email: &entry.email,
    };
    let mut changed: Vec<(&str, Value)> = MUTABLE_COLUMNS
        .into_iter()
        .zip(fields.values())
        .zip(&stored.values)
        .filter(|((_, new), old)| new != *old)
        .map(|(column, _)| column)
        .collect();
    if let Some(service) = entry.service
        && service != entry.id
        && changed.iter().any(|(c, _)| *c == "service")
    {
        parent_of(conn, service)?;
    }
    changed.extend(also);
    if !changed.is_empty() {
        let mut sql = String::from("UPDATE entries SET ");
        for (i, (column, _)) in changed.iter().enumerate() {
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&format!("{column} = ?{}", i + 2));
        }
        sql.push_str(" WHERE id = ?1");
        let args =
            std::iter::once(Value::Integer(entry.id.0)).chain(changed.into_iter().map(|(_, v)| v));
        conn.prepare_cached(&sql)?
            .execute(rusqlite::params_from_iter(args))?;
    }
    store_recipients(conn, entry.id, &entry.recipients, false)?;
    Ok(())
}

/// Checks that `id` may move from `from` under `to` (which must exist and not lie inside
/// `id`'s subtree).
pub(crate) fn check_move(conn: &Connection, id: EntryId, from: EntryId, to: EntryId) -> Result<()> {
    if id.is_standard() {
        return Err(StoreError::Invalid(InvalidOperation::StandardEntry(id)));
    }
    if from == to {
        return Ok(());
    }
    parent_of(conn, to)?;
    // A standard folder lies under the root and the local service only, never inside a
    // subtree that could be moved, so only other targets need the cycle check.
    if !to.is_standard() && in_subtree(conn, id, to)? {
        return Err(StoreError::Invalid(InvalidOperation::Cycle {
            entry: id,
            target: to,
        }));
    }
    Ok(())
}

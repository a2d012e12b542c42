//! Selecting children ([`Filter`], [`Sort`]) and claiming messages to send ([`Claim`]).

use std::time::{Duration, SystemTime};

use rusqlite::Connection;
use rusqlite::types::Value;

use crate::codec::{ENTRY_COLUMNS, entry_from_row, load_recipients};
use crate::entry::{Entry, EntryId, EntryKind, SendState};
use crate::error::{Result, StoreError};

/// What to sort children by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum SortBy {
    /// The entry date.
    #[default]
    Date,
    /// The entry size.
    Size,
    /// The description (subject), case-insensitively for ASCII.
    Description,
}

/// A sort order for children; ties are broken by id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Sort {
    /// The key.
    pub by: SortBy,
    /// Largest (latest) first.
    pub descending: bool,
}

impl Sort {
    /// Ascending by `by`.
    pub fn ascending(by: SortBy) -> Self {
        Sort {
            by,
            descending: false,
        }
    }

    /// Descending by `by`.
    pub fn descending(by: SortBy) -> Self {
        Sort {
            by,
            descending: true,
        }
    }
}

/// Which children to list. The default lists all children, oldest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// Only entries of this kind.
    pub kind: Option<EntryKind>,
    /// Only entries of this MTM.
    pub mtm: Option<String>,
    /// Only entries of this service.
    pub service: Option<EntryId>,
    /// Only entries whose send state is one of these (entries without one never match).
    pub send_states: Option<Vec<SendState>>,
    /// Only entries someone holds a lease on (live or expired).
    pub leased: bool,
    /// The order.
    pub sort: Sort,
}

impl Filter {
    /// All children, oldest first.
    pub fn all() -> Self {
        Filter::default()
    }

    /// Only children of `kind`.
    pub fn kind(mut self, kind: EntryKind) -> Self {
        self.kind = Some(kind);
        self
    }

    /// Only children of `mtm`.
    pub fn mtm(mut self, mtm: impl Into<String>) -> Self {
        self.mtm = Some(mtm.into());
        self
    }

    /// Only children of `service`.
    pub fn service(mut self, service: EntryId) -> Self {
        self.service = Some(service);
        self
    }

    /// Only children in one of `states`.
    pub fn send_states(mut self, states: &[SendState]) -> Self {
        self.send_states = Some(states.to_vec());
        self
    }

    /// Only children with a lease on them.
    pub fn leased(mut self) -> Self {
        self.leased = true;
        self
    }

    /// Sorted as given.
    pub fn sort(mut self, sort: Sort) -> Self {
        self.sort = sort;
        self
    }
}

/// What a sender asks for in [`Store::claim`](crate::Store::claim).
#[derive(Debug, Clone, Copy)]
pub struct Claim<'a> {
    /// The folder to claim from (normally the Outbox).
    pub folder: EntryId,
    /// Only messages of this service.
    pub service: Option<EntryId>,
    /// Only messages in one of these send states.
    pub states: &'a [SendState],
    /// The current time: lease expiries are compared with it, and scheduled times too unless
    /// `due_before` says otherwise.
    pub now: SystemTime,
    /// Take messages scheduled before this time instead of before `now` (a queue flush takes
    /// deferred messages early); `None` means `now`.
    pub due_before: Option<SystemTime>,
    /// Who claims (unique per sender, e.g. host, process id and a random part).
    pub owner: &'a str,
    /// How long the lease lasts unless renewed.
    pub lease: Duration,
    /// At most this many messages.
    pub limit: usize,
    /// Only these messages, if given.
    pub ids: Option<&'a [EntryId]>,
}

/// Appends `AND column IN (?, ?, ...)` for `values`, binding them.
pub(crate) fn push_in(sql: &mut String, args: &mut Vec<Value>, column: &str, values: Vec<Value>) {
    if values.is_empty() {
        sql.push_str(" AND 0");
        return;
    }
    sql.push_str(&format!(" AND {column} IN ("));
    for (i, v) in values.into_iter().enumerate() {
        if i > 0 {
            sql.push(',');
        }
        args.push(v);
        sql.push_str(&format!("?{}", args.len()));
    }
    sql.push(')');
}

/// The `FROM ... WHERE ... ORDER BY` part of a listing of `parent`'s children, and its
/// arguments; fails if `parent` does not exist.
fn listing(conn: &Connection, parent: EntryId, filter: &Filter) -> Result<(String, Vec<Value>)> {
    let found: Option<i64> = conn
        .prepare_cached("SELECT 1 FROM entries WHERE id = ?1")?
        .query_row([parent], |r| r.get(0))
        .map(Some)
        .or_else(|e| match e {
            rusqlite::Error::QueryReturnedNoRows => Ok(None),
            e => Err(e),
        })?;
    if found.is_none() {
        return Err(StoreError::NotFound(parent));
    }
    let mut sql = String::from(" FROM entries WHERE parent = ?1 AND id != ?1");
    let mut args = vec![Value::Integer(parent.0)];
    if let Some(kind) = filter.kind {
        args.push(Value::Text(kind.as_str().into()));
        sql.push_str(&format!(" AND kind = ?{}", args.len()));
    }
    if let Some(mtm) = &filter.mtm {
        args.push(Value::Text(mtm.clone()));
        sql.push_str(&format!(" AND mtm = ?{}", args.len()));
    }
    if let Some(service) = filter.service {
        args.push(Value::Integer(service.0));
        sql.push_str(&format!(" AND service = ?{}", args.len()));
    }
    if let Some(states) = &filter.send_states {
        let values = states
            .iter()
            .map(|s| Value::Text(s.as_str().into()))
            .collect();
        push_in(&mut sql, &mut args, "send_state", values);
    }
    if filter.leased {
        sql.push_str(" AND lease_owner IS NOT NULL");
    }
    let key = match filter.sort.by {
        SortBy::Date => "date",
        SortBy::Size => "size",
        SortBy::Description => "description COLLATE NOCASE",
    };
    let dir = if filter.sort.descending {
        "DESC"
    } else {
        "ASC"
    };
    sql.push_str(&format!(" ORDER BY {key} {dir}, id {dir}"));
    Ok((sql, args))
}

/// The ids of the children of `parent` that pass `filter`, in its order.
pub(crate) fn child_ids(
    conn: &Connection,
    parent: EntryId,
    filter: &Filter,
) -> Result<Vec<EntryId>> {
    let (tail, args) = listing(conn, parent, filter)?;
    let sql = format!("SELECT id{tail}");
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(rusqlite::params_from_iter(args), |r| r.get(0))?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

/// Lists the children of `parent` that pass `filter`, with their recipient records.
pub(crate) fn children(conn: &Connection, parent: EntryId, filter: &Filter) -> Result<Vec<Entry>> {
    let (tail, args) = listing(conn, parent, filter)?;
    let sql = format!("SELECT {ENTRY_COLUMNS}{tail}");
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(rusqlite::params_from_iter(args), entry_from_row)?;
    let mut entries = rows.collect::<rusqlite::Result<Vec<_>>>()?;
    // Shortcoming: one recipient query per child; listing folders of 100,000+ wants a join.
    for e in &mut entries {
        e.recipients = load_recipients(conn, e.id)?;
    }
    Ok(entries)
}

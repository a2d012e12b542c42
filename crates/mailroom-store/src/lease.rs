//! Leases: a sender claims messages for a while so that no other sender, in this process or
//! another, takes them; a lease whose holder died simply expires and can be claimed again.

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use rusqlite::types::Value;
use rusqlite::{Connection, params};

use crate::codec::{ENTRY_COLUMNS, entry_from_row, recipient_from_row};
use crate::codec::{add_micros, to_micros};
use crate::entry::{Entry, EntryId, SendState};
use crate::error::{InvalidOperation, Result, StoreError};
use crate::filter::{Claim, push_in};
use crate::ops::{Batch, check_move, parent_of, stored_row, update_fields};

fn check_owner(owner: &str) -> Result<()> {
    if owner.is_empty() {
        return Err(StoreError::Invalid(InvalidOperation::EmptyOwner));
    }
    Ok(())
}

/// Claims messages as [`Store::claim`](crate::Store::claim) describes; the caller holds an
/// immediate (write) transaction, so the select and the update cannot interleave with another
/// claim.
pub(crate) fn claim(conn: &Connection, c: &Claim<'_>) -> Result<Vec<Entry>> {
    check_owner(c.owner)?;
    if c.limit == 0 {
        return Ok(Vec::new());
    }
    let (sql, args) = claim_query(c);
    let ids: Vec<EntryId> = conn
        .prepare_cached(&sql)?
        .query_map(rusqlite::params_from_iter(args), |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    // Three statements for the whole claim, the ids passed as one JSON array.
    let list = id_list(&ids);
    conn.prepare_cached(
        "UPDATE entries SET lease_owner = ?2, lease_expires = ?3
         WHERE id IN (SELECT value FROM json_each(?1))",
    )?
    .execute(params![list, c.owner, add_micros(c.now, c.lease)])?;
    let mut found: HashMap<EntryId, Entry> = conn
        .prepare_cached(&format!(
            "SELECT {ENTRY_COLUMNS} FROM entries WHERE id IN (SELECT value FROM json_each(?1))"
        ))?
        .query_map([&list], entry_from_row)?
        .map(|e| e.map(|e| (e.id, e)))
        .collect::<rusqlite::Result<_>>()?;
    let mut stmt = conn.prepare_cached(
        "SELECT entry, address, kind, state, code, enhanced, text, time FROM recipients
         WHERE entry IN (SELECT value FROM json_each(?1)) ORDER BY entry, pos",
    )?;
    let mut rows = stmt.query([&list])?;
    while let Some(row) = rows.next()? {
        let id: EntryId = row.get(0)?;
        if let Some(entry) = found.get_mut(&id) {
            entry.recipients.push(recipient_from_row(row, 1)?);
        }
    }
    let claimed: Vec<Entry> = ids.iter().filter_map(|id| found.remove(id)).collect();
    if !claimed.is_empty() {
        tracing::debug!(owner = c.owner, count = claimed.len(), folder = %c.folder, "claimed");
    }
    Ok(claimed)
}

/// The query selecting the ids a claim takes, in due order (served by the `entries_due` index,
/// so a claim reads the rows it takes rather than sorting the whole folder).
fn claim_query(c: &Claim<'_>) -> (String, Vec<Value>) {
    let now = to_micros(c.now);
    let due = to_micros(c.due_before.unwrap_or(c.now));
    let mut sql = String::from(
        "SELECT id FROM entries WHERE parent = ?1 AND kind = 'message'
         AND (scheduled IS NULL OR scheduled <= ?3)
         AND (lease_owner IS NULL OR lease_expires IS NULL OR lease_expires <= ?2)",
    );
    let mut args = vec![
        Value::Integer(c.folder.0),
        Value::Integer(now),
        Value::Integer(due),
    ];
    let states = c
        .states
        .iter()
        .map(|s| Value::Text(s.as_str().into()))
        .collect();
    push_in(&mut sql, &mut args, "send_state", states);
    if let Some(service) = c.service {
        args.push(Value::Integer(service.0));
        sql.push_str(&format!(" AND service = ?{}", args.len()));
    }
    if let Some(ids) = c.ids {
        push_in(
            &mut sql,
            &mut args,
            "id",
            ids.iter().map(|i| Value::Integer(i.0)).collect(),
        );
    }
    args.push(Value::Integer(i64::try_from(c.limit).unwrap_or(i64::MAX)));
    sql.push_str(&format!(
        " ORDER BY COALESCE(scheduled, date), id LIMIT ?{}",
        args.len()
    ));
    (sql, args)
}

/// Ids as a JSON array, for `json_each`.
fn id_list(ids: &[EntryId]) -> String {
    let items: Vec<String> = ids.iter().map(|i| i.0.to_string()).collect();
    format!("[{}]", items.join(","))
}

/// Extends a lease `owner` holds to `now + lease`; false if `owner` does not hold it.
pub(crate) fn renew(
    conn: &Connection,
    id: EntryId,
    owner: &str,
    now: SystemTime,
    lease: Duration,
) -> Result<bool> {
    check_owner(owner)?;
    let n = conn
        .prepare_cached("UPDATE entries SET lease_expires = ?3 WHERE id = ?1 AND lease_owner = ?2")?
        .execute(params![id, owner, add_micros(now, lease)])?;
    if n == 0 {
        parent_of(conn, id)?;
    }
    Ok(n > 0)
}

/// Clears a lease if `owner` holds it; a lease held by someone else is left alone.
pub(crate) fn release(conn: &Connection, id: EntryId, owner: &str) -> Result<()> {
    let n = conn
        .prepare_cached(
            "UPDATE entries SET lease_owner = NULL, lease_expires = NULL
             WHERE id = ?1 AND lease_owner = ?2",
        )?
        .execute(params![id, owner])?;
    if n == 0 {
        parent_of(conn, id)?;
    }
    Ok(())
}

impl Batch<'_> {
    /// Extends a lease `owner` holds to `now + lease`; see [`Store::renew`](crate::Store::renew).
    pub fn renew(
        &mut self,
        id: EntryId,
        owner: &str,
        now: SystemTime,
        lease: Duration,
    ) -> Result<bool> {
        renew(self.conn, id, owner, now, lease)
    }

    /// Sets only the send state of a message `owner` holds (a sender marking the one it is
    /// about to send); false, writing nothing, if `owner` does not hold it.
    pub fn set_send_state(&mut self, id: EntryId, owner: &str, state: SendState) -> Result<bool> {
        Ok(self.set_send_states(&[id], owner, state)? > 0)
    }

    /// [`set_send_state`](Self::set_send_state) for several messages in one statement; returns
    /// how many `owner` holds (only those are written).
    pub fn set_send_states(
        &mut self,
        ids: &[EntryId],
        owner: &str,
        state: SendState,
    ) -> Result<usize> {
        check_owner(owner)?;
        if ids.is_empty() {
            return Ok(0);
        }
        let mut held = Vec::with_capacity(ids.len());
        {
            let mut stmt = self.conn.prepare_cached(
                "UPDATE entries SET send_state = ?3
                 WHERE id IN (SELECT value FROM json_each(?1)) AND lease_owner = ?2 RETURNING id",
            )?;
            let mut rows = stmt.query(params![id_list(ids), owner, state.as_str()])?;
            while let Some(row) = rows.next()? {
                held.push(row.get::<_, EntryId>(0)?);
            }
        }
        self.events
            .extend(held.iter().map(|&id| crate::events::Event::Changed { id }));
        Ok(held.len())
    }

    /// Records a sender's outcome; see [`Store::finish`](crate::Store::finish).
    pub fn finish(&mut self, entry: &Entry, owner: &str, move_to: Option<EntryId>) -> Result<()> {
        check_owner(owner)?;
        let stored = stored_row(self.conn, entry.id)?;
        if stored.lease_owner.as_deref() != Some(owner) {
            return Err(StoreError::LeaseLost {
                id: entry.id,
                owner: owner.into(),
            });
        }
        // The outcome, the move and the release of the lease in one statement.
        let mut also = vec![("lease_owner", Value::Null), ("lease_expires", Value::Null)];
        let from = stored.parent;
        let moved = move_to.filter(|to| *to != from);
        if let Some(to) = moved {
            check_move(self.conn, entry.id, from, to)?;
            also.push(("parent", Value::Integer(to.0)));
        }
        update_fields(self.conn, entry, &stored, also)?;
        self.events
            .push(crate::events::Event::Changed { id: entry.id });
        if let Some(to) = moved {
            self.events.push(crate::events::Event::Moved {
                id: entry.id,
                from,
                to,
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filter::Claim;
    use std::time::Duration;

    #[test]
    fn a_claim_walks_the_due_index_instead_of_sorting_the_folder() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::Store::open(dir.path()).unwrap();
        let states = [SendState::Waiting, SendState::Resend];
        let claim = Claim {
            folder: EntryId::OUTBOX,
            service: None,
            states: &states,
            now: SystemTime::now(),
            due_before: None,
            owner: "test",
            lease: Duration::from_secs(60),
            limit: 64,
            ids: None,
        };
        let (sql, args) = claim_query(&claim);
        let conn = store.lock().unwrap();
        let plan: Vec<String> = conn
            .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
            .unwrap()
            .query_map(rusqlite::params_from_iter(args), |r| r.get::<_, String>(3))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        let plan = plan.join("\n");
        assert!(plan.contains("entries_due"), "{plan}");
        assert!(!plan.contains("TEMP B-TREE"), "{plan}");
    }
}

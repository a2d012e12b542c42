//! Conversions between the entry model and database rows.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSql, ToSqlOutput, Value, ValueRef};
use rusqlite::{Connection, Row, params};

use crate::entry::{
    EmailFields, Entry, EntryError, EntryId, EntryKind, Flags, Lease, Priority, RecipientKind,
    RecipientRecord, RecipientState, SendState,
};

/// Microseconds since the Unix epoch (negative before it), saturating.
pub(crate) fn to_micros(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_micros()).unwrap_or(i64::MAX),
        Err(e) => i64::try_from(e.duration().as_micros()).map_or(i64::MIN, |m| -m),
    }
}

/// The inverse of [`to_micros`].
pub(crate) fn from_micros(m: i64) -> SystemTime {
    let d = Duration::from_micros(m.unsigned_abs());
    if m >= 0 {
        UNIX_EPOCH + d
    } else {
        UNIX_EPOCH - d
    }
}

/// `t + d` in microseconds, saturating.
pub(crate) fn add_micros(t: SystemTime, d: Duration) -> i64 {
    to_micros(t).saturating_add(i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
}

macro_rules! sql_text {
    ($($t:ty),+) => {$(
        impl ToSql for $t {
            fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
                Ok(ToSqlOutput::from(self.as_str()))
            }
        }
        impl FromSql for $t {
            fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
                value.as_str()?.parse().map_err(|e| FromSqlError::Other(Box::new(e)))
            }
        }
    )+};
}

sql_text!(
    EntryKind,
    SendState,
    RecipientKind,
    RecipientState,
    Priority
);

impl ToSql for EntryId {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(self.0))
    }
}

impl FromSql for EntryId {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        value.as_i64().map(EntryId)
    }
}

fn flag_bits(f: &Flags) -> i64 {
    [
        f.visible,
        f.complete,
        f.in_preparation,
        f.new,
        f.unread,
        f.read_only,
        f.attachment,
        f.multiple_recipients,
    ]
    .iter()
    .enumerate()
    .fold(0, |acc, (i, on)| acc | (i64::from(*on) << i))
}

fn flags_from(bits: i64, priority: Priority) -> Flags {
    let on = |i: u32| bits & (1 << i) != 0;
    Flags {
        visible: on(0),
        complete: on(1),
        in_preparation: on(2),
        new: on(3),
        unread: on(4),
        read_only: on(5),
        attachment: on(6),
        multiple_recipients: on(7),
        priority,
    }
}

fn email_bits(e: &EmailFields) -> i64 {
    [
        e.receipt_requested,
        e.html,
        e.vcard,
        e.icalendar,
        e.encrypted,
        e.signed,
        e.has_attachments,
    ]
    .iter()
    .enumerate()
    .fold(0, |acc, (i, on)| acc | (i64::from(*on) << i))
}

fn email_from(
    bits: i64,
    multipart: Option<String>,
    id: Option<String>,
    irt: Option<String>,
) -> EmailFields {
    let on = |i: u32| bits & (1 << i) != 0;
    EmailFields {
        receipt_requested: on(0),
        html: on(1),
        vcard: on(2),
        icalendar: on(3),
        encrypted: on(4),
        signed: on(5),
        has_attachments: on(6),
        multipart,
        message_id: id,
        in_reply_to: irt,
    }
}

/// The mutable columns, in the order [`MutableFields::values`] gives their values.
pub(crate) const MUTABLE_COLUMNS: [&str; 17] = [
    "mtm",
    "service",
    "date",
    "size",
    "description",
    "details",
    "flags",
    "priority",
    "send_state",
    "scheduled",
    "error_kind",
    "error_code",
    "error_text",
    "email_flags",
    "multipart",
    "message_id",
    "in_reply_to",
];

/// The columns every entry query selects, in the order [`entry_from_row`] reads them.
pub(crate) const ENTRY_COLUMNS: &str = "id, parent, kind, mtm, service, date, size, description,
    details, flags, priority, send_state, scheduled, error_kind, error_code, error_text,
    email_flags, multipart, message_id, in_reply_to, lease_owner, lease_expires";

/// The mutable fields of an entry, shared by creation and update.
pub(crate) struct MutableFields<'a> {
    pub mtm: &'a str,
    pub service: Option<EntryId>,
    pub date: SystemTime,
    pub size: u64,
    pub description: &'a str,
    pub details: &'a str,
    pub flags: &'a Flags,
    pub send_state: Option<SendState>,
    pub scheduled: Option<SystemTime>,
    pub error: Option<&'a EntryError>,
    pub email: &'a EmailFields,
}

impl MutableFields<'_> {
    /// The values of [`MUTABLE_COLUMNS`], in that order.
    pub(crate) fn values(&self) -> [Value; 17] {
        let text = |t: &str| Value::Text(t.to_owned());
        let opt_text = |t: Option<&str>| t.map_or(Value::Null, text);
        let opt_int = |i: Option<i64>| i.map_or(Value::Null, Value::Integer);
        [
            text(self.mtm),
            opt_int(self.service.map(|s| s.0)),
            Value::Integer(to_micros(self.date)),
            Value::Integer(i64::try_from(self.size).unwrap_or(i64::MAX)),
            text(self.description),
            text(self.details),
            Value::Integer(flag_bits(self.flags)),
            text(self.flags.priority.as_str()),
            opt_text(self.send_state.map(SendState::as_str)),
            opt_int(self.scheduled.map(to_micros)),
            opt_text(self.error.map(|e| e.kind.as_str())),
            opt_int(self.error.and_then(|e| e.code).map(i64::from)),
            opt_text(self.error.map(|e| e.text.as_str())),
            Value::Integer(email_bits(self.email)),
            opt_text(self.email.multipart.as_deref()),
            opt_text(self.email.message_id.as_deref()),
            opt_text(self.email.in_reply_to.as_deref()),
        ]
    }

    /// Runs `sql` with `?1` bound to `first` and `?2`..`?18` to [`values`](Self::values).
    pub(crate) fn execute(
        &self,
        conn: &Connection,
        sql: &str,
        first: i64,
    ) -> rusqlite::Result<usize> {
        let values = self.values();
        let args = std::iter::once(Value::Integer(first)).chain(values);
        conn.prepare_cached(sql)?
            .execute(rusqlite::params_from_iter(args))
    }
}

/// Reads an entry (without its recipients) from a row of [`ENTRY_COLUMNS`].
pub(crate) fn entry_from_row(r: &Row<'_>) -> rusqlite::Result<Entry> {
    let error_kind: Option<String> = r.get(13)?;
    let error = match error_kind {
        Some(kind) => Some(EntryError {
            kind,
            code: r.get(14)?,
            text: r.get(15)?,
        }),
        None => None,
    };
    let lease_owner: Option<String> = r.get(20)?;
    let lease_expires: Option<i64> = r.get(21)?;
    let lease = match (lease_owner, lease_expires) {
        (Some(owner), Some(expires)) => Some(Lease {
            owner,
            expires: from_micros(expires),
        }),
        _ => None,
    };
    let size: i64 = r.get(6)?;
    Ok(Entry {
        id: r.get(0)?,
        parent: r.get(1)?,
        kind: r.get(2)?,
        mtm: r.get(3)?,
        service: r.get(4)?,
        date: from_micros(r.get(5)?),
        size: u64::try_from(size).unwrap_or(0),
        description: r.get(7)?,
        details: r.get(8)?,
        flags: flags_from(r.get(9)?, r.get(10)?),
        send_state: r.get(11)?,
        scheduled: r.get::<_, Option<i64>>(12)?.map(from_micros),
        error,
        email: email_from(r.get(16)?, r.get(17)?, r.get(18)?, r.get(19)?),
        recipients: Vec::new(),
        lease,
    })
}

/// Loads the recipient records of an entry, in order.
pub(crate) fn load_recipients(
    conn: &Connection,
    id: EntryId,
) -> rusqlite::Result<Vec<RecipientRecord>> {
    let mut stmt = conn.prepare_cached(
        "SELECT address, kind, state, code, enhanced, text, time FROM recipients
         WHERE entry = ?1 ORDER BY pos",
    )?;
    let rows = stmt.query_map([id], |r| recipient_from_row(r, 0))?;
    rows.collect()
}

/// Reads a recipient record from `address, kind, state, code, enhanced, text, time`, starting
/// at column `at`.
pub(crate) fn recipient_from_row(r: &Row<'_>, at: usize) -> rusqlite::Result<RecipientRecord> {
    Ok(RecipientRecord {
        address: r.get(at)?,
        kind: r.get(at + 1)?,
        state: r.get(at + 2)?,
        code: r.get(at + 3)?,
        enhanced: r.get(at + 4)?,
        text: r.get(at + 5)?,
        time: r.get::<_, Option<i64>>(at + 6)?.map(from_micros),
    })
}

/// Replaces the recipient records of an entry (`fresh`: one just created, which has none).
pub(crate) fn store_recipients(
    conn: &Connection,
    id: EntryId,
    recipients: &[RecipientRecord],
    fresh: bool,
) -> rusqlite::Result<()> {
    // Records are rewritten in place (most updates keep the same recipients and change their
    // states, which a plain update does without touching the key or its foreign key); a new or
    // readdressed record is upserted. Records past the new end are dropped.
    let mut update = conn.prepare_cached(
        "UPDATE recipients SET state = ?5, code = ?6, enhanced = ?7, text = ?8, time = ?9
         WHERE entry = ?1 AND pos = ?2 AND address = ?3 AND kind = ?4",
    )?;
    let mut upsert = conn.prepare_cached(
        "INSERT INTO recipients (entry, pos, address, kind, state, code, enhanced, text, time)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
         ON CONFLICT (entry, pos) DO UPDATE SET address = excluded.address,
             kind = excluded.kind, state = excluded.state, code = excluded.code,
             enhanced = excluded.enhanced, text = excluded.text, time = excluded.time",
    )?;
    for (pos, r) in recipients.iter().enumerate() {
        let args = params![
            id,
            pos as i64,
            r.address,
            r.kind,
            r.state,
            r.code,
            r.enhanced,
            r.text,
            r.time.map(to_micros),
        ];
        if fresh || update.execute(args)? == 0 {
            upsert.execute(args)?;
        }
    }
    // A range delete on this table builds a temporary index even when nothing matches: look
    // first (the usual answer is that the list did not shrink).
    let end = params![id, recipients.len() as i64];
    if !fresh
        && conn
            .prepare_cached("SELECT 1 FROM recipients WHERE entry = ?1 AND pos >= ?2 LIMIT 1")?
            .exists(end)?
    {
        conn.prepare_cached("DELETE FROM recipients WHERE entry = ?1 AND pos >= ?2")?
            .execute(end)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_round_trip_at_microsecond_precision_both_sides_of_the_epoch() {
        for m in [0, 1, -1, 1_700_000_000_123_456, -86_400_000_001] {
            assert_eq!(to_micros(from_micros(m)), m);
        }
    }

    #[test]
    fn every_flag_has_its_own_bit() {
        let all = Flags {
            visible: true,
            complete: true,
            in_preparation: true,
            new: true,
            unread: true,
            read_only: true,
            attachment: true,
            multiple_recipients: true,
            priority: Priority::High,
        };
        assert_eq!(flag_bits(&all), 0xff);
        assert_eq!(flags_from(0xff, Priority::High), all);
        let one = Flags {
            unread: true,
            visible: false,
            ..Flags::default()
        };
        assert_eq!(flags_from(flag_bits(&one), Priority::Normal), one);
    }
}

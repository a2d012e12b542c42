//! The one connection a `Store` handle uses, behind a lock that refuses re-entry from the thread
//! that already holds it (which would otherwise deadlock).

use std::ops::{Deref, DerefMut};
use std::sync::{Mutex, MutexGuard};
use std::thread::{self, ThreadId};

use rusqlite::Connection;

use crate::error::{InvalidOperation, Result, StoreError};

/// A connection shared by a store handle and its stream readers.
pub(crate) struct Shared {
    conn: Mutex<Connection>,
    holder: Mutex<Option<ThreadId>>,
}

/// Exclusive use of the connection; released on drop.
pub(crate) struct Guard<'a> {
    conn: MutexGuard<'a, Connection>,
    holder: &'a Mutex<Option<ThreadId>>,
}

impl Shared {
    pub(crate) fn new(conn: Connection) -> Self {
        Shared {
            conn: Mutex::new(conn),
            holder: Mutex::new(None),
        }
    }

    /// Waits for the connection; fails at once if this thread already holds it (a store method
    /// called from inside a [`Store::batch`](crate::Store::batch) closure).
    pub(crate) fn lock(&self) -> Result<Guard<'_>> {
        let me = thread::current().id();
        if *self.holder.lock().unwrap_or_else(|p| p.into_inner()) == Some(me) {
            return Err(StoreError::Invalid(InvalidOperation::Reentrant));
        }
        // A panic while holding the lock leaves the connection usable: an open transaction is
        // rolled back when its guard drops.
        let conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        *self.holder.lock().unwrap_or_else(|p| p.into_inner()) = Some(me);
        Ok(Guard {
            conn,
            holder: &self.holder,
        })
    }
}

impl Drop for Guard<'_> {
    fn drop(&mut self) {
        // Runs before the connection's own guard is released.
        *self.holder.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }
}

impl Deref for Guard<'_> {
    type Target = Connection;

    fn deref(&self) -> &Connection {
        &self.conn
    }
}

impl DerefMut for Guard<'_> {
    fn deref_mut(&mut self) -> &mut Connection {
        &mut self.conn
    }
}

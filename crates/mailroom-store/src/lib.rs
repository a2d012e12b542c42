//! Mailroom's message store: entries, streams, folders, leases (embedded SQLite)
#![forbid(unsafe_code)]

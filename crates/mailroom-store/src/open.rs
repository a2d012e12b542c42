//! Opening a store: directory and file creation with private modes, connection settings for
//! durability and concurrency, schema migration, and the clean-up of abandoned staged streams.

use std::fs;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use rusqlite::{Connection, OpenFlags};

use crate::conn::Shared;
use crate::error::{Result, StoreError};
use crate::events::Observers;
use crate::schema;
use crate::staging;
use crate::store::Store;

/// The database file's name inside the store directory.
pub const DB_FILE: &str = "mailroom.sqlite3";

/// Settings for [`Store::open_with`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenOptions {
    /// How long to wait for another connection's lock before failing with
    /// [`StoreError::Busy`].
    pub busy_timeout: Duration,
}

impl Default for OpenOptions {
    fn default() -> Self {
        OpenOptions {
            busy_timeout: Duration::from_secs(10),
        }
    }
}

impl Store {
    /// Opens the store in `dir`, creating the directory (mode 0700), the database (mode 0600)
    /// and the standard folders if needed, and migrating an older schema.
    pub fn open(dir: &Path) -> Result<Store> {
        Self::open_with(dir, &OpenOptions::default())
    }

    /// [`Store::open`] with explicit settings.
    pub fn open_with(dir: &Path, options: &OpenOptions) -> Result<Store> {
        let path = dir.join(DB_FILE);
        Self::open_at(dir, &path, options).map_err(|e| e.at(&path))
    }

    fn open_at(dir: &Path, path: &Path, options: &OpenOptions) -> Result<Store> {
        if !dir.is_dir() {
            fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .map_err(|e| StoreError::fs("creating store directory", dir, e))?;
        }
        create_file(dir, path)?;
        // Several processes opening a new store at once race to switch it to write-ahead
        // logging; SQLite answers the losers "busy" at once (waiting could deadlock) rather
        // than after the busy timeout. Such an open starts again on a fresh connection.
        let started = std::time::Instant::now();
        let mut attempt = 0u32;
        let conn = loop {
            match connect(dir, path, options) {
                Err(e) if e.is_busy() && started.elapsed() < options.busy_timeout => {
                    attempt += 1;
                    let jitter = u64::from(std::process::id() % 7 + attempt % 5);
                    std::thread::sleep(Duration::from_millis(5 + jitter));
                }
                other => break other?,
            }
        };
        let store = Store {
            path: path.to_owned(),
            conn: Arc::new(Shared::new(conn)),
            observers: Observers::default(),
            data_version: Mutex::new(None),
        };
        store.has_external_changes()?;
        store.batch(|b| staging::sweep(b.conn, SystemTime::now()))?;
        tracing::debug!(path = %path.display(), "opened store");
        Ok(store)
    }

    /// The default store directory: `$MAILROOM_STORE` if set, else the platform data directory
    /// (`~/.local/share/mailroom` on Linux).
    pub fn default_dir() -> Result<PathBuf> {
        if let Some(dir) = std::env::var_os("MAILROOM_STORE").filter(|d| !d.is_empty()) {
            return Ok(PathBuf::from(dir));
        }
        directories::ProjectDirs::from("", "", "mailroom")
            .map(|d| d.data_dir().to_owned())
            .ok_or_else(|| StoreError::Io {
                context: "finding the home directory".into(),
                source: std::io::Error::new(std::io::ErrorKind::NotFound, "no home directory"),
            })
    }
}

/// One connection set up for the store: write-ahead logging, durability and cache settings,
/// and the schema brought up to date.
fn connect(dir: &Path, path: &Path, options: &OpenOptions) -> Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let mut conn = Connection::open_with_flags(path, flags).map_err(|e| cannot_open(dir, e))?;
    conn.busy_timeout(options.busy_timeout)?;
    if conn.is_readonly(rusqlite::MAIN_DB)? {
        return Err(StoreError::ReadOnly {
            path: path.to_owned(),
            source: "the database file cannot be opened for writing".into(),
        });
    }
    // 8 KiB pages hold three 2 KiB message bodies where 4 KiB pages held one (a row just
    // over half a page gets a page to itself), which halves the bytes a queue of small
    // messages writes. Only takes effect while the database is still empty.
    conn.execute_batch("PRAGMA page_size = 8192")?;
    let mode: String = conn
        .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
        .map_err(|e| cannot_open(dir, e))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::ReadOnly {
            path: path.to_owned(),
            source: format!("cannot switch to write-ahead logging (mode is {mode})").into(),
        });
    }
    // An 8 MiB page cache holds a batch of a thousand small messages without spilling
    // half-built pages into the WAL before the commit.
    // The WAL is cut back to 64 MiB after checkpoints, however large a transaction was.
    // Commits are synced by the store itself (`Store::sync_log`) unless a batch asks for
    // relaxed durability, so SQLite does not sync them (`synchronous = NORMAL`).
    conn.execute_batch(
        "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; PRAGMA cache_size = -8192;
         PRAGMA journal_size_limit = 67108864; PRAGMA temp_store = MEMORY;",
    )?;
    // Keep query plans fixed: otherwise (with STAT4) binding new values recompiles
    // statements on every step, which costs more than running them.
    conn.set_db_config(
        rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
        true,
    )?;
    conn.set_prepared_statement_cache_capacity(64);
    schema::migrate(&mut conn, path, schema::SCHEMA_VERSION)?;
    Ok(conn)
}

/// Classifies a failure to open the database or its WAL files: when the directory refuses new
/// files, the location is read-only; otherwise the driver's error stands.
fn cannot_open(dir: &Path, err: rusqlite::Error) -> StoreError {
    if err.sqlite_error_code() != Some(rusqlite::ErrorCode::CannotOpen) {
        return err.into();
    }
    let probe = dir.join(format!(".mailroom-probe-{}", std::process::id()));
    match fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)
    {
        Ok(_) => {
            let _ = fs::remove_file(&probe);
            err.into()
        }
        Err(e) => StoreError::fs("creating files in", dir, e),
    }
}

/// Creates the database file with mode 0600 (if missing) and makes its directory entry durable.
fn create_file(dir: &Path, path: &Path) -> Result<()> {
    match fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
    {
        Ok(file) => {
            // The umask cannot widen 0600, but make the mode exact whatever it is.
            file.set_permissions(fs::Permissions::from_mode(0o600))
                .and_then(|()| file.sync_all())
                .map_err(|e| StoreError::fs("creating", path, e))?;
            fs::File::open(dir)
                .and_then(|d| d.sync_all())
                .map_err(|e| StoreError::fs("syncing directory", dir, e))?;
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(StoreError::fs("creating", path, e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commits_use_the_write_ahead_log_synced_by_the_store() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let conn = store.lock().unwrap();
        let mode: String = conn
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        let sync: i64 = conn
            .query_row("PRAGMA synchronous", [], |r| r.get(0))
            .unwrap();
        let fk: i64 = conn
            .query_row("PRAGMA foreign_keys", [], |r| r.get(0))
            .unwrap();
        // NORMAL: SQLite does not sync commits itself; the store syncs the log after durable
        // ones (`Store::sync_log`).
        assert_eq!((mode.as_str(), sync, fk), ("wal", 1, 1));
    }
}

//! The `persist` store: one redb file holding finished job outputs and "running"
//! markers, keyed by [`JobRun::id`](super::JobRun::id).
//!
//! - `results`: run id → serialized output (serde_json), written when a run succeeds.
//! - `running`: run id → empty, written before a run starts and removed (in the same
//!   transaction that stores its output) when it ends; what is left at open belongs to
//!   runs the process died in, which the runtime starts again.
//! - `meta`: `format` → [`FORMAT`]. A file it cannot open, or of another format, is
//!   renamed aside (`<path>.unreadable-<unix seconds>`) with a warning and a new one
//!   is created: results can be recomputed, so a bad store never stops the app.
//!
//! Store errors after opening (a full disk, say) are warned about and otherwise
//! ignored: the run's own outcome still reaches its task.

use std::path::{Path, PathBuf};

use super::warn;
use redb::{
    Database, DatabaseError, ReadableDatabase, ReadableTable, StorageError, TableDefinition,
};

const RESULTS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("results");
const RUNNING: TableDefinition<&[u8], ()> = TableDefinition::new("running");
const META: TableDefinition<&str, u64> = TableDefinition::new("meta");
/// The layout above; bumped when it changes (older files are then set aside).
const FORMAT: u64 = 1;

/// Why a store did not open.
enum Failure {
    /// The file is not a store of this format (or corrupted): set it aside.
    Unreadable(String),
    /// It cannot be opened now (open elsewhere, no permission): leave it alone.
    Unavailable(String),
}

/// An open store (see the module docs).
pub(crate) struct Store {
    db: Database,
    path: PathBuf,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish()
    }
}

impl Store {
    /// Opens (or creates) the store at `path`; one it cannot read is set aside and
    /// replaced. `None` (with a warning) only if no store can be created there at all.
    pub(crate) fn open(path: &Path) -> Option<Store> {
        match Store::try_open(path) {
            Ok(store) => return Some(store),
            Err(Failure::Unreadable(e)) if path.exists() => {
                let secs = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs());
                let mut aside = path.as_os_str().to_owned();
                aside.push(format!(".unreadable-{secs}"));
                let aside = PathBuf::from(aside);
                match std::fs::rename(path, &aside) {
                    Ok(()) => warn(&format!(
                        "the job store {} cannot be read ({e}): set aside as {}; finished \
                         jobs will run again",
                        path.display(),
                        aside.display()
                    )),
                    Err(re) => {
                        warn(&format!(
                            "the job store {} cannot be read ({e}) nor set aside ({re}): \
                             jobs are not persisted",
                            path.display()
                        ));
                        return None;
                    }
                }
            }
            Err(Failure::Unreadable(e) | Failure::Unavailable(e)) => {
                warn(&format!(
                    "the job store {} cannot be opened ({e}): jobs are not persisted",
                    path.display()
                ));
                return None;
            }
        }
        Store::try_open(path)
            .map_err(|(Failure::Unreadable(e) | Failure::Unavailable(e))| {
                warn(&format!(
                    "the job store {} cannot be created ({e}): jobs are not persisted",
                    path.display()
                ))
            })
            .ok()
    }

    fn try_open(path: &Path) -> Result<Store, Failure> {
        let db = Database::create(path).map_err(|e| match e {
            // Busy or not ours to touch: the file may be fine, so it stays where it is.
            DatabaseError::DatabaseAlreadyOpen
            | DatabaseError::LockProtocolMismatch
            | DatabaseError::TransactionInProgress => Failure::Unavailable(e.to_string()),
            DatabaseError::Storage(StorageError::Io(io))
                if io.kind() == std::io::ErrorKind::PermissionDenied =>
            {
                Failure::Unavailable(io.to_string())
            }
            e => Failure::Unreadable(e.to_string()),
        })?;
        Store::check_format(db, path).map_err(Failure::Unreadable)
    }

    fn check_format(db: Database, path: &Path) -> Result<Store, String> {
        let txn = db.begin_write().map_err(|e| e.to_string())?;
        {
            let mut meta = txn.open_table(META).map_err(|e| e.to_string())?;
            let found = meta
                .get("format")
                .map_err(|e| e.to_string())?
                .map(|v| v.value());
            match found {
                Some(FORMAT) => {}
                Some(other) => return Err(format!("store format {other}, expected {FORMAT}")),
                None => {
                    meta.insert("format", FORMAT).map_err(|e| e.to_string())?;
                }
            }
            // Created now so that reads never meet a missing table.
            txn.open_table(RESULTS).map_err(|e| e.to_string())?;
            txn.open_table(RUNNING).map_err(|e| e.to_string())?;
        }
        txn.commit().map_err(|e| e.to_string())?;
        Ok(Store {
            db,
            path: path.to_owned(),
        })
    }

    fn report<T>(&self, what: &str, r: Result<T, redb::Error>) -> Option<T> {
        r.map_err(|e| warn(&format!("job store {}: {what}: {e}", self.path.display())))
            .ok()
    }

    /// The stored output of run `id`.
    pub(crate) fn finished(&self, id: &[u8]) -> Option<Vec<u8>> {
        let r = (|| -> Result<_, redb::Error> {
            let txn = self.db.begin_read()?;
            let table = txn.open_table(RESULTS)?;
            Ok(table.get(id)?.map(|v| v.value().to_vec()))
        })();
        self.report("reading a result", r).flatten()
    }

    /// Notes run `id` as under way (durably, before it starts).
    pub(crate) fn mark_running(&self, id: &[u8]) {
        let r = (|| -> Result<(), redb::Error> {
            let txn = self.db.begin_write()?;
            txn.open_table(RUNNING)?.insert(id, ())?;
            txn.commit()?;
            Ok(())
        })();
        self.report("marking a run", r);
    }

    /// Run `id` ended: its marker goes, and its output, if it succeeded, is stored.
    pub(crate) fn end(&self, id: &[u8], output: Option<&[u8]>) {
        let r = (|| -> Result<(), redb::Error> {
            let txn = self.db.begin_write()?;
            txn.open_table(RUNNING)?.remove(id)?;
            if let Some(output) = output {
                txn.open_table(RESULTS)?.insert(id, output)?;
            }
            txn.commit()?;
            Ok(())
        })();
        self.report("ending a run", r);
    }

    /// The runs marked under way, as (job name, serialized input).
    pub(crate) fn running(&self) -> Vec<(String, Vec<u8>)> {
        let r = (|| -> Result<_, redb::Error> {
            let txn = self.db.begin_read()?;
            let table = txn.open_table(RUNNING)?;
            let mut runs = Vec::new();
            for entry in table.iter()? {
                let (id, _) = entry?;
                let id = id.value();
                if let Some(nul) = id.iter().position(|&b| b == 0)
                    && let Ok(name) = std::str::from_utf8(&id[..nul])
                {
                    runs.push((name.to_owned(), id[nul + 1..].to_vec()));
                }
            }
            Ok(runs)
        })();
        self.report("listing interrupted runs", r)
            .unwrap_or_default()
    }
}

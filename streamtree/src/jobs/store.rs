//! The `persist` store: one redb file holding finished job outputs and "running"
//! markers, keyed by [`JobRun::id`](super::JobRun::id).
//!
//! - `results`: run id → serialized output (serde_json), written when a run succeeds.
//! - `running`: run id → empty, written before a run starts and removed (in the same
//!   transaction that stores its output) when it ends; what is left at open belongs to
//!   runs the process died in, which the runtime starts again.
//! - A process opens each file once and shares it between runtimes (`OPEN`); the
//!   runs marked under way when it opened the file are the interrupted ones.
//! - `meta`: `format` → [`FORMAT`]. A file it cannot open, or of another format, is
//!   renamed aside (`<path>.unreadable-<unix seconds>`) with a warning and a new one
//!   is created: results can be recomputed, so a bad store never stops the app.
//!
//! Store errors after opening (a full disk, say) are warned about and otherwise
//! ignored: the run's own outcome still reaches its task.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError, Weak};

use super::warn;
use redb::{
    Database, DatabaseError, ReadableDatabase, ReadableTable, StorageError, TableDefinition,
};

const RESULTS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("results");
const RUNNING: TableDefinition<&[u8], ()> = TableDefinition::new("running");
const META: TableDefinition<&str, u64> = TableDefinition::new("meta");
/// The layout above; bumped when it changes (older files are then set aside).
const FORMAT: u64 = 1;

/// The stores open in this process, by absolute path: redb allows one open `Database`
/// per file and process, so a second runtime on the same path (a restart within the
/// process, or a runtime dropped on a worker a moment later) shares the first one's.
static OPEN: Mutex<BTreeMap<PathBuf, Weak<Database>>> = Mutex::new(BTreeMap::new());

impl Drop for Store {
    /// The last `Arc` of a file's `Database` is dropped (closing the file and releasing
    /// its lock) under `OPEN`'s lock: an `open` of the same path then either shares it
    /// or finds it fully closed, never the file still locked by a `Database` whose
    /// `Weak` no longer upgrades.
    fn drop(&mut self) {
        let _open = OPEN.lock().unwrap_or_else(PoisonError::into_inner);
        drop(self.db.take());
    }
}

/// Why a store did not open.
enum Failure {
    /// The file is not a store of this format (or corrupted): set it aside.
    Unreadable(String),
    /// It cannot be opened now (open elsewhere, no permission): leave it alone.
    Unavailable(String),
}

/// An open store (see the module docs).
pub(crate) struct Store {
    /// Shared by every runtime of the process on this path (see [`OPEN`]); `None` only
    /// in `drop`, which lets go of it under `OPEN`'s lock.
    db: Option<Arc<Database>>,
    /// The runs marked under way when this process opened the file (so none of its
    /// own); taken by the first [`Store::running`].
    interrupted: Mutex<Vec<(String, Vec<u8>)>>,
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
        let key = std::path::absolute(path).unwrap_or_else(|_| path.to_owned());
        let mut open = OPEN.lock().unwrap_or_else(PoisonError::into_inner);
        open.retain(|_, db| db.strong_count() > 0);
        if let Some(db) = open.get(&key).and_then(Weak::upgrade) {
            return Some(Store {
                db: Some(db),
                interrupted: Mutex::default(),
                path: path.to_owned(),
            });
        }
        // Warnings wait for the lock's release: a `tracing` subscriber is user code.
        let mut warnings = Vec::new();
        let store = Store::open_file(path, &mut warnings);
        if let Some(db) = store.as_ref().and_then(|s| s.db.as_ref()) {
            open.insert(key, Arc::downgrade(db));
        }
        drop(open);
        for w in warnings {
            warn(&w);
        }
        store
    }

    fn open_file(path: &Path, warnings: &mut Vec<String>) -> Option<Store> {
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
                    Ok(()) => warnings.push(format!(
                        "the job store {} cannot be read ({e}): set aside as {}; finished \
                         jobs will run again",
                        path.display(),
                        aside.display()
                    )),
                    Err(re) => {
                        warnings.push(format!(
                            "the job store {} cannot be read ({e}) nor set aside ({re}): \
                             jobs are not persisted",
                            path.display()
                        ));
                        return None;
                    }
                }
            }
            Err(Failure::Unreadable(e) | Failure::Unavailable(e)) => {
                warnings.push(format!(
                    "the job store {} cannot be opened ({e}): jobs are not persisted",
                    path.display()
                ));
                return None;
            }
        }
        Store::try_open(path)
            .map_err(|(Failure::Unreadable(e) | Failure::Unavailable(e))| {
                warnings.push(format!(
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
        let mut store = Store {
            db: Some(Arc::new(db)),
            interrupted: Mutex::default(),
            path: path.to_owned(),
        };
        let interrupted = store.marked_running().map_err(|e| e.to_string())?;
        store.interrupted = Mutex::new(interrupted);
        Ok(store)
    }

    fn db(&self) -> &Database {
        self.db.as_ref().expect("taken only by drop")
    }

    fn report<T>(&self, what: &str, r: Result<T, redb::Error>) -> Option<T> {
        r.map_err(|e| warn(&format!("job store {}: {what}: {e}", self.path.display())))
            .ok()
    }

    /// The stored output of run `id`.
    pub(crate) fn finished(&self, id: &[u8]) -> Option<Vec<u8>> {
        let r = (|| -> Result<_, redb::Error> {
            let txn = self.db().begin_read()?;
            let table = txn.open_table(RESULTS)?;
            Ok(table.get(id)?.map(|v| v.value().to_vec()))
        })();
        self.report("reading a result", r).flatten()
    }

    /// Runs `f` as run `id`: marked under way before, its marker removed after (and its
    /// output stored if it succeeded), also when `f` unwinds (a panic is an Error, not
    /// an interruption to start again).
    pub(crate) fn run(
        &self,
        id: &[u8],
        f: impl FnOnce() -> Result<Vec<u8>, String>,
    ) -> Result<Vec<u8>, String> {
        /// Removes the marker if `f` unwinds.
        struct Unwound<'a>(Option<(&'a Store, &'a [u8])>);
        impl Drop for Unwound<'_> {
            fn drop(&mut self) {
                if let Some((store, id)) = self.0 {
                    store.end(id, None);
                }
            }
        }
        self.mark_running(id);
        let mut unwound = Unwound(Some((self, id)));
        let outcome = f();
        unwound.0 = None;
        self.end(id, outcome.as_ref().ok().map(Vec::as_slice));
        outcome
    }

    /// Notes run `id` as under way (durably, before it starts).
    fn mark_running(&self, id: &[u8]) {
        let r = (|| -> Result<(), redb::Error> {
            let txn = self.db().begin_write()?;
            txn.open_table(RUNNING)?.insert(id, ())?;
            txn.commit()?;
            Ok(())
        })();
        self.report("marking a run", r);
    }

    /// Run `id` ended: its marker goes, and its output, if it succeeded, is stored.
    fn end(&self, id: &[u8], output: Option<&[u8]>) {
        let r = (|| -> Result<(), redb::Error> {
            let txn = self.db().begin_write()?;
            txn.open_table(RUNNING)?.remove(id)?;
            if let Some(output) = output {
                txn.open_table(RESULTS)?.insert(id, output)?;
            }
            txn.commit()?;
            Ok(())
        })();
        self.report("ending a run", r);
    }

    /// The runs that were under way when the process opened the file (the process
    /// died in them), as (job name, serialized input); empty after the first call.
    pub(crate) fn running(&self) -> Vec<(String, Vec<u8>)> {
        std::mem::take(
            &mut *self
                .interrupted
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        )
    }

    /// The runs marked under way now.
    fn marked_running(&self) -> Result<Vec<(String, Vec<u8>)>, redb::Error> {
        let txn = self.db().begin_read()?;
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
    }
}

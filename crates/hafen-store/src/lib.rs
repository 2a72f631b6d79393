//! The history database of `hafen serve`: every check, plan and render, with enough to show an
//! old result again and to diff two renders.
//!
//! SQLite through `rusqlite` (bundled, so no system library is needed). The schema is versioned
//! with `PRAGMA user_version` and a list of numbered migrations applied in order, each in its
//! own transaction. Rendered files are stored content-addressed (SHA-256 of the bytes), so a
//! render that changes one file of a thousand adds one blob. Every failure is a
//! [`StoreError`] with a sentence for people: a corrupt, locked or newer database never panics.
//!
//! This crate is an IO edge: it touches the file system. Times are passed in by the caller so
//! that tests are deterministic.

pub use hafen_digest::{Sha256, sha256_hex};

use rusqlite::{Connection, ErrorCode, OpenFlags, OptionalExtension, params};
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The migrations, in order. Index `i` brings the schema from version `i` to `i + 1`.
/// Never edit a released migration; append a new one.
const MIGRATIONS: &[&str] = &[
    // 1: runs, content-addressed blobs, and the file list of each render.
    "CREATE TABLE runs (
        id            INTEGER PRIMARY KEY,
        kind          TEXT    NOT NULL CHECK (kind IN ('check', 'plan', 'render')),
        started_at_ms INTEGER NOT NULL,
        duration_ms   INTEGER NOT NULL,
        spec_digest   TEXT    NOT NULL,
        status        TEXT    NOT NULL CHECK (status IN ('ok', 'findings', 'failed')),
        summary       TEXT    NOT NULL,
        result_digest TEXT
    );
    CREATE TABLE blobs (
        digest  TEXT    PRIMARY KEY,
        size    INTEGER NOT NULL,
        content BLOB    NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE render_files (
        run_id INTEGER NOT NULL REFERENCES runs(id),
        path   TEXT    NOT NULL,
        digest TEXT    NOT NULL REFERENCES blobs(digest),
        PRIMARY KEY (run_id, path)
    ) WITHOUT ROWID;",
    // 2: the history page lists runs newest first, per kind.
    "CREATE INDEX runs_by_kind ON runs (kind, id);
     ALTER TABLE runs ADD COLUMN trigger TEXT NOT NULL DEFAULT 'startup';",
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: u32 = MIGRATIONS.len() as u32;

/// How long a write waits for another process's lock before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_millis(1500);

/// Why the history database cannot be used. Every message names the file and says what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreError {
    /// The file could not be opened or created.
    Open {
        /// Database file.
        path: String,
        /// What the system said.
        reason: String,
    },
    /// The file is not an SQLite database, or its pages are damaged.
    Corrupt {
        /// Database file.
        path: String,
        /// What SQLite said.
        detail: String,
    },
    /// Another process holds a lock on the database.
    Locked {
        /// Database file.
        path: String,
    },
    /// The database was written by a newer Hafen with a schema this build does not know.
    NewerSchema {
        /// Database file.
        path: String,
        /// Version found in the file.
        found: u32,
        /// Newest version this build knows.
        known: u32,
    },
    /// Any other SQLite failure (disk full, read-only file, ...).
    Sql {
        /// Database file.
        path: String,
        /// What SQLite said.
        detail: String,
    },
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::Open { path, reason } => {
                write!(f, "cannot open the history database `{path}`: {reason}")
            }
            StoreError::Corrupt { path, detail } => write!(
                f,
                "the history database `{path}` is damaged or not a Hafen database ({detail}); \
                 move it aside (or pass another --db) and Hafen starts a new one"
            ),
            StoreError::Locked { path } => write!(
                f,
                "the history database `{path}` is locked by another process (another `hafen \
                 serve`?); stop it or pass another --db"
            ),
            StoreError::NewerSchema { path, found, known } => write!(
                f,
                "the history database `{path}` has schema version {found}, newer than the \
                 {known} this Hafen knows; use a newer Hafen or pass another --db"
            ),
            StoreError::Sql { path, detail } => {
                write!(f, "the history database `{path}` failed: {detail}")
            }
        }
    }
}

impl std::error::Error for StoreError {}

/// What a run did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RunKind {
    /// `check`.
    Check,
    /// `plan`.
    Plan,
    /// `render`.
    Render,
}

impl RunKind {
    /// Every kind, in pipeline order.
    pub const ALL: [RunKind; 3] = [RunKind::Check, RunKind::Plan, RunKind::Render];

    /// The lowercase word stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            RunKind::Check => "check",
            RunKind::Plan => "plan",
            RunKind::Render => "render",
        }
    }

    /// Parses the lowercase word.
    pub fn parse(text: &str) -> Option<RunKind> {
        RunKind::ALL.into_iter().find(|k| k.as_str() == text)
    }
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RunStatus {
    /// Clean (check: no errors).
    Ok,
    /// Completed with error findings.
    Findings,
    /// Could not complete (the spec did not load, rendering failed).
    Failed,
}

impl RunStatus {
    /// The lowercase word stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Ok => "ok",
            RunStatus::Findings => "findings",
            RunStatus::Failed => "failed",
        }
    }

    /// Parses the lowercase word.
    pub fn parse(text: &str) -> Option<RunStatus> {
        [RunStatus::Ok, RunStatus::Findings, RunStatus::Failed]
            .into_iter()
            .find(|k| k.as_str() == text)
    }
}

/// A run to record.
#[derive(Debug, Clone)]
pub struct NewRun<'a> {
    /// What ran.
    pub kind: RunKind,
    /// Milliseconds since the Unix epoch when it started.
    pub started_at_ms: i64,
    /// How long it took.
    pub duration_ms: i64,
    /// SHA-256 of the spec inputs (see the server's digest).
    pub spec_digest: &'a str,
    /// How it ended.
    pub status: RunStatus,
    /// A short JSON summary shown in the history list (counts, not values).
    pub summary: &'a serde_json::Value,
    /// The full result document (the CLI's `--format json`), if any.
    pub result: Option<&'a str>,
    /// The rendered files, for a render.
    pub files: Option<&'a BTreeMap<String, String>>,
    /// What started it: `startup` or `api`.
    pub trigger: &'a str,
}

/// A recorded run.
#[derive(Debug, Clone, PartialEq)]
pub struct RunRecord {
    /// Row id, increasing.
    pub id: i64,
    /// What ran.
    pub kind: RunKind,
    /// Start time, milliseconds since the Unix epoch.
    pub started_at_ms: i64,
    /// Duration in milliseconds.
    pub duration_ms: i64,
    /// SHA-256 of the spec inputs.
    pub spec_digest: String,
    /// How it ended.
    pub status: RunStatus,
    /// Short summary.
    pub summary: serde_json::Value,
    /// True when the full result document is stored.
    pub has_result: bool,
    /// What started it.
    pub trigger: String,
}

/// One file of a stored render.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileEntry {
    /// Relative path.
    pub path: String,
    /// SHA-256 of the content.
    pub digest: String,
    /// Bytes.
    pub size: i64,
}

/// Run counts per kind and status, for `/metrics`.
pub type RunCounts = BTreeMap<(RunKind, RunStatus), u64>;

/// An open history database.
pub struct Store {
    conn: Connection,
    path: String,
}

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish()
    }
}

impl Store {
    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let name = path.display().to_string();
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty())
            && !parent.is_dir()
        {
            return Err(StoreError::Open {
                path: name,
                reason: format!("the folder `{}` does not exist", parent.display()),
            });
        }
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn =
            Connection::open_with_flags(path, flags).map_err(|e| classify(&name, e, true))?;
        Store::init(conn, name)
    }

    /// A database in memory, for tests and `--db :memory:`.
    pub fn open_in_memory() -> Result<Store, StoreError> {
        let conn = Connection::open_in_memory().map_err(|e| classify(":memory:", e, true))?;
        Store::init(conn, ":memory:".into())
    }

    fn init(conn: Connection, path: String) -> Result<Store, StoreError> {
        conn.busy_timeout(BUSY_TIMEOUT).map_err(|e| classify(&path, e, false))?;
        let mut store = Store { conn, path };
        // Reading the header is the first thing that fails on a file that is not a database.
        let version = store.schema_version()?;
        if version > SCHEMA_VERSION {
            return Err(StoreError::NewerSchema {
                path: store.path.clone(),
                found: version,
                known: SCHEMA_VERSION,
            });
        }
        store.exec("PRAGMA foreign_keys = ON")?;
        store.migrate(version)?;
        let check: String = store
            .conn
            .query_row("PRAGMA quick_check(1)", [], |r| r.get(0))
            .map_err(|e| store.err(e))?;
        if check != "ok" {
            return Err(StoreError::Corrupt { path: store.path.clone(), detail: check });
        }
        Ok(store)
    }

    /// The file this store reads.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The schema version stored in the file.
    pub fn schema_version(&self) -> Result<u32, StoreError> {
        let v: i64 = self
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(|e| self.err(e))?;
        Ok(u32::try_from(v).unwrap_or(u32::MAX))
    }

    fn migrate(&mut self, from: u32) -> Result<(), StoreError> {
        for (index, sql) in MIGRATIONS.iter().enumerate().skip(from as usize) {
            let tx = self.conn.transaction().map_err(|e| classify(&self.path, e, false))?;
            tx.execute_batch(sql).map_err(|e| classify(&self.path, e, false))?;
            tx.pragma_update(None, "user_version", index as i64 + 1)
                .map_err(|e| classify(&self.path, e, false))?;
            tx.commit().map_err(|e| classify(&self.path, e, false))?;
        }
        Ok(())
    }

    fn exec(&self, sql: &str) -> Result<(), StoreError> {
        self.conn.execute_batch(sql).map_err(|e| self.err(e))
    }

    fn err(&self, e: rusqlite::Error) -> StoreError {
        classify(&self.path, e, false)
    }

    /// Records a run (and, for a render, its files) in one transaction. Returns its id.
    pub fn record(&mut self, run: &NewRun<'_>) -> Result<i64, StoreError> {
        let path = self.path.clone();
        let e = |e| classify(&path, e, false);
        let tx = self.conn.transaction().map_err(e)?;
        let result_digest = match run.result {
            Some(text) => Some(put_blob(&tx, text.as_bytes()).map_err(e)?),
            None => None,
        };
        tx.execute(
            "INSERT INTO runs (kind, started_at_ms, duration_ms, spec_digest, status, summary,
                               result_digest, trigger)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                run.kind.as_str(),
                run.started_at_ms,
                run.duration_ms,
                run.spec_digest,
                run.status.as_str(),
                run.summary.to_string(),
                result_digest,
                run.trigger,
            ],
        )
        .map_err(e)?;
        let id = tx.last_insert_rowid();
        if let Some(files) = run.files {
            let mut insert = tx
                .prepare("INSERT INTO render_files (run_id, path, digest) VALUES (?1, ?2, ?3)")
                .map_err(e)?;
            for (file, content) in files {
                let digest = put_blob(&tx, content.as_bytes()).map_err(e)?;
                insert.execute(params![id, file, digest]).map_err(e)?;
            }
        }
        tx.commit().map_err(e)?;
        Ok(id)
    }

    /// Runs newest first: of one kind or all, with ids below `before` (for paging).
    pub fn runs(
        &self,
        kind: Option<RunKind>,
        before: Option<i64>,
        limit: usize,
    ) -> Result<Vec<RunRecord>, StoreError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT id, kind, started_at_ms, duration_ms, spec_digest, status, summary,
                        result_digest IS NOT NULL, trigger
                 FROM runs
                 WHERE (?1 IS NULL OR kind = ?1) AND (?2 IS NULL OR id < ?2)
                 ORDER BY id DESC LIMIT ?3",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(
                params![kind.map(RunKind::as_str), before, limit.min(10_000) as i64],
                row_to_record,
            )
            .map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for row in rows {
            out.push(row.map_err(|e| self.err(e))?);
        }
        Ok(out)
    }

    /// One run.
    pub fn run(&self, id: i64) -> Result<Option<RunRecord>, StoreError> {
        self.conn
            .query_row(
                "SELECT id, kind, started_at_ms, duration_ms, spec_digest, status, summary,
                        result_digest IS NOT NULL, trigger
                 FROM runs WHERE id = ?1",
                params![id],
                row_to_record,
            )
            .optional()
            .map_err(|e| self.err(e))
    }

    /// The full result document of a run.
    pub fn result(&self, id: i64) -> Result<Option<String>, StoreError> {
        let bytes: Option<Vec<u8>> = self
            .conn
            .query_row(
                "SELECT b.content FROM runs r JOIN blobs b ON b.digest = r.result_digest
                 WHERE r.id = ?1",
                params![id],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.err(e))?;
        Ok(bytes.map(|b| String::from_utf8_lossy(&b).into_owned()))
    }

    /// The file list of a render run, sorted by path.
    pub fn render_files(&self, run_id: i64) -> Result<Vec<FileEntry>, StoreError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT f.path, f.digest, b.size FROM render_files f
                 JOIN blobs b ON b.digest = f.digest
                 WHERE f.run_id = ?1 ORDER BY f.path",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(params![run_id], |r| {
                Ok(FileEntry { path: r.get(0)?, digest: r.get(1)?, size: r.get(2)? })
            })
            .map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for row in rows {
            out.push(row.map_err(|e| self.err(e))?);
        }
        Ok(out)
    }

    /// The whole repository of a render run: path → content.
    pub fn render_repo(&self, run_id: i64) -> Result<BTreeMap<String, String>, StoreError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT f.path, b.content FROM render_files f
                 JOIN blobs b ON b.digest = f.digest WHERE f.run_id = ?1",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(params![run_id], |r| {
                let bytes: Vec<u8> = r.get(1)?;
                Ok((r.get::<_, String>(0)?, String::from_utf8_lossy(&bytes).into_owned()))
            })
            .map_err(|e| self.err(e))?;
        let mut out = BTreeMap::new();
        for row in rows {
            let (path, content) = row.map_err(|e| self.err(e))?;
            out.insert(path, content);
        }
        Ok(out)
    }

    /// Content of one blob.
    pub fn blob(&self, digest: &str) -> Result<Option<String>, StoreError> {
        let bytes: Option<Vec<u8>> = self
            .conn
            .query_row("SELECT content FROM blobs WHERE digest = ?1", params![digest], |r| r.get(0))
            .optional()
            .map_err(|e| self.err(e))?;
        Ok(bytes.map(|b| String::from_utf8_lossy(&b).into_owned()))
    }

    /// Number of runs per kind and status.
    pub fn counts(&self) -> Result<RunCounts, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT kind, status, COUNT(*) FROM runs GROUP BY kind, status")
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, i64>(2)?))
            })
            .map_err(|e| self.err(e))?;
        let mut out = RunCounts::new();
        for row in rows {
            let (kind, status, n) = row.map_err(|e| self.err(e))?;
            if let (Some(kind), Some(status)) = (RunKind::parse(&kind), RunStatus::parse(&status)) {
                out.insert((kind, status), u64::try_from(n).unwrap_or(0));
            }
        }
        Ok(out)
    }

    /// Total number of runs.
    pub fn run_count(&self) -> Result<u64, StoreError> {
        let n: i64 = self
            .conn
            .query_row("SELECT COUNT(*) FROM runs", [], |r| r.get(0))
            .map_err(|e| self.err(e))?;
        Ok(u64::try_from(n).unwrap_or(0))
    }
}

fn put_blob(tx: &rusqlite::Transaction<'_>, bytes: &[u8]) -> rusqlite::Result<String> {
    let digest = sha256_hex(bytes);
    tx.execute(
        "INSERT OR IGNORE INTO blobs (digest, size, content) VALUES (?1, ?2, ?3)",
        params![digest, bytes.len() as i64, bytes],
    )?;
    Ok(digest)
}

fn row_to_record(r: &rusqlite::Row<'_>) -> rusqlite::Result<RunRecord> {
    let kind: String = r.get(1)?;
    let status: String = r.get(5)?;
    let summary: String = r.get(6)?;
    Ok(RunRecord {
        id: r.get(0)?,
        kind: RunKind::parse(&kind).unwrap_or(RunKind::Check),
        started_at_ms: r.get(2)?,
        duration_ms: r.get(3)?,
        spec_digest: r.get(4)?,
        status: RunStatus::parse(&status).unwrap_or(RunStatus::Failed),
        summary: serde_json::from_str(&summary).unwrap_or(serde_json::Value::Null),
        has_result: r.get(7)?,
        trigger: r.get(8)?,
    })
}

/// Maps an SQLite failure to a [`StoreError`] by its primary code.
fn classify(path: &str, e: rusqlite::Error, opening: bool) -> StoreError {
    let path = path.to_owned();
    match &e {
        rusqlite::Error::SqliteFailure(err, msg) => {
            let detail = msg.clone().unwrap_or_else(|| err.to_string());
            match err.code {
                ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked => StoreError::Locked { path },
                ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt => {
                    StoreError::Corrupt { path, detail }
                }
                ErrorCode::CannotOpen | ErrorCode::PermissionDenied if opening => {
                    StoreError::Open { path, reason: detail }
                }
                _ => StoreError::Sql { path, detail },
            }
        }
        _ => StoreError::Sql { path, detail: e.to_string() },
    }
}

/// A path that names the in-memory database.
pub fn is_memory(path: &Path) -> bool {
    path == Path::new(":memory:")
}

/// Opens `path`, or an in-memory database for `:memory:`.
pub fn open_path(path: &Path) -> Result<Store, StoreError> {
    if is_memory(path) { Store::open_in_memory() } else { Store::open(path) }
}

/// The default database file beside the spec: `.hafen/history.db` under `dir`.
pub fn default_path(dir: &Path) -> PathBuf {
    dir.join(".hafen").join("history.db")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn temp_dir(tag: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("hafen-store-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        dir
    }

    fn sample_run<'a>(
        kind: RunKind,
        summary: &'a serde_json::Value,
        files: Option<&'a BTreeMap<String, String>>,
    ) -> NewRun<'a> {
        NewRun {
            kind,
            started_at_ms: 1_700_000_000_000,
            duration_ms: 12,
            spec_digest: "abc",
            status: RunStatus::Ok,
            summary,
            result: Some("{\"version\":1}"),
            files,
            trigger: "startup",
        }
    }

    #[test]
    fn creates_schema_and_survives_reopen() {
        let dir = temp_dir("reopen");
        let path = dir.join("h.db");
        let summary = json!({"errors": 0});
        {
            let mut store = Store::open(&path).expect("open");
            assert_eq!(store.schema_version().expect("version"), SCHEMA_VERSION);
            store.record(&sample_run(RunKind::Check, &summary, None)).expect("record");
        }
        let store = Store::open(&path).expect("reopen");
        let runs = store.runs(None, None, 10).expect("runs");
        assert_eq!(runs.len(), 1);
        assert_eq!(runs[0].kind, RunKind::Check);
        assert_eq!(runs[0].summary, summary);
        assert_eq!(store.result(runs[0].id).expect("result").as_deref(), Some("{\"version\":1}"));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn migrates_an_old_schema_step_by_step() {
        let dir = temp_dir("migrate");
        let path = dir.join("h.db");
        {
            let conn = Connection::open(&path).expect("open");
            conn.execute_batch(MIGRATIONS[0]).expect("v1");
            conn.pragma_update(None, "user_version", 1).expect("version");
            conn.execute(
                "INSERT INTO runs (kind, started_at_ms, duration_ms, spec_digest, status, summary)
                 VALUES ('plan', 1, 2, 'd', 'ok', '{}')",
                [],
            )
            .expect("old row");
        }
        let store = Store::open(&path).expect("migrate");
        assert_eq!(store.schema_version().expect("version"), SCHEMA_VERSION);
        let runs = store.runs(Some(RunKind::Plan), None, 10).expect("runs");
        assert_eq!(runs.len(), 1);
        assert_eq!(runs[0].trigger, "startup", "migration 2 fills the new column");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn renders_are_content_addressed_and_restorable() {
        let mut store = Store::open_in_memory().expect("open");
        let summary = json!({"files": 2});
        let mut a = BTreeMap::new();
        a.insert("README.md".to_string(), "# beach\n".to_string());
        a.insert("clusters/x.yaml".to_string(), "kind: A\n".to_string());
        let first = store.record(&sample_run(RunKind::Render, &summary, Some(&a))).expect("r1");
        let mut b = a.clone();
        b.insert("clusters/x.yaml".to_string(), "kind: B\n".to_string());
        let second = store.record(&sample_run(RunKind::Render, &summary, Some(&b))).expect("r2");
        assert_eq!(store.render_repo(first).expect("repo"), a);
        assert_eq!(store.render_repo(second).expect("repo"), b);
        let blobs: i64 =
            store.conn.query_row("SELECT COUNT(*) FROM blobs", [], |r| r.get(0)).expect("count");
        // README shared, two versions of x.yaml, one result document shared by both runs.
        assert_eq!(blobs, 4);
        let files = store.render_files(second).expect("files");
        assert_eq!(files.len(), 2);
        assert_eq!(files[1].path, "clusters/x.yaml");
        assert_eq!(files[1].digest, sha256_hex(b"kind: B\n"));
        assert_eq!(store.blob(&files[1].digest).expect("blob").as_deref(), Some("kind: B\n"));
    }

    #[test]
    fn pages_newest_first_and_counts() {
        let mut store = Store::open_in_memory().expect("open");
        let summary = json!({});
        for kind in [RunKind::Check, RunKind::Plan, RunKind::Check, RunKind::Render] {
            store.record(&sample_run(kind, &summary, None)).expect("record");
        }
        let all = store.runs(None, None, 2).expect("runs");
        assert_eq!(all.iter().map(|r| r.id).collect::<Vec<_>>(), vec![4, 3]);
        let older = store.runs(None, Some(3), 10).expect("runs");
        assert_eq!(older.iter().map(|r| r.id).collect::<Vec<_>>(), vec![2, 1]);
        let checks = store.runs(Some(RunKind::Check), None, 10).expect("runs");
        assert_eq!(checks.len(), 2);
        let counts = store.counts().expect("counts");
        assert_eq!(counts.get(&(RunKind::Check, RunStatus::Ok)), Some(&2));
        assert_eq!(store.run_count().expect("n"), 4);
        assert!(store.run(99).expect("run").is_none());
    }

    #[test]
    fn a_corrupt_file_is_a_clear_error() {
        let dir = temp_dir("corrupt");
        let path = dir.join("h.db");
        std::fs::write(&path, b"this is not an sqlite database, just some bytes ".repeat(200))
            .expect("write");
        let err = Store::open(&path).expect_err("must fail");
        assert!(matches!(err, StoreError::Corrupt { .. }), "{err:?}");
        let text = err.to_string();
        assert!(text.contains("damaged or not a Hafen database"), "{text}");
        assert!(text.contains("h.db"), "{text}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn damaged_pages_are_a_clear_error() {
        let dir = temp_dir("damaged");
        let path = dir.join("h.db");
        {
            let mut store = Store::open(&path).expect("open");
            let summary = json!({});
            let mut files = BTreeMap::new();
            for i in 0..200 {
                files.insert(format!("f{i}.yaml"), format!("n: {i}\n").repeat(50));
            }
            store.record(&sample_run(RunKind::Render, &summary, Some(&files))).expect("record");
        }
        // Keep the header, scribble over the pages after it.
        let mut bytes = std::fs::read(&path).expect("read");
        for b in bytes.iter_mut().skip(4096) {
            *b = 0xA5;
        }
        std::fs::write(&path, &bytes).expect("write");
        let err = Store::open(&path).expect_err("must fail");
        assert!(matches!(err, StoreError::Corrupt { .. }), "{err:?}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_locked_database_is_a_clear_error() {
        let dir = temp_dir("locked");
        let path = dir.join("h.db");
        drop(Store::open(&path).expect("create"));
        let holder = Connection::open(&path).expect("holder");
        holder.execute_batch("BEGIN EXCLUSIVE").expect("lock");
        let started = std::time::Instant::now();
        let err = Store::open(&path).expect_err("must fail");
        assert!(matches!(err, StoreError::Locked { .. }), "{err:?}");
        assert!(err.to_string().contains("locked by another process"));
        assert!(started.elapsed() < Duration::from_secs(10), "gives up after the busy timeout");
        holder.execute_batch("COMMIT").expect("unlock");
        Store::open(&path).expect("usable once the lock is gone");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_lock_taken_after_open_fails_writes_clearly() {
        let dir = temp_dir("locked-later");
        let path = dir.join("h.db");
        let mut store = Store::open(&path).expect("open");
        let holder = Connection::open(&path).expect("holder");
        holder.execute_batch("BEGIN EXCLUSIVE").expect("lock");
        let summary = json!({});
        let err = store.record(&sample_run(RunKind::Check, &summary, None)).expect_err("locked");
        assert!(matches!(err, StoreError::Locked { .. }), "{err:?}");
        holder.execute_batch("ROLLBACK").expect("unlock");
        store.record(&sample_run(RunKind::Check, &summary, None)).expect("works again");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_newer_schema_is_refused() {
        let dir = temp_dir("newer");
        let path = dir.join("h.db");
        {
            let conn = Connection::open(&path).expect("open");
            conn.pragma_update(None, "user_version", SCHEMA_VERSION + 5).expect("version");
        }
        let err = Store::open(&path).expect_err("must fail");
        assert_eq!(
            err,
            StoreError::NewerSchema {
                path: path.display().to_string(),
                found: SCHEMA_VERSION + 5,
                known: SCHEMA_VERSION
            }
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_missing_folder_is_a_clear_error() {
        let err = Store::open(Path::new("/nonexistent-hafen-dir/sub/h.db")).expect_err("fail");
        assert!(err.to_string().contains("does not exist"), "{err}");
    }
}

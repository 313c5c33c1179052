//! Backups. SQLite copies itself online with `VACUUM INTO`: one read transaction, so the copy
//! is the database as of one instant while writers go on (WAL mode), and it is compacted.
//! PostgreSQL has `pg_dump` for that, which knows far more than this could (README.md).

use std::path::Path;

use super::{Pool, Store};

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("the database is PostgreSQL: back it up with pg_dump (see README.md, \"Backups\")")]
    NotSqlite,
    #[error("{0} exists: a backup never overwrites a file; choose a new path")]
    Exists(String),
    #[error("cannot create {0}: {1}")]
    File(String, std::io::Error),
    #[error("the backup failed: {0}")]
    Database(#[from] sqlx::Error),
}

impl Store {
    /// Writes a consistent copy of the SQLite database to `path`, a file that must not exist.
    pub async fn backup_to(&self, path: &Path) -> Result<(), BackupError> {
        let Pool::Sqlite(pool) = &self.pool else {
            return Err(BackupError::NotSqlite);
        };
        // Made empty first (VACUUM INTO fills an empty file): only its owner may read it, as
        // the database itself holds password hashes and tokens; and it cannot exist already.
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        options.open(path).map_err(|e| match e.kind() {
            std::io::ErrorKind::AlreadyExists => BackupError::Exists(path.display().to_string()),
            _ => BackupError::File(path.display().to_string(), e),
        })?;
        self.count_query();
        sqlx::query("VACUUM INTO $1").bind(path.to_string_lossy().into_owned()).execute(pool).await?;
        Ok(())
    }
}

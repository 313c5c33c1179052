//! SQLite → PostgreSQL (`eventide migrate-db --to postgres://…`): every table the PostgreSQL
//! schema has is copied from one read transaction of the SQLite database (one consistent
//! snapshot, while the server may still be writing), into one PostgreSQL transaction (a
//! failure leaves the target as empty as it was), then counted and checksummed on both sides.
//!
//! Values are compared in one canonical text form per PostgreSQL column type (an instant in
//! UTC RFC 3339, a boolean as 0 or 1, …): the same form is what is written (cast on insert)
//! and what the checksum of each side is made of, so the check is independent of how each
//! engine stores a type.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, NaiveDate, NaiveDateTime, Timelike, Utc};
use sha2::{Digest, Sha256};
use sqlx::{Row, TypeInfo, ValueRef};

use super::{Pool, Store};

/// Rows per INSERT: far below PostgreSQL's 65,535 parameters for the widest table.
const CHUNK: usize = 500;

#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    #[error("the source must be the SQLite database DATABASE_URL names; this one is PostgreSQL")]
    SourceNotSqlite,
    #[error("the target must be a postgres:// URL")]
    TargetNotPostgres,
    #[error("the target database is not empty ({0} has rows): migrate into a new, empty database")]
    TargetNotEmpty(String),
    #[error("{table}: {column} holds {value:?}, which is not a {kind}")]
    Unreadable { table: String, column: String, value: String, kind: String },
    #[error("verification failed: {0}")]
    Mismatch(String),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("the target's schema: {0}")]
    Schema(#[from] sqlx::migrate::MigrateError),
}

/// A copied table: its rows, and the checksum both sides agree on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Copied {
    pub table: String,
    pub rows: usize,
    pub checksum: String,
}

/// One column of the target: its name and PostgreSQL type.
struct Column {
    name: String,
    kind: String,
}

/// A table of the target, in an order where every table comes after those it refers to.
struct Table {
    name: String,
    columns: Vec<Column>,
    /// Columns that refer to the table itself (an edited occurrence to its series): rows
    /// without such a reference go first.
    self_refs: Vec<String>,
}

type Rows = Vec<Vec<Option<String>>>;

impl Store {
    /// Copies this (SQLite) store into the empty PostgreSQL database at `target`.
    pub async fn migrate_to_postgres(&self, target: &str) -> Result<Vec<Copied>, MigrateError> {
        let Pool::Sqlite(source) = &self.pool else {
            return Err(MigrateError::SourceNotSqlite);
        };
        if !target.starts_with("postgres://") && !target.starts_with("postgresql://") {
            return Err(MigrateError::TargetNotPostgres);
        }
        let pg = sqlx::postgres::PgPoolOptions::new().max_connections(2).connect(target).await?;
        let copied = copy(source, &pg).await;
        pg.close().await;
        copied
    }
}

async fn copy(source: &sqlx::SqlitePool, pg: &sqlx::PgPool) -> Result<Vec<Copied>, MigrateError> {
    sqlx::migrate!("migrations/postgres").run(pg).await?;
    let tables = target_tables(pg).await?;
    for table in &tables {
        let any: bool = sqlx::query_scalar(&format!("SELECT EXISTS (SELECT 1 FROM {})", table.name))
            .fetch_one(pg)
            .await?;
        if any {
            return Err(MigrateError::TargetNotEmpty(table.name.clone()));
        }
    }
    // One read transaction: every table as of the same instant.
    let mut snapshot = source.begin().await?;
    let mut read = Vec::new();
    for table in &tables {
        read.push(read_sqlite(&mut snapshot, table).await?);
    }
    snapshot.commit().await?;

    let mut tx = pg.begin().await?;
    sqlx::query("SET LOCAL TIME ZONE 'UTC'").execute(&mut *tx).await?;
    for (table, rows) in tables.iter().zip(&read) {
        insert(&mut tx, table, rows).await?;
        if table.columns.iter().any(|c| c.name == "id") {
            let sql = format!(
                "SELECT setval(pg_get_serial_sequence('{0}', 'id'), COALESCE(MAX(id), 1), MAX(id) IS NOT NULL) FROM {0}",
                table.name
            );
            // Tables keyed otherwise (or by a plain BIGINT) have no sequence: nothing to move.
            if table_has_sequence(&mut tx, &table.name).await? {
                sqlx::query(&sql).execute(&mut *tx).await?;
            }
        }
    }
    let mut copied = Vec::new();
    for (table, rows) in tables.iter().zip(&read) {
        let written = read_postgres(&mut tx, table).await?;
        let (expected, got) = (checksum(rows), checksum(&written));
        if rows.len() != written.len() || expected != got {
            return Err(MigrateError::Mismatch(format!(
                "{}: {} rows read, {} written, checksums {expected} and {got}",
                table.name,
                rows.len(),
                written.len()
            )));
        }
        copied.push(Copied { table: table.name.clone(), rows: rows.len(), checksum: expected });
    }
    tx.commit().await?;
    Ok(copied)
}

/// The target's tables (but the migrations' own), referenced ones first, with the columns
/// one can write (not the generated search vectors).
async fn target_tables(pg: &sqlx::PgPool) -> Result<Vec<Table>, MigrateError> {
    let columns: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT table_name::text, column_name::text, data_type::text FROM information_schema.columns \
         WHERE table_schema = current_schema() AND table_name <> '_sqlx_migrations' AND is_generated = 'NEVER' \
         ORDER BY table_name, ordinal_position",
    )
    .fetch_all(pg)
    .await?;
    let references: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT c.conrelid::regclass::text, c.confrelid::regclass::text, a.attname::text FROM pg_constraint c \
         JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey) \
         WHERE c.contype = 'f' AND c.connamespace = current_schema()::regnamespace",
    )
    .fetch_all(pg)
    .await?;
    let mut by_table: BTreeMap<String, Vec<Column>> = BTreeMap::new();
    for (table, name, kind) in columns {
        by_table.entry(table).or_default().push(Column { name, kind });
    }
    let mut order: Vec<String> = Vec::new();
    let mut placed: BTreeSet<String> = BTreeSet::new();
    while placed.len() < by_table.len() {
        let ready: Vec<String> = by_table
            .keys()
            .filter(|t| !placed.contains(*t))
            .filter(|t| references.iter().all(|(from, to, _)| from != *t || to == *t || placed.contains(to)))
            .cloned()
            .collect();
        if ready.is_empty() {
            return Err(MigrateError::Mismatch("the target's foreign keys form a cycle".into()));
        }
        placed.extend(ready.iter().cloned());
        order.extend(ready);
    }
    let ordered = order
        .into_iter()
        .map(|name| Table {
            self_refs: references
                .iter()
                .filter(|(from, to, _)| *from == name && *to == name)
                .map(|r| r.2.clone())
                .collect(),
            columns: by_table.remove(&name).unwrap_or_default(),
            name,
        })
        .collect();
    Ok(ordered)
}

async fn table_has_sequence(tx: &mut sqlx::PgConnection, table: &str) -> Result<bool, sqlx::Error> {
    let sequence: Option<String> =
        sqlx::query_scalar("SELECT pg_get_serial_sequence($1, 'id')").bind(table).fetch_one(&mut *tx).await?;
    Ok(sequence.is_some())
}

/// A table's rows from SQLite, each value in the canonical form of its target column.
async fn read_sqlite(source: &mut sqlx::SqliteConnection, table: &Table) -> Result<Rows, MigrateError> {
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = $1)")
            .bind(&table.name)
            .fetch_one(&mut *source)
            .await?;
    if !exists {
        return Ok(Vec::new());
    }
    let names: Vec<String> = sqlx::query_scalar("SELECT name FROM pragma_table_info($1)")
        .bind(&table.name)
        .fetch_all(&mut *source)
        .await?;
    let select: Vec<String> = table
        .columns
        .iter()
        .map(|c| if names.contains(&c.name) { format!("\"{}\"", c.name) } else { "NULL".into() })
        .collect();
    let sql = format!("SELECT {} FROM \"{}\"", select.join(", "), table.name);
    let rows = sqlx::query(&sql).fetch_all(&mut *source).await?;
    let mut read = Vec::with_capacity(rows.len());
    for row in rows {
        let mut values = Vec::with_capacity(table.columns.len());
        for (i, column) in table.columns.iter().enumerate() {
            let raw = row.try_get_raw(i)?;
            let stored = match raw.is_null() {
                true => None,
                false => Some(match raw.type_info().name() {
                    "INTEGER" => row.try_get::<i64, _>(i)?.to_string(),
                    "REAL" => row.try_get::<f64, _>(i)?.to_string(),
                    "BLOB" => hex::encode(row.try_get::<Vec<u8>, _>(i)?),
                    _ => row.try_get::<String, _>(i)?,
                }),
            };
            let canonical = match stored {
                None => None,
                Some(value) => {
                    Some(canonical(&column.kind, &value).ok_or_else(|| MigrateError::Unreadable {
                        table: table.name.clone(),
                        column: column.name.clone(),
                        value: value.chars().take(60).collect(),
                        kind: column.kind.clone(),
                    })?)
                }
            };
            values.push(canonical);
        }
        read.push(values);
    }
    // Rows that refer to others of the table after those (a series before its edits).
    let refs: Vec<usize> = table
        .columns
        .iter()
        .enumerate()
        .filter(|(_, c)| table.self_refs.contains(&c.name))
        .map(|(i, _)| i)
        .collect();
    read.sort_by_key(|row| refs.iter().filter(|i| row[**i].is_some()).count());
    Ok(read)
}

/// A value as the target column's type reads it, in one form whichever engine held it.
fn canonical(kind: &str, value: &str) -> Option<String> {
    match kind {
        // To the microsecond, PostgreSQL's precision: what is written is then read back exactly.
        "timestamp with time zone" => instant(value)
            .and_then(|t| t.with_nanosecond(t.nanosecond() / 1000 * 1000))
            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)),
        "boolean" => match value.trim().to_ascii_lowercase().as_str() {
            "1" | "true" | "t" => Some("1".into()),
            "0" | "false" | "f" => Some("0".into()),
            _ => None,
        },
        "bigint" | "integer" | "smallint" => value.trim().parse::<i64>().ok().map(|n| n.to_string()),
        "date" => NaiveDate::parse_from_str(value.trim(), "%Y-%m-%d").ok().map(|d| d.to_string()),
        _ => Some(value.to_string()),
    }
}

/// An instant as SQLite holds one: sqlx's RFC 3339 (with `T` or a space), or a plain UTC
/// date and time.
fn instant(value: &str) -> Option<DateTime<Utc>> {
    let value = value.trim();
    DateTime::parse_from_rfc3339(value)
        .or_else(|_| DateTime::parse_from_str(value, "%Y-%m-%d %H:%M:%S%.f%:z"))
        .map(|t| t.with_timezone(&Utc))
        .ok()
        .or_else(|| NaiveDateTime::parse_from_str(value, "%Y-%m-%d %H:%M:%S%.f").ok().map(|t| t.and_utc()))
}

async fn insert(tx: &mut sqlx::PgConnection, table: &Table, rows: &Rows) -> Result<(), sqlx::Error> {
    let names: Vec<String> = table.columns.iter().map(|c| format!("\"{}\"", c.name)).collect();
    for chunk in rows.chunks(CHUNK) {
        let mut sql = format!("INSERT INTO {} ({}) VALUES ", table.name, names.join(", "));
        let mut n = 0;
        for (r, _) in chunk.iter().enumerate() {
            sql.push_str(if r == 0 { "(" } else { ", (" });
            for (c, column) in table.columns.iter().enumerate() {
                n += 1;
                if c > 0 {
                    sql.push_str(", ");
                }
                sql.push_str(&format!("CAST(${n} AS {})", column.kind));
            }
            sql.push(')');
        }
        let mut query = sqlx::query(&sql);
        for row in chunk {
            for value in row {
                query = query.bind(value.clone());
            }
        }
        query.execute(&mut *tx).await?;
    }
    Ok(())
}

/// What PostgreSQL now holds of a table, in the same canonical form.
async fn read_postgres(tx: &mut sqlx::PgConnection, table: &Table) -> Result<Rows, MigrateError> {
    let select: Vec<String> = table
        .columns
        .iter()
        .map(|c| match c.kind.as_str() {
            "timestamp with time zone" => {
                format!("to_char(\"{}\" AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US')", c.name)
            }
            "boolean" => format!("CASE WHEN \"{0}\" THEN '1' WHEN NOT \"{0}\" THEN '0' END", c.name),
            _ => format!("CAST(\"{}\" AS TEXT)", c.name),
        })
        .collect();
    let sql = format!("SELECT {} FROM {}", select.join(", "), table.name);
    let rows = sqlx::query(&sql).fetch_all(&mut *tx).await?;
    let mut read = Vec::with_capacity(rows.len());
    for row in rows {
        let mut values = Vec::with_capacity(table.columns.len());
        for (i, column) in table.columns.iter().enumerate() {
            let text: Option<String> = row.try_get(i)?;
            values.push(match (text, column.kind.as_str()) {
                (Some(t), "timestamp with time zone") => {
                    NaiveDateTime::parse_from_str(&t, "%Y-%m-%dT%H:%M:%S%.f")
                        .ok()
                        .map(|t| t.and_utc().to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
                }
                (text, _) => text,
            });
        }
        read.push(values);
    }
    Ok(read)
}

/// A table's checksum: SHA-256 over its rows in sorted order (order of storage is no part
/// of the data).
fn checksum(rows: &Rows) -> String {
    let mut sorted: Vec<&Vec<Option<String>>> = rows.iter().collect();
    sorted.sort();
    let mut hash = Sha256::new();
    for row in sorted {
        for value in row {
            match value {
                Some(v) => {
                    hash.update(b"v");
                    hash.update((v.len() as u64).to_le_bytes());
                    hash.update(v.as_bytes());
                }
                None => hash.update(b"n"),
            }
        }
        hash.update(b"\n");
    }
    hex::encode(&hash.finalize()[..16])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_engine_s_way_of_writing_a_value_reads_the_same() {
        let instant = "timestamp with time zone";
        let want = Some("2027-03-29T08:00:00Z".to_string());
        for written in [
            "2027-03-29T08:00:00+00:00",
            "2027-03-29 08:00:00+00:00",
            "2027-03-29 10:00:00+02:00",
            "2027-03-29 08:00:00",
        ] {
            assert_eq!(canonical(instant, written), want, "{written}");
        }
        assert_eq!(
            canonical(instant, "2027-03-29T08:00:00.123456Z").as_deref(),
            Some("2027-03-29T08:00:00.123456Z")
        );
        assert_eq!(
            canonical(instant, "2027-03-29T08:00:00.123456789+00:00").as_deref(),
            Some("2027-03-29T08:00:00.123456Z"),
            "to PostgreSQL's microsecond"
        );
        assert_eq!(canonical("boolean", "1").as_deref(), Some("1"));
        assert_eq!(canonical("boolean", "maybe"), None);
        assert_eq!(canonical("bigint", "42").as_deref(), Some("42"));
        assert_eq!(canonical("date", "2027-03-29").as_deref(), Some("2027-03-29"));
        assert_eq!(canonical(instant, "yesterday"), None);
    }
}

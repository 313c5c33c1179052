//! App passwords: a user's per-device secrets for CalDAV clients, stored as SHA-256 hashes.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{with_pool, DbResult, Store};
use crate::domain::{AppPasswordId, UserId};

/// An app password as its owner sees it listed: never the secret, which is shown only once.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct AppPassword {
    pub id: AppPasswordId,
    pub label: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
}

impl Store {
    pub async fn insert_app_password(
        &self,
        owner: UserId,
        label: &str,
        secret_hash: &str,
    ) -> DbResult<AppPasswordId> {
        let sql = "INSERT INTO app_passwords (user_id, label, secret_hash, created_at) \
                   VALUES ($1, $2, $3, $4) RETURNING id";
        let ids = with_pool!(self, pool => sqlx::query_scalar::<_, AppPasswordId>(sql)
            .bind(owner)
            .bind(label)
            .bind(secret_hash)
            .bind(Utc::now())
            .fetch_all(pool)
            .await)?;
        ids.first().copied().ok_or(sqlx::Error::RowNotFound)
    }

    /// The user's app passwords, newest first.
    pub async fn app_passwords_of(&self, owner: UserId) -> DbResult<Vec<AppPassword>> {
        let sql = "SELECT id, label, created_at, last_used_at FROM app_passwords \
                   WHERE user_id = $1 ORDER BY created_at DESC, id DESC";
        with_pool!(self, pool => sqlx::query_as::<_, AppPassword>(sql).bind(owner).fetch_all(pool).await)
    }

    /// Revokes one of `owner`'s app passwords; false when there is no such password of theirs.
    pub async fn revoke_app_password(&self, owner: UserId, id: AppPasswordId) -> DbResult<bool> {
        let sql = "DELETE FROM app_passwords WHERE id = $1 AND user_id = $2";
        let done = with_pool!(self, pool => sqlx::query(sql)
            .bind(id)
            .bind(owner)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(done > 0)
    }

    /// Who an app password (by its hash) lets in: an active user, and which password it is.
    pub async fn app_password_owner(&self, secret_hash: &str) -> DbResult<Option<AppPasswordOwner>> {
        let sql = "SELECT a.user_id, a.id AS password_id, u.username, u.time_zone, a.last_used_at \
                   FROM app_passwords a JOIN users u ON u.id = a.user_id \
                   WHERE a.secret_hash = $1 AND u.is_active";
        with_pool!(self, pool => sqlx::query_as::<_, AppPasswordOwner>(sql)
            .bind(secret_hash)
            .fetch_optional(pool)
            .await)
    }

    /// Records a use of the password (callers do so at most once per interval, not per request).
    pub async fn touch_app_password(&self, id: AppPasswordId, at: DateTime<Utc>) -> DbResult<()> {
        let sql = "UPDATE app_passwords SET last_used_at = $2 WHERE id = $1";
        with_pool!(self, pool => sqlx::query(sql).bind(id).bind(at).execute(pool).await.map(|_| ()))
    }
}

/// The account an app password opens.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AppPasswordOwner {
    pub user_id: UserId,
    pub password_id: AppPasswordId,
    pub username: String,
    pub time_zone: String,
    pub last_used_at: Option<DateTime<Utc>>,
}

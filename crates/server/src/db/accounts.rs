//! Users, their devices (token hashes) and pairing codes.

use serde::Serialize;
use sqlx::Row;

use super::{Conn, StoreError, on_conn};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    pub id: i64,
    pub name: String,
    pub created_at: i64,
}

/// A user with counts, for `user list`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UserSummary {
    pub id: i64,
    pub name: String,
    pub created_at: i64,
    pub active_devices: i64,
    pub dreams: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Device {
    pub id: i64,
    pub user_id: i64,
    pub name: String,
    pub device_key: String,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
}

/// Who a valid token belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub user_id: i64,
    pub device_id: i64,
    /// The sync device id of REST changes made with this token.
    pub device_key: String,
}

fn is_unique_violation(error: &sqlx::Error) -> bool {
    error
        .as_database_error()
        .is_some_and(|error| error.is_unique_violation())
}

pub async fn create_user(c: &mut Conn<'_>, name: &str, now: i64) -> Result<User, StoreError> {
    let result = on_conn!(c, c => sqlx::query_scalar::<_, i64>(
        "INSERT INTO users (name, created_at) VALUES ($1, $2) RETURNING id"
    )
    .bind(name)
    .bind(now)
    .fetch_one(&mut **c)
    .await);
    match result {
        Ok(id) => Ok(User {
            id,
            name: name.to_string(),
            created_at: now,
        }),
        Err(error) if is_unique_violation(&error) => Err(StoreError::UserExists(name.to_string())),
        Err(error) => Err(error.into()),
    }
}

pub async fn find_user(c: &mut Conn<'_>, name: &str) -> Result<Option<User>, StoreError> {
    let row = on_conn!(c, c => sqlx::query(
        "SELECT id, name, created_at FROM users WHERE name = $1"
    )
    .bind(name)
    .fetch_optional(&mut **c)
    .await?
    .map(|row| Ok::<_, sqlx::Error>(User {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        created_at: row.try_get("created_at")?,
    }))
    .transpose()?);
    Ok(row)
}

pub async fn user_ids(c: &mut Conn<'_>) -> Result<Vec<i64>, StoreError> {
    Ok(
        on_conn!(c, c => sqlx::query_scalar("SELECT id FROM users ORDER BY id")
        .fetch_all(&mut **c)
        .await?),
    )
}

pub async fn list_users(c: &mut Conn<'_>) -> Result<Vec<UserSummary>, StoreError> {
    let users = on_conn!(c, c => sqlx::query(
        "SELECT u.id, u.name, u.created_at,
                (SELECT COUNT(*) FROM devices d WHERE d.user_id = u.id AND d.revoked_at IS NULL)
                    AS active_devices,
                (SELECT COUNT(*) FROM dreams r WHERE r.user_id = u.id AND r.deleted = 0) AS dreams
         FROM users u ORDER BY u.name"
    )
    .fetch_all(&mut **c)
    .await?
    .into_iter()
    .map(|row| Ok::<_, sqlx::Error>(UserSummary {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        created_at: row.try_get("created_at")?,
        active_devices: row.try_get("active_devices")?,
        dreams: row.try_get("dreams")?,
    }))
    .collect::<Result<Vec<_>, _>>()?);
    Ok(users)
}

pub async fn create_device(
    c: &mut Conn<'_>,
    user_id: i64,
    name: &str,
    device_key: &str,
    token_hash: &str,
    now: i64,
) -> Result<Device, StoreError> {
    let id: i64 = on_conn!(c, c => sqlx::query_scalar(
        "INSERT INTO devices (user_id, name, device_key, token_hash, created_at)
         VALUES ($1, $2, $3, $4, $5) RETURNING id"
    )
    .bind(user_id)
    .bind(name)
    .bind(device_key)
    .bind(token_hash)
    .bind(now)
    .fetch_one(&mut **c)
    .await?);
    Ok(Device {
        id,
        user_id,
        name: name.to_string(),
        device_key: device_key.to_string(),
        created_at: now,
        revoked_at: None,
    })
}

/// The identity behind a token hash, unless the token was revoked.
pub async fn identity_by_token_hash(
    c: &mut Conn<'_>,
    token_hash: &str,
) -> Result<Option<Identity>, StoreError> {
    let identity = on_conn!(c, c => sqlx::query(
        "SELECT id, user_id, device_key FROM devices
         WHERE token_hash = $1 AND revoked_at IS NULL"
    )
    .bind(token_hash)
    .fetch_optional(&mut **c)
    .await?
    .map(|row| Ok::<_, sqlx::Error>(Identity {
        device_id: row.try_get("id")?,
        user_id: row.try_get("user_id")?,
        device_key: row.try_get("device_key")?,
    }))
    .transpose()?);
    Ok(identity)
}

/// Whether a device still may connect (checked again during long WebSocket sessions).
pub async fn device_is_active(c: &mut Conn<'_>, device_id: i64) -> Result<bool, StoreError> {
    let found: Option<i64> = on_conn!(c, c => sqlx::query_scalar(
        "SELECT id FROM devices WHERE id = $1 AND revoked_at IS NULL"
    )
    .bind(device_id)
    .fetch_optional(&mut **c)
    .await?);
    Ok(found.is_some())
}

pub async fn list_devices(c: &mut Conn<'_>, user_id: i64) -> Result<Vec<Device>, StoreError> {
    let devices = on_conn!(c, c => sqlx::query(
        "SELECT id, user_id, name, device_key, created_at, revoked_at FROM devices
         WHERE user_id = $1 ORDER BY id"
    )
    .bind(user_id)
    .fetch_all(&mut **c)
    .await?
    .into_iter()
    .map(|row| Ok::<_, sqlx::Error>(Device {
        id: row.try_get("id")?,
        user_id: row.try_get("user_id")?,
        name: row.try_get("name")?,
        device_key: row.try_get("device_key")?,
        created_at: row.try_get("created_at")?,
        revoked_at: row.try_get("revoked_at")?,
    }))
    .collect::<Result<Vec<_>, _>>()?);
    Ok(devices)
}

/// Revokes one device; false when there is no such active device.
pub async fn revoke_device(c: &mut Conn<'_>, device_id: i64, now: i64) -> Result<bool, StoreError> {
    let changed = on_conn!(c, c => sqlx::query(
        "UPDATE devices SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL"
    )
    .bind(device_id)
    .bind(now)
    .execute(&mut **c)
    .await?
    .rows_affected());
    Ok(changed > 0)
}

/// Revokes the device holding this token hash; its id, if there was one.
pub async fn revoke_token_hash(
    c: &mut Conn<'_>,
    token_hash: &str,
    now: i64,
) -> Result<Option<i64>, StoreError> {
    let id: Option<i64> = on_conn!(c, c => sqlx::query_scalar(
        "UPDATE devices SET revoked_at = $2 WHERE token_hash = $1 AND revoked_at IS NULL
         RETURNING id"
    )
    .bind(token_hash)
    .bind(now)
    .fetch_optional(&mut **c)
    .await?);
    Ok(id)
}

pub async fn revoke_all_devices(
    c: &mut Conn<'_>,
    user_id: i64,
    now: i64,
) -> Result<u64, StoreError> {
    Ok(on_conn!(c, c => sqlx::query(
        "UPDATE devices SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL"
    )
    .bind(user_id)
    .bind(now)
    .execute(&mut **c)
    .await?
    .rows_affected()))
}

pub async fn create_pairing_code(
    c: &mut Conn<'_>,
    user_id: i64,
    code_hash: &str,
    now: i64,
    expires_at: i64,
) -> Result<(), StoreError> {
    // Expired codes are of no use to anyone: drop them while here.
    on_conn!(c, c => sqlx::query("DELETE FROM pairing_codes WHERE expires_at <= $1")
        .bind(now)
        .execute(&mut **c)
        .await?
        .rows_affected());
    on_conn!(c, c => sqlx::query(
        "INSERT INTO pairing_codes (code_hash, user_id, created_at, expires_at)
         VALUES ($1, $2, $3, $4)"
    )
    .bind(code_hash)
    .bind(user_id)
    .bind(now)
    .bind(expires_at)
    .execute(&mut **c)
    .await?
    .rows_affected());
    Ok(())
}

/// Marks a valid, unused, unexpired code used; the user it pairs with. One statement, so a
/// code cannot be redeemed twice even by two requests at once.
pub async fn redeem_pairing_code(
    c: &mut Conn<'_>,
    code_hash: &str,
    now: i64,
) -> Result<Option<i64>, StoreError> {
    Ok(on_conn!(c, c => sqlx::query_scalar(
        "UPDATE pairing_codes SET used_at = $2
         WHERE code_hash = $1 AND used_at IS NULL AND expires_at > $2
         RETURNING user_id"
    )
    .bind(code_hash)
    .bind(now)
    .fetch_optional(&mut **c)
    .await?))
}

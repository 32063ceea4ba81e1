//! Accounts and credentials: users, device tokens, pairing codes. Used by the CLI and by
//! `POST /api/v1/pair`.
//!
//! A device token is `dct_` + 64 hex digits (256 random bits); only its SHA-256 is stored,
//! which is enough for a secret that long (nothing to guess, nothing to look up). A
//! pairing code is 10 Crockford base-32 characters (50 bits), shown as `XXXXX-XXXXX`,
//! valid for a few minutes and once.

use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::db::accounts::{self, Device, User, UserSummary};
use crate::db::{Database, StoreError, now_millis};

pub const TOKEN_PREFIX: &str = "dct_";
const PAIRING_ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const PAIRING_CODE_LEN: usize = 10;
pub const MAX_NAME_BYTES: usize = 100;

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("no user named {0:?}")]
    NoSuchUser(String),
    #[error("{what} must be 1 to {MAX_NAME_BYTES} bytes of printable text")]
    InvalidName { what: &'static str },
    #[error("the operating system's random number generator failed: {0}")]
    Random(String),
}

/// Fills `bytes` from the operating system's generator.
pub fn random_bytes<const N: usize>() -> Result<[u8; N], AccountError> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|error| AccountError::Random(error.to_string()))?;
    Ok(bytes)
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// The stored form of a token or pairing code.
pub fn secret_hash(secret: &str) -> String {
    hex(&Sha256::digest(secret.as_bytes()))
}

/// Equal secrets, compared without an early exit that would tell how much matched.
pub fn secrets_match(given: &str, expected: &str) -> bool {
    let given = Sha256::digest(given.as_bytes());
    let expected = Sha256::digest(expected.as_bytes());
    given
        .iter()
        .zip(expected.iter())
        .fold(0u8, |difference, (a, b)| difference | (a ^ b))
        == 0
}

pub fn new_token() -> Result<String, AccountError> {
    Ok(format!("{TOKEN_PREFIX}{}", hex(&random_bytes::<32>()?)))
}

fn new_device_key() -> Result<String, AccountError> {
    Ok(format!("dev-{}", hex(&random_bytes::<16>()?)))
}

fn new_pairing_code() -> Result<String, AccountError> {
    let bytes = random_bytes::<PAIRING_CODE_LEN>()?;
    let mut code = String::with_capacity(PAIRING_CODE_LEN + 1);
    for (index, byte) in bytes.iter().enumerate() {
        if index == PAIRING_CODE_LEN / 2 {
            code.push('-');
        }
        // 256 is a multiple of 32: every character is equally likely.
        code.push(char::from(PAIRING_ALPHABET[usize::from(byte % 32)]));
    }
    Ok(code)
}

/// A pairing code as typed: case, spaces and dashes ignored, and the letters people read
/// for digits (O, I, L) taken as those digits, as Crockford's base 32 does.
pub fn normalise_pairing_code(code: &str) -> String {
    code.chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| match c.to_ascii_uppercase() {
            'O' => '0',
            'I' | 'L' => '1',
            other => other,
        })
        .collect()
}

fn check_name(what: &'static str, name: &str) -> Result<(), AccountError> {
    let trimmed = name.trim();
    if trimmed.is_empty() || trimmed.len() > MAX_NAME_BYTES || trimmed.chars().any(char::is_control)
    {
        return Err(AccountError::InvalidName { what });
    }
    Ok(())
}

/// A device token just issued; the token itself is shown once and never stored.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    pub device: Device,
    pub token: String,
}

pub async fn add_user(db: &Database, name: &str) -> Result<User, AccountError> {
    check_name("a user name", name)?;
    let mut tx = db.begin().await?;
    let user = accounts::create_user(&mut tx.conn(), name.trim(), now_millis()).await?;
    tx.commit().await?;
    Ok(user)
}

pub async fn list_users(db: &Database) -> Result<Vec<UserSummary>, AccountError> {
    let mut pooled = db.acquire().await?;
    Ok(accounts::list_users(&mut pooled.conn()).await?)
}

pub async fn find_user(db: &Database, name: &str) -> Result<User, AccountError> {
    let mut pooled = db.acquire().await?;
    accounts::find_user(&mut pooled.conn(), name.trim())
        .await?
        .ok_or_else(|| AccountError::NoSuchUser(name.to_string()))
}

async fn issue_token(
    conn: &mut crate::db::Conn<'_>,
    user_id: i64,
    device_name: &str,
) -> Result<IssuedToken, AccountError> {
    let token = new_token()?;
    let device = accounts::create_device(
        conn,
        user_id,
        device_name.trim(),
        &new_device_key()?,
        &secret_hash(&token),
        now_millis(),
    )
    .await?;
    Ok(IssuedToken { device, token })
}

pub async fn create_token(
    db: &Database,
    user_name: &str,
    device_name: &str,
) -> Result<IssuedToken, AccountError> {
    check_name("a device name", device_name)?;
    let user = find_user(db, user_name).await?;
    let mut tx = db.begin().await?;
    let issued = issue_token(&mut tx.conn(), user.id, device_name).await?;
    tx.commit().await?;
    Ok(issued)
}

pub async fn list_devices(db: &Database, user_name: &str) -> Result<Vec<Device>, AccountError> {
    let user = find_user(db, user_name).await?;
    let mut pooled = db.acquire().await?;
    Ok(accounts::list_devices(&mut pooled.conn(), user.id).await?)
}

pub async fn revoke_device(db: &Database, device_id: i64) -> Result<bool, AccountError> {
    let mut tx = db.begin().await?;
    let revoked = accounts::revoke_device(&mut tx.conn(), device_id, now_millis()).await?;
    tx.commit().await?;
    Ok(revoked)
}

pub async fn revoke_token(db: &Database, token: &str) -> Result<Option<i64>, AccountError> {
    let mut tx = db.begin().await?;
    let revoked =
        accounts::revoke_token_hash(&mut tx.conn(), &secret_hash(token.trim()), now_millis())
            .await?;
    tx.commit().await?;
    Ok(revoked)
}

pub async fn revoke_all(db: &Database, user_name: &str) -> Result<u64, AccountError> {
    let user = find_user(db, user_name).await?;
    let mut tx = db.begin().await?;
    let count = accounts::revoke_all_devices(&mut tx.conn(), user.id, now_millis()).await?;
    tx.commit().await?;
    Ok(count)
}

/// A new pairing code for the user, valid for `ttl`.
pub async fn create_pairing_code(
    db: &Database,
    user_name: &str,
    ttl: Duration,
) -> Result<String, AccountError> {
    let user = find_user(db, user_name).await?;
    let code = new_pairing_code()?;
    let now = now_millis();
    let ttl_millis = i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX);
    let mut tx = db.begin().await?;
    accounts::create_pairing_code(
        &mut tx.conn(),
        user.id,
        &secret_hash(&normalise_pairing_code(&code)),
        now,
        now.saturating_add(ttl_millis),
    )
    .await?;
    tx.commit().await?;
    Ok(code)
}

/// Exchanges a pairing code for a device token; `None` when the code is unknown, used or
/// expired (the caller does not learn which).
pub async fn redeem_pairing_code(
    db: &Database,
    code: &str,
    device_name: &str,
) -> Result<Option<IssuedToken>, AccountError> {
    check_name("device_name", device_name)?;
    let hash = secret_hash(&normalise_pairing_code(code));
    let mut tx = db.begin().await?;
    let Some(user_id) = accounts::redeem_pairing_code(&mut tx.conn(), &hash, now_millis()).await?
    else {
        return Ok(None);
    };
    let issued = issue_token(&mut tx.conn(), user_id, device_name).await?;
    tx.commit().await?;
    Ok(Some(issued))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairing_codes_normalise_as_typed() {
        assert_eq!(normalise_pairing_code(" ab1o2-il9zz "), "AB102119ZZ");
        let code = new_pairing_code().unwrap();
        assert_eq!(code.len(), PAIRING_CODE_LEN + 1);
        assert_eq!(normalise_pairing_code(&code).len(), PAIRING_CODE_LEN);
        assert_eq!(
            normalise_pairing_code(&code.to_lowercase()),
            normalise_pairing_code(&code)
        );
    }

    #[test]
    fn tokens_are_long_random_and_hashed() {
        let a = new_token().unwrap();
        let b = new_token().unwrap();
        assert_ne!(a, b);
        assert_eq!(a.len(), TOKEN_PREFIX.len() + 64);
        assert_eq!(secret_hash(&a).len(), 64);
        assert_ne!(secret_hash(&a), secret_hash(&b));
    }

    #[test]
    fn secrets_compare_exactly() {
        assert!(secrets_match("s3cret", "s3cret"));
        assert!(!secrets_match("s3cret", "s3cre"));
        assert!(!secrets_match("", "x"));
    }
}

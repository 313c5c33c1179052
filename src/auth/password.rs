//! Password hashing: argon2id at OWASP's minimum parameters (19 MiB, 2 iterations, 1 lane),
//! always on the blocking pool so a login never stalls an async worker.

use std::sync::OnceLock;

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::error::AppError;

pub const MEMORY_KIB: u32 = 19 * 1024;
pub const ITERATIONS: u32 = 2;
pub const PARALLELISM: u32 = 1;

fn hasher() -> Result<Argon2<'static>, AppError> {
    let params = Params::new(MEMORY_KIB, ITERATIONS, PARALLELISM, None)
        .map_err(|e| AppError::Internal(format!("argon2 parameters: {e}")))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

fn hash_blocking(password: &str) -> Result<String, AppError> {
    hasher()?
        .hash_password(password.as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|e| AppError::Internal(format!("argon2 hash: {e}")))
}

/// Hashes a new password into a PHC string.
pub async fn hash(password: String) -> Result<String, AppError> {
    tokio::task::spawn_blocking(move || hash_blocking(&password))
        .await
        .map_err(|e| AppError::Internal(format!("hashing task: {e}")))?
}

/// A hash of a random password, verified when the account does not exist, so an unknown
/// username costs the same time as a wrong password.
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        let random = hex::encode(rand::random::<[u8; 16]>());
        hash_blocking(&random).unwrap_or_default()
    })
}

/// True only when `stored` exists and matches. Unknown users (`None`) still pay for a full
/// verification.
pub async fn verify(password: String, stored: Option<String>) -> Result<bool, AppError> {
    tokio::task::spawn_blocking(move || {
        let known = stored.is_some();
        let phc = stored.unwrap_or_else(|| dummy_hash().to_string());
        let matches = match PasswordHash::new(&phc) {
            Ok(parsed) => hasher()?.verify_password(password.as_bytes(), &parsed).is_ok(),
            Err(e) => {
                log::error!("stored password hash is not a PHC string: {e}");
                false
            }
        };
        Ok(known && matches)
    })
    .await
    .map_err(|e| AppError::Internal(format!("verification task: {e}")))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[rocket::async_test]
    async fn hashes_are_argon2id_phc_and_verify() {
        let phc = hash("correct horse battery".into()).await.unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(verify("correct horse battery".into(), Some(phc.clone())).await.unwrap());
        assert!(!verify("wrong horse battery".into(), Some(phc)).await.unwrap());
        assert!(!verify("anything at all".into(), None).await.unwrap());
    }
}

//! App passwords for CalDAV clients: one per device, revocable, shown once. A password is
//! 24 characters from 31 (about 119 random bits), written as six groups of four (easy to type
//! on a phone); what is stored is the SHA-256 of it without dashes or case, so a client can be
//! given it typed either way, and one indexed lookup checks it.

use rocket::form::FromForm;
use rocket::http::Status;
use rocket::response::{Flash, Redirect};
use rocket::State;
use rocket_dyn_templates::Template;
use sha2::{Digest, Sha256};

use super::account::{account_page_context, AccountExtras};
use super::csrf::CsrfForm;
use super::guard::CurrentUser;
use super::routes::TokenOnly;
use crate::dav::DavPublicUrl;
use crate::domain::text::strip_controls;
use crate::domain::{AppPasswordId, UserId};
use crate::error::AppError;
use crate::store::Store;
use crate::web::page::Page;
use crate::web::public_url::PublicUrl;

pub const LABEL_MAX: usize = 100;

/// Letters and digits without the ones that read alike (0/o, 1/l/i).
const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";

/// A new password (to show once) and the hash to store.
pub fn new_secret() -> (String, String) {
    use rand::Rng;
    let mut rng = rand::thread_rng();
    let groups: Vec<String> = (0..6)
        .map(|_| (0..4).map(|_| char::from(ALPHABET[rng.gen_range(0..ALPHABET.len())])).collect())
        .collect();
    let secret = groups.join("-");
    let hash = secret_hash(&secret);
    (secret, hash)
}

/// The stored form of a password as a client sends it: dashes, spaces and case do not count.
pub fn secret_hash(typed: &str) -> String {
    let normalised: String =
        typed.chars().filter(|c| c.is_ascii_alphanumeric()).map(|c| c.to_ascii_lowercase()).collect();
    hex::encode(Sha256::digest(normalised.as_bytes()))
}

/// Makes a password for `owner` labelled `label`; the secret is returned once, never stored.
pub async fn create(store: &Store, owner: UserId, label: &str) -> Result<String, AppError> {
    let (secret, hash) = new_secret();
    store.insert_app_password(owner, label, &hash).await?;
    Ok(secret)
}

/// The label as typed, cleaned, or why it cannot be used.
pub fn validate_label(typed: &str) -> Result<String, String> {
    let label = strip_controls(typed, false).trim().to_string();
    if label.is_empty() {
        Err("Name the device, e.g. \u{201c}Phone\u{201d} or \u{201c}Thunderbird\u{201d}.".into())
    } else if label.chars().count() > LABEL_MAX {
        Err(format!("Use at most {LABEL_MAX} characters."))
    } else {
        Ok(label)
    }
}

#[derive(Debug, Default, FromForm)]
pub struct LabelForm {
    #[field(default = String::new())]
    label: String,
}

/// Shows the new password on the account page itself (never in a flash cookie or a URL).
#[rocket::post("/account/app-passwords", data = "<form>")]
pub async fn create_route(
    form: CsrfForm<LabelForm>,
    user: CurrentUser,
    page: Page,
    store: &State<Store>,
    public_url: &State<PublicUrl>,
    dav: &State<DavPublicUrl>,
    mail: &State<crate::mail::Mail>,
) -> Result<(Status, Template), AppError> {
    let (status, extras) = match validate_label(&form.0.label) {
        Ok(label) => {
            let secret = create(store, user.user.id, &label).await?;
            (
                Status::Ok,
                AccountExtras { new_app_password: Some((label, secret)), ..AccountExtras::default() },
            )
        }
        Err(error) => (
            Status::UnprocessableEntity,
            AccountExtras {
                app_password_label: form.0.label.clone(),
                app_password_error: Some(error),
                ..AccountExtras::default()
            },
        ),
    };
    let context = account_page_context(store, &user, public_url, dav, mail, extras).await?;
    Ok(page.render_status(status, "account.html", context))
}

#[rocket::post("/account/app-passwords/<id>/delete", data = "<_form>")]
pub async fn revoke_route(
    id: AppPasswordId,
    _form: CsrfForm<TokenOnly>,
    user: CurrentUser,
    store: &State<Store>,
) -> Result<Flash<Redirect>, AppError> {
    if !store.revoke_app_password(user.user.id, id).await? {
        return Err(AppError::NotFound);
    }
    let message = "App password revoked: the device using it can no longer sync.";
    Ok(Flash::success(Redirect::to("/account#app-passwords"), message))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_long_readable_and_hashed_as_typed_either_way() {
        let (secret, hash) = new_secret();
        assert_eq!(secret.len(), 29);
        assert!(secret.split('-').all(|g| g.len() == 4 && g.bytes().all(|b| ALPHABET.contains(&b))));
        assert_eq!(secret_hash(&secret.to_uppercase().replace('-', " ")), hash);
        assert_ne!(new_secret().0, secret);
        assert_ne!(secret_hash("abcd"), secret_hash("abce"));
    }

    #[test]
    fn labels_are_checked() {
        assert_eq!(validate_label("  Phone\u{202e} ").as_deref(), Ok("Phone"));
        assert!(validate_label(" ").is_err());
        assert!(validate_label(&"x".repeat(101)).is_err());
    }
}

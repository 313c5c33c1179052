//! The account page: password, time zone, first day of the week.

use std::str::FromStr;

use rocket::form::FromForm;
use rocket::http::Status;
use rocket::request::FlashMessage;
use rocket::response::{Flash, Redirect};
use rocket::{Either, State};
use rocket_dyn_templates::Template;
use serde::Serialize;
use serde_json::{json, Map, Value};

use super::csrf::CsrfForm;
use super::guard::CurrentUser;
use super::identity::Identity;
use super::routes::Refused;
use super::session::{Sessions, Snapshot};
use super::throttle::{LoginThrottle, Throttled};
use super::{password, validate};
use crate::cache::Cache;
use crate::dav::DavPublicUrl;
use crate::error::AppError;
use crate::ical::routes::feed_links;
use crate::mail::Mail;
use crate::store::app_passwords::AppPassword;
use crate::store::mail::MailAddress;
use crate::store::{SessionUser, Store, User};
use crate::web::page::Page;
use crate::web::public_url::PublicUrl;

#[derive(FromForm)]
pub struct PasswordForm {
    #[field(default = String::new())]
    current_password: String,
    #[field(default = String::new())]
    new_password: String,
    #[field(default = String::new())]
    new_password_confirm: String,
}

#[derive(FromForm)]
pub struct PreferencesForm {
    #[field(default = String::new())]
    time_zone: String,
    #[field(default = String::new())]
    week_start: String,
}

const WEEK_STARTS: [(i16, &str); 3] = [(1, "Monday"), (0, "Sunday"), (6, "Saturday")];

fn account_context(
    account: &User,
    time_zone: &str,
    week_start: &str,
    errors: Map<String, Value>,
    app_passwords: &[AppPassword],
) -> Value {
    let zones: Vec<&str> = chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name()).collect();
    let week_starts: Vec<Value> =
        WEEK_STARTS.iter().map(|(value, name)| json!({ "value": value.to_string(), "name": name })).collect();
    json!({
        "account": { "username": account.username, "created_at": account.created_at.format("%Y-%m-%d").to_string() },
        "time_zone": time_zone,
        "week_start": week_start,
        "zones": zones,
        "week_starts": week_starts,
        "errors": errors,
        "app_passwords": app_passwords,
        "app_password_label": "",
    })
}

/// The full row (password hash, creation date), which the session's snapshot leaves out.
async fn account_of(store: &Store, user: &CurrentUser) -> Result<User, AppError> {
    store.user_by_id(user.user.id).await?.ok_or(AppError::NotFound)
}

/// What the account page shows beyond the account: a notice, and the app password just made
/// (its label and secret, shown this once) or the label form as typed with its error.
#[derive(Debug, Default)]
pub struct AccountExtras {
    pub notice: Option<String>,
    pub new_app_password: Option<(String, String)>,
    pub app_password_label: String,
    pub app_password_error: Option<String>,
    /// The mail address as typed, and why it was refused.
    pub email_value: Option<String>,
    pub email_error: Option<String>,
    /// The agenda's time as typed, and why it was refused.
    pub agenda_value: Option<String>,
    pub agenda_error: Option<String>,
}

/// The account page's email section: whether the server sends mail, and the address.
#[derive(Serialize)]
struct EmailSection {
    enabled: bool,
    address: Option<MailAddress>,
    value: String,
    error: Option<String>,
    /// The daily agenda's time (`HH:MM`), stored or as typed; empty: off.
    agenda: String,
    agenda_error: Option<String>,
}

/// The account page's context: the settings, the feed, the app passwords, the mail address.
pub async fn account_page_context(
    store: &Store,
    user: &CurrentUser,
    public_url: &PublicUrl,
    dav: &DavPublicUrl,
    mail: &Mail,
    extras: AccountExtras,
) -> Result<Value, AppError> {
    let address = store.mail_address_of(user.user.id).await?;
    let email = EmailSection {
        enabled: mail.enabled(),
        value: extras
            .email_value
            .clone()
            .or_else(|| address.as_ref().map(|a| a.address.clone()))
            .unwrap_or_default(),
        error: extras.email_error.clone(),
        agenda: extras.agenda_value.clone().unwrap_or_else(|| {
            let minutes = address.as_ref().and_then(|a| a.agenda_minutes).unwrap_or(-1);
            if minutes < 0 {
                String::new()
            } else {
                format!("{:02}:{:02}", minutes / 60, minutes % 60)
            }
        }),
        agenda_error: extras.agenda_error.clone(),
        address,
    };
    let account = account_of(store, user).await?;
    let app_passwords = store.app_passwords_of(user.user.id).await?;
    let mut context = account_context(
        &account,
        &account.time_zone,
        &account.week_start.to_string(),
        Map::new(),
        &app_passwords,
    );
    let feed = feed_links(store, user.user.id, public_url).await?;
    if let Some(map) = context.as_object_mut() {
        map.insert("notice".into(), json!(extras.notice));
        map.insert("feed".into(), json!(feed));
        map.insert(
            "new_app_password".into(),
            json!(extras.new_app_password.map(|(label, secret)| json!({ "label": label, "secret": secret }))),
        );
        map.insert("app_password_label".into(), json!(extras.app_password_label));
        map.insert("dav_url".into(), json!(dav.root()));
        map.insert("email".into(), json!(email));
        if let Some(error) = extras.app_password_error {
            map.insert("app_password_error".into(), json!(error));
        }
    }
    Ok(context)
}

#[rocket::get("/account")]
pub async fn account_page(
    user: CurrentUser,
    page: Page,
    store: &State<Store>,
    flash: Option<FlashMessage<'_>>,
    public_url: &State<PublicUrl>,
    dav: &State<DavPublicUrl>,
    mail: &State<Mail>,
) -> Result<Template, AppError> {
    let extras = AccountExtras { notice: flash.map(|f| f.message().to_string()), ..AccountExtras::default() };
    Ok(page.render("account.html", account_page_context(store, &user, public_url, dav, mail, extras).await?))
}

#[rocket::post("/account/password", data = "<form>")]
pub async fn change_password(
    form: CsrfForm<PasswordForm>,
    user: CurrentUser,
    page: Page,
    store: &State<Store>,
    identity: Identity<'_>,
    throttle: &State<LoginThrottle>,
) -> Result<Either<Refused, Flash<Redirect>>, AppError> {
    let form = form.0;
    let account = account_of(store, &user).await?;
    let mut errors = Map::new();
    let app_passwords = store.app_passwords_of(account.id).await?;
    let rerender = |errors: Map<String, Value>, status: Status| {
        let week_start = account.week_start.to_string();
        let context = account_context(&account, &account.time_zone, &week_start, errors, &app_passwords);
        page.render_status(status, "account.html", context)
    };
    let check = match throttle.password_check(account.id).await {
        Ok(check) => check,
        Err(Throttled(wait)) => {
            let seconds = wait.as_secs().max(1);
            let message =
                format!("Too many wrong current passwords. Try again in {} minute(s).", seconds.div_ceil(60));
            errors.insert("current_password".into(), json!(message));
            let page = rerender(errors, Status::TooManyRequests);
            return Ok(Either::Left(Refused { page, retry_after: Some(seconds) }));
        }
    };
    let stored = Some(account.password_hash.clone());
    if password::verify(form.current_password.clone(), stored).await? {
        throttle.password_verified(check).await;
    } else {
        errors.insert("current_password".into(), json!("This is not your current password."));
    }
    if let Err(e) = validate::password(&form.new_password) {
        errors.insert("new_password".into(), json!(e));
    } else if form.new_password != form.new_password_confirm {
        errors.insert("new_password_confirm".into(), json!("The passwords do not match."));
    }
    if !errors.is_empty() {
        let page = rerender(errors, Status::UnprocessableEntity);
        return Ok(Either::Left(Refused { page, retry_after: None }));
    }
    let hash = password::hash(form.new_password).await?;
    // Bumping the epoch ends every session of the user, this one included; `start` then
    // issues this browser a fresh one.
    let epoch = store.change_password(account.id, &hash).await?;
    let changed = User { session_epoch: epoch, password_hash: hash, ..account };
    identity.start(&changed).await?;
    Ok(Either::Right(Flash::success(
        Redirect::to("/account"),
        "Password changed. Every other session has been logged out.",
    )))
}

#[rocket::post("/account/preferences", data = "<form>")]
pub async fn change_preferences(
    form: CsrfForm<PreferencesForm>,
    user: CurrentUser,
    page: Page,
    store: &State<Store>,
    sessions: &State<Sessions>,
    cache: &State<Cache>,
) -> Result<Either<Flash<Redirect>, (Status, Template)>, AppError> {
    let form = form.0;
    let mut errors = Map::new();
    let time_zone = chrono_tz::Tz::from_str(form.time_zone.trim());
    if time_zone.is_err() {
        let message =
            format!("\u{201c}{}\u{201d} is not a time zone: choose one from the list.", form.time_zone);
        errors.insert("time_zone".into(), json!(message));
    }
    let week_start =
        form.week_start.trim().parse::<i16>().ok().filter(|day| WEEK_STARTS.iter().any(|(d, _)| d == day));
    if week_start.is_none() {
        errors.insert("week_start".into(), json!("Choose Monday, Sunday or Saturday."));
    }
    let (Ok(time_zone), Some(week_start)) = (time_zone, week_start) else {
        let account = account_of(store, &user).await?;
        let app_passwords = store.app_passwords_of(account.id).await?;
        let context = account_context(&account, &form.time_zone, &form.week_start, errors, &app_passwords);
        return Ok(Either::Right(page.render_status(Status::UnprocessableEntity, "account.html", context)));
    };
    store.set_preferences(user.user.id, time_zone.name(), week_start).await?;
    let changed = SessionUser { time_zone: time_zone.name().to_string(), week_start, ..user.user };
    sessions.remember_user(&changed, Snapshot::Changed).await?;
    // Every cached page of this user was rendered in the old zone or week layout.
    cache.invalidate_user(changed.id).await;
    Ok(Either::Left(Flash::success(Redirect::to("/account"), "Preferences saved.")))
}

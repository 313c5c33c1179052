//! Accounts: passwords, validation and (in `session`) who is logged in.

pub mod account;
pub mod app_passwords;
pub mod csrf;
pub mod guard;
pub mod identity;
pub mod password;
pub mod routes;
pub mod session;
pub mod throttle;
pub mod validate;

use rocket::fairing::AdHoc;

use crate::clock::Clock;
use crate::config::AppConfig;
use crate::kv::Backends;

/// Sessions and the login throttle sit on the sessions backend, so they are set up after
/// the key-value stage has managed `Backends`.
pub fn stage(clock: Clock) -> AdHoc {
    AdHoc::on_ignite("Auth", move |rocket| async move {
        rocket
            .attach(AdHoc::try_on_ignite("Sessions", move |rocket| async move {
                let (Some(backends), Some(config)) =
                    (rocket.state::<Backends>(), rocket.state::<AppConfig>())
                else {
                    log::error!("sessions need the key-value backends");
                    return Err(rocket);
                };
                let sessions = session::Sessions::new(backends.sessions.clone(), clock, config);
                let throttle = throttle::LoginThrottle::new(
                    backends.sessions.clone(),
                    &config.redis_prefix,
                    config.login_attempts_per_account,
                    config.login_attempts_per_address,
                    config.login_window(),
                );
                Ok(rocket.manage(sessions).manage(throttle))
            }))
            .register("/", rocket::catchers![routes::login_redirect])
            .mount(
                "/",
                rocket::routes![
                    routes::login_page,
                    routes::login,
                    routes::logout,
                    routes::register_page,
                    routes::register,
                    account::account_page,
                    account::change_password,
                    account::change_preferences,
                    app_passwords::create_route,
                    app_passwords::revoke_route,
                ],
            )
    })
}

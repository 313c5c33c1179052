//! App passwords (the CalDAV issue's first slice): made on the account page or by
//! `eventide app-password`, shown once, stored as a hash, revocable, each user's own.

use rocket::http::Status;

use crate::helpers::*;
use eventide::auth::app_passwords::secret_hash;

/// The secret shown once on the page, if any.
fn shown_secret(page: &str) -> Option<String> {
    let marker = "id=\"new-app-password\">";
    let start = page.find(marker)? + marker.len();
    Some(page[start..start + page[start..].find('<')?].to_string())
}

async fn owner_of(app: &TestApp, secret: &str) -> Option<eventide::domain::UserId> {
    app.store().app_password_owner(&secret_hash(secret)).await.unwrap().map(|owner| owner.user_id)
}

async fn made_on_the_account_page_shown_once_and_revoked(engine: Engine) {
    let app = spawn(engine, Backend::Memory).await;
    assert_status(&app.register("amy", PASSWORD).await, Status::SeeOther);
    let amy = eventide::domain::UserId(1);

    let response = app.post_with_token("/account/app-passwords", &[("label", "Phone")]).await;
    assert_status(&response, Status::Ok);
    let page = response.into_string().await.unwrap();
    let secret = shown_secret(&page).expect("the new password on the page");
    assert_eq!(secret.len(), 29, "{secret}");
    assert_eq!(owner_of(&app, &secret).await, Some(amy));
    assert_eq!(owner_of(&app, &secret.to_uppercase().replace('-', "")).await, Some(amy), "typed either way");

    let again = app.get("/account").await.into_string().await.unwrap();
    assert!(shown_secret(&again).is_none() && !again.contains(&secret), "shown only once");
    assert!(again.contains("Phone") && again.contains("never"), "listed with when it was last used");
    assert!(
        again.contains("<code id=\"dav-url\">http://127.0.0.1:8001/dav/</code>"),
        "the CalDAV address to type"
    );
    assert!(again.contains("DAVx⁵") && again.contains("Thunderbird"), "setup steps per app");

    for (label, error) in [("  ", "Name the device"), (&*"x".repeat(101), "at most 100")] {
        let response = app.post_with_token("/account/app-passwords", &[("label", label)]).await;
        assert_status(&response, Status::UnprocessableEntity);
        let page = response.into_string().await.unwrap();
        assert!(page.contains(error), "{page}");
        assert!(shown_secret(&page).is_none());
    }
    assert_eq!(app.store().app_passwords_of(amy).await.unwrap().len(), 1, "nothing made by a refusal");

    // Another user cannot revoke it; its owner can, and then it opens nothing.
    let id = app.store().app_passwords_of(amy).await.unwrap()[0].id.0;
    let bob = app.browser();
    assert_status(&bob.register("bob", PASSWORD).await, Status::SeeOther);
    let uri = format!("/account/app-passwords/{id}/delete");
    assert_status(&bob.post_with_token(&uri, &[]).await, Status::NotFound);
    assert_eq!(owner_of(&app, &secret).await, Some(amy));
    assert_status(&app.post_with_token(&uri, &[]).await, Status::SeeOther);
    assert_eq!(owner_of(&app, &secret).await, None);
    assert!(app.store().app_passwords_of(amy).await.unwrap().is_empty());
    assert_status(&app.post_with_token(&uri, &[]).await, Status::NotFound);
}

async fn the_command_line_prints_a_working_password(engine: Engine) {
    let app = spawn(engine, Backend::Memory).await;
    assert_status(&app.register("amy", PASSWORD).await, Status::SeeOther);
    let figment = test_figment(&app.db.url, &app.prefix);
    let secret = eventide::create_app_password(figment.clone(), "amy", "Thunderbird").await.unwrap();
    assert_eq!(owner_of(&app, &secret).await, Some(eventide::domain::UserId(1)));
    let listed = app.store().app_passwords_of(eventide::domain::UserId(1)).await.unwrap();
    assert_eq!(listed.iter().map(|p| p.label.as_str()).collect::<Vec<_>>(), ["Thunderbird"]);
    let refused = eventide::create_app_password(figment, "nobody", "Phone").await.unwrap_err();
    assert!(refused.contains("no active user"), "{refused}");
}

crate::on_both_engines!(
    made_on_the_account_page_shown_once_and_revoked,
    the_command_line_prints_a_working_password
);

//! The admin guard and `eventide create-admin`.

use rocket::http::Status;

use crate::helpers::*;

pub async fn create_admin(app: &TestApp, username: &str, stdin: &str) -> Result<String, String> {
    // The CLI is another process: it reaches the running app's sessions through Redis.
    let figment = test_figment(&app.db.url, &app.prefix).merge(("redis_url", REDIS_URL));
    eventide::create_admin(figment, username, stdin.as_bytes()).await
}

async fn admin_area_is_for_admins_only(engine: Engine) {
    let app = spawn(engine, Backend::Redis).await;
    let anonymous = app.get("/admin").await;
    assert_status(&anonymous, Status::SeeOther);
    assert_eq!(anonymous.headers().get_one("Location"), Some("/login?next=%2Fadmin"));

    assert_status(&app.register("walt", PASSWORD).await, Status::SeeOther);
    assert_status(&app.get("/admin").await, Status::NotFound);

    let created = create_admin(&app, "root", "admin-passphrase-1\n").await.unwrap();
    assert!(created.contains("created admin"));
    let admin = app.browser();
    assert_status(&admin.login("root", "admin-passphrase-1").await, Status::SeeOther);
    let page = admin.get("/admin").await;
    assert_status(&page, Status::Ok);
    let page = page.into_string().await.unwrap();
    assert!(page.contains("Administration") && page.contains("Hit ratio") && page.contains(">range</th>"));

    let promoted = create_admin(&app, "WALT", "").await.unwrap();
    assert!(promoted.contains("promoted"));
    assert_status(&app.get("/admin").await, Status::Ok);
}

async fn create_admin_refuses_bad_input(engine: Engine) {
    let app = spawn(engine, Backend::Memory).await;
    assert!(create_admin(&app, "x", "admin-passphrase-1\n").await.unwrap_err().contains("username"));
    assert!(create_admin(&app, "root", "short\n").await.unwrap_err().contains("password"));
    assert!(create_admin(&app, "root", "").await.unwrap_err().contains("password"));
    assert_eq!(app.store().count_users().await.unwrap(), 0);
}

crate::on_both_engines!(admin_area_is_for_admins_only, create_admin_refuses_bad_input);

/// An admin browser ("root") and a user browser ("una" with one event), on real Redis.
async fn instance(engine: Engine) -> TestApp {
    let app = spawn(engine, Backend::Redis).await;
    assert_status(&app.register("root", PASSWORD).await, Status::SeeOther);
    create_admin(&app, "root", "").await.unwrap();
    app
}

async fn user_with_event<'a>(app: &'a TestApp, name: &str) -> Browser<'a> {
    let user = app.browser();
    assert_status(&user.register(name, PASSWORD).await, Status::SeeOther);
    let fields = [("title", "Dentist"), ("start", "2026-06-01T09:00"), ("end", "2026-06-01T10:00")];
    assert_status(&user.post_with_token("/events", &fields).await, Status::SeeOther);
    user
}

async fn act(app: &TestApp, id: i64, action: &str, extra: &[(&str, &str)]) -> Status {
    let mut fields = vec![("confirm", "yes")];
    fields.extend_from_slice(extra);
    app.post_with_token(&format!("/admin/users/{id}/{action}"), &fields).await.status()
}

async fn every_admin_page_is_for_admins_only(engine: Engine) {
    let app = instance(engine).await;
    let user = user_with_event(&app, "una").await;
    let pages = ["/admin", "/admin/users", "/admin/events", "/admin/events/1", "/admin/audit"];
    for page in pages {
        assert_status(&app.get(page).await, Status::Ok);
        assert_status(&user.get(page).await, Status::NotFound);
        let visitor = app.browser();
        let response = visitor.get(page).await;
        assert_status(&response, Status::SeeOther);
        assert!(response.headers().get_one("Location").unwrap().starts_with("/login?next="));
    }
    for odd in [
        "/admin/users?p=9223372036854775807",
        "/admin/users?p=-3&sort=nonsense",
        "/admin/events?p=9223372036854775807",
        "/admin/audit?p=0",
    ] {
        assert_status(&app.get(odd).await, Status::Ok);
    }
    // A user cannot act as an admin, token or not.
    assert_status(
        &user.post_with_token("/admin/users/1/demote", &[("confirm", "yes")]).await,
        Status::NotFound,
    );
    assert_status(&user.post_with_token("/admin/cache/flush", &[("confirm", "yes")]).await, Status::NotFound);
}

async fn deactivation_ends_the_live_session_at_once(engine: Engine) {
    let app = instance(engine).await;
    let user = user_with_event(&app, "vera").await;
    assert_status(&user.get("/account").await, Status::Ok);
    // Without confirmation: a confirmation page, and nothing changes.
    let response = app.post_with_token("/admin/users/2/deactivate", &[]).await;
    assert_status(&response, Status::Ok);
    assert!(response.into_string().await.unwrap().contains("Are you sure?"));
    assert_status(&user.get("/account").await, Status::Ok);

    assert_eq!(act(&app, 2, "deactivate", &[]).await, Status::SeeOther);
    assert_status(&user.get("/account").await, Status::SeeOther);
    assert_status(&app.browser().login("vera", PASSWORD).await, Status::Unauthorized);
    // The htmx path: confirmed in a dialog, answered with a redirect for the whole page.
    let token = app.csrf_token().await;
    let request = app
        .client
        .post("/admin/users/2/reactivate")
        .header(rocket::http::ContentType::Form)
        .header(rocket::http::Header::new("HX-Request", "true"))
        .header(rocket::http::Header::new("X-CSRF-Token", token))
        .body("confirm=yes");
    let response = app.send(request).await;
    assert_status(&response, Status::NoContent);
    assert_eq!(response.headers().get_one("HX-Redirect"), Some("/admin/users"));
    assert_status(&app.browser().login("vera", PASSWORD).await, Status::SeeOther);
}

async fn promotion_demotion_and_the_last_admin(engine: Engine) {
    let app = instance(engine).await;
    let user = user_with_event(&app, "walt").await;
    assert_eq!(act(&app, 2, "promote", &[]).await, Status::SeeOther);
    assert_status(&user.get("/admin").await, Status::Ok);
    assert_eq!(act(&app, 2, "demote", &[]).await, Status::SeeOther);
    assert_status(&user.get("/admin").await, Status::NotFound);
    // root is now the only admin: demoting, deactivating or deleting root is refused.
    for (action, extra) in
        [("demote", vec![]), ("deactivate", vec![]), ("delete", vec![("confirm_username", "root")])]
    {
        assert_eq!(act(&app, 1, action, &extra).await, Status::SeeOther);
        let page = app.get("/admin/users").await.into_string().await.unwrap();
        assert!(page.contains("last active admin"), "{action}");
    }
    assert_status(&app.get("/admin").await, Status::Ok);
    let root = app.store().user_by_username("root").await.unwrap().unwrap();
    assert!(root.is_admin && root.is_active);
}

async fn ending_sessions_and_deleting_a_user(engine: Engine) {
    let app = instance(engine).await;
    let user = user_with_event(&app, "xia").await;
    assert_eq!(act(&app, 2, "end-sessions", &[]).await, Status::SeeOther);
    assert_status(&user.get("/account").await, Status::SeeOther);
    user.login("xia", PASSWORD).await;
    // Cached pages of the user exist...
    assert_status(&user.get("/calendar/day/2026-06-01").await, Status::Ok);
    let mut conn = crate::cache::redis_connection(REDIS_URL).await;
    let keys = crate::cache::keys(&mut conn, &format!("{}cache:2:*", app.prefix)).await;
    assert!(!keys.is_empty());
    // ...a wrong name typed in the confirmation deletes nothing...
    assert_eq!(act(&app, 2, "delete", &[("confirm_username", "xiaa")]).await, Status::Ok);
    assert!(app.store().user_by_username("xia").await.unwrap().is_some());
    // ...and the right one removes the user, their events and their cache entries.
    assert_eq!(act(&app, 2, "delete", &[("confirm_username", "xia")]).await, Status::SeeOther);
    assert!(app.store().user_by_username("xia").await.unwrap().is_none());
    let (events, _) = app.store().admin_events("", 1).await.unwrap();
    assert!(events.is_empty());
    assert!(crate::cache::keys(&mut conn, &format!("{}cache:2:*", app.prefix)).await.is_empty());
    assert_status(&user.get("/account").await, Status::SeeOther);
}

async fn events_across_users_and_the_audit_log(engine: Engine) {
    let app = instance(engine).await;
    let user = user_with_event(&app, "yuri").await;
    let page = app.get("/admin/events?q=dent").await.into_string().await.unwrap();
    assert!(page.contains("Dentist") && page.contains("yuri"));
    assert!(
        page.contains("fill=\"#1a73e8\"") && page.contains("Personal"),
        "the event's calendar, in its colour"
    );
    let detail = app.get("/admin/events/1").await.into_string().await.unwrap();
    assert!(detail.contains("Dentist") && detail.contains("Personal") && detail.contains("fill=\"#1a73e8\""));
    assert_eq!(user.get("/calendar/day/2026-06-01").await.headers().get_one("X-Cache"), Some("MISS"));
    assert_eq!(user.get("/calendar/day/2026-06-01").await.headers().get_one("X-Cache"), Some("HIT"));
    let response = app.post_with_token("/admin/events/1/delete", &[("confirm", "yes")]).await;
    assert_status(&response, Status::SeeOther);
    let day = user.get("/calendar/day/2026-06-01").await;
    assert_eq!(day.headers().get_one("X-Cache"), Some("MISS"), "the owner's cache was invalidated");
    assert!(!day.into_string().await.unwrap().contains("Dentist"));

    assert_status(&user.get("/").await, Status::Ok);
    assert_eq!(user.get("/").await.headers().get_one("X-Cache"), Some("HIT"));
    assert_status(&app.post_with_token("/admin/cache/flush", &[("confirm", "yes")]).await, Status::SeeOther);
    assert_eq!(user.get("/").await.headers().get_one("X-Cache"), Some("MISS"), "flushed for everyone");

    assert_eq!(act(&app, 2, "flush-cache", &[]).await, Status::SeeOther);
    let audit = app.get("/admin/audit").await.into_string().await.unwrap();
    for line in ["delete event", "flush cache", "flush user cache", "user yuri (#2)", "root"] {
        assert!(audit.contains(line), "{line}");
    }
    let overview = app.get("/admin").await.into_string().await.unwrap();
    assert!(overview.contains("Active sessions") && overview.contains("redis_version"));
}

mod actions {
    use super::*;
    crate::on_both_engines!(
        every_admin_page_is_for_admins_only,
        deactivation_ends_the_live_session_at_once,
        promotion_demotion_and_the_last_admin,
        ending_sessions_and_deleting_a_user,
        events_across_users_and_the_audit_log,
    );
}

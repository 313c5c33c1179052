//! The admin guard and `eventide create-admin`.

use rocket::http::Status;

use crate::helpers::*;

async fn create_admin(app: &TestApp, username: &str, stdin: &str) -> Result<String, String> {
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

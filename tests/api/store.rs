//! The store on both engines.

use eventide::store::{NewUser, Store, UsernameTaken};

use crate::helpers::*;

async fn store_for(engine: Engine) -> (TestApp, Store) {
    let app = spawn(engine, Backend::Memory).await;
    let store = app.client.rocket().state::<Store>().unwrap().clone();
    (app, store)
}

async fn users_are_unique_case_insensitively(engine: Engine) {
    let (_app, store) = store_for(engine).await;
    let new = |username| NewUser { username, password_hash: "$argon2id$x", is_admin: false };
    let id = store.create_user(new("Alice")).await.unwrap().unwrap();
    assert_eq!(store.create_user(new("aLICE")).await.unwrap(), Err(UsernameTaken));
    let alice = store.user_by_username("ALICE").await.unwrap().unwrap();
    assert_eq!(alice.id, id);
    assert_eq!(alice.username, "Alice");
    assert_eq!(alice.time_zone, "UTC");
    assert!(!alice.is_admin && alice.is_active);
    assert!(store.user_by_username("bob").await.unwrap().is_none());
}

async fn concurrent_registrations_of_one_name_have_one_winner(engine: Engine) {
    let (_app, store) = store_for(engine).await;
    let attempts = (0..8).map(|i| {
        let store = store.clone();
        async move {
            let name = if i % 2 == 0 { "race" } else { "RACE" };
            store.create_user(NewUser { username: name, password_hash: "h", is_admin: false }).await
        }
    });
    let results = futures_join_all(attempts).await;
    let winners = results.iter().filter(|r| matches!(r, Ok(Ok(_)))).count();
    let losers = results.iter().filter(|r| matches!(r, Ok(Err(UsernameTaken)))).count();
    assert_eq!((winners, losers), (1, 7), "{results:?}");
}

async fn preferences_admin_and_login_are_stored(engine: Engine) {
    let (_app, store) = store_for(engine).await;
    let id = store
        .create_user(NewUser { username: "carol", password_hash: "h", is_admin: false })
        .await
        .unwrap()
        .unwrap();
    store.set_preferences(id, "Pacific/Auckland", 0).await.unwrap();
    assert!(store.set_admin("CAROL", true).await.unwrap());
    assert!(!store.set_admin("nobody", true).await.unwrap());
    store.record_login(id).await.unwrap();
    let carol = store.user_by_id(id).await.unwrap().unwrap();
    assert_eq!((carol.time_zone.as_str(), carol.week_start), ("Pacific/Auckland", 0));
    assert!(carol.is_admin && carol.last_login_at.is_some());
}

async fn two_admins_demoting_each_other_leave_one(engine: Engine) {
    let (_app, store) = store_for(engine).await;
    let mut ids = Vec::new();
    for name in ["ada", "bea"] {
        let new = NewUser { username: name, password_hash: "h", is_admin: true };
        ids.push(store.create_user(new).await.unwrap().unwrap());
    }
    for _ in 0..5 {
        let (a, b) = (store.clone(), store.clone());
        let (first, second) = (ids[0], ids[1]);
        let results = futures_join_all([
            Box::pin(async move { a.set_user_flags(first, false, true).await })
                as std::pin::Pin<Box<dyn std::future::Future<Output = _> + Send>>,
            Box::pin(async move { b.set_user_flags(second, false, true).await }),
        ])
        .await;
        let demoted = results.iter().filter(|r| matches!(r, Ok(Ok(())))).count();
        assert_eq!(demoted, 1, "{results:?}");
        // Promote both again for the next round.
        for id in &ids {
            store.set_user_flags(*id, true, true).await.unwrap().unwrap();
        }
    }
}

async fn futures_join_all<F>(futures: impl IntoIterator<Item = F>) -> Vec<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futures.into_iter().map(tokio::spawn).collect();
    let mut outputs = Vec::new();
    for handle in handles {
        outputs.push(handle.await.unwrap());
    }
    outputs
}

crate::on_both_engines!(
    users_are_unique_case_insensitively,
    concurrent_registrations_of_one_name_have_one_winner,
    preferences_admin_and_login_are_stored,
    two_admins_demoting_each_other_leave_one,
);

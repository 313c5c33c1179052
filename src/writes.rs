//! The one write path. Every change to events or calendars goes through `Writes`: the store
//! commits (and, in the same transaction, records the change in the calendar's change log),
//! then the cache retires the views of the owner and of everyone the calendar is shared with
//! that may show the change, and only then does the caller get the result. The store hands
//! each commit back as a `Committed`, which only this module settles, so a handler cannot
//! write and forget the rest.

use rocket::http::Status;
use rocket::request::{FromRequest, Outcome, Request};

use crate::cache::Cache;
use crate::domain::{Access, Calendar, CalendarDraft, CalendarId, Change, EventDraft, LastCalendar, UserId};
use crate::error::AppError;
use crate::store::{Applied, Committed, Store};

/// Pages of the search index merged per hour (`Store::compact_search_index`): a few MB, in
/// well under a second.
const SEARCH_MERGE_PAGES: u32 = 2000;

/// Prunes the calendars' change logs by age and merges the search index a step: at launch,
/// then every hour.
pub fn stage() -> rocket::fairing::AdHoc {
    rocket::fairing::AdHoc::on_liftoff("Change log pruning", |rocket| {
        Box::pin(async move {
            let (Some(store), Some(config)) =
                (rocket.state::<Store>().cloned(), rocket.state::<crate::config::AppConfig>())
            else {
                return;
            };
            let days = i64::try_from(config.change_log_days.clamp(1, 36_500)).unwrap_or(90);
            let keep = chrono::Duration::days(days);
            let mut shutdown = rocket.shutdown();
            rocket::tokio::spawn(async move {
                let mut every_hour = rocket::tokio::time::interval(std::time::Duration::from_secs(3600));
                loop {
                    rocket::tokio::select! {
                        _ = every_hour.tick() => {}
                        _ = &mut shutdown => return,
                    }
                    match store.prune_changes(chrono::Utc::now() - keep).await {
                        Ok(0) => {}
                        Ok(pruned) => {
                            log::info!("change log: {pruned} rows older than {} days pruned", keep.num_days())
                        }
                        Err(e) => log::warn!("change log pruning failed: {e}"),
                    }
                    if let Err(e) = store.compact_search_index(Some(SEARCH_MERGE_PAGES)).await {
                        log::warn!("merging the search index failed: {e}");
                    }
                }
            });
        })
    })
}

pub struct Writes<'r> {
    store: &'r Store,
    cache: &'r Cache,
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Writes<'r> {
    type Error = ();

    async fn from_request(request: &'r Request<'_>) -> Outcome<Self, ()> {
        let rocket = request.rocket();
        match (rocket.state::<Store>(), rocket.state::<Cache>()) {
            (Some(store), Some(cache)) => Outcome::Success(Writes { store, cache }),
            _ => Outcome::Error((Status::InternalServerError, ())),
        }
    }
}

impl<'r> Writes<'r> {
    pub fn new(store: &'r Store, cache: &'r Cache) -> Writes<'r> {
        Writes { store, cache }
    }

    /// After the commit, never before: a read between the two would cache the old rows under
    /// the new generation.
    async fn settle<T>(&self, committed: Committed<T>) -> T {
        let mut users = vec![committed.owner()];
        users.extend_from_slice(committed.audience());
        self.cache.invalidate(&users, committed.reach()).await;
        committed.settle()
    }

    /// The owner's changes to their events, applied at once (see `Store::apply`).
    pub async fn apply(&self, owner: UserId, changes: Vec<Change>) -> Result<Applied, AppError> {
        self.apply_as(owner, owner, changes).await
    }

    /// Changes to `owner`'s events made by `author` (a recipient with write access, or an
    /// admin), logged as theirs.
    pub async fn apply_as(
        &self,
        author: UserId,
        owner: UserId,
        changes: Vec<Change>,
    ) -> Result<Applied, AppError> {
        let committed = self.store.apply(author, owner, changes).await?;
        Ok(self.settle(committed).await)
    }

    /// Many new events at once, bypassing the change log (seeding a calendar).
    pub async fn insert_events(
        &self,
        owner: UserId,
        calendar: CalendarId,
        drafts: &[EventDraft],
    ) -> Result<(), AppError> {
        let committed = self.store.insert_events(owner, calendar, drafts).await?;
        self.settle(committed).await;
        Ok(())
    }

    pub async fn create_calendar(
        &self,
        owner: UserId,
        draft: &CalendarDraft,
    ) -> Result<CalendarId, AppError> {
        let committed = self.store.insert_calendar(owner, draft, None).await?;
        Ok(self.settle(committed).await)
    }

    /// A calendar made by a CalDAV client, at the path segment it chose.
    pub async fn create_calendar_at(
        &self,
        owner: UserId,
        draft: &CalendarDraft,
        segment: &str,
    ) -> Result<CalendarId, AppError> {
        let committed = self.store.insert_calendar(owner, draft, Some(segment)).await?;
        Ok(self.settle(committed).await)
    }

    pub async fn set_calendar_position(
        &self,
        owner: UserId,
        id: CalendarId,
        position: i32,
    ) -> Result<bool, AppError> {
        let committed = self.store.set_calendar_position(owner, id, position).await?;
        Ok(self.settle(committed).await)
    }

    /// False when there is no such calendar of `owner`'s.
    pub async fn update_calendar(
        &self,
        owner: UserId,
        id: CalendarId,
        draft: &CalendarDraft,
    ) -> Result<bool, AppError> {
        let committed = self.store.update_calendar(owner, id, draft).await?;
        Ok(self.settle(committed).await)
    }

    /// A hidden calendar leaves every view at once: its entries are retired like a write's.
    pub async fn set_calendar_shown(
        &self,
        owner: UserId,
        id: CalendarId,
        shown: bool,
    ) -> Result<bool, AppError> {
        let committed = self.store.set_calendar_shown(owner, id, shown).await?;
        Ok(self.settle(committed).await)
    }

    /// A new address for the calendar's feed; false when there is no such calendar.
    pub async fn set_calendar_feed_token(
        &self,
        owner: UserId,
        id: CalendarId,
        token: &str,
    ) -> Result<bool, AppError> {
        let committed = self.store.set_calendar_feed_token(owner, id, token).await?;
        Ok(self.settle(committed).await)
    }

    /// Opens the calendar at a new public address (busy times only, or everything), or
    /// closes it (`None`); false when there is no such calendar of `owner`'s. Its cached
    /// pages are retired with the owner's generation, so a reset leaves nothing behind.
    pub async fn set_public_link(
        &self,
        owner: UserId,
        id: CalendarId,
        link: Option<(&str, bool)>,
    ) -> Result<bool, AppError> {
        let committed = self.store.set_public_link(owner, id, link).await?;
        Ok(self.settle(committed).await)
    }

    pub async fn delete_calendar(
        &self,
        owner: UserId,
        id: CalendarId,
    ) -> Result<Result<Option<Calendar>, LastCalendar>, AppError> {
        let committed = self.store.delete_calendar(owner, id).await?;
        Ok(self.settle(committed).await)
    }

    /// Shares `owner`'s calendar with `recipient` at `access` (or changes an existing share's
    /// access); false when the calendar is not `owner`'s.
    pub async fn share_calendar(
        &self,
        owner: UserId,
        calendar: CalendarId,
        recipient: UserId,
        access: Access,
    ) -> Result<bool, AppError> {
        let committed = self.store.share_calendar(owner, calendar, recipient, access).await?;
        Ok(self.settle(committed).await)
    }

    /// The recipient loses the calendar on their next request, from every cached view too.
    pub async fn end_share(
        &self,
        owner: UserId,
        calendar: CalendarId,
        recipient: UserId,
    ) -> Result<bool, AppError> {
        let committed = self.store.end_share(owner, calendar, recipient).await?;
        Ok(self.settle(committed).await)
    }

    pub async fn leave_share(&self, recipient: UserId, calendar: CalendarId) -> Result<bool, AppError> {
        let committed = self.store.leave_share(recipient, calendar).await?;
        Ok(self.settle(committed).await)
    }

    /// The recipient's own colour for a calendar shared with them.
    pub async fn set_share_color(
        &self,
        recipient: UserId,
        calendar: CalendarId,
        color: &str,
    ) -> Result<bool, AppError> {
        let committed = self.store.set_share_color(recipient, calendar, color).await?;
        Ok(self.settle(committed).await)
    }

    /// Shows or hides a calendar shared with the recipient, for them alone.
    pub async fn set_share_shown(
        &self,
        recipient: UserId,
        calendar: CalendarId,
        shown: bool,
    ) -> Result<bool, AppError> {
        let committed = self.store.set_share_shown(recipient, calendar, shown).await?;
        Ok(self.settle(committed).await)
    }

    /// See `Store::account_changed`.
    pub async fn account_changed(
        &self,
        user: UserId,
        readers: Vec<UserId>,
        closed: bool,
    ) -> Result<(), AppError> {
        let committed = self.store.account_changed(user, readers, closed).await?;
        self.settle(committed).await;
        Ok(())
    }
}

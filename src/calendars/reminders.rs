//! The reminders a new event in a calendar starts with (`POST /calendars/{id}/reminders`):
//! for timed events and for all-day ones. The new-event form ticks them; the user can untick
//! them there. Only the calendar's owner sets them: reminders remind the owner.

use rocket::form::FromForm;
use rocket::State;
use serde::Serialize;

use super::{refused, saved, Failed, Reply};
use crate::auth::csrf::CsrfForm;
use crate::auth::guard::CurrentUser;
use crate::domain::reminders::{reminder_choices, ReminderChoice};
use crate::domain::{CalendarId, Reminders};
use crate::error::AppError;
use crate::store::calendars::CalendarReminders;
use crate::store::Store;
use crate::web::page::Page;
use crate::web::public_url::PublicUrl;

#[derive(Debug, Clone, Default, FromForm)]
pub struct RemindersForm {
    #[field(default = Vec::new())]
    reminders: Vec<String>,
    #[field(default = Vec::new())]
    all_day_reminders: Vec<String>,
}

/// The two lists of checkboxes on a calendar's card, ticked as stored or as typed.
#[derive(Debug, Serialize)]
pub struct DefaultReminders {
    timed: Vec<ReminderChoice>,
    all_day: Vec<ReminderChoice>,
    /// How many are ticked, for the summary's badge.
    ticked: usize,
    error: Option<String>,
}

impl DefaultReminders {
    pub fn stored(defaults: Option<&CalendarReminders>) -> DefaultReminders {
        let minutes = |r: Option<&Reminders>| -> Vec<String> {
            r.map(|r| r.minutes().iter().map(u32::to_string).collect()).unwrap_or_default()
        };
        DefaultReminders::new(
            reminder_choices(&minutes(defaults.map(|d| &d.default_reminders)), false),
            reminder_choices(&minutes(defaults.map(|d| &d.default_all_day_reminders)), true),
            None,
        )
    }

    pub fn typed(form: &RemindersForm, error: String) -> DefaultReminders {
        DefaultReminders::new(
            reminder_choices(&form.reminders, false),
            reminder_choices(&form.all_day_reminders, true),
            Some(error),
        )
    }

    fn new(
        timed: Vec<ReminderChoice>,
        all_day: Vec<ReminderChoice>,
        error: Option<String>,
    ) -> DefaultReminders {
        let ticked = timed.iter().chain(&all_day).filter(|c| c.checked).count();
        DefaultReminders { timed, all_day, ticked, error }
    }
}

#[rocket::post("/calendars/<id>/reminders", data = "<form>")]
pub async fn set_defaults(
    id: CalendarId,
    form: CsrfForm<RemindersForm>,
    user: CurrentUser,
    page: Page,
    store: &State<Store>,
    public_url: &State<PublicUrl>,
) -> Result<Reply, AppError> {
    let parsed = Reminders::parse_form(&form.0.reminders)
        .and_then(|timed| Reminders::parse_form(&form.0.all_day_reminders).map(|all_day| (timed, all_day)));
    match parsed {
        Ok((timed, all_day)) => {
            if !store.set_default_reminders(user.user.id, id, &timed, &all_day).await? {
                return Err(AppError::NotFound);
            }
            Ok(saved("Default reminders saved: new events in this calendar start with them."))
        }
        Err(error) => refused(store, &user, &page, public_url, Failed::Reminders(id, &form.0, error.0)).await,
    }
}

pub fn routes() -> Vec<rocket::Route> {
    rocket::routes![set_defaults]
}

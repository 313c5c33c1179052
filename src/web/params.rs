//! Ids in URLs: positive integers only, parsed once at the boundary. A bad segment is
//! `Unlogged`, so a mistyped (or probing) URL never puts its text in the log.

use rocket::request::FromParam;

use crate::domain::{AppPasswordId, CalendarId, EventId, UserId};
use crate::logging::Unlogged;

fn positive(param: &str) -> Result<i64, Unlogged> {
    match param.parse::<i64>() {
        Ok(id) if id > 0 => Ok(id),
        _ => Err(Unlogged),
    }
}

macro_rules! id_param {
    ($type:ident) => {
        impl<'a> FromParam<'a> for $type {
            type Error = Unlogged;

            fn from_param(param: &'a str) -> Result<Self, Self::Error> {
                positive(param).map($type)
            }
        }
    };
}
id_param!(UserId);
id_param!(CalendarId);
id_param!(EventId);
id_param!(AppPasswordId);

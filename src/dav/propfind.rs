//! PROPFIND: discovery (root → principal → home → calendars) and listing a calendar's
//! objects with their ETags, read as one narrow row per object.

use super::error::DavError;
use super::path::DavPath;
use super::props::{Resource, Responder};
use super::request::{propfind as parse, Prop, PropFind};
use super::xml::XmlOut;
use super::{multistatus, streamed_multistatus, Dav, DavRequest, DavResponse};
use crate::domain::Calendar;
use rocket::futures::StreamExt;

/// One resource's response with what was asked of it.
fn write(out: &mut XmlOut, responder: &Responder<'_>, asked: &PropFind, resource: &Resource<'_>) {
    let (props, names_only) = match asked {
        PropFind::All => (Prop::all(), false),
        PropFind::Names => (responder.names(resource), true),
        PropFind::Props(props) => (props.clone(), false),
    };
    responder.response(out, resource, &props, names_only);
}

pub async fn propfind(dav: &Dav, request: &DavRequest<'_>) -> Result<DavResponse, DavError> {
    let asked = parse(request.xml()?.as_ref())?;
    let responder = Responder::new(&request.principal.username);
    let mut out = XmlOut::default();
    out.root("d:multistatus");
    let write = |out: &mut XmlOut, resource: &Resource<'_>| write(out, &responder, &asked, resource);
    match &request.path {
        DavPath::Root | DavPath::WellKnown => write(&mut out, &Resource::Root),
        DavPath::Principal { .. } => write(&mut out, &Resource::Principal),
        DavPath::Home { .. } => {
            write(&mut out, &Resource::Home);
            if request.depth_one() {
                for calendar in dav.calendars(&request.principal).await? {
                    write(&mut out, &Resource::Calendar(&calendar));
                }
            }
        }
        DavPath::Calendar { calendar, .. } => {
            let calendar = dav.calendar(&request.principal, calendar).await?.ok_or(DavError::NotFound)?;
            if request.depth_one() {
                return Ok(list_calendar(dav.clone(), request, calendar, asked));
            }
            write(&mut out, &Resource::Calendar(&calendar));
        }
        DavPath::Object { calendar, object, .. } => {
            let calendar = dav.calendar(&request.principal, calendar).await?.ok_or(DavError::NotFound)?;
            let found = dav.objects_named(&calendar, &[object.as_str()]).await?;
            let object = found.first().ok_or(DavError::NotFound)?;
            write(
                &mut out,
                &Resource::Object { calendar: &calendar, reference: &object.reference, body: None },
            );
        }
    }
    out.end("d:multistatus");
    Ok(multistatus(out.finish()))
}

/// A calendar and every object in it, streamed as the rows arrive.
fn list_calendar(dav: Dav, request: &DavRequest<'_>, calendar: Calendar, asked: PropFind) -> DavResponse {
    let (principal, turn) = (request.principal.clone(), request.turn.clone());
    streamed_multistatus(move |mut chunks| async move {
        let _turn = turn;
        let responder = Responder::new(&principal.username);
        chunks.out.root("d:multistatus");
        write(&mut chunks.out, &responder, &asked, &Resource::Calendar(&calendar));
        let mut references = dav.store.calendar_objects_stream(calendar.user_id, calendar.id);
        while let Some(row) = references.next().await {
            match row {
                Ok(reference) => {
                    let reference = dav.masks.reference(&calendar, reference);
                    let resource =
                        Resource::Object { calendar: &calendar, reference: &reference, body: None };
                    write(&mut chunks.out, &responder, &asked, &resource);
                    if !chunks.flush_if_full().await {
                        return;
                    }
                }
                Err(e) => return chunks.fail(e.to_string()).await,
            }
        }
        chunks.out.end("d:multistatus");
        chunks.finish().await;
    })
}

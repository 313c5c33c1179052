//! PROPFIND: discovery (root → principal → home → calendars) and listing a calendar's
//! objects with their ETags, read as one narrow row per object.

use super::error::DavError;
use super::path::DavPath;
use super::props::{Resource, Responder};
use super::request::{propfind as parse, Prop, PropFind};
use super::xml::XmlOut;
use super::{multistatus, Dav, DavRequest, DavResponse};

pub async fn propfind(dav: &Dav, request: &DavRequest<'_>) -> Result<DavResponse, DavError> {
    let asked = parse(request.xml()?.as_ref())?;
    let responder = Responder::new(&request.principal.username);
    let mut out = XmlOut::default();
    out.root("d:multistatus");
    let write = |out: &mut XmlOut, resource: &Resource<'_>| {
        let (props, names_only) = match &asked {
            PropFind::All => (Prop::all(), false),
            PropFind::Names => (responder.names(resource), true),
            PropFind::Props(props) => (props.clone(), false),
        };
        responder.response(out, resource, &props, names_only);
    };
    match &request.path {
        DavPath::Root | DavPath::WellKnown => write(&mut out, &Resource::Root),
        DavPath::Principal { .. } => write(&mut out, &Resource::Principal),
        DavPath::Home { .. } => {
            write(&mut out, &Resource::Home);
            if request.depth_one() {
                for calendar in dav.store.calendars_of(request.principal.user).await? {
                    write(&mut out, &Resource::Calendar(&calendar));
                }
            }
        }
        DavPath::Calendar { calendar, .. } => {
            let calendar = dav.calendar(&request.principal, calendar).await?.ok_or(DavError::NotFound)?;
            write(&mut out, &Resource::Calendar(&calendar));
            if request.depth_one() {
                for reference in dav.store.calendar_objects(request.principal.user, calendar.id).await? {
                    write(
                        &mut out,
                        &Resource::Object { calendar: &calendar, reference: &reference, body: None },
                    );
                }
            }
        }
        DavPath::Object { calendar, object, .. } => {
            let calendar = dav.calendar(&request.principal, calendar).await?.ok_or(DavError::NotFound)?;
            let found =
                dav.store.objects_named(request.principal.user, calendar.id, &[object.as_str()]).await?;
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

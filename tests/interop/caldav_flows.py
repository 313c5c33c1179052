"""What a phone does with a CalDAV server, driven by python-caldav (a client nobody here
wrote) against Eventide. Run by tests/api/caldav_interop.rs, which makes the account and the
app password, and performs the web edits this script asks for on standard output
("WEB-EDIT uid", "WEB-DELETE uid"; it answers with a line on standard input).

Usage: caldav_flows.py URL USERNAME PASSWORD
"""

import sys
from datetime import datetime, timezone

import caldav
from caldav.lib import error

UTC = timezone.utc


def event(uid, summary, start, end, extra=""):
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//interop//EN\r\nBEGIN:VEVENT\r\n"
        f"UID:{uid}\r\nDTSTAMP:20260101T000000Z\r\nDTSTART{start}\r\nDTEND{end}\r\n"
        f"SUMMARY:{summary}\r\n{extra}END:VEVENT\r\nEND:VCALENDAR\r\n"
    )


PLAIN = event(
    "plain@interop", "Plain", ":20260605T090000Z", ":20260605T100000Z",
    "BEGIN:VALARM\r\nACTION:DISPLAY\r\nDESCRIPTION:Plain\r\nTRIGGER:-PT15M\r\nEND:VALARM\r\n",
)
ALL_DAY = event("allday@interop", "Holiday", ";VALUE=DATE:20260610", ";VALUE=DATE:20260612")
ZONED = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//interop//EN\r\n"
    "BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\nBEGIN:DAYLIGHT\r\nDTSTART:19700329T020000\r\n"
    "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nEND:DAYLIGHT\r\n"
    "BEGIN:STANDARD\r\nDTSTART:19701025T030000\r\nRRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\n"
    "TZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n"
    "BEGIN:VEVENT\r\nUID:zoned@interop\r\nDTSTAMP:20260101T000000Z\r\n"
    "DTSTART;TZID=Europe/Berlin:20260615T140000\r\nDTEND;TZID=Europe/Berlin:20260615T153000\r\n"
    "SUMMARY:Berlin meeting\r\nLOCATION:Alexanderplatz\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
)
SERIES = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//interop//EN\r\n"
    "BEGIN:VEVENT\r\nUID:series@interop\r\nDTSTAMP:20260101T000000Z\r\n"
    "DTSTART;TZID=Europe/Berlin:20260601T083000\r\nDTEND;TZID=Europe/Berlin:20260601T084500\r\n"
    "RRULE:FREQ=WEEKLY;BYDAY=MO,WE;COUNT=8\r\nSUMMARY:Standup\r\nEND:VEVENT\r\n"
    "BEGIN:VEVENT\r\nUID:series@interop\r\nDTSTAMP:20260101T000000Z\r\n"
    "RECURRENCE-ID;TZID=Europe/Berlin:20260603T083000\r\n"
    "DTSTART;TZID=Europe/Berlin:20260603T100000\r\nDTEND;TZID=Europe/Berlin:20260603T101500\r\n"
    "SUMMARY:Standup (moved)\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
)


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def uid_of(obj):
    return str(obj.icalendar_component["UID"])


def ask_web(request):
    """Has the test perform a web action, and waits until it has."""
    print(request, flush=True)
    answer = sys.stdin.readline().strip()
    check(answer == "done", f"the test answered {answer!r} to {request}")


def main(url, username, password):
    # Discovery from the root URL, as a phone set up with the server's address.
    client = caldav.DAVClient(url=url, username=username, password=password)
    principal = client.principal()
    calendars = principal.calendars()
    check([c.get_display_name() for c in calendars] == ["Personal"], f"calendars: {calendars}")

    calendar = principal.make_calendar(name="Interop", cal_id="interop-calendar")
    names = sorted(c.get_display_name() for c in principal.calendars())
    check(names == ["Interop", "Personal"], f"after MKCALENDAR: {names}")

    for ics in (PLAIN, ALL_DAY, ZONED, SERIES):
        calendar.save_event(ics)

    # A month's query: every event with an occurrence in June.
    june = calendar.search(
        start=datetime(2026, 6, 1, tzinfo=UTC), end=datetime(2026, 7, 1, tzinfo=UTC), event=True
    )
    uids = sorted(uid_of(o) for o in june)
    check(uids == ["allday@interop", "plain@interop", "series@interop", "zoned@interop"], f"June: {uids}")
    july = calendar.search(start=datetime(2026, 7, 1, tzinfo=UTC), end=datetime(2026, 8, 1, tzinfo=UTC), event=True)
    check([uid_of(o) for o in july] == [], f"July: {[uid_of(o) for o in july]}")
    # Expanded by the server: each occurrence of the first week on its own.
    week = calendar.search(
        start=datetime(2026, 6, 1, tzinfo=UTC), end=datetime(2026, 6, 4, tzinfo=UTC), event=True,
        server_expand=True,
    )
    summaries = sorted(str(o.icalendar_component["SUMMARY"]) for o in week if uid_of(o) == "series@interop")
    check(summaries == ["Standup", "Standup (moved)"], f"expanded: {summaries}")

    # Multiget: the bodies of what the query found.
    loaded = calendar.multiget([o.url for o in june])
    bodies = {uid_of(o): o.data for o in loaded}
    check("RRULE:FREQ=WEEKLY" in bodies["series@interop"], bodies["series@interop"])
    check("RECURRENCE-ID" in bodies["series@interop"], "the edited occurrence is in its series' resource")
    check("DTSTART;VALUE=DATE:20260610" in bodies["allday@interop"], bodies["allday@interop"])
    # The phone's alarm came back as a reminder of the event's, once.
    plain = bodies["plain@interop"]
    check(plain.count("BEGIN:VALARM") == 1 and "TRIGGER:-PT15M" in plain, plain)
    check("TZID=Europe/Berlin:20260615T140000" in bodies["zoned@interop"], bodies["zoned@interop"])

    # Sync: initial, nothing new, after a web edit, after a web delete.
    synced = calendar.objects_by_sync_token(load_objects=True, disable_fallback=True)
    check(len(synced) == 4, f"initial sync: {len(synced)}")
    updated, deleted = synced.sync()
    check(len(updated) == 0 and len(deleted) == 0, f"no change: {updated} {deleted}")

    ask_web("WEB-EDIT plain@interop")
    updated, deleted = synced.sync()
    check([uid_of(o) for o in updated] == ["plain@interop"] and not deleted, f"web edit: {updated} {deleted}")
    check("Edited on the web" in next(iter(updated)).data, "the edit's new title")

    ask_web("WEB-DELETE allday@interop")
    updated, deleted = synced.sync()
    check(not updated and len(deleted) == 1, f"web delete: {updated} {deleted}")
    check(len(synced) == 3, f"left after the delete: {len(synced)}")

    # A token the server never gave is refused (403 valid-sync-token), not answered short.
    try:
        calendar.objects_by_sync_token(sync_token="https://eventide.invalid/ns/sync/1/999999", disable_fallback=True)
        check(False, "an unknown token was accepted")
    except error.AuthorizationError as e:
        check("{DAV:}valid-sync-token" in e.preconditions, f"unknown token: {e!r} {e.preconditions}")

    # A change from the client, then deletes of an event and of the calendar.
    zoned = calendar.event_by_uid("zoned@interop")
    zoned.icalendar_component["SUMMARY"] = "Berlin meeting (moved)"
    zoned.save()
    check("Berlin meeting (moved)" in calendar.event_by_uid("zoned@interop").data, "saved from the client")
    ask_web("WEB-CHECK Berlin meeting (moved)")
    calendar.event_by_uid("plain@interop").delete()
    updated, deleted = synced.sync()
    check(len(deleted) == 1 and len(updated) == 1, f"after client changes: {updated} {deleted}")
    calendar.delete()
    names = [c.get_display_name() for c in principal.calendars()]
    check(names == ["Personal"], f"after deleting the calendar: {names}")
    print("DONE", flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:4])

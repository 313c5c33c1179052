"""Calendars shared with the user, as a phone sees them through python-caldav: all three in
the calendar home named after their owner, the privileges the client reads, a read share that
refuses a write, a write share that takes one, and a busy-only share whose events are times
alone (also after a sync that reports a deletion). Run by tests/api/caldav_interop.rs.

Usage: caldav_shares.py URL USERNAME PASSWORD MARKER
"""

import sys
from datetime import datetime, timezone

import caldav
from caldav.elements import dav
from caldav.lib import error

UTC = timezone.utc
JUNE = dict(start=datetime(2026, 6, 1, tzinfo=UTC), end=datetime(2026, 7, 1, tzinfo=UTC), event=True)
NEW = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//interop//EN\r\nBEGIN:VEVENT\r\n"
    "UID:from-ben@interop\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20260612T090000Z\r\n"
    "DTEND:20260612T100000Z\r\nSUMMARY:From the phone of Ben\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
)


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def privileges(calendar):
    response = calendar.get_properties([dav.CurrentUserPrivilegeSet()], parse_response_xml=False)
    return response.raw if isinstance(response.raw, str) else response.raw.decode()


def ask_web(request):
    print(request, flush=True)
    answer = sys.stdin.readline().strip()
    check(answer == "done", f"the test answered {answer!r} to {request}")


def main(url, username, password, marker):
    client = caldav.DAVClient(url=url, username=username, password=password)
    calendars = {c.get_display_name(): c for c in client.principal().calendars()}
    expected = {"Personal", "Personal (amy)", "Work (amy)", "Diary (amy)"}
    check(set(calendars) == expected, f"the home: {sorted(calendars)}")
    read, write, busy = calendars["Personal (amy)"], calendars["Work (amy)"], calendars["Diary (amy)"]

    check("write-content" not in privileges(read), privileges(read))
    check("write-content" in privileges(write), privileges(write))
    check("write-content" not in privileges(busy), privileges(busy))

    found = read.search(**JUNE)
    check([str(o.icalendar_component["SUMMARY"]) for o in found] == [marker], f"read share: {found}")
    try:
        read.save_event(NEW)
        check(False, "a read share took a write")
    except error.AuthorizationError as e:
        check("{DAV:}need-privileges" in e.preconditions, f"read share refused with {e!r} {e.preconditions}")

    write.save_event(NEW)
    check(any("From the phone of Ben" in o.data for o in write.search(**JUNE)), "the write share took it")
    ask_web("WEB-CHECK From the phone of Ben")

    found = busy.search(**JUNE)
    check(len(found) == 1, f"busy share: {found}")
    body = busy.multiget([o.url for o in found])
    data = "".join(o.data for o in body)
    check("SUMMARY:Busy" in data and marker not in data, data)
    synced = busy.objects_by_sync_token(load_objects=True, disable_fallback=True)
    check(len(synced) == 1 and all(marker not in o.data for o in synced), "busy sync")
    ask_web("WEB-DELETE-BUSY")
    updated, deleted = synced.sync()
    check(not updated and len(deleted) == 1, f"busy sync after a delete: {updated} {deleted}")
    print("DONE", flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:5])

"""A real SMTP server for the mail tests (aiosmtpd): every accepted message is written to
DIR as TIME-N.eml, whole, as it arrived, and beside it as TIME-N.json, read by Python's email
package (headers, the text and HTML parts decoded, attachments) for the tests to check. A recipient whose local part starts with "refused"
gets a permanent 550 (no such mailbox); one starting with "busy" a transient 451.

usage: smtp_sink.py PORT DIR     (prints "ready" once it listens; stops when stdin closes)
"""
import email
import email.policy
import itertools
import json
import os
import sys
import time

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, directory):
        self.directory = directory
        self.counter = itertools.count(1)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split("@", 1)[0].lower()
        if local.startswith("refused"):
            return "550 5.1.1 No such mailbox here"
        if local.startswith("busy"):
            return "451 4.3.0 Try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content or envelope.content
        # Named by arrival: a restarted server adds to what an earlier one kept.
        stem = os.path.join(self.directory, "%020d-%04d" % (time.time_ns(), next(self.counter)))
        with open(stem + ".eml", "wb") as out:
            out.write(raw)
        summary = read(raw)
        summary["envelope_to"] = list(envelope.rcpt_tos)
        with open(stem + ".part", "w") as out:
            json.dump(summary, out)
        os.rename(stem + ".part", stem + ".json")
        return "250 Message accepted"


def read(raw):
    message = email.message_from_bytes(raw, policy=email.policy.default)
    headers = {}
    for name, value in message.items():
        headers.setdefault(name.lower(), []).append(str(value))
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    attachments = [
        {
            "filename": part.get_filename(),
            "content_type": part.get_content_type(),
            "content": part.get_content() if part.get_content_maintype() == "text" else "",
        }
        for part in message.iter_attachments()
    ]
    return {
        "headers": headers,
        "text": text.get_content() if text else None,
        "html": html.get_content() if html else None,
        "attachments": attachments,
    }


def main():
    port, directory = int(sys.argv[1]), sys.argv[2]
    os.makedirs(directory, exist_ok=True)
    controller = Controller(Sink(directory), hostname="127.0.0.1", port=port)
    controller.start()
    print("ready", flush=True)
    try:
        sys.stdin.read()
    finally:
        controller.stop()


if __name__ == "__main__":
    main()

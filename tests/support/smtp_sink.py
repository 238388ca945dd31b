#!/usr/bin/env python3
"""A real SMTP server for Kansli's tests: aiosmtpd on loopback.

Every accepted message is written to DIR as N.eml (the raw bytes) and N.json (the envelope and
the decoded parts, read back with Python's own email package: an independent MIME parser), and
each attachment's decoded content as N-K.bin.
Recipients whose local part starts with "avvisa" are refused with 550 (permanent), those
starting with "vanta" with 450 (transient). Prints "ready" once it listens.

    python3 smtp_sink.py PORT DIR
"""
import asyncio
import email
import email.policy
import json
import os
import sys

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, directory):
        self.directory = directory
        self.count = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split("@", 1)[0].lower()
        if local.startswith("avvisa"):
            return "550 5.1.1 Mailbox unavailable"
        if local.startswith("vanta"):
            return "450 4.2.1 Mailbox busy, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        raw = envelope.original_content or envelope.content
        stem = os.path.join(self.directory, f"{self.count:05d}")
        message = email.message_from_bytes(raw, policy=email.policy.default)
        text = message.get_body(preferencelist=("plain",))
        html = message.get_body(preferencelist=("html",))
        summary = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "message_id": message["Message-ID"],
            "from": message["From"],
            "to": message["To"],
            "reply_to": message["Reply-To"],
            "subject": message["Subject"],
            "text": text.get_content() if text else None,
            "html": html.get_content() if html else None,
            "attachments": [],
        }
        for i, part in enumerate(message.iter_attachments()):
            content = part.get_payload(decode=True) or b""
            path = f"{stem}-{i}.bin"
            with open(path, "wb") as f:
                f.write(content)
            summary["attachments"].append({
                "filename": part.get_filename(),
                "content_type": part.get_content_type(),
                "size": len(content),
                "path": path,
            })
        with open(stem + ".eml", "wb") as f:
            f.write(raw)
        with open(stem + ".json.tmp", "w", encoding="utf-8") as f:
            json.dump(summary, f, ensure_ascii=False)
        os.replace(stem + ".json.tmp", stem + ".json")
        return "250 Message accepted for delivery"


def main():
    port, directory = int(sys.argv[1]), sys.argv[2]
    os.makedirs(directory, exist_ok=True)
    controller = Controller(Sink(directory), hostname="127.0.0.1", port=port)
    controller.start()
    print("ready", flush=True)
    try:
        asyncio.get_event_loop().run_forever()
    except KeyboardInterrupt:
        pass
    finally:
        controller.stop()


if __name__ == "__main__":
    main()

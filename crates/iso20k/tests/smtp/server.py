"""A real SMTP server for the tests: aiosmtpd on 127.0.0.1:PORT, writing each message it
receives into FOLDER as JSON (envelope, headers and the body as a MIME parser decodes it).
Prints `ready` once it listens, and stops when its standard input closes.

usage: python3 server.py FOLDER PORT
"""

import email
import email.policy
import json
import os
import sys
import time

from aiosmtpd.controller import Controller


class Keep:
    def __init__(self, folder):
        self.folder = folder

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        body = message.get_body(preferencelist=("plain",))
        kept = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "from": str(message["From"]),
            "to": str(message["To"]),
            "subject": str(message["Subject"]),
            "content_type": message.get_content_type(),
            "body": body.get_content() if body is not None else "",
        }
        name = os.path.join(self.folder, f"{time.time_ns()}.json")
        with open(name + ".part", "w", encoding="utf-8") as f:
            json.dump(kept, f)
        os.rename(name + ".part", name)
        return "250 Message accepted"


def main():
    folder, port = sys.argv[1], int(sys.argv[2])
    controller = Controller(Keep(folder), hostname="127.0.0.1", port=port)
    controller.start()
    print("ready", flush=True)
    sys.stdin.read()
    controller.stop()


if __name__ == "__main__":
    main()

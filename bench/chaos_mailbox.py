"""The chaos bench's mail server: each message takes a moment to send (as over a network),
then one line with its Message-ID is appended to the file CHAOS_MAILBOX names. A worker
killed in the middle of that moment has not delivered the message."""

import json
import os
import time

from django.core.mail.backends.base import BaseEmailBackend

SEND_SECONDS = float(os.environ.get("CHAOS_SEND_SECONDS", "0.05"))


class SlowMailbox(BaseEmailBackend):
    def send_messages(self, messages):
        for message in messages:
            time.sleep(SEND_SECONDS)
            line = json.dumps({"message_id": message.extra_headers.get("Message-ID", "")})
            # One short write with O_APPEND: whole lines, whatever the processes.
            fd = os.open(os.environ["CHAOS_MAILBOX"], os.O_WRONLY | os.O_APPEND | os.O_CREAT)
            try:
                os.write(fd, (line + "\n").encode())
            finally:
                os.close(fd)
        return len(messages)

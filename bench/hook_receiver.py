"""A clinic's webhook receiver for the benches: an HTTP server on 127.0.0.1 in a thread.

Each POST is written down (its `webhook-id`, its payload and the moment it arrived), its
signature checked with the Standard Webhooks reference code when a secret is set (a bad
one is counted and answered 400), then answered 200 after `delay` seconds: a receiver
doing its work. A sender killed during that moment has posted without knowing that it
arrived."""

import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks import Webhook, WebhookVerificationError


@dataclass(frozen=True)
class Post:
    webhook_id: str
    payload: dict
    arrived: float  # time.time()


class Receiver:
    def __init__(self, *, delay: float = 0.0, secret: str = ""):
        self.delay = delay
        self.secret = secret
        self.lock = threading.Lock()
        self.posts: list[Post] = []
        self.bad_signatures = 0
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def take(self, body: bytes, headers: dict[str, str]) -> bool:
        arrived = time.time()
        if self.secret:
            try:
                payload = Webhook(self.secret).verify(body, headers)
            except WebhookVerificationError:
                with self.lock:
                    self.bad_signatures += 1
                return False
        else:
            payload = json.loads(body)
        with self.lock:
            self.posts.append(Post(headers["webhook-id"], payload, arrived))
        return True

    def count(self) -> int:
        with self.lock:
            return len(self.posts)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _handler(receiver: Receiver):
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            headers = {name.lower(): value for name, value in self.headers.items()}
            ok = receiver.take(body, headers)
            if ok and receiver.delay:
                time.sleep(receiver.delay)
            self.send_response(200 if ok else 400)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    return Handler

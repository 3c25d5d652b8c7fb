"""A real HTTP receiver of callbacks on a loopback port of its own (port 0), for the callback
benchmark and the tests: ``/ok`` answers 204, ``/hang`` never answers (until closed),
``/fail-once`` answers 500 to a webhook-id's first delivery and 204 after, ``/hang-once``
hangs on a webhook-id's first delivery and answers 204 after."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Delivery:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float  # time.monotonic() when read in full


class Receiver:
    def __init__(self, host: str = "127.0.0.1") -> None:
        self.deliveries: list[Delivery] = []
        self.lock = threading.Lock()
        self.released = threading.Event()
        self.open = 0  # requests being answered
        self.most_open = 0
        self.hanging = 0  # requests held by /hang or /hang-once now
        self.seen: set[str] = set()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                receiver.handle(self)

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True
            request_queue_size = 256

        self.server = Server((host, 0), Handler)
        self.base = f"http://{host}:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, path: str) -> str:
        return f"{self.base}{path}"

    def handle(self, handler: BaseHTTPRequestHandler) -> None:
        body = handler.rfile.read(int(handler.headers.get("Content-Length", 0)))
        headers = {name.lower(): value for name, value in handler.headers.items()}
        path = handler.path
        first = False
        with self.lock:
            self.deliveries.append(Delivery(path, headers, body, time.monotonic()))
            self.open += 1
            self.most_open = max(self.most_open, self.open)
            webhook_id = headers.get("webhook-id", "")
            first = webhook_id not in self.seen
            self.seen.add(webhook_id)
        try:
            if path == "/hang" or (path == "/hang-once" and first):
                with self.lock:
                    self.hanging += 1
                try:
                    self.released.wait(120)
                finally:
                    with self.lock:
                        self.hanging -= 1
                return
            status = 500 if path == "/fail-once" and first else 204
            handler.send_response(status)
            handler.send_header("Content-Length", "0")
            handler.end_headers()
        finally:
            with self.lock:
                self.open -= 1

    def to(self, path: str) -> list[Delivery]:
        with self.lock:
            return [d for d in self.deliveries if d.path == path]

    def close(self) -> None:
        self.released.set()
        self.server.shutdown()
        self.server.server_close()

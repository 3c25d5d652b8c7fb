"""Callbacks to real loopback receivers: a slow or silent receiver delays no other."""

from __future__ import annotations

import socketserver
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from grader.service.callbacks import CallbackSender, sign
from grader.storage.store import Store

SECRET = "callback-secret-0123456789"
BODY = b'{"passed": true}'


class Receiver:
    """An HTTP receiver on its own loopback address, which answers as ``mode`` says:
    "healthy" at once with 204, "silent" never, "trickle" a byte every 0.2 s, forever."""

    def __init__(self, host: str, mode: str) -> None:
        self.mode = mode
        self.stop = threading.Event()
        self.arrived: list[float] = []  # when each request was read in full
        self.bodies: list[tuple[dict[str, str], bytes]] = []
        self.open = 0
        self.most_open = 0
        lock = threading.Lock()
        receiver = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                with lock:
                    receiver.open += 1
                    receiver.most_open = max(receiver.most_open, receiver.open)
                try:
                    receiver.answer(self)
                finally:
                    with lock:
                        receiver.open -= 1

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True

        self.server = Server((host, 0), Handler)
        self.url = f"http://{host}:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def answer(self, handler: socketserver.StreamRequestHandler) -> None:
        headers: dict[str, str] = {}
        line = handler.rfile.readline()
        while line not in (b"\r\n", b""):
            line = handler.rfile.readline()
            name, _, value = line.decode().partition(":")
            headers[name.strip().lower()] = value.strip()
        body = handler.rfile.read(int(headers.get("content-length", 0)))
        self.bodies.append((headers, body))
        self.arrived.append(time.monotonic())
        if self.mode == "healthy":
            handler.wfile.write(b"HTTP/1.1 204 No Content\r\n\r\n")
        elif self.mode == "silent":
            self.stop.wait(60)
        else:
            answer = b"HTTP/1.1 200 OK\r\n" + b"X-Slow: yes\r\n" * 1000
            for byte in answer:
                if self.stop.wait(0.2):
                    return
                handler.wfile.write(bytes([byte]))
                handler.wfile.flush()

    def close(self) -> None:
        self.stop.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receivers() -> Iterator[dict[str, Receiver]]:
    made = {"healthy": Receiver("127.0.0.1", "healthy"),
            "silent": Receiver("127.0.0.2", "silent"),
            "trickle": Receiver("127.0.0.3", "trickle")}
    yield made
    for receiver in made.values():
        receiver.close()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    store = Store(f"sqlite:///{tmp_path / 'grader.db'}")
    yield store
    store.close()


def submission(store: Store, url: str) -> str:
    row, _ = store.create(exercise_id="conv2d", source="x", seed=1, scope="s", callback_url=url)
    return row.id


def wait_for(condition, seconds: float) -> bool:  # type: ignore[no-untyped-def]
    end = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > end:
            return False
        time.sleep(0.02)
    return True


def test_a_healthy_receiver_is_not_held_up_by_silent_and_slow_ones(
        store: Store, receivers: dict[str, Receiver]) -> None:
    sender = CallbackSender(store, SECRET, attempts=3)
    try:
        for _ in range(4):
            for bad in ("silent", "trickle"):
                url = receivers[bad].url
                sender.schedule(submission(store, url), url, BODY)
        assert wait_for(lambda: receivers["silent"].arrived and receivers["trickle"].arrived, 5)
        healthy = receivers["healthy"]
        scheduled = time.monotonic()
        submission_id = submission(store, healthy.url)
        sender.schedule(submission_id, healthy.url, BODY)
        assert wait_for(lambda: healthy.arrived, 2), "the healthy receiver got nothing in 2 s"
        assert healthy.arrived[0] - scheduled < 2
        headers, body = healthy.bodies[0]
        assert body == BODY and headers["x-grader-signature"] == sign(SECRET, BODY)
        assert headers["x-grader-submission"] == submission_id
        assert wait_for(lambda: store.callbacks(submission_id), 2)
        attempt = store.callbacks(submission_id)[0]
        assert (attempt.attempt, attempt.status_code, attempt.delivered) == (1, 204, True)
        assert receivers["silent"].most_open == receivers["trickle"].most_open == 2
    finally:
        sender.close()


def test_at_most_two_deliveries_to_one_host_are_in_flight(
        store: Store, receivers: dict[str, Receiver]) -> None:
    silent = receivers["silent"]
    sender = CallbackSender(store, SECRET, attempts=1)
    try:
        for _ in range(6):
            sender.schedule(submission(store, silent.url), silent.url, BODY)
        assert wait_for(lambda: len(silent.arrived) >= 2, 5)
        time.sleep(1)
        assert silent.most_open == 2 and len(silent.arrived) == 2
    finally:
        sender.close()


@pytest.mark.parametrize("mode", ["silent", "trickle"])
def test_a_delivery_has_one_deadline_for_the_whole_answer(
        store: Store, receivers: dict[str, Receiver], mode: str) -> None:
    receiver = receivers[mode]
    sender = CallbackSender(store, SECRET, attempts=2, first_delay=0.1, deadline=1.0)
    try:
        submission_id = submission(store, receiver.url)
        started = time.monotonic()
        sender.schedule(submission_id, receiver.url, BODY)
        assert wait_for(lambda: len(store.callbacks(submission_id)) == 2, 5)
        assert time.monotonic() - started < 4
        attempts = store.callbacks(submission_id)
        assert [(a.attempt, a.status_code, a.delivered) for a in attempts] == \
            [(1, None, False), (2, None, False)]
        assert all("no complete answer within 1 s" in (a.error or "") for a in attempts)
    finally:
        sender.close()


def test_closing_does_not_wait_for_a_silent_receiver(
        store: Store, receivers: dict[str, Receiver]) -> None:
    silent = receivers["silent"]
    sender = CallbackSender(store, SECRET, attempts=1)
    sender.schedule(submission(store, silent.url), silent.url, BODY)
    assert wait_for(lambda: silent.arrived, 5)
    started = time.monotonic()
    sender.close()
    assert time.monotonic() - started < 2

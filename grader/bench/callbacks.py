"""Callbacks to one host, measured: ``count`` reports stored in a burst, each with a callback
to one healthy receiver, while two callbacks to another URL on the same host hang.

    python -m grader.bench.callbacks [--count 300] [--database URL] [--senders 2]

The receiver is a real HTTP server on a loopback port (``grader.bench.receiver``); the
senders are ``CallbackSender``s as embedded mode and the workers run them (on PostgreSQL each
listens for notifications and they share the host's places). Printed: how long after the last
report the last callback arrived, the rate, repeats, and whether the hanging ones still hung.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import os
import tempfile
import time
from collections.abc import Iterator

from grader.bench.queue import scratch_database
from grader.bench.receiver import Receiver
from grader.grading.report import Report
from grader.service.callbacks import CallbackSender
from grader.service.destinations import loopback
from grader.storage.callbacks import queue_callback
from grader.storage.jobs import conninfo
from grader.storage.store import Store

SECRET = "whsec_" + base64.b64encode(os.urandom(32)).decode()
REPORT = Report(exercise_id="conv2d", passed=True, score=4, max_score=4, seed=1,
                duration_ms=1.0, cases=[]).model_dump_json()


@contextlib.contextmanager
def database(url: str | None) -> Iterator[str]:
    """A scratch database: SQLite in a temporary folder, or a new one on ``url``'s server."""
    if url is None:
        with tempfile.TemporaryDirectory(prefix="grader-bench-") as folder:
            yield f"sqlite:///{folder}/grader.db"
    else:
        with scratch_database(url) as scratch:
            yield scratch


def store_graded(store: Store, url: str, learner: str) -> None:
    row, _ = store.create(exercise_id="conv2d", source="x", seed=1, scope="bench",
                          learner_id=learner, callback_url=url)
    store.save_report(row.id, REPORT, after=lambda c: queue_callback(c, row.id))


def wait_for(condition, seconds: float) -> bool:  # type: ignore[no-untyped-def]
    end = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > end:
            return False
        time.sleep(0.01)
    return True


def run(count: int, url: str, senders: int, per_host: int) -> list[str]:
    store = Store(url)
    listen = conninfo(url) if url.startswith("postgresql") else None
    receiver = Receiver()
    running = [CallbackSender(store, SECRET, attempts=5, per_host=per_host, timeout=120,
                              listen=listen, reach=loopback()) for _ in range(senders)]
    try:
        for sender in running:
            sender.start()
        for i in range(2):
            store_graded(store, receiver.url("/hang"), f"hanging-{i}")
            for sender in running:
                sender.wake()
        wait_for(lambda: receiver.hanging == 2, 30)
        first = time.monotonic()
        for i in range(count):
            store_graded(store, receiver.url("/ok"), f"learner-{i}")
            running[i % senders].wake()  # as the process that stored it does
        last_report = time.monotonic()
        arrived = wait_for(lambda: len({d.headers["webhook-id"]
                                        for d in receiver.to("/ok")}) >= count, 300)
        received = receiver.to("/ok")
        last = max(d.at for d in received) if received else float("nan")
        unique = len({d.headers["webhook-id"] for d in received})
        return [
            f"callbacks to one host: {count} stored in {last_report - first:.2f} s "
            f"({'SQLite' if listen is None else 'PostgreSQL'}, {senders} sender(s), "
            f"{per_host} places per host)",
            f"    all {count} arrived: {arrived}; {unique} distinct, "
            f"{len(received) - unique} repeats",
            f"    last callback {last - last_report:.2f} s after the last report, "
            f"{last - first:.2f} s after the first ({unique / (last - first):.0f} per s)",
            f"    two callbacks to a hanging URL on the same host still hanging: "
            f"{receiver.hanging == 2}; most requests open at once: {receiver.most_open}"]
    finally:
        for sender in running:
            sender.close()
        receiver.close()
        store.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m grader.bench.callbacks",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument("--database", default=None,
                        help="a PostgreSQL URL whose server gets a scratch database; "
                        "default: SQLite in a temporary folder")
    parser.add_argument("--senders", type=int, default=1)
    parser.add_argument("--per-host", type=int, default=8)
    args = parser.parse_args(argv)
    with database(args.database) as url:
        for line in run(args.count, url, args.senders, args.per_host):
            print(line, flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

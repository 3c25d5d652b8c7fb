"""The distributed mode's row of the benchmark: one API process and two workers on PostgreSQL,
against embedded mode (one ``grader serve`` process on SQLite) on the same CPUs, in one run.

Both grade the same synchronous POSTs over real HTTP, with the same number of grading places
(two: the embedded server's slots; one per worker). Rows alternate (embedded, distributed) at
each client count, so that a slow moment of the machine falls on both. The figures: each
one's throughput and latency, the distributed throughput as a share of embedded, and what the
queue adds to the latency at p50 and p99; and the CPU time one graded submission costs each
mode, by process group (``grader.bench.groups``), with the ratio of the totals.
"""

from __future__ import annotations

import contextlib
import tempfile
import time
import uuid
from collections.abc import Iterator

import psycopg
from sqlalchemy.engine import make_url

from grader.bench.groups import (
    Backends,
    cpu_lines,
    per_submission,
    snapshot,
    transactions_per_submission,
)
from grader.bench.http import base_env, poster, start, stop
from grader.bench.measure import Figures, free_port, measure


@contextlib.contextmanager
def scratch_database(url: str) -> Iterator[str]:
    """A new, empty database on the server of ``url``, dropped afterwards."""
    admin = make_url(url)
    name = f"grader_bench_{uuid.uuid4().hex[:12]}"
    libpq = admin.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(libpq, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield admin.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(libpq, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def compare(embedded: Figures, distributed: Figures) -> str:
    share = distributed.rate / embedded.rate
    added50 = distributed.percentile(0.5) - embedded.percentile(0.5)
    added99 = distributed.percentile(0.99) - embedded.percentile(0.99)
    return (f"    distributed/embedded with {embedded.clients:>2} clients: throughput "
            f"{share:6.1%}, the queue adds {added50:+.2f} ms at p50 and {added99:+.2f} ms "
            f"at p99")


def queue_rows(source: str, count: int, clients: int, database: str) -> list[str]:
    out: list[str] = []
    with tempfile.TemporaryDirectory(prefix="grader-bench-") as data, \
            scratch_database(database) as url:
        env = base_env(data)
        embedded_port, api_port = free_port(), free_port()
        embedded = start(["serve", "--port", str(embedded_port)],
                         {**env, "GRADER_SLOTS": "2"}, f"http://127.0.0.1:{embedded_port}/readyz")
        processes = [embedded]
        backends = None
        try:
            queue_env = {**env, "GRADER_QUEUE": "procrastinate", "GRADER_DATABASE_URL": url,
                         "GRADER_HIDDEN_SECRET": uuid.uuid4().hex + uuid.uuid4().hex,
                         "GRADER_WORKER_CONCURRENCY": "1", "GRADER_LEARNER_LIMIT": "1000"}
            migrated = start(["migrate"], queue_env, None)
            assert migrated.wait(timeout=120) == 0, "grader migrate failed"
            workers = []
            for _ in range(2):
                health = free_port()
                workers.append(start(["worker", "--health-port", str(health)], queue_env,
                                     f"http://127.0.0.1:{health}/healthz"))
            api = start(["serve", "--port", str(api_port)], queue_env,
                        f"http://127.0.0.1:{api_port}/readyz")
            processes += [*workers, api]
            backends = Backends(url)
            alone = {"server": [embedded.pid]}
            queued = {"API": [api.pid], "workers": [w.pid for w in workers]}
            one_embedded, one_queued = poster(embedded_port, source), poster(api_port, source)
            for _ in range(20):  # warm both
                one_embedded(0)
                one_queued(0)
            for n in sorted({1, 8, clients}):
                before = snapshot(alone, None)
                a = measure("(f) embedded: serve on SQLite", n, count, one_embedded)
                time.sleep(0.3)  # the last children reaped
                cost_a = per_submission(before, snapshot(alone, None), count)
                before = snapshot(queued, backends)
                b = measure("(f) distributed: 1 API + 2 workers", n, count, one_queued)
                time.sleep(1.0)  # the last children reaped, the backends' counts reported
                after = snapshot(queued, backends)
                cost_b = per_submission(before, after, count)
                out += [a.line(), b.line(), compare(a, b),
                        *cpu_lines(n, cost_a, cost_b,
                                   transactions_per_submission(before, after, count))]
        finally:
            if backends is not None:
                backends.close()
            for process in reversed(processes):
                stop(process)
    return out

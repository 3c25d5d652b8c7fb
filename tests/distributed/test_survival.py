"""Workers that keep working: through learners racing for their locks, through a database that
drops their connections or refuses them for a while, and through SIGTERM under load."""

from __future__ import annotations

import random
import re
import signal
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.conftest import Server
from tests.distributed.conftest import CORRECT, FLIPPED, OTHER, PLATFORM, SLOW, submit, wait_done

pytestmark = pytest.mark.processes


def graded_lines(logs: str) -> Counter[str]:
    return Counter(re.findall(r"grader\.service\.attempt: graded ([0-9a-f]{32}) ", logs))


def until(condition: Callable[[], object], seconds: float, what: str) -> None:
    """Poll ``condition`` until it holds (a generous bound: this says nothing of speed)."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if condition():
            return
        time.sleep(0.25)
    raise AssertionError(f"not within {seconds} s: {what}")


def health(server: Server) -> tuple[int, dict]:
    try:
        answer = httpx.get(f"{server.url}/healthz", timeout=30)
    except httpx.HTTPError:
        return 0, {}
    return answer.status_code, answer.json()


def alive(servers: list[Server]) -> list[int | None]:
    return [s.process.poll() if s.process else -1 for s in servers]


def test_learners_flooding_resubmissions_crash_no_worker(make_cluster) -> None:
    cluster = make_cluster()
    assert cluster.migrate().returncode == 0
    apis = [cluster.api(), cluster.api()]
    for _ in range(2):
        cluster.worker(concurrency=2)
    # 6 learners over 2 tokens, 30 resubmissions each, 12 connections at once. A learner sends
    # a few at once, then waits for one to be graded (so the token's backlog falls and rises
    # while fetches run): a learner's next job then often ranks above its earlier one, whose
    # priority followed a longer backlog.
    rng = random.Random(7)
    pauses = [[rng.random() / 10 for _ in range(30)] for _ in range(6)]

    def learner(number: int) -> list[str]:
        ids = []
        for n in range(30):
            response = submit(apis[(number + n) % 2], FLIPPED if n % 3 == 0 else CORRECT,
                              wait=n % 6 == 5, token=PLATFORM if number % 2 else OTHER,
                              learner_id=f"flooder-{number}")
            assert response.status_code in (200, 202), response.text
            ids.append(str(response.json()["id"]))
            time.sleep(pauses[number][n])
        return ids

    with ThreadPoolExecutor(6) as pool:
        ids = [i for some in pool.map(learner, range(6)) for i in some]
    done = wait_done(apis[0], ids, seconds=600)
    assert alive(cluster.workers) == [None, None], cluster.explain()
    assert all(body["status"] == "done" for body in done.values())
    assert cluster.database.sql(
        "SELECT attempts, count(*) FROM submissions GROUP BY attempts") == [(1, 180)]
    writes = graded_lines(cluster.worker_logs())
    assert len(writes) == 180 and set(writes.values()) == {1}
    assert "Traceback" not in cluster.worker_logs(), cluster.explain()


def _terminate_backends(cluster) -> int:  # type: ignore[no-untyped-def]
    return int(cluster.database.sql(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
        "WHERE datname = current_database() AND pid <> pg_backend_pid()")[0][0])


def test_workers_outlive_dropped_and_refused_database_connections(make_cluster) -> None:
    cluster = make_cluster()
    assert cluster.migrate().returncode == 0
    api = cluster.api()
    workers = [cluster.worker(), cluster.worker()]
    assert submit(api).json()["status"] == "done"
    name = cluster.database.name
    with httpx.Client(timeout=30):
        # first: every connection dropped at once
        assert _terminate_backends(cluster) >= 4
        ids = [submit(api, wait=False, learner_id=f"a{i}").json()["id"] for i in range(4)]
        wait_done(api, ids, seconds=300)
        # then: dropped, and no new connection allowed for a while (a database that restarts)
        cluster.database.admin_sql(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        try:
            _terminate_backends_from_admin(cluster, name)
            for worker in workers:
                until(lambda w=worker: health(w)[0] == 503 and "queue" in health(w)[1]
                      and health(w)[1]["queue"] != "ok", 120, "a 503 naming the queue")
            time.sleep(15)  # procrastinate would have stopped its workers by now
            assert alive(workers) == [None, None], cluster.explain()
            code, body = health(workers[0])
            assert code == 503 and body["ok"] is False, body
        finally:
            cluster.database.admin_sql(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
    for worker in workers:
        until(lambda w=worker: health(w)[0] == 200, 300, "healthy again")
    ids = [submit(api, wait=False, learner_id=f"b{i}").json()["id"] for i in range(6)]
    done = wait_done(api, ids, seconds=300)
    assert all(body["report"]["passed"] for body in done.values())
    assert alive(workers) == [None, None], cluster.explain()
    logs = [w.read_log(tail=None) for w in workers]
    assert all("the database answers again" in log for log in logs), cluster.explain()


def _terminate_backends_from_admin(cluster, name: str) -> None:  # type: ignore[no-untyped-def]
    cluster.database.admin_sql(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", name)


def test_sigterm_finishes_the_jobs_under_way_and_starts_none(make_cluster) -> None:
    cluster = make_cluster()
    assert cluster.migrate().returncode == 0
    api = cluster.api()
    # every job queued before the worker starts: on a busy machine, posting them while it
    # ran could take as long as it takes to grade them all (each about 3 s, one at a time)
    ids = [submit(api, SLOW, wait=False, learner_id=f"s{i}").json()["id"] for i in range(8)]
    worker = cluster.worker(concurrency=1)
    until(lambda: cluster.database.sql(
        "SELECT count(*) FROM submissions WHERE attempts > 0")[0][0] >= 1, 300, "a job started")
    assert worker.process is not None
    worker.process.send_signal(signal.SIGTERM)
    assert worker.process.wait(timeout=300) == 0, worker.read_log()
    log = worker.read_log(tail=None)
    # the first line about the signal: the grader's own, or procrastinate's
    marks = [log.find(m) for m in ("stopping: the jobs under way end", "Stop requested")]
    assert max(marks) >= 0, log
    after = log[min(m for m in marks if m >= 0):]
    started = cluster.database.sql("SELECT id, status FROM submissions WHERE attempts > 0")
    assert started and all(status == "done" for _, status in started), started
    # every job it started was started before the signal, and its report recorded
    assert set(graded_lines(log)) == {row[0] for row in started}
    assert not re.search(r"Starting job grader\.grade", after), after
    waiting = cluster.database.sql(
        "SELECT count(*) FROM submissions WHERE attempts = 0 AND status = 'queued'")[0][0]
    assert waiting == 8 - len(started) >= 1
    # the rest are the next worker's, each graded once
    cluster.worker(concurrency=1)
    wait_done(api, ids, seconds=600)
    assert cluster.database.sql(
        "SELECT attempts, count(*) FROM submissions GROUP BY attempts") == [(1, 8)]

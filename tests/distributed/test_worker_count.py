"""The queue's metrics count worker processes: each runs several procrastinate workers (its
grading and its callbacks) and holds several connections, and is one worker all the same."""

from __future__ import annotations

import re
import time

import httpx
import pytest

from tests.distributed.conftest import I

pytestmark = pytest.mark.processes


def workers_metric(url: str) -> float:
    text = httpx.get(f"{url}/metrics", headers=I, timeout=30).text
    found = re.search(r"^grader_queue_workers (\S+)$", text, re.MULTILINE)
    assert found is not None, text
    return float(found.group(1))


def eventually(url: str, expected: float, seconds: float = 60.0) -> float:
    end = time.monotonic() + seconds
    while (seen := workers_metric(url)) != expected and time.monotonic() < end:
        time.sleep(0.5)
    return seen


def test_grader_queue_workers_counts_worker_processes(make_cluster) -> None:
    cluster = make_cluster()
    assert cluster.migrate().returncode == 0
    api = cluster.api()
    assert workers_metric(api.url) == 0
    first = cluster.worker(concurrency=2)
    cluster.worker(concurrency=3)
    assert eventually(api.url, 2.0) == 2.0
    first.stop()
    assert eventually(api.url, 1.0) == 1.0

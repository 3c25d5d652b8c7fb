"""The passback deliverer against the test platform over real HTTP, without a grader server:
a job delivered with a fresh access token (then the same token again), a refused score given
up at once, an unreachable platform tried again later, a job of a removed platform failed."""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from grader.grading.report import Finding, Report
from grader.lti.keys import ToolKeys
from grader.lti.passback import Deliverer, comment, scores_url
from grader.storage.store import Store, Submission
from tests.lti.platform import Platform

REPORT = Report(exercise_id="conv2d", passed=False, score=1.0, max_score=4.0, seed=1,
                duration_ms=1.0, cases=[], diagnosis=[Finding(
                    code="flipped_kernel", message="you flipped the kernel",
                    severity="mistake")])


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    found = Store(f"sqlite:///{tmp_path / 'grader.db'}")
    yield found
    found.close()


@pytest.fixture
def platform(store: Store) -> Iterator[Platform]:
    found = Platform().start()
    yield found
    found.stop()


@pytest.fixture
def tool_keys(platform: Platform, store: Store) -> Iterator[None]:
    """The tool's JWKS, which the platform reads from a URL: served here by a tiny server."""
    ToolKeys(store).signing()  # made now, as `grader lti add-platform` does
    keys = json.dumps(ToolKeys(store).jwks()).encode()

    class Keys(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(keys)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Keys)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    platform.tool_url = f"http://127.0.0.1:{server.server_address[1]}"
    yield
    server.shutdown()
    server.server_close()


def graded(store: Store, platform_id: int, lineitem: str, user: str = "ada") -> Submission:
    row, _ = store.create(exercise_id="conv2d", source="x", seed=1, scope=f"lti:{platform_id}",
                          learner_id=f"lti:{platform_id}:{user}", metadata={"lti": {
                              "platform": platform_id, "user": user, "lineitem": lineitem}})
    store.save_report(row.id, REPORT.model_dump_json())
    assert store.queue_passback(row)
    return row


def register(store: Store, platform: Platform) -> int:
    return store.add_platform(
        issuer=platform.issuer, client_id=platform.client_id,
        deployment_id=platform.deployment_id, auth_login_url=f"{platform.url}/auth",
        auth_token_url=f"{platform.url}/token", jwks_url=f"{platform.url}/jwks").id


def test_scores_go_with_one_token_and_the_diagnosis(store, platform, tool_keys) -> None:
    platform_id = register(store, platform)
    first = graded(store, platform_id, platform.lineitem("conv2d"), "ada")
    graded(store, platform_id, platform.lineitem("conv2d"), "grace")
    deliverer = Deliverer(store, ToolKeys(store))
    try:
        assert deliverer.run_once() == 2
    finally:
        deliverer.close()
    assert [(s["userId"], s["scoreGiven"], s["scoreMaximum"]) for s in platform.scores] == [
        ("ada", 1.0, 4.0), ("grace", 1.0, 4.0)]
    assert platform.scores[0]["comment"] == "1 of 4. you flipped the kernel"
    assert len(platform.assertions) == 1  # the token was kept for the second score
    job = store.passback_of(first.id)
    assert job is not None and (job.status, job.attempts) == ("delivered", 1)


def test_a_score_refused_for_good_is_not_tried_again(store, platform, tool_keys) -> None:
    platform_id = register(store, platform)
    row = graded(store, platform_id, f"{platform.url}/lineitems/not..a..lineitem")
    deliverer = Deliverer(store, ToolKeys(store))
    try:
        deliverer.run_once()
    finally:
        deliverer.close()
    job = store.passback_of(row.id)
    assert job is not None and (job.status, job.attempts) == ("failed", 1)
    assert "HTTP 400" in (job.last_error or "")


def test_an_unreachable_platform_is_tried_again_later(store, platform) -> None:
    platform_id = register(store, platform)
    platform.stop()  # nothing answers at its URLs any more
    row = graded(store, platform_id, platform.lineitem("conv2d"))
    deliverer = Deliverer(store, ToolKeys(store), first_delay=30)
    try:
        before = dt.datetime.now(dt.UTC)
        assert deliverer.run_once() == 1
        assert deliverer.run_once() == 0  # not due before its delay
    finally:
        deliverer.close()
    job = store.passback_of(row.id)
    assert job is not None and (job.status, job.attempts) == ("pending", 1)
    assert job.next_at >= before + dt.timedelta(seconds=29)
    assert "ConnectError" in (job.last_error or "")


def test_a_removed_platforms_job_fails(store, platform) -> None:
    platform_id = register(store, platform)
    row = graded(store, platform_id, platform.lineitem("conv2d"))
    assert store.remove_platform(platform_id)
    deliverer = Deliverer(store, ToolKeys(store))
    try:
        deliverer.run_once()
    finally:
        deliverer.close()
    job = store.passback_of(row.id)
    assert job is not None and job.status == "failed"


def test_the_score_url_and_the_comment() -> None:
    assert scores_url("https://lms/li/9?course=7") == "https://lms/li/9/scores?course=7"
    long = REPORT.model_copy(update={"diagnosis": [Finding(code="x", message="m" * 5000)]})
    assert len(comment(long)) == 1000 and comment(long).endswith("…")

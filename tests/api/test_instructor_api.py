"""``GET /v1/exercises/{id}/summary`` and ``published_by`` through the app (a fake runner
grades; the real sandbox's summary is in ``tests/test_instructor_pages.py``)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from fastapi.testclient import TestClient

from grader.sandbox.base import Job, RunResult
from grader.sandbox.fake import FakeRunner
from tests.api.conftest import INSTRUCTOR, PLATFORM, auth, correct

CORRECT = "# right\n"
WRONG = "# flipped\n"


class ByComment(FakeRunner):
    """Answers as the source's comment says: right, or with the kernel flipped."""

    def __init__(self) -> None:
        super().__init__(correct)

    def run(self, job: Job) -> RunResult:
        self.function = correct if "right" in job.source else \
            (lambda image, kernel: correct(image, np.flip(kernel)))
        return super().run(job)


def test_the_summary_counts_what_was_graded(make_client: Callable[..., TestClient]) -> None:
    client = make_client(ByComment(), platform_tokens=PLATFORM,
                         instructor_tokens=f"ann:{INSTRUCTOR}")
    for learner, source in (("ada", WRONG), ("ada", CORRECT), ("bob", CORRECT)):
        answer = client.post("/v1/submissions", headers=auth(PLATFORM), json={
            "exercise_id": "conv2d", "learner_id": learner, "source": source})
        assert answer.status_code == 200, answer.text
    summary = client.get("/v1/exercises/conv2d/summary", headers=auth(INSTRUCTOR)).json()
    assert (summary["submissions"], summary["passed"], summary["learners"]) == (3, 2, 2)
    assert summary["passed_first_try"] == {"learners": 1, "share": 0.5}
    assert summary["median_attempts_to_pass"] == 1.5
    assert [c["rate"] for c in summary["cases"]] == [2 / 3] * 4
    assert len(summary["slowest"]) == 3 and summary["version"] is None
    assert [(m["mistake"], m["submissions"]) for m in summary["mistakes"]] == [
        ("flipped_kernel", 1)]
    later = client.get("/v1/exercises/conv2d/summary?since=2999-01-01T00:00:00Z",
                       headers=auth(INSTRUCTOR)).json()
    assert (later["submissions"], later["learners"], later["cases"][0]["rate"]) == (0, 0, None)


def test_the_summary_is_for_instructors_of_known_exercises(
        make_client: Callable[..., TestClient]) -> None:
    client = make_client(platform_tokens=PLATFORM, instructor_tokens=INSTRUCTOR)
    assert client.get("/v1/exercises/conv2d/summary").status_code == 401
    assert client.get("/v1/exercises/conv2d/summary",
                      headers=auth(PLATFORM)).status_code == 403
    assert client.get("/v1/exercises/nope/summary", headers=auth(INSTRUCTOR)).status_code == 404
    assert client.get("/v1/exercises/conv2d/summary?version=7",
                      headers=auth(INSTRUCTOR)).status_code == 404
    assert client.get("/v1/exercises/conv2d/summary?since=yesterday",
                      headers=auth(INSTRUCTOR)).status_code == 422


@pytest.mark.parametrize(("since", "counted"), [
    ("9999-12-31T23:59:59-14:00", 0), ("0001-01-01T00:00:00%2B14:00", 1)])
def test_a_moment_past_the_last_or_before_the_first_in_utc_counts_from_its_bound(
        make_client: Callable[..., TestClient], since: str, counted: int) -> None:
    """In UTC it would be in year 10000, or year 0, which no timestamp holds: it counts from
    the last moment there is, or from the first."""
    client = make_client(platform_tokens=PLATFORM, instructor_tokens=INSTRUCTOR)
    assert client.post("/v1/submissions", headers=auth(PLATFORM), json={
        "exercise_id": "conv2d", "source": CORRECT}).status_code == 200
    answer = client.get(f"/v1/exercises/conv2d/summary?since={since}", headers=auth(INSTRUCTOR))
    assert answer.status_code == 200, answer.text
    assert answer.json()["submissions"] == counted


def test_a_restore_records_the_name_of_its_token(make_client: Callable[..., TestClient]) -> None:
    client = make_client(instructor_tokens=f"ann:{INSTRUCTOR},plain-instructor-0123456789")
    assert client.post("/v1/exercises/conv2d/versions/0/restore",
                       headers=auth(INSTRUCTOR)).status_code == 201
    assert client.post("/v1/exercises/conv2d/versions/1/restore",
                       headers=auth("plain-instructor-0123456789")).status_code == 201
    versions = client.get("/v1/exercises/conv2d/versions", headers=auth(INSTRUCTOR)).json()
    assert [(v["version"], v["published_by"]) for v in versions["items"]] == [
        (1, "ann"), (2, None)]

"""Caps on work a request starts and waits for, over HTTP: report pages that run the
learner's code again (of submissions graded before their arrays were kept) per learner and
per platform token, and proofs of pushed bundles per
instructor token. Past a cap: 429 with Retry-After; a place is free again once the work ends."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import httpx
from fastapi.testclient import TestClient

from grader.catalog.bundle import BundleFiles
from grader.sandbox.base import NOBODY, Owner
from grader.sandbox.fake import FakeRunner
from grader.service.submissions import Submissions
from tests.api.conftest import (
    INSTRUCTOR,
    OTHER_PLATFORM,
    PLATFORM,
    auth,
    correct,
    forget_drawings,
)
from tests.conftest import EXERCISES

OTHER_INSTRUCTOR = "instructor-token-other-4321"
TOKENS = {"platform_tokens": f"{PLATFORM},{OTHER_PLATFORM}",
          "instructor_tokens": f"{INSTRUCTOR},{OTHER_INSTRUCTOR}"}


class Gate(FakeRunner):
    """Runs jobs at once until ``hold``; from then on each job waits at the gate until
    ``release``, and ``entered`` says when one is waiting there."""

    def __init__(self) -> None:
        super().__init__(correct)
        self.hold = False
        self.entered = threading.Semaphore(0)
        self.release = threading.Event()

    def run(self, job: Any) -> Any:
        if self.hold:
            self.entered.release()
            self.release.wait(30)
        return super().run(job)


@contextmanager
def held(client: TestClient, gate: Gate, method: str, url: str,
         **kwargs: Any) -> Iterator[Future[httpx.Response]]:
    """A request stopped at the gate (its work under way) while the block runs."""
    gate.hold = True
    with ThreadPoolExecutor(1) as pool:
        waiting = pool.submit(client.request, method, url, **kwargs)
        try:
            assert gate.entered.acquire(timeout=30), "the request never reached the runner"
            yield waiting
        finally:
            gate.hold = False
            gate.release.set()


def graded(client: TestClient, token: str, learner: str) -> dict[str, Any]:
    """A graded submission whose report page runs its visible cases again (one graded before
    their arrays were kept): the caps below bound those runs."""
    response = client.post("/v1/submissions", headers=auth(token), json={
        "exercise_id": "conv2d", "source": "def conv(image, kernel): ...",
        "learner_id": learner})
    assert response.status_code == 200
    forget_drawings(client, response.json()["id"])
    return dict(response.json())


def refused_with_retry_after(response: httpx.Response, words: str) -> None:
    assert response.status_code == 429, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert int(response.headers["retry-after"]) >= 1
    assert words in response.json()["detail"]


def test_report_pages_are_capped_per_learner_and_per_token(
        make_client: Callable[..., TestClient]) -> None:
    gate = Gate()
    client = make_client(runner=gate, **TOKENS)
    ann, ann_again, bob = (graded(client, PLATFORM, learner) for learner in ("ann", "ann", "bob"))
    other = graded(client, OTHER_PLATFORM, "ann")
    with held(client, gate, "GET", ann["report_url"]) as drawing:
        refused_with_retry_after(client.get(ann_again["report_url"]), "this learner has 1")
        # with a token instead of the link: the same cap, which is the submission's owner's
        refused_with_retry_after(client.get(f"/v1/submissions/{bob['id']}/report",
                                            headers=auth(PLATFORM)), "this token has 1")
        gate.hold = False
        assert client.get(other["report_url"]).status_code == 200  # another token's share
    assert drawing.result(timeout=30).status_code == 200
    assert client.get(ann_again["report_url"]).status_code == 200  # free again


def test_with_one_platform_token_one_learners_page_leaves_another_learner_a_place(
        make_client: Callable[..., TestClient]) -> None:
    """One platform (or open mode): a learner drawing a page holds one of the places, and
    another learner of the token may still draw theirs."""
    gate = Gate()
    client = make_client(runner=gate, platform_tokens=PLATFORM, instructor_tokens=INSTRUCTOR)
    ann, ann_again, bob = (graded(client, PLATFORM, learner) for learner in ("ann", "ann", "bob"))
    with held(client, gate, "GET", ann["report_url"]) as drawing:
        refused_with_retry_after(client.get(ann_again["report_url"]), "this learner has 1")
        gate.hold = False
        assert client.get(bob["report_url"]).status_code == 200
    assert drawing.result(timeout=30).status_code == 200


def bundle() -> dict[str, str]:
    return BundleFiles.read(EXERCISES / "conv2d").files()


def test_proofs_are_capped_per_instructor_token(make_client: Callable[..., TestClient]) -> None:
    """The fake runner answers the reference and its mistakes alike: every proof ends in 422
    (not proven), which is the end of a proof all the same."""
    gate = Gate()
    client = make_client(runner=gate, **TOKENS)
    url = "/v1/exercises/conv2d"
    with held(client, gate, "PUT", url, headers=auth(INSTRUCTOR),
              json={"files": bundle()}) as proving:
        refused_with_retry_after(client.put(url, headers=auth(INSTRUCTOR),
                                            json={"files": bundle()}), "proofs under way")
        gate.hold = False
        assert client.put(url, headers=auth(OTHER_INSTRUCTOR),
                          json={"files": bundle()}).status_code == 422  # its own share
    assert proving.result(timeout=60).status_code == 422
    assert client.put(url, headers=auth(INSTRUCTOR), json={"files": bundle()}).status_code \
        == 422  # free again


ANY_SOURCE = {"exercise_id": "conv2d", "source": "def conv(image, kernel):\n    return image\n"}


def graded_at(client: TestClient, location: str) -> dict[str, Any]:
    """The submission at ``location`` once graded (or as it stands after 30 s)."""
    for _ in range(600):
        row: dict[str, Any] = client.get(location).json()
        if row["status"] == "done":
            break
        time.sleep(0.05)
    return row


def test_submissions_held_in_the_runner_never_keep_a_new_one_from_a_thread(
        make_client: Callable[..., TestClient]) -> None:
    """A submission parked by the runner (waiting for a place in a full slow lane) holds its
    grading thread. The backlog's worth of them must still leave a thread for a new one, which
    then takes a fast place that is free, instead of waiting for a runaway to end."""
    gate = Gate()
    gate.slow_slots = 1  # type: ignore[misc]  # the lanes' threads alone: 2 * 1 + 1
    client = make_client(runner=gate, slots=1, backlog=8)
    gate.hold = True
    held = [client.post("/v1/submissions?wait=false", json={**ANY_SOURCE, "learner_id": f"l{i}"})
            for i in range(5)]
    assert [r.status_code for r in held] == [202] * 5
    for _ in held:  # each is in the runner, holding its thread
        assert gate.entered.acquire(timeout=30)
    gate.hold = False
    answer = client.post("/v1/submissions", json={**ANY_SOURCE, "learner_id": "new"})
    assert answer.status_code == 200 and answer.json()["status"] == "done"
    states = {client.get(f"/v1/submissions/{r.json()['id']}").json()["status"] for r in held}
    assert states == {"running"}  # none of the five has let go of its thread
    gate.release.set()


def test_a_synchronous_submission_past_its_wait_is_answered_202_and_graded_on(
        make_client: Callable[..., TestClient], monkeypatch: Any) -> None:
    """As in the distributed mode: past the exercise's limit and a margin, the request answers
    with the submission as it stands, 202 and Location, and the grading goes on."""
    monkeypatch.setattr(Submissions, "wait_seconds", lambda self, exercise_id: 0.2)
    gate = Gate()
    client = make_client(runner=gate)
    gate.hold = True
    answer = client.post("/v1/submissions", json={**ANY_SOURCE, "learner_id": "ann"})
    assert gate.entered.acquire(timeout=30)  # it was in the runner when the wait ran out
    assert answer.status_code == 202 and answer.json()["status"] in ("queued", "running")
    gate.release.set()
    row = graded_at(client, answer.headers["Location"])
    assert row["status"] == "done" and row["report"]["passed"]


class FullFastLane(FakeRunner):
    """A runner whose fast places are all taken until ``release``."""

    def __init__(self) -> None:
        super().__init__(correct)
        self.waiting = threading.Semaphore(0)
        self.release = threading.Event()

    @contextmanager
    def fast_place(self, low: bool = False, freed: Any = None, kind: Any = None,
                   owner: Owner = NOBODY) -> Iterator[None]:
        self.waiting.release()
        self.release.wait(30)
        with super().fast_place(low, freed, kind, owner):
            yield


def test_a_synchronous_submission_is_stored_before_it_waits_for_a_fast_place(
        make_client: Callable[..., TestClient], monkeypatch: Any) -> None:
    """However long the fast lane's queue, the request answers within its wait, with the
    submission stored: none is lost, and none keeps its client past the bound."""
    monkeypatch.setattr(Submissions, "wait_seconds", lambda self, exercise_id: 0.2)
    runner = FullFastLane()
    client = make_client(runner=runner)
    answer = client.post("/v1/submissions", json={**ANY_SOURCE, "learner_id": "ann"})
    assert runner.waiting.acquire(timeout=30)  # it was waiting for a fast place
    assert answer.status_code == 202 and answer.json()["status"] in ("queued", "running")
    runner.release.set()
    row = graded_at(client, answer.headers["Location"])
    assert row["status"] == "done"

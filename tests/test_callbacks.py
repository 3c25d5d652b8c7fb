"""Callbacks to real loopback receivers, on real SQLite and PostgreSQL: Standard Webhooks
signatures (checked by the ``standardwebhooks`` library), a hanging URL that holds up no other
on its host, retries with the same webhook-id, and attempts recorded before they are sent."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from standardwebhooks import Webhook

from grader.bench.receiver import Receiver
from grader.grading.report import Report
from grader.service.callbacks import CallbackSender
from grader.service.destinations import loopback
from grader.service.views import submission_view
from grader.service.webhooks import legacy_signature, signing_key
from grader.settings import Settings
from grader.storage.callbacks import NO_OUTCOME, queue_callback
from grader.storage.store import Store

PLAIN = "callback-secret-0123456789"
WHSEC = "whsec_" + base64.b64encode(b"a key of thirty-two random bytes").decode()
REPORT = Report(exercise_id="conv2d", passed=True, score=3, max_score=4, seed=1,
                duration_ms=1.5, cases=[]).model_dump_json()


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    store = Store(database_url)
    yield store
    store.close()


def graded(store: Store, url: str, learner: str = "ada") -> str:
    """A submission graded just now, its callback stored with its report."""
    row, _ = store.create(exercise_id="conv2d", source="x", seed=1, scope="s",
                          learner_id=learner, callback_url=url,
                          metadata={"course": "dl-101", "learner": learner})
    store.save_report(row.id, REPORT, after=lambda c: queue_callback(c, row.id))
    return row.id


def wait_for(condition: Callable[[], object], seconds: float) -> bool:
    end = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > end:
            return False
        time.sleep(0.02)
    return True


def sender(store: Store, secret: str = WHSEC, **options: object) -> CallbackSender:
    options = {"attempts": 3, "reach": loopback(), **options}
    made = CallbackSender(store, secret, **options)  # type: ignore[arg-type]
    made.start()
    return made


def verified(secret: str, body: bytes, headers: dict[str, str]) -> dict:
    """The body, once the library has checked its signature (a plain secret is its bytes)."""
    key: str | bytes = secret if secret.startswith("whsec_") else secret.encode()
    return Webhook(key).verify(body, headers)


@pytest.mark.parametrize("secret", [WHSEC, PLAIN], ids=["whsec", "plain"])
def test_a_callback_is_the_submission_signed_as_a_standard_webhook(
        store: Store, receiver: Receiver, secret: str) -> None:
    sending = sender(store, secret)
    try:
        submission_id = graded(store, receiver.url("/ok"))
        sending.wake()
        assert wait_for(lambda: receiver.to("/ok"), 20)
    finally:
        sending.close()
    delivery = receiver.to("/ok")[0]
    payload = verified(secret, delivery.body, delivery.headers)
    row = store.get(submission_id)
    assert row is not None
    assert delivery.body == submission_view(row).model_dump_json().encode()
    assert (payload["id"], payload["learner_id"], payload["exercise_id"],
            payload["exercise_version"], payload["status"], payload["metadata"]) == (
        submission_id, "ada", "conv2d", 0, "done", {"course": "dl-101", "learner": "ada"})
    assert payload["report"]["score"] == 3
    assert delivery.headers["webhook-id"] == f"msg_{submission_id}_0"
    assert abs(int(delivery.headers["webhook-timestamp"]) - time.time()) < 120
    # the old header, for one release, under the same key
    assert delivery.headers["x-grader-signature"] == legacy_signature(
        signing_key(secret), delivery.body)
    assert delivery.headers["x-grader-submission"] == submission_id


def test_a_signature_over_another_body_or_time_is_refused(
        store: Store, receiver: Receiver) -> None:
    sending = sender(store)
    try:
        graded(store, receiver.url("/ok"))
        sending.wake()
        assert wait_for(lambda: receiver.to("/ok"), 20)
    finally:
        sending.close()
    delivery = receiver.to("/ok")[0]
    other = json.loads(delivery.body)
    other["learner_id"] = "mallory"
    with pytest.raises(Exception, match="No matching signature"):
        Webhook(WHSEC).verify(json.dumps(other).encode(), delivery.headers)
    replayed = {**delivery.headers, "webhook-timestamp": str(int(time.time()) - 3600)}
    with pytest.raises(Exception, match="too old"):
        Webhook(WHSEC).verify(delivery.body, replayed)


def test_a_hanging_url_holds_up_no_other_callback_to_its_host(
        store: Store, receiver: Receiver) -> None:
    sending = sender(store, per_host=4, timeout=60)
    try:
        hanging = [graded(store, receiver.url("/hang")) for _ in range(2)]
        healthy = [graded(store, receiver.url("/ok"), f"learner-{i}") for i in range(40)]
        sending.wake()
        arrived = wait_for(lambda: len({d.headers["webhook-id"]
                                        for d in receiver.to("/ok")}) == len(healthy), 60)
        still_hanging = receiver.hanging
    finally:
        sending.close()
    assert arrived, f"{len(receiver.to('/ok'))} of {len(healthy)} arrived"
    assert still_hanging == 2  # the others all arrived while both hung
    assert receiver.most_open <= 4  # the host's places, never more
    for delivery in receiver.to("/ok"):
        assert Webhook(WHSEC).verify(delivery.body, delivery.headers)["id"] in healthy
    for submission_id in hanging:
        attempts = store.callbacks(submission_id)
        assert [(a.attempt, a.delivered) for a in attempts] == [(1, False)]


def test_a_failed_attempt_is_retried_later_with_the_same_webhook_id(
        store: Store, receiver: Receiver) -> None:
    sending = sender(store, first_delay=0.2)
    try:
        submission_id = graded(store, receiver.url("/fail-once"))
        sending.wake()
        assert wait_for(lambda: len(receiver.to("/fail-once")) == 2, 30)
        assert wait_for(lambda: any(a.delivered for a in store.callbacks(submission_id)), 10)
    finally:
        sending.close()
    first, second = receiver.to("/fail-once")
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    for delivery in (first, second):
        Webhook(WHSEC).verify(delivery.body, delivery.headers)
    assert [(a.attempt, a.status_code, a.error, a.delivered)
            for a in store.callbacks(submission_id)] == [
        (1, 500, "HTTP 500", False), (2, 204, None, True)]
    assert [d.state for d in store.deliveries(submission_id)] == ["delivered"]


def test_an_attempt_is_recorded_before_it_is_sent(store: Store, receiver: Receiver) -> None:
    sending = sender(store, timeout=60)
    try:
        submission_id = graded(store, receiver.url("/hang"))
        sending.wake()
        assert wait_for(lambda: receiver.hanging == 1, 20)
        attempts = store.callbacks(submission_id)  # while the receiver holds the request
    finally:
        sending.close()
    assert [(a.attempt, a.status_code, a.error, a.delivered) for a in attempts] == [
        (1, None, NO_OUTCOME, False)]


def test_the_last_attempt_s_failure_gives_the_callback_up(
        store: Store, receiver: Receiver) -> None:
    sending = sender(store, attempts=1)
    try:
        submission_id = graded(store, receiver.url("/fail-once"))
        sending.wake()
        assert wait_for(lambda: [d.state for d in store.deliveries(submission_id)]
                        == ["given_up"], 20)
    finally:
        sending.close()
    assert len(receiver.to("/fail-once")) == 1


KILLED_SENDER = """
import sys, time
from grader.service.callbacks import CallbackSender
from grader.service.destinations import loopback
from grader.storage.store import Store
sender = CallbackSender(Store(sys.argv[1]), sys.argv[2], attempts=3, timeout=1.0,
                        reach=loopback())
sender.start()
time.sleep(600)
"""


def test_a_sender_killed_mid_delivery_leaves_its_attempt_counted_and_it_is_sent_again(
        store: Store, receiver: Receiver, database_url: str, tmp_path: Path) -> None:
    submission_id = graded(store, receiver.url("/hang-once"))
    log = tmp_path / "sender.log"
    with log.open("wb") as output:
        doomed = subprocess.Popen([sys.executable, "-c", KILLED_SENDER, database_url, WHSEC],
                                  env={**os.environ, "PYTHONPATH": str(Path.cwd())},
                                  stderr=output)
        try:
            assert wait_for(lambda: receiver.hanging == 1, 60), log.read_text()
        finally:
            doomed.kill()  # SIGKILL, mid-delivery: no code of its runs after this
            doomed.wait()
    assert [(a.attempt, a.error, a.delivered) for a in store.callbacks(submission_id)] == [
        (1, NO_OUTCOME, False)]
    sending = sender(store, timeout=1.0)  # its lease runs out 7 s after the claim
    try:
        assert wait_for(lambda: len(receiver.to("/hang-once")) == 2, 60)
        assert wait_for(lambda: any(a.delivered for a in store.callbacks(submission_id)), 10)
    finally:
        sending.close()
    first, second = receiver.to("/hang-once")
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    Webhook(WHSEC).verify(second.body, second.headers)
    assert [(a.attempt, a.delivered) for a in store.callbacks(submission_id)] == [
        (1, False), (2, True)]


@pytest.mark.parametrize("secret, problem", [
    ("whsec_not base64 at all!!", "base64"),
    ("whsec_" + base64.b64encode(b"fifteen bytes!!").decode(), "16 bytes"),
    ("too-short", "16 characters"),
])
def test_a_weak_or_malformed_callback_secret_is_refused(secret: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        Settings(callback_secret=secret)  # type: ignore[arg-type]


def test_claims_keep_to_a_host_s_places_whoever_claims(store: Store) -> None:
    ids = [graded(store, f"http://lms.example:{8000 + i}/hook/{i}") for i in range(5)]
    graded(store, "http://other.example/hook")
    first = store.claim_callbacks(limit=10, per_host=3, lease=60, attempts=3)
    again = store.claim_callbacks(limit=10, per_host=3, lease=60, attempts=3)  # another sender
    hosts = sorted(claim.url.split("/")[2].split(":")[0] for claim in first)
    assert hosts == ["lms.example"] * 3 + ["other.example"]  # ports do not make hosts
    assert again == []
    settled = first[0]
    store.settle_callback(settled, 204, None, True, None)  # a place is free again
    (next_one,) = store.claim_callbacks(limit=10, per_host=3, lease=60, attempts=3)
    assert next_one.submission_id in ids and next_one.attempt == 1


def test_a_delivery_of_a_round_a_regrade_replaced_is_not_sent(store: Store) -> None:
    submission_id = graded(store, "http://lms.example/hook")
    with store.engine.begin() as connection:  # a regrade started the next round
        connection.execute(sa.text("UPDATE submissions SET round = 1 WHERE id = :id"),
                           {"id": submission_id})
    assert store.claim_callbacks(limit=10, per_host=8, lease=60, attempts=3) == []
    assert [d.state for d in store.deliveries(submission_id)] == ["superseded"]


def test_an_outcome_met_by_a_database_restart_is_recorded_once_it_is_back(
        store: Store, receiver: Receiver, monkeypatch: pytest.MonkeyPatch) -> None:
    """The attempt delivered, but the database was away when its outcome was to be written:
    written once it answers again, and the callback is not sent a second time (which waiting
    for its lease to run out would do)."""
    settle = store.settle_callback
    refused: list[bool] = []

    def away_twice(*args: object) -> None:
        if len(refused) < 2:
            refused.append(True)
            raise sa.exc.OperationalError("UPDATE", {}, Exception("the database restarts"))
        settle(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(store, "settle_callback", away_twice)
    sending = sender(store)
    try:
        submission_id = graded(store, receiver.url("/ok"))
        sending.wake()
        assert wait_for(lambda: any(a.delivered for a in store.callbacks(submission_id)), 30)
    finally:
        sending.close()
    assert len(refused) == 2
    assert len(receiver.to("/ok")) == 1
    assert [d.state for d in store.deliveries(submission_id)] == ["delivered"]

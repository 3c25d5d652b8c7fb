"""Callbacks in the distributed mode, with real workers on real PostgreSQL and a real
receiver: many to one host while another of its URLs hangs, and a worker killed mid-delivery.
Every callback is checked with the ``standardwebhooks`` library."""

from __future__ import annotations

import base64
import time
from collections.abc import Callable

import pytest
import sqlalchemy as sa
from standardwebhooks import Webhook

from grader.bench.receiver import Receiver
from grader.storage import jobs
from grader.storage.callbacks import NO_OUTCOME
from tests.distributed.conftest import submit, wait_done

pytestmark = pytest.mark.processes
SECRET = "whsec_" + base64.b64encode(b"the cluster's thirty-two byte key").decode()


def wait_for(condition: Callable[[], object], seconds: float) -> bool:
    end = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > end:
            return False
        time.sleep(0.05)
    return True


def test_callbacks_to_one_host_are_not_held_up_by_a_hanging_url_on_it(make_cluster) -> None:
    cluster = make_cluster(GRADER_CALLBACK_SECRET=SECRET, GRADER_CALLBACK_TIMEOUT_SECONDS="120",
                           GRADER_CALLBACK_HOST_CONCURRENCY="4")
    assert cluster.migrate().returncode == 0
    api = cluster.api()
    cluster.worker(concurrency=2)
    cluster.worker(concurrency=2)
    receiver = Receiver()
    try:
        hanging = [submit(api, wait=False, callback_url=receiver.url("/hang")).json()["id"]
                   for _ in range(2)]
        assert wait_for(lambda: receiver.hanging == 2, 60), cluster.explain()
        healthy = [submit(api, wait=False, callback_url=receiver.url("/ok"),
                          learner_id=f"learner-{i}").json()["id"] for i in range(30)]
        wait_done(api, healthy)
        arrived = wait_for(lambda: {d.headers["webhook-id"] for d in receiver.to("/ok")}
                           >= {f"msg_{i}_0" for i in healthy}, 60)
        still_hanging = receiver.hanging
        most_open = receiver.most_open
    finally:
        receiver.close()
    assert arrived, f"{len(receiver.to('/ok'))} of 30 arrived\n{cluster.explain()}"
    assert still_hanging == 2  # every other callback arrived while these two hung
    assert most_open <= 4  # the host's places, across both workers
    ids = {Webhook(SECRET).verify(d.body, d.headers)["id"] for d in receiver.to("/ok")}
    assert ids == set(healthy)
    assert {d.headers["x-grader-submission"] for d in receiver.to("/hang")} == set(hanging)


def test_a_worker_killed_mid_delivery_leaves_the_attempt_recorded(make_cluster) -> None:
    cluster = make_cluster(GRADER_CALLBACK_SECRET=SECRET, GRADER_CALLBACK_TIMEOUT_SECONDS="2")
    assert cluster.migrate().returncode == 0
    api = cluster.api()
    doomed = cluster.worker()
    receiver = Receiver()
    try:
        submission_id = submit(api, callback_url=receiver.url("/hang-once")).json()["id"]
        assert wait_for(lambda: receiver.hanging == 1, 60), cluster.explain()
        doomed.kill()  # SIGKILL while the receiver holds the request
        recorded = cluster.database.sql(
            "SELECT attempt, status_code, error, delivered FROM callback_attempts "
            "WHERE submission_id = %s", submission_id)
        assert recorded == [(1, None, NO_OUTCOME, False)]
        cluster.worker()  # sends it again once the dead worker's lease runs out
        assert wait_for(lambda: len(receiver.to("/hang-once")) == 2, 60), cluster.explain()
        assert wait_for(lambda: cluster.database.sql(
            "SELECT state FROM callback_deliveries") == [("delivered",)], 30)
    finally:
        receiver.close()
    first, second = receiver.to("/hang-once")
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    assert Webhook(SECRET).verify(second.body, second.headers)["id"] == submission_id
    done = wait_done(api, [submission_id])[submission_id]
    assert done["status"] == "done"
    assert cluster.database.sql(
        "SELECT attempt, status_code, delivered FROM callback_attempts "
        "WHERE submission_id = %s ORDER BY id", submission_id) == [
        (1, None, False), (2, 204, True)]


def test_a_callback_job_of_the_previous_release_is_sent_as_a_delivery(make_cluster) -> None:
    cluster = make_cluster(GRADER_CALLBACK_SECRET=SECRET)
    assert cluster.migrate().returncode == 0
    api = cluster.api()
    cluster.worker()
    receiver = Receiver()
    try:
        submission_id = submit(api, callback_url=receiver.url("/ok")).json()["id"]
        assert wait_for(lambda: receiver.to("/ok"), 60), cluster.explain()
        # as a worker of the previous release left it: a job, and no delivery row
        cluster.database.sql("DELETE FROM callback_deliveries")
        engine = sa.create_engine(cluster.database.url)
        try:
            with engine.begin() as connection:
                jobs.defer_callback(jobs.client_app(cluster.database.url), connection,
                                    submission_id, "127.0.0.1")
        finally:
            engine.dispose()
        assert wait_for(lambda: len(receiver.to("/ok")) == 2, 60), cluster.explain()
    finally:
        receiver.close()
    first, second = receiver.to("/ok")
    assert second.headers["webhook-id"] == first.headers["webhook-id"]
    assert Webhook(SECRET).verify(second.body, second.headers)["id"] == submission_id

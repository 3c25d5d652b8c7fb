"""``grader soak``'s own checks of the callbacks it received: a forged or replayed-elsewhere
callback, a missing one, or one carrying another grading fails the run."""

from __future__ import annotations

import base64
import datetime as dt
import json
import time

from standardwebhooks import Webhook

from grader.bench.soak import Received, Run, check_callbacks

SECRET = "whsec_" + base64.b64encode(b"soak-test-secret-0123456789").decode()


def signed(submission_id: str, seed: int, secret: str = SECRET) -> Received:
    body = json.dumps({"id": submission_id, "report": {"seed": seed}}).encode()
    now = dt.datetime.now(dt.UTC)
    headers = {"webhook-id": f"msg_{submission_id}_0",
               "webhook-timestamp": str(int(now.timestamp())),
               "webhook-signature": Webhook(secret).sign(f"msg_{submission_id}_0", now, body)}
    return Received(time.time(), headers, body)


def soak_run() -> Run:
    run = Run(burst={"a": "correct", "b": "flipped"}, seeds={"a": 1, "b": 2})
    run.last_report = time.time()
    return run


def test_signed_callbacks_for_every_submission_pass() -> None:
    run = soak_run()
    check_callbacks(run, [signed("a", 1), signed("b", 2), signed("a", 1)], SECRET)
    assert run.failures == []


def test_a_forged_a_missing_or_a_regraded_callback_fails_the_run() -> None:
    run = soak_run()
    check_callbacks(run, [signed("a", 1, "whsec_" + base64.b64encode(b"x" * 24).decode())],
                    SECRET)
    assert len(run.failures) == 2  # one not verified, and b (and a) never arrived
    run = soak_run()
    check_callbacks(run, [signed("a", 1), signed("b", 3)], SECRET)
    assert [f for f in run.failures if "another grading" in f]

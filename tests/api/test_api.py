"""The API in-process, with a fake runner: routes, tokens, limits, errors, idempotency."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable

import numpy as np
from fastapi.testclient import TestClient
from scipy.signal import convolve2d

from grader.catalog.spec import ExerciseSpec
from grader.grading.inputs import case_arguments
from grader.sandbox.fake import FakeRunner
from tests.api.conftest import (
    INSTRUCTOR,
    OTHER_PLATFORM,
    PLATFORM,
    SECRET,
    BrokenRunner,
    SlowRunner,
    auth,
    correct,
    wait_done,
)
from tests.conftest import SHIPPED

SUBMISSION = {"exercise_id": "conv2d", "source": "def conv(image, kernel): ...",
              "learner_id": "ada", "metadata": {"course": "dl-101"}}


def conv2d_spec(client) -> ExerciseSpec:
    return client.app.state.grader.catalog.get("conv2d").spec


def test_inline_grading_returns_the_report_and_an_id(make_client) -> None:
    response = make_client().post("/v1/submissions", json=SUBMISSION)
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "done" and len(body["id"]) == 32
    assert body["report"]["passed"] is True and body["report"]["score"] == 4
    assert body["learner_id"] == "ada" and body["metadata"] == {"course": "dl-101"}


def test_a_wrong_answer_is_diagnosed(make_client) -> None:
    client = make_client(runner=FakeRunner(lambda i, k: convolve2d(i, k, mode="valid")))
    report = client.post("/v1/submissions", json=SUBMISSION).json()["report"]
    assert [d["code"] for d in report["diagnosis"]] == ["flipped_kernel"]


def test_background_grading_answers_202_with_a_location(make_client) -> None:
    runner = SlowRunner()
    client = make_client(runner=runner)
    response = client.post("/v1/submissions?wait=false", json=SUBMISSION)
    assert response.status_code == 202
    body = response.json()
    assert body["status"] in ("queued", "running") and body["report"] is None
    assert response.headers["location"] == f"/v1/submissions/{body['id']}"
    runner.release.set()
    assert wait_done(client, body["id"])["report"]["passed"] is True


def test_an_idempotent_retry_returns_the_first_result_without_grading_again(make_client) -> None:
    runner = FakeRunner(lambda i, k: convolve2d(i, k, mode="valid") + np.random.rand())
    client = make_client(runner=runner)
    headers = {"Idempotency-Key": "attempt-42"}
    first = client.post("/v1/submissions", json=SUBMISSION, headers=headers).json()
    second = client.post("/v1/submissions", json=SUBMISSION, headers=headers).json()
    assert second["id"] == first["id"]
    assert second["report"] == first["report"]
    assert len(runner.jobs) == 1
    third = client.post("/v1/submissions", json=SUBMISSION).json()
    assert third["id"] != first["id"] and len(runner.jobs) == 2


def test_a_full_backlog_answers_503_with_retry_after(make_client) -> None:
    runner = SlowRunner()
    client = make_client(runner=runner, slots=1, backlog=1)
    assert client.post("/v1/submissions?wait=false", json=SUBMISSION).status_code == 202
    response = client.post("/v1/submissions?wait=false", json=SUBMISSION)
    assert response.status_code == 503
    assert int(response.headers["retry-after"]) >= 1
    assert response.headers["content-type"] == "application/problem+json"
    runner.release.set()


def test_source_over_the_limit_is_413(make_client) -> None:
    client = make_client(max_source_bytes=1024)
    response = client.post("/v1/submissions", json={**SUBMISSION, "source": "x" * 1025})
    assert response.status_code == 413
    assert "1025 bytes; the limit is 1024" in response.json()["detail"]


def test_a_body_over_the_limit_is_413_before_parsing(make_client) -> None:
    client = make_client(max_source_bytes=1024)
    response = client.post("/v1/submissions", content=b"{" + b" " * 200_000 + b"}",
                           headers={"content-type": "application/json"})
    assert response.status_code == 413


def test_missing_fields_are_422_with_their_paths(make_client) -> None:
    response = make_client().post("/v1/submissions", json={"exercise_id": "conv2d"})
    assert response.status_code == 422
    body = response.json()
    assert body["status"] == 422 and "body.source" in body["detail"]
    assert ["body", "source"] in [e["loc"] for e in body["errors"]]


def test_invalid_json_is_422(make_client) -> None:
    response = make_client().post("/v1/submissions", content=b"{not json",
                                  headers={"content-type": "application/json"})
    assert response.status_code == 422


def test_nul_bytes_in_source_are_422(make_client) -> None:
    response = make_client().post("/v1/submissions", json={**SUBMISSION, "source": "a\x00b"})
    assert response.status_code == 422
    assert "NUL" in response.json()["detail"]


def test_unknown_exercise_and_submission_are_404(make_client) -> None:
    client = make_client()
    assert client.post("/v1/submissions", json={**SUBMISSION, "exercise_id": "nope"}) \
        .status_code == 404
    response = client.get("/v1/submissions/does-not-exist")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert client.get("/v1/exercises/nope").status_code == 404


def test_a_callback_needs_a_secret_on_the_server(make_client) -> None:
    response = make_client().post("/v1/submissions", json={
        **SUBMISSION, "callback_url": "http://127.0.0.1:9/hook"})
    assert response.status_code == 422
    assert "GRADER_CALLBACK_SECRET" in response.json()["detail"]


def test_exercises_show_the_statement_and_nothing_hidden(make_client) -> None:
    client = make_client()
    items = client.get("/v1/exercises").json()["items"]
    assert [e["id"] for e in items] == SHIPPED
    conv = client.get("/v1/exercises/conv2d").json()
    assert "cross-correlation" in conv["statement"]
    assert [c["name"] for c in conv["visible_cases"]] == ["square 8x8", "tall 12x10"]
    assert conv["visible_cases"][1]["shapes"] == {"image": [12, 10], "kernel": [3, 3]}
    assert conv["hidden_cases"] == 2 and conv["max_score"] == 4
    assert "10x10" not in str(conv) and "mistakes" not in conv and "reference" not in conv
    assert conv["importable"][0] == "numpy" and "math" in conv["importable"]
    assert "numpy.linalg" in conv["importable"] and "scipy" not in conv["importable"]


def test_an_exercise_shows_each_argument_s_real_dtype(make_client) -> None:
    strided = make_client().get("/v1/exercises/conv2d_strided").json()
    assert strided["arguments"] == [
        {"name": "image", "kind": "array", "dtype": "float64"},
        {"name": "kernel", "kind": "array", "dtype": "float64"},
        {"name": "stride", "kind": "int", "dtype": "int64"},
        {"name": "padding", "kind": "int", "dtype": "int64"}]


def test_a_visible_case_shows_the_values_it_fixes(make_client) -> None:
    client = make_client()
    strided = client.get("/v1/exercises/conv2d_strided").json()["visible_cases"]
    assert [c["values"] for c in strided] == [
        {"stride": 1, "padding": 0}, {"stride": 2, "padding": 1},
        {"stride": 2, "padding": 0}, {"stride": 1, "padding": 2}]
    patch = client.get("/v1/exercises/patch_dot").json()["visible_cases"]
    assert patch[0]["values"] == {"patch": [[3.0, 0.0, 1.0], [1.0, 5.0, 8.0], [2.0, 7.0, 2.0]],
                                  "kernel": [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]]}
    assert patch[1]["values"] == {}  # drawn from the seed


def hidden_inputs_sent(runner: FakeRunner) -> list[np.ndarray]:
    return [case.args[0] for case in runner.jobs[-1].cases if case.hidden]


def test_hidden_inputs_are_drawn_with_the_configured_secret(make_client) -> None:
    runner = FakeRunner(correct)
    client = make_client(runner=runner, hidden_secret="configured-hidden-secret-01")
    seed = client.post("/v1/submissions", json=SUBMISSION).json()["report"]["seed"]
    inputs = case_arguments(conv2d_spec(client), seed, b"configured-hidden-secret-01")
    assert all(np.array_equal(sent, want[0]) for sent, want in
               zip(hidden_inputs_sent(runner), inputs[2:], strict=True))


def test_without_a_setting_the_secret_is_kept_in_the_data_dir(make_client, tmp_path) -> None:
    runner = FakeRunner(correct)
    client = make_client(runner=runner)
    seed = client.post("/v1/submissions", json=SUBMISSION).json()["report"]["seed"]
    secret = (tmp_path / "hidden-secret").read_bytes()
    inputs = case_arguments(conv2d_spec(client), seed, secret)
    assert all(np.array_equal(sent, want[0]) for sent, want in
               zip(hidden_inputs_sent(runner), inputs[2:], strict=True))


# -- tokens -----------------------------------------------------------------------------------

def test_with_no_platform_tokens_submitting_is_open(make_client) -> None:
    assert make_client().post("/v1/submissions", json=SUBMISSION).status_code == 200


def test_a_missing_or_wrong_token_is_401(make_client) -> None:
    client = make_client(platform_tokens=PLATFORM)
    response = client.post("/v1/submissions", json=SUBMISSION)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    wrong = client.post("/v1/submissions", json=SUBMISSION, headers=auth("x" * 30))
    assert wrong.status_code == 401
    assert client.post("/v1/submissions", json=SUBMISSION,
                       headers=auth(PLATFORM)).status_code == 200


def test_instructor_routes_are_403_when_no_instructor_token_is_set(make_client) -> None:
    client = make_client(platform_tokens=PLATFORM)
    assert client.post("/v1/exercises/conv2d/regrade", headers=auth(PLATFORM)).status_code == 403
    assert client.post("/v1/exercises/conv2d/regrade").status_code == 403


def test_a_platform_token_on_an_instructor_route_is_403(make_client) -> None:
    client = make_client(platform_tokens=PLATFORM, instructor_tokens=INSTRUCTOR)
    regrade = "/v1/exercises/conv2d/regrade"
    assert client.post(regrade, headers=auth(PLATFORM)).status_code == 403
    assert client.post(regrade).status_code == 401
    assert client.post(regrade, headers=auth(INSTRUCTOR)).status_code == 202


def test_a_platform_reads_only_its_own_submissions(make_client) -> None:
    client = make_client(platform_tokens=f"{PLATFORM},{OTHER_PLATFORM}",
                         instructor_tokens=INSTRUCTOR)
    mine = client.post("/v1/submissions", json=SUBMISSION, headers=auth(PLATFORM)).json()
    assert client.get(f"/v1/submissions/{mine['id']}", headers=auth(PLATFORM)).status_code == 200
    assert client.get(f"/v1/submissions/{mine['id']}",
                      headers=auth(OTHER_PLATFORM)).status_code == 404
    assert client.get(f"/v1/submissions/{mine['id']}",
                      headers=auth(INSTRUCTOR)).status_code == 200


def test_instructors_list_submissions_filtered_and_paginated(make_client) -> None:
    client = make_client(instructor_tokens=INSTRUCTOR)
    for learner in ["ada", "ada", "bob"]:
        client.post("/v1/submissions", json={**SUBMISSION, "learner_id": learner})
    page = client.get("/v1/submissions?learner_id=ada&limit=1", headers=auth(INSTRUCTOR)).json()
    assert page["total"] == 2 and len(page["items"]) == 1 and page["next_offset"] == 1
    last = client.get("/v1/submissions?learner_id=ada&limit=1&offset=1",
                      headers=auth(INSTRUCTOR)).json()
    assert last["next_offset"] is None and last["items"][0]["id"] != page["items"][0]["id"]


def test_regrade_reports_how_many_were_queued(make_client) -> None:
    client = make_client(instructor_tokens=INSTRUCTOR)
    first = client.post("/v1/submissions", json=SUBMISSION).json()
    client.post("/v1/submissions", json=SUBMISSION)
    response = client.post("/v1/exercises/conv2d/regrade", headers=auth(INSTRUCTOR))
    assert response.status_code == 202
    assert response.json() == {"exercise_id": "conv2d", "queued": 2}
    assert wait_done(client, first["id"])["report"]["passed"] is True


def test_health_readiness_and_metrics(make_client) -> None:
    client = make_client()
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz").json()
    assert ready["ready"] is True and ready["database"] == "ok"
    client.post("/v1/submissions", json=SUBMISSION)
    text = client.get("/metrics").text
    assert 'grader_submissions_total{verdict="passed"} 1.0' in text
    assert "grader_grading_seconds_bucket" in text
    assert "grader_backlog 0.0" in text
    assert "# TYPE grader_sandbox_kills_total counter" in text


def test_openapi_docs_are_served(make_client) -> None:
    client = make_client()
    assert client.get("/docs").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/v1/submissions", "/v1/submissions/{submission_id}", "/v1/exercises",
            "/v1/exercises/{exercise_id}", "/v1/exercises/{exercise_id}/regrade", "/healthz",
            "/readyz", "/metrics"} <= set(paths)


def test_callback_url_is_accepted_when_a_secret_is_set(make_client) -> None:
    client = make_client(callback_secret=SECRET)
    response = client.post("/v1/submissions", json={
        **SUBMISSION, "callback_url": "http://127.0.0.1:9/hook"})
    assert response.status_code == 200


FREEZE_PROBE = """
import gc, sys, tempfile
from fastapi.testclient import TestClient
from grader.api.app import create_app
from grader.sandbox.fake import FakeRunner
from grader.settings import Settings
settings = Settings(data_dir=tempfile.mkdtemp())
app = create_app(settings, FakeRunner(lambda i, k: i), freeze_heap=sys.argv[1] == "1")
with TestClient(app) as client:
    assert client.get("/readyz").status_code == 200
    print(gc.get_freeze_count())
"""


def test_a_serving_process_moves_its_startup_heap_out_of_the_collectors_reach() -> None:
    def frozen(freeze: bool) -> int:
        probe = [sys.executable, "-W", "ignore", "-c", FREEZE_PROBE, str(int(freeze))]
        done = subprocess.run(probe, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        return int(done.stdout.split()[-1])

    assert frozen(False) == 0
    assert frozen(True) > 10_000


def test_a_fault_of_the_grader_keeps_the_submission_and_marks_it_failed(
        make_client: Callable[..., TestClient]) -> None:
    client = make_client(BrokenRunner())
    response = client.post("/v1/submissions", params={"wait": "false"},
                           json={"exercise_id": "conv2d", "source": "def conv(a, b): pass"})
    assert response.status_code == 202
    body = wait_done(client, response.json()["id"])
    assert body["status"] == "failed"
    assert "a bug in the grader" in body["error"]


def test_a_refusing_runner_gives_503_with_the_reason_and_stores_nothing(
        make_client: Callable[..., TestClient]) -> None:
    client = make_client(FakeRunner(correct, refusal="seccomp cannot be built"),
                         instructor_tokens=INSTRUCTOR)
    for params in ({}, {"wait": "false"}):
        response = client.post("/v1/submissions", params=params,
                               json={"exercise_id": "conv2d", "source": "def conv(a, b): pass"})
        assert response.status_code == 503
        assert "seccomp cannot be built" in response.json()["detail"]
    ready = client.get("/readyz")
    assert ready.status_code == 503 and "seccomp cannot be built" in ready.json()["reasons"]
    assert client.get("/v1/submissions", headers=auth(INSTRUCTOR)).json()["total"] == 0


def test_retry_after_follows_the_rate_at_which_the_backlog_drained(make_client) -> None:
    runner = SlowRunner()
    client = make_client(runner=runner, slots=1, backlog=1)
    service = client.app.state.grader.submissions
    now = time.monotonic()
    # one submission left the backlog every 4 s lately: room for one more in about 4 s
    service.drain.departures.extend(now - 4.0 * i for i in range(6, 0, -1))
    assert client.post("/v1/submissions?wait=false", json=SUBMISSION).status_code == 202
    slow = client.post("/v1/submissions?wait=false", json=SUBMISSION)
    # ten a second lately: about a tenth of a second, shown as the least, 1 s
    service.drain.departures.clear()
    service.drain.departures.extend(time.monotonic() - 0.1 * i for i in range(20, 0, -1))
    fast = client.post("/v1/submissions?wait=false", json=SUBMISSION)
    runner.release.set()
    assert slow.status_code == fast.status_code == 503
    assert 4 <= int(slow.headers["retry-after"]) <= 6
    assert int(fast.headers["retry-after"]) == 1


def test_a_regrade_never_shuts_out_new_submissions(make_client) -> None:
    runner = SlowRunner()
    runner.release.set()  # grading goes through while the stored ones are made
    client = make_client(runner=runner, instructor_tokens=INSTRUCTOR, backlog=2)
    stored = [client.post("/v1/submissions", json=SUBMISSION).json()["id"] for _ in range(5)]
    runner.release.clear()  # from now on every grading waits
    regrade = client.post("/v1/exercises/conv2d/regrade", headers=auth(INSTRUCTOR))
    assert regrade.json()["queued"] == 5
    new = client.post("/v1/submissions?wait=false", json=SUBMISSION)
    assert new.status_code == 202  # 5 regrades waiting, and still room in a backlog of 2
    runner.release.set()
    assert wait_done(client, new.json()["id"])["status"] == "done"
    assert all(wait_done(client, i)["status"] == "done" for i in stored)


def test_a_regrade_under_way_at_a_restart_goes_on_as_a_regrade(make_client) -> None:
    client = make_client()
    stored = [client.post("/v1/submissions", json=SUBMISSION).json()["id"] for _ in range(3)]
    service = client.app.state.grader.submissions
    service.store.set_queued(stored[1:])  # a regrade that had done the first one when stopped
    client.__exit__(None, None, None)
    runner = SlowRunner()
    restarted = make_client(runner=runner, backlog=1)
    restarted_service = restarted.app.state.grader.submissions
    assert restarted_service.backlog == 0  # the two regrades are not in the backlog
    assert restarted.post("/v1/submissions?wait=false", json=SUBMISSION).status_code == 202
    runner.release.set()
    assert all(wait_done(restarted, i)["status"] == "done" for i in stored)
    assert len(runner.jobs) == 3  # the two unfinished regrades and the new one, nothing else

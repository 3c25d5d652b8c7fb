"""/metrics: aggregates only, from closed lists of label values, and read by whom the settings
say: anyone on a server without platform tokens, else the metrics token or an instructor."""

from __future__ import annotations

import re

import pytest
from pydantic import ValidationError

from grader.sandbox.fake import FakeRunner
from grader.service.metrics import KILL_REASONS, VERDICTS, Metrics
from grader.settings import Settings
from tests.api.conftest import INSTRUCTOR, PLATFORM, auth, correct, wait_done

METRICS_TOKEN = "metrics-token-0123456789"
LEARNER = "learner-ada-lovelace-1815"


def test_a_server_without_platform_tokens_serves_metrics_to_anyone(make_client) -> None:
    client = make_client()
    assert client.get("/metrics").status_code == 200


@pytest.mark.parametrize(("overrides", "allowed", "refused"), [
    ({"platform_tokens": PLATFORM, "instructor_tokens": INSTRUCTOR},
     [INSTRUCTOR], [None, PLATFORM, "not-a-token-0123456789"]),
    ({"platform_tokens": PLATFORM, "instructor_tokens": INSTRUCTOR,
      "metrics_token": METRICS_TOKEN}, [METRICS_TOKEN, INSTRUCTOR], [None, PLATFORM]),
    ({"metrics_token": METRICS_TOKEN}, [METRICS_TOKEN], [None, "not-a-token-0123456789"]),
    ({"platform_tokens": PLATFORM}, [], [None, PLATFORM]),  # no instructor: nobody but a token
])
def test_who_may_read_the_metrics(make_client, overrides, allowed, refused) -> None:
    client = make_client(**overrides)
    for token in allowed:
        response = client.get("/metrics", headers=auth(token))
        assert response.status_code == 200 and "grader_backlog" in response.text
    for token in refused:
        response = client.get("/metrics", headers=auth(token) if token else {})
        assert "GRADER_METRICS_TOKEN" in response.json()["detail"]
        assert "grader_" not in response.text
        if token == PLATFORM:  # a valid token, of a kind that may not: forbidden
            assert response.status_code == 403, token
            assert "not a platform token" in response.json()["detail"]
        else:  # no token, or none of the server's: unauthorised
            assert response.status_code == 401, token
            assert response.headers["www-authenticate"] == "Bearer"


def test_a_short_metrics_token_is_refused(tmp_path) -> None:
    with pytest.raises(ValidationError, match="GRADER_METRICS_TOKEN"):
        Settings(data_dir=tmp_path, metrics_token="short")


LABEL = re.compile(r'(\w+)="([^"]*)"')
ALLOWED_LABELS = {"verdict": set(VERDICTS) | {"other"}, "reason": set(KILL_REASONS) | {"other"},
                  "le": None}  # le: the histogram's buckets, numbers of the code


def test_metrics_carry_aggregates_and_no_submission_learner_or_token(make_client) -> None:
    runner = FakeRunner(correct)
    runner.kills = {"timeout": 2, f"killed {LEARNER}": 1}  # a reason from nowhere is "other"
    client = make_client(runner=runner, platform_tokens=PLATFORM, metrics_token=METRICS_TOKEN)
    submitted = client.post("/v1/submissions", headers=auth(PLATFORM), json={
        "exercise_id": "conv2d", "source": "def conv(image, kernel): ...",
        "learner_id": LEARNER, "metadata": {"course": "dl-101"}}).json()
    wait_done(client, submitted["id"], headers=auth(PLATFORM))
    text = client.get("/metrics", headers=auth(METRICS_TOKEN)).text
    for secret in (LEARNER, submitted["id"], PLATFORM, METRICS_TOKEN, "dl-101", "conv2d"):
        assert secret not in text
    for name, value in LABEL.findall(text):
        assert name in ALLOWED_LABELS, name
        assert ALLOWED_LABELS[name] is None or value in ALLOWED_LABELS[name], (name, value)
    assert 'grader_submissions_total{verdict="passed"} 1.0' in text
    assert 'grader_sandbox_kills_total{reason="timeout"} 2.0' in text
    assert 'grader_sandbox_kills_total{reason="other"} 1.0' in text
    assert 'grader_sandbox_kills_total{reason="protocol"} 0.0' in text  # every reason, always


def test_a_verdict_outside_the_list_is_counted_as_other() -> None:
    metrics = Metrics(backlog=lambda: 0, kills=dict)
    metrics.graded(f"passed for {LEARNER}", 0.1)
    text = metrics.render().decode()
    assert 'grader_submissions_total{verdict="other"} 1.0' in text and LEARNER not in text

"""The answer to a synchronous submission carries the report as it was serialised when it was
graded, spliced into the view, instead of parsed and serialised again: the same bytes, proven
on real sandboxed runs of every kind of outcome."""

from __future__ import annotations

import re

import pytest

from grader.sandbox.forkserver import ForkServerRunner
from grader.service.views import spliced
from grader.service.views import submission_view as view
from tests.api.conftest import PLATFORM, auth
from tests.conftest import source_of

pytestmark = pytest.mark.processes

OUTCOMES = ("conv2d/correct_numpy", "conv2d/flipped_kernel", "raises", "load_error",
            "prints_everywhere", "returns_nan", "no_entry_point", "returns_strings",
            "mutates_input", "float32_correct")


def test_the_spliced_answer_is_the_report_parsed_and_serialised_again(make_client) -> None:
    client = make_client(runner=ForkServerRunner(slots=1), platform_tokens=[PLATFORM])
    state = client.app.state.grader  # type: ignore[attr-defined]
    for name in OUTCOMES:
        answer = client.post("/v1/submissions", headers=auth(PLATFORM), json={
            "exercise_id": "conv2d", "source": source_of(name), "learner_id": "ada",
            "metadata": {"report": None, "error": "a \"report\":null,\"error\": look-alike"}})
        assert answer.status_code == 200, answer.text
        stored = state.store.get(answer.json()["id"])
        assert stored is not None and stored.report is not None
        slow = _unsigned(view(stored, links=state.links).model_dump_json())
        assert _unsigned(spliced(stored, state.links)) == slow, name
        assert _unsigned(answer.text) == slow, name
        assert "expires=&signature=" in slow  # the signed link, compared without its stamp


def _unsigned(text: str) -> str:
    """The answer with its links' expiry and signature left out: each is signed when it is
    made, and two made a second apart differ there (the rest must be the same bytes)."""
    return re.sub(r"expires=\d+&signature=[0-9a-f]+", "expires=&signature=", text)


def test_a_view_without_a_report_is_serialised_as_before(make_client) -> None:
    client = make_client(platform_tokens=[PLATFORM])
    state = client.app.state.grader  # type: ignore[attr-defined]
    answer = client.post("/v1/submissions?wait=false", headers=auth(PLATFORM), json={
        "exercise_id": "conv2d", "source": source_of("conv2d/correct_numpy")})
    stored = state.store.get(answer.json()["id"])
    stored.report = None
    assert spliced(stored, state.links) == view(stored, links=state.links).model_dump_json()

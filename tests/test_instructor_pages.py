"""The instructor's view on a real ``grader serve``, graded by the real sandbox: the summary
of conv2d after a mix of submissions, the same numbers on the exercise's page, and who may
open the pages (an instructor's session alone: not without one, not with an expired or a
forged one, not with a platform token or a report link)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import EXERCISES, Server

pytestmark = pytest.mark.processes

PLATFORM = "platform-token-pages-0123"
ALICE = "instructor-alice-token-0123"
SECRET = "hidden-secret-for-pages-0123"
SAMPLES = EXERCISES / "conv2d" / "samples"
# 5 correct, 3 flipped kernels, 2 with same padding: (learner, sample)
MIX = [("ada", "flipped_kernel"), ("ada", "correct_numpy"), ("bob", "same_padding"),
       ("bob", "same_padding"), ("bob", "correct_loops"), ("cy", "correct_lists"),
       ("dee", "flipped_kernel"), ("dee", "flipped_kernel"), ("dee", "correct_numpy"),
       ("eve", "correct_loops")]


def source(sample: str) -> str:
    return (SAMPLES / f"{sample}.py").read_text()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = Server(tmp_path_factory.mktemp("instructor-server"), {
        "GRADER_PLATFORM_TOKENS": PLATFORM, "GRADER_INSTRUCTOR_TOKENS": f"alice:{ALICE}",
        "GRADER_HIDDEN_SECRET": SECRET}).start()
    try:
        for learner, sample in MIX:
            answer = httpx.post(f"{running.url}/v1/submissions", timeout=120,
                                headers={"Authorization": f"Bearer {PLATFORM}"},
                                json={"exercise_id": "conv2d", "learner_id": learner,
                                      "source": source(sample)})
            assert answer.status_code == 200, answer.text
        yield running
    finally:
        running.stop()


def sign_in(client: httpx.Client, token: str) -> httpx.Response:
    form = client.get("/instructor/sign-in")
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert csrf is not None
    return client.post("/instructor/sign-in", data={"csrf": csrf.group(1), "token": token})


def figure(page: str, key: str) -> str:
    found = re.search(rf'data-figure="{key}">([^<]*)<', page)
    assert found is not None, key
    return found.group(1)


def test_the_summary_counts_the_mix_and_the_page_shows_the_same(server: Server) -> None:
    summary = httpx.get(f"{server.url}/v1/exercises/conv2d/summary", timeout=30,
                        headers={"Authorization": f"Bearer {ALICE}"}).json()
    assert (summary["submissions"], summary["graded"], summary["passed"]) == (10, 10, 5)
    assert {m["mistake"]: m["submissions"] for m in summary["mistakes"]} == {
        "flipped_kernel": 3, "same_padding": 2}
    assert summary["learners"] == 5
    assert summary["passed_eventually"] == {"learners": 5, "share": 1.0}
    assert summary["passed_first_try"]["learners"] == 2  # cy and eve
    assert summary["median_attempts_to_pass"] == 2.0  # 1, 1, 2, 3, 3
    assert [b["submissions"] for b in summary["histogram"]][-1] == 5
    with httpx.Client(base_url=server.url, timeout=30) as client:
        assert sign_in(client, ALICE).status_code == 303
        page = client.get("/instructor/exercises/conv2d").text
    assert figure(page, "submissions") == "10"
    assert figure(page, "passed") == "5"
    assert re.search(r'data-mistake="flipped_kernel">3<', page)
    assert re.search(r'data-mistake="same_padding">2<', page)

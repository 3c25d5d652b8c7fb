"""The instructor's view on a real ``grader serve``, graded by the real sandbox: the summary
of conv2d after a mix of submissions, the same numbers on the exercise's page, and who may
open the pages (an instructor's session alone: not without one, not with an expired or a
forged one, not with a platform token or a report link)."""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from grader.api.sessions import COOKIE, SESSION_SECONDS, Sessions
from grader.settings import Settings
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


@contextlib.contextmanager
def graded_server(folder: Path) -> Iterator[Server]:
    """A real server with alice's instructor token, after the ``MIX`` of submissions."""
    running = Server(folder, {
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


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with graded_server(tmp_path_factory.mktemp("instructor-server")) as running:
        yield running


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


# -- who may open the pages -------------------------------------------------------------------

PAGES = ["/instructor/exercises", "/instructor/exercises/conv2d",
         "/instructor/exercises/conv2d/versions",
         "/instructor/exercises/conv1d/versions/0/restore", "/instructor/learners/ada"]
FORMS = ["/instructor/sign-out", "/instructor/exercises/conv1d/versions/0/restore",
         "/instructor/exercises/conv1d/regrade"]


def sessions() -> Sessions:
    return Sessions(SECRET.encode(), Settings(instructor_tokens=f"alice:{ALICE}"))


def with_cookie(server: Server, value: str) -> httpx.Client:
    client = httpx.Client(base_url=server.url, timeout=30)
    client.cookies.set(COOKIE, value, domain="127.0.0.1", path="/instructor")
    return client


def refused_everywhere(client: httpx.Client, **extra: object) -> None:
    for path in PAGES:
        answer = client.get(path, **extra)  # type: ignore[arg-type]
        assert (answer.status_code, answer.headers.get("location")) == (
            303, "/instructor/sign-in"), path
    for path in FORMS:
        answer = client.post(path, data={"csrf": "x"}, **extra)  # type: ignore[arg-type]
        assert answer.status_code == 403, path
        assert "Set-Cookie" not in answer.headers


def test_no_page_opens_without_a_session(server: Server) -> None:
    with httpx.Client(base_url=server.url, timeout=30) as client:
        refused_everywhere(client)


def test_no_page_opens_with_an_expired_session(server: Server) -> None:
    started = sessions().start(ALICE, now=time.time() - SESSION_SECONDS - 60)
    assert started is not None
    with with_cookie(server, started[1]) as client:
        refused_everywhere(client)


def test_no_page_opens_with_a_forged_session(server: Server) -> None:
    good = sessions().start(ALICE)
    assert good is not None
    body, _, mac = good[1].rpartition(".")
    later = str(int(body.split(".")[0]) + 10 ** 6) + body[body.index("."):]
    other = Sessions(b"another-servers-secret-0123", Settings(
        instructor_tokens=f"alice:{ALICE}")).start(ALICE)
    assert other is not None
    for forged in (f"{later}.{mac}", other[1], "x.y.z.w", good[1].replace(".", ",")):
        with with_cookie(server, forged) as client:
            refused_everywhere(client)


def test_a_platform_token_or_a_report_link_opens_no_page(server: Server) -> None:
    with httpx.Client(base_url=server.url, timeout=30) as client:
        refused_everywhere(client, headers={"Authorization": f"Bearer {PLATFORM}"})
        refused_everywhere(client, headers={"Authorization": f"Bearer {ALICE}"})
        answer = sign_in(client, PLATFORM)
        assert answer.status_code == 403 and COOKIE not in answer.cookies
        listed = httpx.get(f"{server.url}/v1/submissions?exercise_id=conv2d&limit=1",
                           headers={"Authorization": f"Bearer {PLATFORM}"}).json()
        link = listed["items"][0]["report_url"]
        query = link[link.index("?"):]
        for path in PAGES:
            assert client.get(path + query).status_code == 303
    summary = f"{server.url}/v1/exercises/conv2d/summary"
    assert httpx.get(summary, headers={"Authorization": f"Bearer {PLATFORM}"}
                     ).status_code == 403
    assert httpx.get(summary).status_code == 401


def test_a_session_cookie_is_http_only_strict_and_expires(server: Server) -> None:
    with httpx.Client(base_url=server.url, timeout=30) as client:
        answer = sign_in(client, ALICE)
    cookie = [v for k, v in answer.headers.multi_items()
              if k == "set-cookie" and v.startswith(COOKIE + "=")][0]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert f"Max-Age={SESSION_SECONDS}" in cookie and "Path=/instructor" in cookie


def test_a_form_without_its_csrf_token_is_refused_and_sign_out_ends_it(server: Server) -> None:
    with httpx.Client(base_url=server.url, timeout=30) as client:
        assert sign_in(client, ALICE).status_code == 303
        assert client.post("/instructor/exercises/conv1d/regrade").status_code == 403
        assert client.post("/instructor/sign-out", data={"csrf": "0" * 64}).status_code == 403
        page = client.get("/instructor/exercises").text
        csrf = re.search(r'name="csrf" value="([^"]+)"', page)
        assert csrf is not None
        assert client.post("/instructor/sign-out", data={"csrf": csrf.group(1)}
                           ).status_code == 303
        assert client.get("/instructor/exercises").status_code == 303


def test_a_restore_from_the_page_records_who_and_the_versions_show_it(server: Server) -> None:
    with httpx.Client(base_url=server.url, timeout=30) as client:
        assert sign_in(client, ALICE).status_code == 303
        confirm = client.get("/instructor/exercises/conv1d/versions/0/restore").text
        csrf = re.search(r'name="csrf" value="([^"]+)"', confirm)
        assert csrf is not None and "Yes, restore version 0" in confirm
        done = client.post("/instructor/exercises/conv1d/versions/0/restore",
                           data={"csrf": csrf.group(1), "confirm": "yes"})
        assert done.status_code == 303
        page = client.get(done.headers["location"]).text
        assert re.search(r'<tr data-version="1"><td data-label="version">1</td><td>[^<]+</td>'
                         r'<td data-label="by">alice</td>', page)
        assert "From version 0 to version 1" in page and "spec (JSON): the same" in page
        regraded = client.post("/instructor/exercises/conv1d/regrade",
                               data={"csrf": csrf.group(1)})
        assert regraded.status_code == 303
    versions = httpx.get(f"{server.url}/v1/exercises/conv1d/versions",
                         headers={"Authorization": f"Bearer {ALICE}"}).json()
    assert [(v["version"], v["published_by"]) for v in versions["items"]] == [(1, "alice")]


def test_an_exercise_published_with_put_alone_has_no_built_in_version(server: Server) -> None:
    """Its versions start at 1: the page lists no version 0 to compare or restore, and asks
    no restore of a version or an exercise that does not exist."""
    from grader.api.schemas import BUNDLE_EXAMPLE, EXAMPLE_EXERCISE

    pushed = httpx.put(f"{server.url}/v1/exercises/{EXAMPLE_EXERCISE}", json=BUNDLE_EXAMPLE,
                       headers={"Authorization": f"Bearer {ALICE}"}, timeout=120)
    assert pushed.status_code == 200, pushed.text
    with httpx.Client(base_url=server.url, timeout=30) as client:
        assert sign_in(client, ALICE).status_code == 303
        page = client.get(f"/instructor/exercises/{EXAMPLE_EXERCISE}/versions")
        summary = client.get(f"/instructor/exercises/{EXAMPLE_EXERCISE}")
        missing = [client.get(f"/instructor/exercises/{EXAMPLE_EXERCISE}/versions/0/restore"),
                   client.get("/instructor/exercises/nope/versions/1/restore")]
    assert page.status_code == 200, page.text
    assert 'data-version="1"' in page.text and 'data-version="0"' not in page.text
    assert "built in" not in page.text and "<option>0</option>" not in page.text
    assert summary.status_code == 200 and '<option value="0">' not in summary.text
    assert '<option value="1">' in summary.text
    assert [answer.status_code for answer in missing] == [404, 404]
    assert "Restore version" not in missing[0].text + missing[1].text


def test_a_learners_page_lists_their_submissions_in_order(server: Server) -> None:
    with httpx.Client(base_url=server.url, timeout=30) as client:
        assert sign_in(client, ALICE).status_code == 303
        page = client.get("/instructor/learners/dee").text
        other = client.get("/instructor/learners/a%2Fb%3Cx%3E")
    assert "<h1>Learner dee</h1><p>3 submissions, oldest first.</p>" in page
    verdicts = re.findall(r'class="(passed|failed)">(?:not )?passed<', page)
    assert verdicts == ["failed", "failed", "passed"]  # flipped, flipped, correct
    assert other.status_code == 200 and "Learner a/b&lt;x&gt;" in other.text


def test_the_last_day_there_is_filters_without_an_end(server: Server) -> None:
    with httpx.Client(base_url=server.url, timeout=30) as client:
        assert sign_in(client, ALICE).status_code == 303
        page = client.get("/instructor/exercises/conv2d?since=0001-01-01&until=9999-12-31")
        none = client.get("/instructor/exercises/conv2d?since=9999-12-31&until=9999-12-31")
    assert page.status_code == 200 and none.status_code == 200
    assert page.text.count('class="passed"') + page.text.count('class="failed"') > 0
    assert none.text.count('class="passed"') + none.text.count('class="failed"') == 0

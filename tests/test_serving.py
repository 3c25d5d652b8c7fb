"""A real server as its first users meet it: what its access log keeps, a body over the limit
sent by an ordinary client, listing one's own submissions, and polling after a 202."""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest

from tests.conftest import EXERCISES, ROOT, Server

pytestmark = pytest.mark.processes

PLATFORM = "platform-token-serving-0123456789"
OTHER = "platform-token-serving-other-0123"
INSTRUCTOR = "instructor-token-serving-0123456789"
CORRECT = (EXERCISES / "conv2d" / "samples" / "correct_loops.py").read_text()


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = Server(tmp_path_factory.mktemp("serving"), {
        "GRADER_PLATFORM_TOKENS": f"{PLATFORM},{OTHER}", "GRADER_INSTRUCTOR_TOKENS": INSTRUCTOR,
        "GRADER_LOG_LEVEL": "INFO"}).start()
    yield server
    server.stop()


def submit(server: Server, token: str, learner: str, **params: str) -> httpx.Response:
    return httpx.post(f"{server.url}/v1/submissions", headers=auth(token), params=params,
                      timeout=60, json={"exercise_id": "conv2d", "source": CORRECT,
                                        "learner_id": learner})


def test_the_access_log_keeps_no_report_links_signature(server: Server) -> None:
    report_url = submit(server, PLATFORM, "ada").json()["report_url"]
    target = urlsplit(report_url)
    signature = dict(p.split("=", 1) for p in target.query.split("&"))["signature"]
    page = httpx.get(f"{server.url}{target.path}?{target.query}", timeout=60)
    assert page.status_code == 200  # the link works: it was read, and logged
    leaked = httpx.get(f"{server.url}/healthz?token=some-token-value-0123", timeout=10)
    assert leaked.status_code in (200, 422)
    end = time.monotonic() + 30  # the log line is written after the answer is sent
    while "GET /healthz?token=" not in server.read_log(None) and time.monotonic() < end:
        time.sleep(0.1)
    log = server.read_log(None)
    assert f"{target.path}?expires=" in log  # the line is there
    assert "signature=REDACTED" in log and "token=REDACTED" in log
    assert signature not in log and "some-token-value" not in log


def test_a_body_over_the_limit_sent_by_urllib_gets_its_413(server: Server) -> None:
    """urllib sends the whole body before it reads the answer: the server reads the rest of
    the body (and throws it away) before it answers and closes, so the client reads the 413
    instead of meeting a reset connection."""
    source = "x = 1\n" * (2_400_000 // 6)
    body = json.dumps({"exercise_id": "conv2d", "source": source}).encode()
    for _ in range(4):
        request = urllib.request.Request(
            f"{server.url}/v1/submissions", body,
            {"Content-Type": "application/json", **auth(PLATFORM)})
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=60)
        assert refused.value.code == 413
        assert "over" in json.loads(refused.value.read())["detail"]


def test_a_platform_token_lists_its_own_submissions_and_an_instructor_all(
        server: Server) -> None:
    mine = {submit(server, PLATFORM, "lister-a").json()["id"] for _ in range(2)}
    theirs = submit(server, OTHER, "lister-b").json()["id"]

    def listed(token: str, **params: str | int) -> dict:
        response = httpx.get(f"{server.url}/v1/submissions", headers=auth(token),
                             params={"limit": 100, **params}, timeout=30)
        assert response.status_code == 200, response.text
        return response.json()

    own = listed(PLATFORM)
    ids = {item["id"] for item in own["items"]}
    assert mine <= ids and theirs not in ids and own["total"] == len(ids)
    other = {item["id"] for item in listed(OTHER)["items"]}
    assert theirs in other and not mine & other
    every = {item["id"] for item in listed(INSTRUCTOR)["items"]}
    assert mine | {theirs} <= every
    # the filters still apply within a platform's own
    assert {i["id"] for i in listed(PLATFORM, learner_id="lister-a")["items"]} == mine
    assert listed(PLATFORM, learner_id="lister-b")["total"] == 0
    assert httpx.get(f"{server.url}/v1/submissions", timeout=10).status_code == 401


def test_a_202_says_when_to_poll(server: Server) -> None:
    response = submit(server, PLATFORM, "poller", wait="false")
    if response.status_code == 200:  # graded before it answered: no polling to do
        assert "retry-after" not in response.headers
        return
    assert response.status_code == 202
    assert response.headers["location"] == f"/v1/submissions/{response.json()['id']}"
    assert 1 <= int(response.headers["retry-after"]) <= 60


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_the_api_docs_pages_need_no_other_host(server: Server, page: str) -> None:
    """Offline, or behind a firewall, /docs and /redoc still draw: every file they load is
    the grader's own, and answers."""
    answer = httpx.get(f"{server.url}{page}", timeout=30)
    assert answer.status_code == 200
    urls = re.findall(r"""(?:src|href|url)\s*[=:]\s*['"]([^'"]+)['"]""", answer.text)
    urls += re.findall(r"""spec-url=['"]([^'"]+)['"]""", answer.text)
    assert "/openapi.json" in urls and any(u.startswith("/docs/assets/") and u.endswith(".js")
                                           for u in urls), urls
    assert not re.search(r"https?://|//[a-z0-9.-]+\.[a-z]", answer.text, re.IGNORECASE)
    for url in urls:
        assert url.startswith("/"), url
        loaded = httpx.get(f"{server.url}{url}", timeout=30)
        assert loaded.status_code == 200, url
        assert loaded.content, url


def _keys(value: object) -> object:
    """The fields of a JSON answer, nested: what a sample in the README must show."""
    if isinstance(value, dict):
        return {key: _keys(item) for key, item in value.items()}
    if isinstance(value, list) and value and isinstance(value[0], dict):
        return [_keys(value[0])]
    return None


def test_the_readmes_sample_answer_has_the_servers_fields(server: Server) -> None:
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## Grade a submission over HTTP"):]
    sample = json.loads(section[section.index("```json\n") + 8:section.index("\n```\n",
                                                                            section.index("```json"))])
    source = (EXERCISES / "conv2d" / "samples" / "same_padding.py").read_text()
    answer = httpx.post(f"{server.url}/v1/submissions", headers=auth(PLATFORM), timeout=60,
                        json={"exercise_id": "conv2d", "learner_id": "ada",
                              "source": source}).json()
    assert _keys(sample) == _keys(answer)
    assert list(sample) == list(answer)  # in the server's order, too
    assert sample["report"]["cases"][0]["message"] == answer["report"]["cases"][0]["message"]
    assert sample["report"]["diagnosis"] == answer["report"]["diagnosis"]

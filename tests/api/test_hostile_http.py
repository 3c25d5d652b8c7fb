"""A real server against requests a hostile client sends: each is a 4xx with a problem body
that says what is wrong, never a 500, and never an answer for someone else."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from grader.api.schemas import BUNDLE_EXAMPLE, EXAMPLE_EXERCISE
from tests.api.conftest import INSTRUCTOR, OTHER_PLATFORM, PLATFORM, auth
from tests.conftest import EXERCISES, Server

pytestmark = pytest.mark.processes


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = Server(tmp_path_factory.mktemp("hostile"), {
        "GRADER_PLATFORM_TOKENS": f"{PLATFORM},{OTHER_PLATFORM}",
        "GRADER_INSTRUCTOR_TOKENS": INSTRUCTOR}).start()
    try:
        yield server
    finally:
        server.stop()


def submitted(server: Server, token: str) -> str:
    source = (EXERCISES / "conv2d" / "samples" / "correct_numpy.py").read_text()
    answer = httpx.post(f"{server.url}/v1/submissions?wait=false", headers=auth(token),
                        json={"exercise_id": "conv2d", "source": source}, timeout=60)
    assert answer.status_code == 202, answer.text
    return str(answer.json()["id"])


def test_two_authorization_headers_are_refused_whichever_comes_first(server: Server) -> None:
    """A proxy that checks one Authorization header and an app that reads another would let
    one platform read another's submissions: a request with two is refused."""
    mine = submitted(server, PLATFORM)
    for first, second in ((OTHER_PLATFORM, PLATFORM), (PLATFORM, OTHER_PLATFORM)):
        headers = [("Authorization", f"Bearer {first}"), ("Authorization", f"Bearer {second}")]
        for method, path in (("GET", f"/v1/submissions/{mine}"), ("GET", "/v1/submissions"),
                             ("GET", f"/v1/submissions/{mine}/report"),
                             ("GET", "/v1/exercises/conv2d/versions"),
                             ("GET", "/metrics")):
            answer = httpx.request(method, f"{server.url}{path}", headers=headers, timeout=30)
            assert answer.status_code == 401, (path, answer.text)
            assert answer.headers["content-type"] == "application/problem+json"
            assert "one Authorization header" in answer.json()["detail"]
    one = httpx.get(f"{server.url}/v1/submissions/{mine}", headers=auth(PLATFORM), timeout=30)
    assert one.status_code == 200 and one.json()["id"] == mine


def cpu_seconds(server: Server) -> float:
    """The server process's CPU time so far (user and system)."""
    assert server.process is not None
    fields = Path(f"/proc/{server.process.pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@pytest.mark.parametrize(("query", "said"), [
    ("&".join(["limit=1"] * 7900), "query.limit: Given more than once"),  # one name, repeated
    ("&".join(f"{n:x}" for n in range(11000)), "and 10990 more"),  # thousands of unknown names
], ids=["repeated", "unknown"])
def test_a_query_of_thousands_of_parameters_is_a_short_422_for_little_cpu(
        server: Server, query: str, said: str) -> None:
    """A request head of 60 KiB of query parameters costs the server no more than a few
    milliseconds on its event loop, and its answer stays small: a few of the offending names
    and how many there are, not one error for each."""
    before = cpu_seconds(server)
    for _ in range(5):
        answer = httpx.get(f"{server.url}/v1/submissions?{query}", headers=auth(PLATFORM),
                           timeout=60)
        assert answer.status_code == 422, answer.text[:300]
        assert answer.headers["content-type"] == "application/problem+json"
        assert len(answer.content) < 8192, len(answer.content)
        assert said in answer.json()["detail"]
    assert cpu_seconds(server) - before < 1.0  # 2 s of CPU when each name was counted anew


def test_a_pushed_spec_with_a_number_too_long_to_read_is_422_naming_its_line(
        server: Server) -> None:
    files = dict(BUNDLE_EXAMPLE["files"])
    files["exercise.toml"] = "# a number no one can read\nseed = " + "9" * 5000 + "\n" \
        + files["exercise.toml"]
    answer = httpx.put(f"{server.url}/v1/exercises/{EXAMPLE_EXERCISE}", json={"files": files},
                       headers=auth(INSTRUCTOR), timeout=120)
    assert answer.status_code == 422, answer.text[:300]
    assert answer.json()["detail"] == (
        "exercise.toml:2: not valid TOML: a number of more than 4300 digits")


def test_the_report_page_takes_its_query_as_strictly_as_every_route(server: Server) -> None:
    """A report link with a parameter it does not know, or one of its own given twice (which
    of the two would be checked?), is 422 like any other route's; the link as given works."""
    mine = submitted(server, PLATFORM)
    link = httpx.get(f"{server.url}/v1/submissions/{mine}", headers=auth(PLATFORM),
                     timeout=30).json()["report_url"]
    expires = link.split("expires=")[1].split("&")[0]
    for extra, said in ((f"&expires={expires}", "query.expires: Given more than once"),
                        ("&signature=00", "query.signature: Given more than once"),
                        ("&debug=1", "query.debug: Extra inputs are not permitted")):
        answer = httpx.get(f"{server.url}{link}{extra}", timeout=60)
        assert answer.status_code == 422, (extra, answer.text[:300])
        assert said in answer.json()["detail"]
    assert httpx.get(f"{server.url}{link}", timeout=60).status_code == 200


@pytest.mark.parametrize("body", [
    b'{"exercise_id": "conv2d", "exercise_id": "patch_dot", "source": "x = 1"}',
    b'{"exercise_id": "conv2d", "source": "x = 1", "metadata": {"a": {"b": 1, "b": 2}}}',
], ids=["top-level", "in-metadata"])
def test_a_body_with_a_name_given_twice_is_422_and_stores_nothing(
        server: Server, body: bytes) -> None:
    """Which of two values a parser keeps differs between parsers (a proxy's, the app's):
    a body whose object gives a name twice is refused, as RFC 8259's names SHOULD be
    unique."""
    before = httpx.get(f"{server.url}/v1/submissions", headers=auth(INSTRUCTOR),
                       timeout=30).json()["total"]
    answer = httpx.post(f"{server.url}/v1/submissions?wait=false", content=body,
                        headers={**auth(PLATFORM), "Content-Type": "application/json"},
                        timeout=60)
    assert answer.status_code == 422, answer.text[:300]
    assert "given twice" in answer.json()["detail"]
    after = httpx.get(f"{server.url}/v1/submissions", headers=auth(INSTRUCTOR),
                      timeout=30).json()["total"]
    assert after == before


@pytest.mark.parametrize("target", [
    "/v1/submissions/%00", "/v1/submissions/a%00b/report", "/v1/submissions?learner_id=%00",
    "/v1/submissions?exercise_id=conv2d%00", "/v1/exercises/conv2d%00",
    "/instructor/learners/%00", "/instructor/exercises/conv2d?learner=%00",
])
def test_a_nul_character_in_a_path_or_query_is_422_before_any_route(
        make_client, target: str) -> None:
    """No id, name or filter holds one, and PostgreSQL's text refuses it (a 500 there)."""
    client = make_client(instructor_tokens=INSTRUCTOR)
    response = client.get(target, headers=auth(INSTRUCTOR), follow_redirects=False)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert "NUL character (%00)" in response.json()["detail"]

"""POST /v1/submissions and reading back: one row per request, strict JSON, bounded metadata,
idempotency keys bound to their request, a backlog that holds, timestamps with a zone."""

from __future__ import annotations

import json
import re
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from fastapi.testclient import TestClient

from grader.sandbox.base import SandboxUnavailable
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

JSON = {"content-type": "application/json"}
SUBMISSION = {"exercise_id": "conv2d", "source": "def conv(image, kernel): ...",
              "learner_id": "ada", "metadata": {"course": "dl-101"}}


def stored(client: TestClient) -> list[dict[str, Any]]:
    """Every stored submission, as an instructor lists them."""
    page = client.get("/v1/submissions", headers=auth(INSTRUCTOR))
    assert page.status_code == 200, page.text
    items: list[dict[str, Any]] = page.json()["items"]
    return items


def strict_json(text: str) -> Any:
    """Parses JSON as RFC 8259 has it: NaN and Infinity are not JSON."""
    def refuse(constant: str) -> None:
        raise ValueError(f"{constant} is not JSON")

    return json.loads(text, parse_constant=refuse)


def nested(depth: int) -> dict[str, Any]:
    """An object ``depth`` objects deep: nested(1) == {"a": 1}."""
    value: Any = 1
    for _ in range(depth):
        value = {"a": value}
    return value


# -- one request, one row ---------------------------------------------------------------------

def test_inline_grading_that_faults_three_times_answers_with_its_one_failed_row(
        make_client) -> None:
    runner = BrokenRunner()
    client = make_client(runner, instructor_tokens=INSTRUCTOR)
    response = client.post("/v1/submissions", json=SUBMISSION)
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "failed" and "a bug in the grader" in body["error"]
    assert [row["id"] for row in stored(client)] == [body["id"]]
    assert runner.calls == 3


class RefusingRunner(FakeRunner):
    """A runner whose sandbox stops working after the submission was admitted."""

    def __init__(self) -> None:
        super().__init__(correct)

    def run(self, job):  # type: ignore[no-untyped-def]
        raise SandboxUnavailable("the sandbox lost a layer")


def test_inline_grading_refused_midway_answers_202_with_its_one_queued_row(make_client) -> None:
    client = make_client(RefusingRunner(), instructor_tokens=INSTRUCTOR)
    response = client.post("/v1/submissions", json=SUBMISSION)
    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "queued"
    assert response.headers["location"] == f"/v1/submissions/{body['id']}"
    assert [row["id"] for row in stored(client)] == [body["id"]]


# -- strict JSON ------------------------------------------------------------------------------

@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_a_non_finite_number_in_the_body_is_422_and_nothing_is_stored(
        make_client, constant: str) -> None:
    client = make_client(instructor_tokens=INSTRUCTOR)
    body = ('{"exercise_id": "conv2d", "source": "def conv(i, k): ...", '
            f'"metadata": {{"weight": {constant}}}}}')
    response = client.post("/v1/submissions", content=body,
                           headers=JSON)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert f"{constant} is not JSON" in response.json()["detail"]
    assert stored(client) == []


def test_a_non_finite_number_in_an_exercise_spec_is_422(make_client) -> None:
    client = make_client(instructor_tokens=INSTRUCTOR)
    spec = client.get("/v1/exercises/conv2d").json()
    body = json.dumps({"id": "conv2d", "title": spec["title"]})[:-1] + ', "mean": NaN}'
    response = client.put("/v1/exercises/conv2d", content=body,
                          headers={**auth(INSTRUCTOR), "content-type": "application/json"})
    assert response.status_code == 422
    assert "NaN is not JSON" in response.json()["detail"]


def test_a_body_nested_past_what_the_parser_takes_is_422(make_client) -> None:
    depth = 5_000
    body = '{"exercise_id": "conv2d", "source": "x", "metadata": ' + '{"a": ' * depth \
        + "1" + "}" * depth + "}"
    response = make_client().post("/v1/submissions", content=body,
                                  headers=JSON)
    assert response.status_code == 422
    assert "nested too deeply" in response.json()["detail"]


def test_a_body_that_is_not_utf8_is_422(make_client) -> None:
    response = make_client().post("/v1/submissions", content=b'{"source": "\xff\xfe"}',
                                  headers=JSON)
    assert response.status_code == 422


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-32"])
def test_a_json_body_in_another_encoding_than_utf8_is_422_and_nothing_is_stored(
        make_client, encoding: str) -> None:
    client = make_client(instructor_tokens=INSTRUCTOR)
    response = client.post("/v1/submissions", content=json.dumps(SUBMISSION).encode(encoding),
                           headers=JSON)
    assert response.status_code == 422
    assert "not UTF-8" in response.json()["detail"]
    assert stored(client) == []


@pytest.mark.parametrize(("content_type", "said"), [
    ("application/json; charset=latin-1", "charset 'latin-1'"),
    ("application/json;charset=UTF-16", "charset 'utf-16'"),
    ("text/plain", "'text/plain'"),
    ("application/x-www-form-urlencoded", "'application/x-www-form-urlencoded'"),
    (None, "no Content-Type"),
])
def test_a_body_not_declared_as_json_in_utf8_is_415_and_nothing_is_stored(
        make_client, content_type: str | None, said: str) -> None:
    """Bytes that UTF-8 reads (an "é" said to be Latin-1 is two characters there) are
    refused too: the client said they are another text than the one the server would read."""
    client = make_client(instructor_tokens=INSTRUCTOR)
    body = json.dumps({**SUBMISSION, "learner_id": "Ã©"}, ensure_ascii=False).encode()
    response = client.post("/v1/submissions", content=body,
                           headers={"content-type": content_type} if content_type else {})
    assert response.status_code == 415
    assert response.headers["content-type"] == "application/problem+json"
    assert said in response.json()["detail"]
    assert stored(client) == []


@pytest.mark.parametrize("content_type", ["application/json", "Application/JSON",
                                          'application/json; charset="UTF-8"',
                                          "application/json; charset=utf8",
                                          "application/json; charset=US-ASCII",
                                          "application/problem+json"])
def test_json_in_utf8_is_read_however_its_type_is_spelled(
        make_client, content_type: str) -> None:
    client = make_client(instructor_tokens=INSTRUCTOR)
    body = json.dumps({**SUBMISSION, "learner_id": "é"}, ensure_ascii=False).encode()
    response = client.post("/v1/submissions", content=body,
                           headers={"content-type": content_type})
    assert response.status_code == 200, response.text
    assert response.json()["learner_id"] == "é"


def test_a_row_stored_with_a_non_finite_number_reads_back_as_strict_json(make_client) -> None:
    client = make_client(instructor_tokens=INSTRUCTOR)
    row, _ = client.app.state.grader.store.create(  # as it may have been stored before
        exercise_id="conv2d", source="x", seed=1, scope="open",
        metadata={"nan": float("nan"), "inf": float("inf")})
    for response in (client.get(f"/v1/submissions/{row.id}"),
                     client.get("/v1/submissions", headers=auth(INSTRUCTOR))):
        assert response.status_code == 200
        assert "NaN" not in response.text and "Infinity" not in response.text
        strict_json(response.text)


def test_a_submission_says_which_exercise_version_graded_it(make_client) -> None:
    client = make_client(instructor_tokens=INSTRUCTOR)
    posted = client.post("/v1/submissions", json=SUBMISSION).json()
    assert posted["exercise_version"] == 0  # the built-in bundle
    row, _ = client.app.state.grader.store.create(
        exercise_id="conv2d", source="x", seed=1, scope="open", exercise_version=3)
    assert client.get(f"/v1/submissions/{row.id}").json()["exercise_version"] == 3
    listed = client.get("/v1/submissions", headers=auth(INSTRUCTOR)).json()["items"]
    assert {item["id"]: item["exercise_version"] for item in listed} == {
        posted["id"]: 0, row.id: 3}


def test_a_report_of_non_finite_output_is_strict_json(make_client) -> None:
    client = make_client(FakeRunner(lambda image, kernel: correct(image, kernel) * float("inf")))
    response = client.post("/v1/submissions", json=SUBMISSION)
    assert response.status_code == 200
    report = strict_json(response.text)["report"]
    assert report["passed"] is False
    assert not any(case["passed"] for case in report["cases"])


# -- metadata within bounds -------------------------------------------------------------------

@pytest.mark.parametrize(("metadata", "complaint"), [
    (nested(9), "nested at most 8 deep"),
    (nested(255), "nested at most 8 deep"),
    ({"list": [[[[[[[[1]]]]]]]]}, "nested at most 8 deep"),
    ({f"key{i}": i for i in range(65)}, "at most 64"),
    ({"tags": list(range(65))}, "at most 64 members"),
    ({"surrogate": "\ud800"}, "no lone surrogates"),
    ({"notes": "x" * 8200}, "at most 8192 bytes"),
    ({"notes": "é" * 4100}, "at most 8192 bytes"),
], ids=["depth 9", "depth 255", "lists count", "65 keys", "65 items", "surrogate", "8 KiB",
        "8 KiB in UTF-8"])
def test_metadata_out_of_bounds_is_422_and_nothing_is_stored(
        make_client, metadata: dict[str, Any], complaint: str) -> None:
    client = make_client(instructor_tokens=INSTRUCTOR)
    body = json.dumps({**SUBMISSION, "metadata": metadata})  # escapes what httpx would refuse
    response = client.post("/v1/submissions", content=body, headers=JSON)
    assert response.status_code == 422
    assert complaint in response.json()["detail"]
    assert stored(client) == []


def test_metadata_at_the_bounds_is_stored_and_read_back(make_client) -> None:
    client = make_client(instructor_tokens=INSTRUCTOR)
    metadata = {f"key{i}": nested(7) for i in range(63)} | {"tags": list(range(64))}
    response = client.post("/v1/submissions", json={**SUBMISSION, "metadata": metadata})
    assert response.status_code == 200
    read = client.get(f"/v1/submissions/{response.json()['id']}")
    assert read.status_code == 200 and read.json()["metadata"] == metadata
    assert stored(client)[0]["metadata"] == metadata


# -- idempotency keys -------------------------------------------------------------------------

@pytest.mark.parametrize("change", [
    {"exercise_id": "maxpool2d"}, {"source": "def conv(image, kernel): return image"},
    {"learner_id": "bob"}, {"learner_id": None}, {"metadata": {"course": "dl-102"}},
    {"metadata": None}, {"callback_url": "http://127.0.0.1:9/hook"},
], ids=["exercise", "source", "learner", "no learner", "metadata", "no metadata", "callback"])
def test_an_idempotency_key_used_with_another_request_is_422(make_client, change) -> None:
    runner = FakeRunner(correct)
    client = make_client(runner, callback_secret=SECRET, instructor_tokens=INSTRUCTOR)
    key = {"Idempotency-Key": "attempt-7"}
    first = client.post("/v1/submissions", json=SUBMISSION, headers=key)
    assert first.status_code == 200
    other = client.post("/v1/submissions", json={**SUBMISSION, **change}, headers=key)
    assert other.status_code == 422
    assert other.headers["content-type"] == "application/problem+json"
    assert "this Idempotency-Key was used with another request" in other.json()["detail"]
    assert len(runner.jobs) == 1 and len(stored(client)) == 1


@pytest.mark.parametrize(("first", "then"), [
    ({"graded": 1}, {"graded": True}), ({"graded": 0}, {"graded": False}),
    ({"graded": 1}, {"graded": 1.0}), ({"graded": [1]}, {"graded": [True]}),
])
def test_metadata_of_another_json_type_are_another_request(make_client, first, then) -> None:
    """1, 1.0 and true are equal in Python, and three values in JSON."""
    runner = FakeRunner(correct)
    client = make_client(runner, instructor_tokens=INSTRUCTOR)
    key = {"Idempotency-Key": "attempt-typed"}
    assert client.post("/v1/submissions", json={**SUBMISSION, "metadata": first},
                       headers=key).status_code == 200
    other = client.post("/v1/submissions", json={**SUBMISSION, "metadata": then}, headers=key)
    assert other.status_code == 422, other.text
    assert len(runner.jobs) == 1 and len(stored(client)) == 1


def test_metadata_with_their_names_in_another_order_are_the_same_request(make_client) -> None:
    client = make_client(FakeRunner(correct), instructor_tokens=INSTRUCTOR)
    key = {"Idempotency-Key": "attempt-ordered"}
    first = client.post("/v1/submissions", headers=key, json={
        **SUBMISSION, "metadata": {"a": 1, "b": {"c": 2.5, "d": None}}})
    again = client.post("/v1/submissions", headers=key, json={
        **SUBMISSION, "metadata": {"b": {"d": None, "c": 2.5}, "a": 1}})
    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json()["id"] == first.json()["id"] and len(stored(client)) == 1


def test_an_idempotency_key_with_the_same_request_returns_the_first_submission(
        make_client) -> None:
    runner = SlowRunner()
    client = make_client(runner, instructor_tokens=INSTRUCTOR)
    key = {"Idempotency-Key": "attempt-8"}
    first = client.post("/v1/submissions?wait=false", json=SUBMISSION, headers=key)
    again = client.post("/v1/submissions?wait=false", json=SUBMISSION, headers=key)
    assert (first.status_code, again.status_code) == (202, 202)
    assert again.json()["id"] == first.json()["id"]
    runner.release.set()
    wait_done(client, first.json()["id"])
    last = client.post("/v1/submissions", json=SUBMISSION, headers=key)
    assert last.status_code == 200 and last.json()["id"] == first.json()["id"]
    assert len(runner.jobs) == 1 and len(stored(client)) == 1


# -- the backlog ------------------------------------------------------------------------------

def test_concurrent_submissions_never_pass_the_backlog(make_client) -> None:
    runner = SlowRunner()
    client = make_client(runner, slots=1, backlog=4, instructor_tokens=INSTRUCTOR)

    def submit(_: int) -> int:
        return client.post("/v1/submissions?wait=false", json=SUBMISSION).status_code

    try:
        with ThreadPoolExecutor(max_workers=32) as pool:
            statuses = list(pool.map(submit, range(96)))
        assert statuses.count(202) == 4 and set(statuses) == {202, 503}
        assert len(stored(client)) == 4
    finally:
        runner.release.set()


def test_a_failed_insert_gives_its_place_in_the_backlog_back(make_client) -> None:
    runner = SlowRunner()
    client = make_client(runner, slots=1, backlog=1, raise_server_exceptions=False)
    store = client.app.state.grader.store
    insert = store.create

    def failing(**_: Any) -> Any:
        raise OSError("the disk is full")

    store.create = failing
    for _ in range(3):
        assert client.post("/v1/submissions?wait=false", json=SUBMISSION).status_code == 500
        assert client.post("/v1/submissions", json=SUBMISSION).status_code == 500
    store.create = insert
    try:
        assert client.post("/v1/submissions?wait=false", json=SUBMISSION).status_code == 202
    finally:
        runner.release.set()


# -- timestamps -------------------------------------------------------------------------------

RFC3339 = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)")


def test_every_timestamp_is_rfc3339_with_a_zone(make_client, database_url: str) -> None:
    client = make_client(database_url=database_url, callback_secret=SECRET,
                         callback_attempts=1, instructor_tokens=INSTRUCTOR)
    posted = client.post("/v1/submissions", json={
        **SUBMISSION, "callback_url": "http://127.0.0.1:9/hook"}).json()
    end = time.monotonic() + 10
    read = client.get(f"/v1/submissions/{posted['id']}").json()
    while not read["callback_attempts"] and time.monotonic() < end:
        time.sleep(0.02)
        read = client.get(f"/v1/submissions/{posted['id']}").json()
    listed = stored(client)[0]
    stamps = [posted["created_at"], posted["finished_at"], read["created_at"],
              read["finished_at"], listed["created_at"], listed["finished_at"],
              read["callback_attempts"][0]["at"]]
    assert all(RFC3339.fullmatch(stamp) for stamp in stamps), stamps


def test_a_query_parameter_given_twice_is_422(make_client) -> None:
    client = make_client(instructor_tokens=INSTRUCTOR)
    response = client.get("/v1/submissions?exercise_id=conv2d&exercise_id=maxpool2d",
                          headers=auth(INSTRUCTOR))
    assert response.status_code == 422
    assert "exercise_id" in response.json()["detail"]


def test_one_learner_and_one_token_cannot_take_the_whole_backlog(make_client) -> None:
    runner = SlowRunner()
    client = make_client(runner, slots=1, backlog=10, learner_limit=2,
                         platform_tokens=f"{PLATFORM},{OTHER_PLATFORM}",
                         instructor_tokens=INSTRUCTOR)
    mine, theirs = auth(PLATFORM), auth(OTHER_PLATFORM)

    def submit(headers: dict[str, str], learner: str) -> Any:
        return client.post("/v1/submissions?wait=false", headers=headers,
                           json={**SUBMISSION, "learner_id": learner})

    try:
        assert [submit(mine, "ada").status_code for _ in range(3)] == [202, 202, 429]
        refused = submit(mine, "ada")
        assert refused.status_code == 429 and "this learner" in refused.json()["detail"]
        assert int(refused.headers["retry-after"]) >= 1
        # a platform token may hold three quarters of the backlog (7 of 10)
        codes = [submit(mine, f"learner-{i}").status_code for i in range(6)]
        assert codes == [202] * 5 + [429]
        assert "this platform token" in submit(mine, "zoe").json()["detail"]
        assert [submit(theirs, f"t{i}").status_code for i in range(4)] == [202, 202, 202, 503]
    finally:
        runner.release.set()
    for row in stored(client):
        wait_done(client, row["id"], headers=auth(INSTRUCTOR))
    # graded ones no longer count: the learner may send again (graded at once, or not yet)
    assert submit(mine, "ada").status_code in (200, 202)

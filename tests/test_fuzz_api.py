"""The API against its own OpenAPI document: a real server, real HTTP, every schemathesis check,
with a platform token and with an instructor token."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance

from grader.api.app import create_app
from grader.settings import Settings
from tests.conftest import Server

pytestmark = pytest.mark.processes

PLATFORM = "platform-token-fuzz-0123456789"
INSTRUCTOR = "instructor-token-fuzz-0123456789"
SECRET = "callback-secret-fuzz-0123456789"
ENVIRONMENT = {"GRADER_PLATFORM_TOKENS": PLATFORM, "GRADER_INSTRUCTOR_TOKENS": INSTRUCTOR,
               "GRADER_CALLBACK_SECRET": SECRET, "GRADER_MAX_SOURCE_BYTES": "4096",
               "GRADER_CALLBACK_NETWORKS": "127.0.0.0/8"}
# The document of an app with the server's settings; building it starts nothing. That the server
# serves this very document is a test of its own, below.
DOCUMENT = create_app(Settings(
    data_dir=Path("/nonexistent"),
    **{name.removeprefix("GRADER_").lower(): value for name, value in ENVIRONMENT.items()},
)).openapi()
schema = schemathesis.openapi.from_dict(DOCUMENT)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = Server(tmp_path_factory.mktemp("fuzz"), ENVIRONMENT).start()
    yield server
    server.stop()


def test_the_server_serves_the_document_fuzzed_here(server: Server) -> None:
    assert httpx.get(f"{server.url}/openapi.json").json() == DOCUMENT


# The same examples on every run (CI included); GRADER_FUZZ_EXPLORE=1 explores afresh.
FUZZ = settings(max_examples=60, deadline=None,
                derandomize=not os.environ.get("GRADER_FUZZ_EXPLORE"),
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                       HealthCheck.function_scoped_fixture])


def check(case: schemathesis.Case, server: Server, token: str) -> None:
    """Every check schemathesis has, but one where the document cannot say what is valid."""
    excluded = []
    # positive_data_acceptance expects a request that fits the schema to be taken. Two that do
    # are rightly refused (422), for reasons no JSON Schema can state:
    # - an exercise spec must also prove out: its cases fit its arguments, its reference and
    #   mistakes exist, each mistake fails a case (the same proof as `grader exercises
    #   validate`);
    # - an Idempotency-Key is bound to the first request that used it, and generated keys
    #   repeat ("0") with other bodies.
    if case.path == "/v1/exercises/{exercise_id}" and case.method == "PUT" \
            or "idempotency-key" in {name.lower() for name in case.headers or {}}:
        excluded.append(positive_data_acceptance)
    # negative_data_rejection expects a query value of the wrong type (true, 1.5, null for a
    # text parameter) to be refused; on the wire it is the text "true", which the parameter
    # rightly takes. An unknown parameter with an empty list for its value is not sent at all.
    if any(not isinstance(value, str | list) or value == []
           for value in (case.query or {}).values()):
        excluded.append(negative_data_rejection)
    case.call_and_validate(base_url=server.url, headers={"Authorization": f"Bearer {token}"},
                           timeout=60, excluded_checks=excluded)


@schema.parametrize()
@FUZZ
def test_with_a_platform_token(case: schemathesis.Case, server: Server) -> None:
    check(case, server, PLATFORM)


@schema.parametrize()
@FUZZ
def test_with_an_instructor_token(case: schemathesis.Case, server: Server) -> None:
    check(case, server, INSTRUCTOR)

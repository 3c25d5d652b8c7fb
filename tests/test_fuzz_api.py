"""Fuzzing the API from its own OpenAPI document: no input may yield a server error."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from grader.api import create_app
from grader.settings import Settings
from tests.conftest import Server

pytestmark = pytest.mark.processes

INSTRUCTOR = "instructor-token-fuzz-0123456789"
SECRET = "callback-secret-fuzz-0123456789"
# The document comes from the app itself; building it starts nothing.
schema = schemathesis.openapi.from_dict(
    create_app(Settings(data_dir=Path("/nonexistent"))).openapi())


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = Server(tmp_path_factory.mktemp("fuzz"), {
        "GRADER_INSTRUCTOR_TOKENS": INSTRUCTOR, "GRADER_CALLBACK_SECRET": SECRET,
        "GRADER_MAX_SOURCE_BYTES": "4096"}).start()
    yield server
    server.stop()


@schema.parametrize()
@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                 HealthCheck.function_scoped_fixture])
def test_no_input_yields_a_server_error(case: schemathesis.Case, server: Server) -> None:
    case.call_and_validate(base_url=server.url, checks=[not_a_server_error],
                           headers={"Authorization": f"Bearer {INSTRUCTOR}"}, timeout=60)

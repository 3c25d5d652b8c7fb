"""Every example the OpenAPI document gives of a request is one the service accepts: sent as
it is to a real server, none is answered 422."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.api.conftest import INSTRUCTOR, PLATFORM, auth
from tests.conftest import Server

pytestmark = pytest.mark.processes


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = Server(tmp_path_factory.mktemp("examples"), {
        "GRADER_PLATFORM_TOKENS": PLATFORM, "GRADER_INSTRUCTOR_TOKENS": INSTRUCTOR})
    try:
        yield server.start()
    finally:
        server.stop()


def resolve(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    reference = schema.get("$ref")
    if reference is None:
        return schema
    found: dict[str, Any] = doc
    for part in reference.removeprefix("#/").split("/"):
        found = found[part]
    return found


def bodies(doc: dict[str, Any], operation: dict[str, Any]) -> list[dict[str, Any]]:
    """Each example of the operation's request body: the media type's, the schema's, and
    the first of those with each property's own example in place."""
    media = operation["requestBody"]["content"]["application/json"]
    schema = resolve(doc, media["schema"])
    whole = [example["value"] for example in media.get("examples", {}).values()]
    whole += schema.get("examples", [])
    assert whole, "a request body without an example"
    found = list(whole)
    for name, field in schema.get("properties", {}).items():
        for value in field.get("examples", []):
            body = copy.deepcopy(whole[0])
            body[name] = value
            found.append(body)
    return found


def path_of(template: str, operation: dict[str, Any]) -> str:
    for parameter in operation.get("parameters", []):
        if parameter["in"] == "path":
            examples = parameter["schema"].get("examples") or [parameter.get("example")]
            assert examples[0] is not None, f"{template}: no example of {parameter['name']}"
            template = template.replace("{" + parameter["name"] + "}", str(examples[0]))
    return template


def test_every_documented_request_example_is_accepted(server: Server) -> None:
    doc = httpx.get(f"{server.url}/openapi.json", timeout=30).json()
    sent = 0
    for template, methods in doc["paths"].items():
        for method, operation in methods.items():
            if "requestBody" not in operation:
                continue
            token = INSTRUCTOR if template.startswith("/v1/exercises") else PLATFORM
            for body in bodies(doc, operation):
                response = httpx.request(method.upper(), server.url + path_of(template, operation),
                                         json=body, headers=auth(token), timeout=120)
                assert response.status_code < 300, (method, template, body, response.text)
                sent += 1
    assert sent >= 4  # a submission and a bundle, whole and field by field


def test_the_example_bundle_is_the_scaffold_that_validates(tmp_path: Path) -> None:
    """What ``grader exercises new`` writes is the documented example, file for file."""
    from grader.api.schemas import BUNDLE_EXAMPLE, EXAMPLE_EXERCISE
    from grader.catalog.scaffold import new_bundle

    written = new_bundle(tmp_path / EXAMPLE_EXERCISE)
    texts = {str(path.relative_to(tmp_path / EXAMPLE_EXERCISE)): path.read_text()
             for path in written}
    assert set(texts) == set(BUNDLE_EXAMPLE["files"])
    assert texts["reference.py"] == BUNDLE_EXAMPLE["files"]["reference.py"]

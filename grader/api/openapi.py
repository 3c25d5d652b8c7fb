"""The OpenAPI document as the service behaves: error answers as problem details under their
own media type, and the limits that come from settings."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

from grader.api.problems import PROBLEM
from grader.settings import Settings


def document(app: FastAPI, settings: Settings) -> Callable[[], dict[str, Any]]:
    """What builds ``app``'s document, once."""
    build = app.openapi

    def built_once() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        built = build()
        problem_ref = "#/components/schemas/Problem"
        for path in built["paths"].values():
            for operation in path.values():
                for answer in operation.get("responses", {}).values():
                    content = answer.get("content", {})
                    for media in list(content):  # JSON, or HTML on a route that answers a page
                        if content[media].get("schema") == {"$ref": problem_ref}:
                            content[PROBLEM] = content.pop(media)
        source = built["components"]["schemas"]["SubmissionCreate"]["properties"]["source"]
        source["description"] += (f"; at most {settings.max_source_bytes} bytes as UTF-8 "
                                  "(larger is 413)")
        files = built["components"]["schemas"]["BundleUpload"]["properties"]["files"]
        files["description"] += (f"; each at most {settings.max_source_bytes} bytes as UTF-8 "
                                 "(larger is 413)")
        app.openapi_schema = built
        return built

    return built_once

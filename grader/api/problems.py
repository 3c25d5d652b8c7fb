"""Errors as answers: RFC 9457 problem details (``application/problem+json``), the documented
error answers of each route, and the one place that maps an error to its answer.

Every router raises; none answers an error itself. ``install`` gives the app one handler per
kind of ``grader.errors`` (and ``ApiError``, an answer of the HTTP layer alone), one for a
request that does not validate, one for Starlette's own (404, 405), and one for everything
else (500, logged).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import BaseRoute

from grader.api.schemas import Problem
from grader.errors import Conflict, GraderError, InvalidInput, NotFound, OverLimit, Unavailable
from grader.storage.database import DATABASE_ERRORS, first_line, unreachable

log = logging.getLogger("grader.api")
PROBLEM = "application/problem+json"


class ApiError(GraderError):
    """An answer of the HTTP layer alone (a token, a size, a signature)."""

    def __init__(self, status: int, title: str, detail: str,
                 headers: dict[str, str] | None = None,
                 errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(detail)
        self.status, self.title = status, title
        self.headers = headers or {}
        self.errors = errors


def problem(status: int, title: str, detail: str, headers: dict[str, str] | None = None,
            errors: list[dict[str, Any]] | None = None) -> JSONResponse:
    body = Problem(title=title, status=status, detail=detail, errors=errors)
    return JSONResponse(body.model_dump(exclude_none=True), status_code=status,
                        media_type=PROBLEM, headers=headers)


# -- what the document says of errors --------------------------------------------------------

_ERRORS = {
    400: ("The body could not be read", {}),
    401: ("Missing or wrong token", {"WWW-Authenticate": "Bearer"}),
    403: ("A token of the wrong role, or instructor routes are disabled", {}),
    404: ("No such exercise or submission", {}),
    409: ("The exercise's version has no such thing", {}),
    408: ("The body did not arrive in time; the connection is closed", {}),
    413: ("The body or the source is over its limit", {}),
    415: ("The body is not declared as JSON in UTF-8 (Content-Type application/json, with "
          "no charset but utf-8)", {}),
    422: ("The request is malformed: the field paths say where", {}),
    429: ("This learner or this platform token already has as many submissions waiting or "
          "being graded as allowed", {"Retry-After": "Seconds to wait"}),
    503: ("The grader takes no submissions now, or its database cannot be reached",
          {"Retry-After": "Seconds to wait"}),
}
BODY = (400, 408, 413, 415, 422)


def error_answers(*statuses: int, **descriptions: str) -> dict[int | str, dict[str, Any]]:
    """The documented error answers: problem details (moved to ``application/problem+json``
    when the document is built, see ``grader.api.openapi``). ``descriptions``, by ``s429``
    and so on: a route's own words for one."""
    answers: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        description, headers = _ERRORS[status]
        answers[status] = {
            "model": Problem, "description": descriptions.get(f"s{status}", description),
            "headers": {name: {"description": text, "schema": {"type": "string"}}
                        for name, text in headers.items()}}
    return answers


# -- one error, one answer -------------------------------------------------------------------

# the first kind an error is of gives its answer
_ANSWERS: list[tuple[type[GraderError], int, str]] = [
    (NotFound, 404, "Not Found"),
    (Conflict, 409, "Conflict"),
    (InvalidInput, 422, "Unprocessable Content"),
    (OverLimit, 429, "Too Many Requests"),
    (Unavailable, 503, "Service Unavailable"),
]


def answer(error: GraderError) -> JSONResponse:
    """The answer to an error of the grader's raised by a route."""
    if isinstance(error, ApiError):
        return problem(error.status, error.title, error.detail, error.headers, error.errors)
    for kind, status, title in _ANSWERS:
        if isinstance(error, kind):
            headers = {"Retry-After": str(error.retry_after)} \
                if isinstance(error, Unavailable) else None
            errors = [{"msg": reason} for reason in error.reasons] \
                if isinstance(error, InvalidInput) else None
            return problem(status, title, error.detail[:2000], headers, errors)
    return fault(error)


# Seconds a client is told to wait when the database is away (a restart takes a few)
DATABASE_RETRY = 5


def fault(error: BaseException) -> JSONResponse:
    """A fault of the grader's (500, logged), or the database away for now (503)."""
    if unreachable(error):
        log.warning("the database cannot be reached: %s", first_line(error))
        return problem(503, "Service Unavailable", "the database cannot be reached, or "
                       f"cannot take this request, now; retry after {DATABASE_RETRY} s",
                       {"Retry-After": str(DATABASE_RETRY)})
    log.error("unhandled error", exc_info=error)
    return problem(500, "Internal Server Error", "the grader failed; the error is logged")


async def _invalid(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    errors = [{"loc": [str(p) for p in e.get("loc", ())], "msg": str(e.get("msg", "")),
               "type": str(e.get("type", ""))} for e in error.errors()]
    for e, raw in zip(errors, error.errors(), strict=True):
        reason = (raw.get("ctx") or {}).get("error")
        if e["type"] == "json_invalid" and reason:
            e["msg"] = f"{e['msg']}: {reason}"
    detail = "; ".join(f"{'.'.join(e['loc'])}: {e['msg']}" for e in errors)[:2000]
    return problem(422, "Unprocessable Content", detail or "the request is malformed",
                   errors=errors)


async def _http(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, StarletteHTTPException)
    title = {400: "Bad Request", 404: "Not Found",
             405: "Method Not Allowed"}.get(error.status_code, "Error")
    headers = dict(error.headers or {})
    if error.status_code == 405:  # Starlette names the methods of one route of the path
        headers["Allow"] = _allowed_methods(request.app, request.url.path)
    return problem(error.status_code, title, str(error.detail), headers)


def _allowed_methods(app: FastAPI, path: str) -> str:
    """Every method some route takes at ``path``: the Allow header of a 405."""
    methods: set[str] = set()
    for route in _routes(app.routes):
        if route.path_regex.match(path):
            methods |= route.methods or set()
    return ", ".join(sorted(methods))


def _routes(routes: list[BaseRoute]) -> Iterator[APIRoute]:
    """Every route, also those of the routers included (which FastAPI keeps as one route
    each, holding the router; none is included under a prefix)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        included = getattr(route, "original_router", None)
        if included is not None:
            yield from _routes(included.routes)


async def _grader_error(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, GraderError)
    return answer(error)


async def _fault(_: Request, error: Exception) -> JSONResponse:
    return fault(error)


def install(app: FastAPI) -> None:
    """Every error the app's routes raise, answered here."""
    app.add_exception_handler(GraderError, _grader_error)
    app.add_exception_handler(RequestValidationError, _invalid)
    app.add_exception_handler(StarletteHTTPException, _http)
    for kind in DATABASE_ERRORS:  # answered here, not re-raised to the server as a fault
        app.add_exception_handler(kind, _fault)
    app.add_exception_handler(Exception, _fault)


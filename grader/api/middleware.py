"""What stands between a request and its route: the body's size and deadline, and its framing
headers (``BodyLimit``), JSON as RFC 8259 has it (``StrictJSONRequest``), declared as JSON in
UTF-8, and no unknown or repeated query parameter (``StrictRoute``)."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from grader.api.problems import ApiError, problem

# A body over the limit is read and thrown away up to this much and this long before the 413
# (a "lingering close"): a client that sends its whole body before it reads the answer (urllib,
# requests) would otherwise meet a connection reset instead of its 413.
LINGER_BYTES = 16 * 1024 * 1024
LINGER_SECONDS = 5.0
# Headers a request may give once: a second one could be read otherwise by a proxy in front
# (two Authorization headers are the token check's: 401)
HEADERS_ONCE = (b"content-type", b"host", b"idempotency-key", b"transfer-encoding")


def framing_refusal(headers: list[tuple[bytes, bytes]]) -> Response | None:
    """The answer to a request whose headers this server would read otherwise than a proxy
    might: a header of ``HEADERS_ONCE`` given twice (400), or a transfer coding other than
    chunked, which the server does not apply (501, RFC 9112 6.1; ``gzip, chunked`` would be
    read as plain chunked). None when there is none."""
    names = [name.lower() for name, _ in headers]
    for name in HEADERS_ONCE:
        if names.count(name) > 1:
            return problem(400, "Bad Request", f"the header {name.decode()} is given more than "
                           "once", headers={"Connection": "close"})
    codings = [value.strip().lower() for name, value in headers
               if name.lower() == b"transfer-encoding"]
    if codings and codings != [b"chunked"]:
        shown = codings[0].decode("latin-1")[:100]
        return problem(501, "Not Implemented", f"the transfer coding {shown!r} is not "
                       "applied here: send the body as it is, or chunked",
                       headers={"Connection": "close"})
    return None


def target_refusal(scope: Scope) -> Response | None:
    """The answer to a request whose path or query holds a NUL character (``%00``), which no
    id, name or filter has (and PostgreSQL's text refuses): 422, before any route reads it."""
    path = scope.get("path") or ""
    query = bytes(scope.get("query_string") or b"")
    if "\x00" in path or b"%00" in query:
        where = "path" if "\x00" in path else "query"
        return problem(422, "Unprocessable Content", f"the request's {where} holds a NUL "
                       "character (%00): no id, name or filter has one")
    return None


class BodyLimit:
    """Reads the whole request body before the app does, so that a body over ``limit`` bytes
    is 413 however it arrives (with a Content-Length, or chunked without one), and a body that
    takes longer than ``seconds`` to arrive is 408. Both close the connection; a body over the
    limit is first read to its end and thrown away, within ``linger_bytes`` (in all) and
    ``linger_seconds``, so that its sender reads the 413. The app then reads the body from
    memory."""

    def __init__(self, app: ASGIApp, limit: int, seconds: float = 30.0,
                 linger_bytes: int | None = None,
                 linger_seconds: float = LINGER_SECONDS) -> None:
        self.app = app
        self.limit = limit
        self.seconds = seconds
        self.linger_bytes = max(8 * limit, LINGER_BYTES) if linger_bytes is None \
            else linger_bytes
        self.linger_seconds = linger_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        refused = framing_refusal(list(scope.get("headers") or [])) or target_refusal(scope)
        if refused is not None:
            await self._linger(receive, 0)  # its sender then reads the answer, not a reset
            await refused(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            # A client waiting for "100 Continue" has sent nothing: it reads the 413 as it is.
            # One declaring more than the lingering takes would be cut off all the same.
            if headers.get(b"expect", b"").lower() != b"100-continue" \
                    and int(declared) <= self.linger_bytes:
                await self._linger(receive, 0)
            await self._refuse(413, scope, receive, send)
            return
        chunks: list[bytes] = []
        seen = 0
        try:
            async with asyncio.timeout(self.seconds):
                while True:
                    message = await receive()
                    if message["type"] == "http.disconnect":
                        return  # nobody to answer
                    chunk = message.get("body", b"")
                    seen += len(chunk)
                    if seen > self.limit:
                        if message.get("more_body", False):
                            await self._linger(receive, seen)
                        await self._refuse(413, scope, receive, send)
                        return
                    chunks.append(chunk)
                    if not message.get("more_body", False):
                        break
        except TimeoutError:
            await self._refuse(408, scope, receive, send)
            return
        body: bytes | None = b"".join(chunks)

        async def replay() -> Message:
            nonlocal body
            if body is None:
                return await receive()  # what comes after the body: a disconnect
            message: Message = {"type": "http.request", "body": body, "more_body": False}
            body = None
            return message

        await self.app(scope, replay, send)

    async def _linger(self, receive: Receive, seen: int) -> None:
        """Read the rest of a refused body and throw it away, within the lingering's bounds
        (``seen``: bytes of it read already)."""
        try:
            async with asyncio.timeout(self.linger_seconds):
                while seen <= self.linger_bytes:
                    message = await receive()
                    if message["type"] == "http.disconnect":
                        return
                    seen += len(message.get("body", b""))
                    if not message.get("more_body", False):
                        return
        except TimeoutError:
            return

    async def _refuse(self, status: int, scope: Scope, receive: Receive, send: Send) -> None:
        if status == 413:
            response = problem(413, "Content Too Large",
                               f"the request body is over {self.limit} bytes",
                               headers={"Connection": "close"})
        else:
            response = problem(408, "Request Timeout", f"the request body did not arrive "
                               f"within {self.seconds:g} s", headers={"Connection": "close"})
        await response(scope, receive, send)


class HeadAsGet:
    """HEAD is answered as GET would be, without the body: the same status and headers,
    Content-Length included (RFC 9110, 9.3.2), for every route that takes GET. The routes
    declare GET alone; this is the one place that takes HEAD for them. A HEAD of a route that
    takes no GET is answered as a GET of it would be (405, with its ``Allow``)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def headers_only(message: Message) -> None:
            if message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, headers_only)


class StrictJSONRequest(Request):
    """A request whose JSON body is parsed as RFC 8259 has it: NaN, Infinity and -Infinity
    are refused, and so is an object that gives a name twice, and a body that is not UTF-8,
    is nested past what the parser takes or has a number it cannot read. Each is a JSON
    decode error, which the app answers with 422."""

    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            body = await self.body()
            try:
                if b"\x00" in body:  # never in JSON text; in every ASCII character of UTF-16
                    raise UnicodeDecodeError("utf-8", body, body.index(b"\x00"),
                                             body.index(b"\x00") + 1, "a NUL byte")
                # decoded here: json.loads would take UTF-16 and UTF-32 bytes too
                self._json = json.loads(body.decode("utf-8"), parse_constant=_not_json,
                                        object_pairs_hook=_unique_names)
            except UnicodeDecodeError as error:
                raise json.JSONDecodeError(
                    f"the body is not UTF-8 (byte {error.start}); JSON is sent as UTF-8",
                    repr(body[:64]), error.start) from None
            except RecursionError:
                raise json.JSONDecodeError("the body is nested too deeply", "", 0) from None
            except json.JSONDecodeError:
                raise
            except ValueError as error:  # e.g. an integer of more digits than Python reads
                raise json.JSONDecodeError(str(error), "", 0) from None
        return self._json


def _not_json(constant: str) -> Any:
    raise json.JSONDecodeError(f"{constant} is not JSON", constant, 0)


def _unique_names(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """An object whose names are unique: of a name given twice, parsers keep different
    values (the first, the last), so a proxy and the app could read two requests in one."""
    names: set[str] = set()
    for name, _ in pairs:
        if name in names:
            raise json.JSONDecodeError(f"the name {name!r} is given twice in one object", "", 0)
        names.add(name)
    return dict(pairs)


def json_media_refusal(content_type: str | None) -> str | None:
    """Why a body declared as ``content_type`` is not read as JSON, or None when it is:
    ``application/json`` or a ``+json`` type, with no charset but UTF-8 (RFC 8259 8.1: JSON
    is UTF-8; a body said to be in another charset would otherwise be read as if it were
    UTF-8, its text changed without a word)."""
    if content_type is None:
        return "the request has no Content-Type: send the body as application/json"
    media, _, parameters = content_type.partition(";")
    media = media.strip().lower()
    if media != "application/json" and not (media.startswith("application/")
                                            and media.endswith("+json")):
        return (f"the body is sent as {media[:100]!r}, which is not read here: send it as "
                "application/json")
    for parameter in parameters.split(";"):
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset":
            charset = value.strip().strip('"').lower()
            if charset not in ("utf-8", "utf8", "us-ascii", "ascii"):  # ASCII is UTF-8 too
                return (f"the body is said to be in charset {charset[:40]!r}; JSON is sent "
                        "in UTF-8 (say charset=utf-8, or no charset)")
    return None


class StrictRoute(APIRoute):
    """A route that takes its input as strictly as its models do: a body declared as JSON in
    UTF-8 (415 otherwise) and parsed as RFC 8259 has it, no query parameter it does not know
    (422, as for a body's unknown field), and none given twice (every one takes a single
    value)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        known = _query_names(self.dependant)
        takes_json = bool(self.dependant.body_params)

        async def strict(request: Request) -> Response:
            if takes_json:
                refused = json_media_refusal(request.headers.get("content-type"))
                if refused is not None:
                    raise ApiError(415, "Unsupported Media Type", refused)
            unknown = sorted(set(request.query_params) - known)
            if unknown:
                raise RequestValidationError(_listed(
                    unknown, "extra_forbidden", "Extra inputs are not permitted",
                    "unknown query parameters"))
            counts = Counter(name for name, _ in request.query_params.multi_items())
            repeated = sorted(name for name, count in counts.items() if count > 1)
            if repeated:
                raise RequestValidationError(_listed(
                    repeated, "repeated", "Given more than once; it takes one value",
                    "query parameters given more than once"))
            return await handler(StrictJSONRequest(request.scope, request.receive))

        return strict


# The offending query parameters named one by one in a 422; the rest are counted: a 64 KiB
# head of thousands of names would otherwise be answered with a megabyte of errors.
LISTED_PARAMETERS = 10


def _listed(names: list[str], kind: str, message: str, what: str) -> list[dict[str, Any]]:
    """The errors of the first ``LISTED_PARAMETERS`` of ``names``, and one saying how many
    more there are, if any."""
    errors: list[dict[str, Any]] = [{"type": kind, "loc": ("query", name), "msg": message}
                                    for name in names[:LISTED_PARAMETERS]]
    if len(names) > LISTED_PARAMETERS:
        errors.append({"type": kind, "loc": ("query",),
                       "msg": f"and {len(names) - LISTED_PARAMETERS} more {what}"})
    return errors


def _query_names(dependant: Dependant) -> set[str]:
    names = {field.alias for field in dependant.query_params}
    for dependency in dependant.dependencies:
        names |= _query_names(dependency)
    return names

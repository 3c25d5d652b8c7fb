"""The HTTP API: submissions, exercises, health, readiness and metrics.

Errors are RFC 9457 problem details (``application/problem+json``). Tokens: platform tokens
may submit and read their own submissions; instructor tokens may do everything. With no
platform token configured, submitting and reading are open (for local use); instructor routes
are never open.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import hashlib
import hmac
import json
import logging
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from functools import cached_property
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, Header, Query, Request, Response
from fastapi import Path as FastPath
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import SecretStr
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from grader.api.schemas import (
    BundleUpload,
    BundleView,
    CallbackAttemptView,
    ExerciseList,
    ExerciseVersions,
    ExerciseVersionView,
    ExerciseView,
    Health,
    Problem,
    PublishedExercise,
    Readiness,
    RegradeAccepted,
    SubmissionCreate,
    SubmissionPage,
    SubmissionView,
)
from grader.catalog.bundle import BundleFiles, parse_bundle
from grader.catalog.exercises import Catalog, UnknownExercise
from grader.catalog.spec import IDENT, ExerciseSpec, SpecError
from grader.grading.inputs import new_seed
from grader.grading.pool import fingerprint
from grader.grading.report import Report
from grader.grading.validate import prove_bundle
from grader.pages.links import ReportLinks
from grader.sandbox.base import Runner
from grader.service.callbacks import CallbackSender
from grader.service.embedded import GradingService, OverLimit, Unavailable
from grader.service.metrics import Metrics
from grader.service.published import Published
from grader.service.queued import QueueService
from grader.service.secret import hidden_secret
from grader.settings import Settings, get_settings
from grader.storage import jobs
from grader.storage.store import DONE, FAILED, Store, Submission

log = logging.getLogger("grader.api.app")
# how much longer than an exercise's time limit a synchronous POST waits for its report
WAIT_MARGIN = 30.0
PROBLEM = "application/problem+json"


class ApiError(Exception):
    def __init__(self, status: int, title: str, detail: str,
                 headers: dict[str, str] | None = None,
                 errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(detail)
        self.status, self.title, self.detail = status, title, detail
        self.headers = headers or {}
        self.errors = errors


def problem(status: int, title: str, detail: str, headers: dict[str, str] | None = None,
            errors: list[dict[str, Any]] | None = None) -> JSONResponse:
    body = Problem(title=title, status=status, detail=detail, errors=errors)
    return JSONResponse(body.model_dump(exclude_none=True), status_code=status,
                        media_type=PROBLEM, headers=headers)


@dataclass
class State:
    settings: Settings
    store: Store
    catalog: Catalog
    published: Published  # the catalog's exercises and every version stored above them
    runner: Runner
    service: GradingService | QueueService
    metrics: Metrics
    callbacks: CallbackSender
    layers: dict[str, Any] = field(default_factory=dict)
    self_test: str = "not run"
    self_test_failures: list[str] = field(default_factory=list)
    queue: QueueService | None = None  # the distributed mode's; None in embedded mode

    @property
    def embedded(self) -> GradingService:
        assert isinstance(self.service, GradingService), "only in embedded mode"
        return self.service

    @cached_property
    def links(self) -> ReportLinks:
        return ReportLinks(self.service.hidden_secret, self.settings.report_link_seconds)

    def close(self) -> None:
        self.service.close()
        self.callbacks.close()
        self.runner.close()
        self.store.close()


def build_state(settings: Settings, runner: Runner | None = None) -> State:
    distributed = settings.queue == "procrastinate"
    # In the distributed mode the schema is migrated once, by `grader migrate`, not by each
    # replica racing the others; an old schema is refused (OldSchema).
    store = Store(settings.database, migrate=not distributed)
    catalog = Catalog.from_settings(settings)
    published = Published(catalog, store)
    layers: dict[str, Any] = {}
    self_test, failures = "not run (a test runner)", []
    if runner is None:
        from grader.sandbox.forkserver import ForkServerRunner

        # The distributed mode's API grades nothing: its sandbox only proves uploaded specs
        # and draws report pages.
        forkserver = ForkServerRunner.from_settings(
            settings, slots=1 if distributed else settings.slots)
        runner = forkserver
        layers = forkserver.layers.summary()
        failures = list(forkserver.self_test_failures)
        self_test = "passed" if forkserver.refusal is None else \
            "failed" if failures else "not run"
        if forkserver.refusal is not None and not failures:
            failures = [forkserver.refusal]
    callbacks = CallbackSender(
        store,
        settings.callback_secret.get_secret_value() if settings.callback_secret else None,
        settings.callback_attempts)
    # The backlog gauge reads the service, made just below; it is read only at scrape time.
    metrics = Metrics(backlog=lambda: service.backlog,
                      kills=lambda: dict(getattr(runner, "kills", {})),
                      queue=store.queue_facts if distributed else None)
    service: GradingService | QueueService
    queue = None
    if distributed:
        service = queue = QueueService(
            published, store, settings.database, backlog=settings.backlog,
            learner_limit=settings.learner_limit, token_limit=settings.per_token,
            hidden_secret=hidden_secret(settings))
    else:
        service = GradingService(catalog, store, runner, metrics, callbacks, settings.slots,
                                 settings.backlog, hidden_secret=hidden_secret(settings),
                                 learner_limit=settings.learner_limit,
                                 token_limit=settings.per_token, published=published)
    if not settings.platform_tokens:
        log.warning("GRADER_PLATFORM_TOKENS is empty: anyone who reaches this server may "
                    "submit and read submissions")
    if not settings.instructor_tokens:
        log.warning("GRADER_INSTRUCTOR_TOKENS is empty: instructor routes answer 403")
    state = State(settings, store, catalog, published, runner, service, metrics, callbacks,
                  layers, self_test, failures, queue)
    service.recover()
    return state


# -- tokens -----------------------------------------------------------------------------------

Role = Literal["open", "platform", "instructor"]


@dataclass(frozen=True)
class Principal:
    role: Role
    scope: str


def _matches(token: str, candidates: list[SecretStr]) -> bool:
    found = False
    for candidate in candidates:  # no early exit: the time does not say which one matched
        found |= hmac.compare_digest(token.encode(), candidate.get_secret_value().encode())
    return found


_bearer = HTTPBearer(auto_error=False, description="A platform or instructor token")


async def get_state(request: Request) -> State:
    state: State = request.app.state.grader
    return state


StateDep = Annotated[State, Depends(get_state)]
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


def _unauthorized(detail: str) -> ApiError:
    return ApiError(401, "Unauthorized", detail, headers={"WWW-Authenticate": "Bearer"})


async def platform_principal(state: StateDep, credentials: Credentials) -> Principal:
    settings = state.settings
    if credentials is None:
        if not settings.platform_tokens:
            return Principal("open", "open")
        raise _unauthorized("send 'Authorization: Bearer <token>' with a platform token")
    token = credentials.credentials
    if _matches(token, settings.instructor_tokens):
        return Principal("instructor", "instructor")
    if _matches(token, settings.platform_tokens):
        return Principal("platform", hashlib.sha256(token.encode()).hexdigest()[:32])
    raise _unauthorized("the token is not valid")


async def instructor_principal(state: StateDep, credentials: Credentials) -> Principal:
    settings = state.settings
    if not settings.instructor_tokens:
        raise ApiError(403, "Forbidden", "instructor routes are disabled on this server: "
                       "set GRADER_INSTRUCTOR_TOKENS")
    if credentials is None:
        raise _unauthorized("send 'Authorization: Bearer <token>' with an instructor token")
    token = credentials.credentials
    if _matches(token, settings.instructor_tokens):
        return Principal("instructor", "instructor")
    if _matches(token, settings.platform_tokens):
        raise ApiError(403, "Forbidden", "this route needs an instructor token")
    raise _unauthorized("the token is not valid")


PlatformDep = Annotated[Principal, Depends(platform_principal)]
InstructorDep = Annotated[Principal, Depends(instructor_principal)]


# -- helpers ----------------------------------------------------------------------------------

def view(row: Submission, status: str | None = None,
         links: ReportLinks | None = None) -> SubmissionView:
    return SubmissionView(
        id=row.id, exercise_id=row.exercise_id, learner_id=row.learner_id,
        status=status or row.status,  # type: ignore[arg-type]
        created_at=row.created_at, finished_at=row.finished_at, metadata=row.metadata_,
        report=Report.model_validate_json(row.report) if row.report else None,
        error=row.error if row.status == FAILED else None,
        report_url=links.url(row.id) if links is not None else None,
    )


def _unavailable(busy: Unavailable) -> ApiError:
    if isinstance(busy, OverLimit):
        return ApiError(429, "Too Many Requests", str(busy),
                        headers={"Retry-After": str(busy.retry_after)})
    return ApiError(503, "Service Unavailable", str(busy),
                    headers={"Retry-After": str(busy.retry_after)})


def _json(model: SubmissionView) -> Response:
    """Serialised once, here: the route's declared model documents it."""
    return Response(model.model_dump_json(), media_type="application/json")


def _same_request(row: Submission, fields: dict[str, Any]) -> bool:
    """Whether a stored submission is what these request fields would store."""
    return (row.exercise_id, row.source, row.learner_id, row.callback_url, row.metadata_) == (
        fields["exercise_id"], fields["source"], fields["learner_id"], fields["callback_url"],
        fields["metadata"])


async def _graded(state: State, row: Submission) -> Submission:
    """The row once graded; past the exercise's limit (and some), as it then stands."""
    future = state.embedded.future(row.id)
    limit = state.catalog.get(row.exercise_id).spec.limits.submission_seconds
    graded: Submission | None = None
    if future is not None:
        with contextlib.suppress(TimeoutError):
            graded = await asyncio.wait_for(asyncio.wrap_future(future), timeout=limit + 30)
    if graded is None:
        graded = await run_in_threadpool(state.store.get, row.id)
    return graded or row


def _key_reused() -> ApiError:
    return ApiError(422, "Unprocessable Content", "this Idempotency-Key was used with another "
                    "request; send a new key for a new submission")


async def _queued(state: State, queue: QueueService, fields: dict[str, Any],
                  idempotency_key: str | None, wait: bool) -> Submission:
    """The distributed mode: store and defer; with ``wait``, wait for a worker's report (told
    by a notification) up to the exercise's limit and a margin, then answer as it stands."""
    submission_id = uuid.uuid4().hex
    # listening before the row exists: the report may come before the insert returns
    waiter = queue.listener.waiter(submission_id) if wait else None
    try:
        row, created = await run_in_threadpool(
            queue.accept, **fields, idempotency_key=idempotency_key,
            submission_id=submission_id)
    except BaseException as error:
        if waiter is not None:
            queue.listener.forget(submission_id, waiter)
        if isinstance(error, Unavailable):
            raise _unavailable(error) from None
        raise
    if not created:  # a retry with a used key: the first submission's row
        if waiter is not None:
            queue.listener.forget(submission_id, waiter)
            waiter = queue.listener.waiter(row.id)
        if not _same_request(row, fields):
            if waiter is not None:
                queue.listener.forget(row.id, waiter)
            raise _key_reused()
    if waiter is None:
        return row
    limit = state.catalog.get(row.exercise_id).spec.limits.submission_seconds
    return await queue.wait(row, limit + WAIT_MARGIN, waiter)


def _exercise(state: State, exercise_id: str) -> ExerciseSpec:
    try:
        # also one published by another replica just now
        return state.published.get(exercise_id).spec
    except UnknownExercise:
        raise ApiError(404, "Not Found", f"no exercise {exercise_id!r}; see GET /v1/exercises") \
            from None


class BodyLimit:
    """Reads the whole request body before the app does, so that a body over ``limit`` bytes
    is 413 however it arrives (with a Content-Length, or chunked without one), and a body that
    takes longer than ``seconds`` to arrive is 408. Both close the connection. The app then
    reads the body from memory."""

    def __init__(self, app: ASGIApp, limit: int, seconds: float = 30.0) -> None:
        self.app = app
        self.limit = limit
        self.seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
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

    async def _refuse(self, status: int, scope: Scope, receive: Receive, send: Send) -> None:
        if status == 413:
            response = problem(413, "Content Too Large",
                               f"the request body is over {self.limit} bytes",
                               headers={"Connection": "close"})
        else:
            response = problem(408, "Request Timeout", f"the request body did not arrive "
                               f"within {self.seconds:g} s", headers={"Connection": "close"})
        await response(scope, receive, send)


class StrictJSONRequest(Request):
    """A request whose JSON body is parsed as RFC 8259 has it: NaN, Infinity and -Infinity
    are refused, and so is a body that is not UTF-8, is nested past what the parser takes or
    has a number it cannot read. Each is a JSON decode error, which the app answers with 422."""

    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            body = await self.body()
            try:
                self._json = json.loads(body, parse_constant=_not_json)
            except UnicodeDecodeError as error:
                raise json.JSONDecodeError("the body is not UTF-8", repr(body[:64]),
                                           error.start) from None
            except RecursionError:
                raise json.JSONDecodeError("the body is nested too deeply", "", 0) from None
            except json.JSONDecodeError:
                raise
            except ValueError as error:  # e.g. an integer of more digits than Python reads
                raise json.JSONDecodeError(str(error), "", 0) from None
        return self._json


def _not_json(constant: str) -> Any:
    raise json.JSONDecodeError(f"{constant} is not JSON", constant, 0)


class StrictRoute(APIRoute):
    """A route that takes its input as strictly as its models do: JSON as RFC 8259 has it,
    no query parameter it does not know (422, as for a body's unknown field), and none given
    twice (every one takes a single value)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        known = _query_names(self.dependant)

        async def strict(request: Request) -> Response:
            unknown = sorted(set(request.query_params) - known)
            if unknown:
                raise RequestValidationError([
                    {"type": "extra_forbidden", "loc": ("query", name),
                     "msg": "Extra inputs are not permitted"} for name in unknown])
            names = [name for name, _ in request.query_params.multi_items()]
            repeated = sorted({name for name in names if names.count(name) > 1})
            if repeated:
                raise RequestValidationError([
                    {"type": "repeated", "loc": ("query", name),
                     "msg": "Given more than once; it takes one value"} for name in repeated])
            return await handler(StrictJSONRequest(request.scope, request.receive))

        return strict


def _query_names(dependant: Dependant) -> set[str]:
    names = {field.alias for field in dependant.query_params}
    for dependency in dependant.dependencies:
        names |= _query_names(dependency)
    return names


def _allowed_methods(app: FastAPI, path: str) -> str:
    """Every method some route takes at ``path``: the Allow header of a 405."""
    methods: set[str] = set()
    for route in app.routes:
        if isinstance(route, APIRoute) and route.path_regex.match(path):
            methods |= route.methods or set()
    return ", ".join(sorted(methods))


# -- what the document says of errors --------------------------------------------------------

_ERRORS = {
    400: ("The body could not be read", {}),
    401: ("Missing or wrong token", {"WWW-Authenticate": "Bearer"}),
    403: ("A token of the wrong role, or instructor routes are disabled", {}),
    404: ("No such exercise or submission", {}),
    409: ("The exercise's version has no such thing", {}),
    408: ("The body did not arrive in time; the connection is closed", {}),
    413: ("The body or the source is over its limit", {}),
    422: ("The request is malformed: the field paths say where", {}),
    429: ("This learner or this platform token already has as many submissions waiting or "
          "being graded as allowed", {"Retry-After": "Seconds to wait"}),
    503: ("The grader takes no submissions now", {"Retry-After": "Seconds to wait"}),
}
_BODY = (400, 408, 413, 422)


def error_answers(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The documented error answers: problem details (moved to ``application/problem+json``
    when the document is built, see ``_document``)."""
    answers: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        description, headers = _ERRORS[status]
        answers[status] = {"model": Problem, "description": description, "headers": {
            name: {"description": text, "schema": {"type": "string"}}
            for name, text in headers.items()}}
    return answers


def _document(app: FastAPI, settings: Settings) -> Callable[[], dict[str, Any]]:
    """The OpenAPI document as the service behaves: error answers as problem details under
    their own media type, and the limits that come from settings."""
    build = app.openapi

    def document() -> dict[str, Any]:
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

    return document


# -- the app ----------------------------------------------------------------------------------

def create_app(settings: Settings | None = None, runner: Runner | None = None, *,
               freeze_heap: bool = False) -> FastAPI:
    """The app. ``freeze_heap``, for a process that serves this one app: once started, what
    is loaded lives as long as the process, so it is moved out of the collector's reach; a
    full collection would otherwise walk it all, holding every request still for tens of ms."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state = await run_in_threadpool(build_state, settings, runner)
        app.state.grader = state
        if state.queue is not None:
            state.queue.listener.start()
        if freeze_heap:
            gc.collect()
            gc.freeze()
        try:
            yield
        finally:
            if state.queue is not None:
                await state.queue.listener.stop()
            await run_in_threadpool(state.close)

    app = FastAPI(
        title="grader",
        version="0.1.0",
        summary="Grades learners' numerical Python exercises in a sandbox.",
        lifespan=lifespan,
        docs_url=None,  # served by grader.api.docs, with its assets
    )
    app.openapi = _document(app, settings)  # type: ignore[method-assign]
    app.router.route_class = StrictRoute
    app.add_middleware(BodyLimit, limit=8 * settings.max_source_bytes + 64 * 1024,
                       seconds=settings.body_seconds)

    @app.exception_handler(ApiError)
    async def _api_error(_: Request, error: ApiError) -> JSONResponse:
        return problem(error.status, error.title, error.detail, error.headers, error.errors)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, error: RequestValidationError) -> JSONResponse:
        errors = [{"loc": [str(p) for p in e.get("loc", ())], "msg": str(e.get("msg", "")),
                   "type": str(e.get("type", ""))} for e in error.errors()]
        for e, raw in zip(errors, error.errors(), strict=True):
            reason = (raw.get("ctx") or {}).get("error")
            if e["type"] == "json_invalid" and reason:
                e["msg"] = f"{e['msg']}: {reason}"
        detail = "; ".join(f"{'.'.join(e['loc'])}: {e['msg']}" for e in errors)[:2000]
        return problem(422, "Unprocessable Content", detail or "the request is malformed",
                       errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, error: StarletteHTTPException) -> JSONResponse:
        title = {400: "Bad Request", 404: "Not Found",
                 405: "Method Not Allowed"}.get(error.status_code, "Error")
        headers = dict(error.headers or {})
        if error.status_code == 405:  # Starlette names the methods of one route of the path
            headers["Allow"] = _allowed_methods(app, request.url.path)
        return problem(error.status_code, title, str(error.detail), headers)

    @app.exception_handler(Exception)
    async def _fault(_: Request, error: Exception) -> JSONResponse:
        log.exception("unhandled error")
        return problem(500, "Internal Server Error", "the grader failed; the error is logged")

    @app.post("/v1/submissions", response_model=SubmissionView, tags=["submissions"],
              responses={200: {"description": "Graded (done), or failed by the grader"},
                         202: {"model": SubmissionView, "description": "Accepted, not graded yet",
                               "headers": {"Location": {
                                   "description": "Where to read the submission",
                                   "schema": {"type": "string"}}}},
                         **error_answers(401, 404, 429, 503, *_BODY)})
    async def submit(
        body: SubmissionCreate, state: StateDep, principal: PlatformDep, response: Response,
        wait: Annotated[bool, Query(description="Grade before answering (default)")] = True,
        idempotency_key: Annotated[str | None, Header(min_length=1, max_length=256)] = None,
    ) -> SubmissionView | Response:
        """Store a submission and grade it: inline (200) or in the background (202).

        Synchronous (the default): the answer is the graded submission. In the distributed
        mode a worker grades it; the request waits for its report, told by a notification,
        up to the exercise's time limit plus 30 s, and then answers 202 with ``Location``.
        With ``wait=false``: 202 at once (or 200 if it was graded already)."""
        size = len(body.source.encode("utf-8"))
        if size > state.settings.max_source_bytes:
            raise ApiError(413, "Content Too Large", f"the source is {size} bytes; the limit "
                           f"is {state.settings.max_source_bytes}")
        if body.callback_url is not None and state.settings.callback_secret is None:
            raise ApiError(422, "Unprocessable Content", "callbacks are signed, and this server "
                           "has no GRADER_CALLBACK_SECRET: leave out callback_url")
        _exercise(state, body.exercise_id)
        fields: dict[str, Any] = {
            "exercise_id": body.exercise_id, "source": body.source, "seed": new_seed(),
            "scope": principal.scope, "learner_id": body.learner_id,
            "callback_url": str(body.callback_url) if body.callback_url else None,
            "metadata": body.metadata or {}}
        if state.queue is not None:
            row = await _queued(state, state.queue, fields, idempotency_key, wait)
        elif wait and idempotency_key is None:
            try:
                inline = state.embedded.grade_now(**fields)
            except Unavailable as busy:
                raise _unavailable(busy) from None
            # graded, or as a fault of the grader's left it: failed, or queued for another try
            row = await asyncio.wrap_future(inline)
            if row.status in (DONE, FAILED):
                return _json(view(row, links=state.links))
        else:
            try:
                row, created = await run_in_threadpool(
                    state.service.accept, **fields, idempotency_key=idempotency_key)
            except Unavailable as busy:
                raise _unavailable(busy) from None
            if not created and not _same_request(row, fields):
                raise _key_reused()
            if wait and row.status not in (DONE, FAILED):
                row = await _graded(state, row)
        if row.status not in (DONE, FAILED):
            response.status_code = 202
            response.headers["Location"] = f"/v1/submissions/{row.id}"
        return view(row, state.service.status(row), state.links)

    @app.get("/v1/submissions/{submission_id}", response_model=SubmissionView,
             tags=["submissions"], responses=error_answers(401, 404, 422))
    async def get_submission(submission_id: str, state: StateDep,
                             principal: PlatformDep) -> SubmissionView:
        """A submission's status, and its report once graded."""
        row = await run_in_threadpool(state.store.get, submission_id[:64])
        if row is None or (principal.role != "instructor" and row.scope != principal.scope):
            raise ApiError(404, "Not Found", f"no submission {submission_id[:64]!r}")
        result = view(row, state.service.status(row), state.links)
        if row.callback_url:
            attempts = await run_in_threadpool(state.store.callbacks, row.id)
            result.callback_attempts = [
                CallbackAttemptView(attempt=a.attempt, at=a.at, status_code=a.status_code,
                                    error=a.error, delivered=a.delivered) for a in attempts]
        return result

    @app.get("/v1/submissions", response_model=SubmissionPage, tags=["submissions"],
             responses=error_answers(401, 403, 422))
    async def list_submissions(
        state: StateDep, _: InstructorDep,
        exercise_id: Annotated[str | None, Query(max_length=64)] = None,
        learner_id: Annotated[str | None, Query(max_length=256)] = None,
        limit: Annotated[int, Query(ge=1, le=100)] = 50,
        offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
    ) -> SubmissionPage:
        """Every stored submission (instructors), filtered, oldest first."""
        rows, total = await run_in_threadpool(state.store.page, exercise_id, learner_id, limit,
                                              offset)
        after = offset + len(rows)
        items = [view(r, state.service.status(r), state.links) for r in rows]
        return SubmissionPage(items=items, total=total, limit=limit, offset=offset,
                              next_offset=after if after < total else None)

    @app.get("/v1/exercises", response_model=ExerciseList, tags=["exercises"],
             responses=error_answers(401))
    async def list_exercises(state: StateDep, _: PlatformDep) -> ExerciseList:
        """The public view of every exercise."""
        return ExerciseList(items=[ExerciseView.of(e.spec) for e in state.catalog])

    @app.get("/v1/exercises/{exercise_id}", response_model=ExerciseView, tags=["exercises"],
             responses=error_answers(401, 404, 422))
    async def get_exercise(exercise_id: str, state: StateDep, _: PlatformDep) -> ExerciseView:
        """The statement and the visible cases of one exercise."""
        return ExerciseView.of(_exercise(state, exercise_id))

    def _announce(exercise_id: str, state: State) -> Callable[[Any, int], None] | None:
        """In the distributed mode, what tells every replica of a new version, in the
        transaction that stores it."""
        if state.queue is None:
            return None

        def after(connection: Any, version: int) -> None:
            jobs.notify(connection, jobs.EXERCISE_CHANNEL, f"{exercise_id} {version}")
        return after

    @app.put("/v1/exercises/{exercise_id}", response_model=PublishedExercise,
             tags=["exercises"], responses=error_answers(401, 403, *_BODY))
    async def put_exercise(exercise_id: Annotated[str, FastPath(pattern=IDENT)], body: BundleUpload,
                           state: StateDep, _: InstructorDep) -> PublishedExercise:
        """Publish a bundle as the exercise's next version. Its reference.py runs only in the
        sandbox: there, its reference and mistake models compute the outputs the version is
        graded with, and the bundle must pass the same proof as ``grader exercises validate``
        (within a time limit), or the answer is 422 with the reasons, each naming the
        bundle's file and line."""
        for name, text in body.files.items():
            size = len(text.encode("utf-8"))
            if size > state.settings.max_source_bytes:
                raise ApiError(413, "Content Too Large", f"{name} is {size} bytes; the limit "
                               f"for a file is {state.settings.max_source_bytes}")
        try:
            bundle = BundleFiles.of(body.files)
            spec = parse_bundle(exercise_id, bundle)
        except SpecError as error:
            raise ApiError(422, "Unprocessable Content", str(error)[:2000],
                           errors=[{"msg": line.strip()} for line in str(error).splitlines()]
                           ) from None
        pool, problems = await run_in_threadpool(prove_bundle, spec, bundle, state.runner,
                                                 hidden_secret=state.service.hidden_secret)
        if pool is None:
            raise ApiError(422, "Unprocessable Content", "the bundle does not prove out: "
                           + "; ".join(problems)[:2000],
                           errors=[{"msg": p} for p in problems])
        version = await run_in_threadpool(
            state.published.publish_bundle, spec, bundle, pool,
            fingerprint(state.service.hidden_secret), _announce(exercise_id, state))
        return PublishedExercise(**ExerciseView.of(spec).model_dump(), version=version)

    @app.get("/v1/exercises/{exercise_id}/bundle", response_model=BundleView,
             tags=["exercises"], responses=error_answers(401, 403, 404, 409, 422))
    async def get_bundle(
        exercise_id: str, state: StateDep, _: InstructorDep,
        version: Annotated[int | None, Query(ge=0, le=2**31 - 1, description=(
            "The version (default: the newest)"))] = None,
    ) -> BundleView:
        """A version's files, as pushed (instructors): what ``grader exercises pull``
        writes. Version 0 is the built-in bundle's."""
        _exercise(state, exercise_id)
        chosen = state.published.version(exercise_id) if version is None else version
        if chosen == 0:
            files = await run_in_threadpool(state.published.builtin_files, exercise_id)
            if files is None:
                raise ApiError(404, "Not Found", f"exercise {exercise_id!r} has no version 0")
            return BundleView(exercise_id=exercise_id, version=0, files=files.files())
        row = await run_in_threadpool(state.store.exercise_row, exercise_id, chosen)
        if row is None:
            raise ApiError(404, "Not Found", f"exercise {exercise_id!r} has no version {chosen}")
        if row[1] is None:
            raise ApiError(409, "Conflict", f"version {chosen} of {exercise_id!r} is a spec "
                           "naming a built-in bundle's functions: it has no files of its own")
        return BundleView(exercise_id=exercise_id, version=chosen,
                          files=BundleFiles.from_json(row[1]).files())

    @app.get("/v1/exercises/{exercise_id}/versions", response_model=ExerciseVersions,
             tags=["exercises"], responses=error_answers(401, 403, 404, 422))
    async def exercise_versions(exercise_id: str, state: StateDep,
                                _: InstructorDep) -> ExerciseVersions:
        """Every published version of an exercise, oldest first (none for a built-in one
        never replaced). Submissions record the version they were graded with."""
        _exercise(state, exercise_id)
        versions = await run_in_threadpool(state.store.versions, exercise_id)
        return ExerciseVersions(exercise_id=exercise_id, items=[
            ExerciseVersionView(version=v, created_at=at, bundle=bundle, restored_from=source)
            for v, at, bundle, source in versions])

    @app.post("/v1/exercises/{exercise_id}/versions/{version}/restore",
              response_model=PublishedExercise, status_code=201, tags=["exercises"],
              responses=error_answers(401, 403, 404, 422))
    async def restore_version(
        exercise_id: str, version: Annotated[int, FastPath(ge=0, le=2**31 - 1)],
        state: StateDep, _: InstructorDep,
    ) -> PublishedExercise:
        """Roll back: publish a copy of ``version`` (0: the built-in spec) as the newest
        version, with the outputs it was proven with. Submissions go on recording the
        version that grades them; a regrade uses this one."""
        _exercise(state, exercise_id)
        try:
            new = await run_in_threadpool(state.published.restore, exercise_id, version,
                                          _announce(exercise_id, state))
        except UnknownExercise:
            raise ApiError(404, "Not Found", f"exercise {exercise_id!r} has no version "
                           f"{version}") from None
        spec = state.published.at(exercise_id, new).spec
        return PublishedExercise(**ExerciseView.of(spec).model_dump(), version=new)

    @app.post("/v1/exercises/{exercise_id}/regrade", response_model=RegradeAccepted,
              status_code=202, tags=["exercises"],
              responses=error_answers(401, 403, 404, 422, 503))
    async def regrade(exercise_id: str, state: StateDep, _: InstructorDep) -> RegradeAccepted:
        """Grade every stored submission of the exercise again, in the background."""
        _exercise(state, exercise_id)
        try:
            queued = await run_in_threadpool(state.service.regrade, exercise_id)
        except Unavailable as refused:
            raise _unavailable(refused) from None
        return RegradeAccepted(exercise_id=exercise_id, queued=queued)

    @app.get("/healthz", response_model=Health, tags=["operations"])
    async def healthz() -> Health:
        """Liveness: the process answers."""
        return Health(status="ok")

    @app.get("/readyz", response_model=Readiness, tags=["operations"],
             responses={503: {"model": Readiness}})
    async def readyz(state: StateDep, response: Response) -> Readiness:
        """Ready when the sandbox self-test passed and the database answers."""
        reasons = list(state.self_test_failures)
        refusal = state.runner.refusal  # also a zygote started again without a layer
        if refusal is not None and refusal not in reasons:
            reasons.append(refusal)
        try:
            database = "ok" if await run_in_threadpool(state.store.ping) else "no answer"
        except Exception as error:  # noqa: BLE001 - any database failure means not ready
            database = f"error: {type(error).__name__}"
        if database != "ok":
            reasons.append(f"database: {database}")
        ready = not reasons
        if not ready:
            response.status_code = 503
        return Readiness(ready=ready, database=database, sandbox=state.layers,
                         self_test=state.self_test, reasons=reasons)

    @app.get("/metrics", response_class=PlainTextResponse, tags=["operations"])
    async def metrics(state: StateDep) -> PlainTextResponse:
        """Prometheus metrics."""
        return PlainTextResponse(state.metrics.render(),
                                 media_type="text/plain; version=0.0.4; charset=utf-8")

    # Imported here: the routers use this module's dependencies.
    from grader.api import docs, reports

    app.include_router(reports.router)
    app.include_router(docs.router)
    return app


"""``GET /v1/submissions/{id}/report``: the report as an HTML page, always HTML.

Reached with a signed link (``report_url`` in a submission's JSON: ``expires`` and
``signature`` in the query, no token), or with a token as the JSON is (the platform that owns
the submission, or an instructor). A link with a wrong or past signature gets 403, whatever
token comes with it. The visible cases' arrays are drawn again for the page
(``grader.pages.case_outputs``): the learner's code runs once more in the sandbox, on visible inputs
only. Pages are kept for the last ``PAGES_KEPT`` submissions viewed, so that reloading an
iframe runs nothing.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import OrderedDict
from concurrent.futures import Future
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from grader.api.app import ApiError, Credentials, State, StateDep, platform_principal
from grader.api.schemas import Problem
from grader.catalog.exercises import UnknownExercise
from grader.grading.report import Report
from grader.pages.case_outputs import CaseOutputs, visible_outputs
from grader.pages.report_page import CSP, render_pending, render_report
from grader.sandbox.base import SandboxError
from grader.storage.status import SubmissionStatus
from grader.storage.store import Submission

log = logging.getLogger("grader.pages.report_page")
PAGES_KEPT = 64
DRAWN_AT_ONCE = 2  # pages whose learner code runs again at the same time
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "private, no-store",
}

router = APIRouter(tags=["submissions"])


class PageCache:
    """The last pages rendered, by submission id and the time its report was saved."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._pages: OrderedDict[tuple[str, str], str] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[str, str]) -> str | None:
        with self._lock:
            page = self._pages.get(key)
            if page is not None:
                self._pages.move_to_end(key)
            return page

    def put(self, key: tuple[str, str], page: str) -> None:
        with self._lock:
            self._pages[key] = page
            self._pages.move_to_end(key)
            while len(self._pages) > self.size:
                self._pages.popitem(last=False)


class Renders:
    """Pages being drawn: each runs the learner's code again, so a page is drawn once at a
    time (other requests for it wait for that drawing), and at most ``limit`` at once."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._lock = threading.Lock()
        self._drawing: dict[tuple[str, str], Future[str]] = {}

    def start(self, key: tuple[str, str]) -> tuple[Future[str], bool] | None:
        """The drawing of ``key`` and whether it is the caller's to do; None when too many
        pages are being drawn."""
        with self._lock:
            drawing = self._drawing.get(key)
            if drawing is not None:
                return drawing, False
            if len(self._drawing) >= self.limit:
                return None
            drawing = self._drawing[key] = Future()
            return drawing, True

    def finish(self, key: tuple[str, str], page: str | None,
               error: BaseException | None = None) -> None:
        with self._lock:
            drawing = self._drawing.pop(key)
        if error is not None:
            drawing.set_exception(error)
        else:
            drawing.set_result(page or "")


def _renders(request: Request) -> Renders:
    renders: Renders | None = getattr(request.app.state, "report_renders", None)
    if renders is None:
        renders = request.app.state.report_renders = Renders(DRAWN_AT_ONCE)
    return renders


def _cache(request: Request) -> PageCache:
    cache: PageCache | None = getattr(request.app.state, "report_pages", None)
    if cache is None:
        cache = request.app.state.report_pages = PageCache(PAGES_KEPT)
    return cache


def _page(state: State, row: Submission) -> tuple[str, bool]:
    """The page of a graded submission, and whether it is complete (worth keeping)."""
    report = Report.model_validate_json(row.report or "{}")
    try:  # the version that graded it
        exercise = state.published.at(row.exercise_id, row.exercise_version)
    except UnknownExercise:
        return render_report(report, row.exercise_id), True
    outputs: dict[str, CaseOutputs] | None
    # the learner's code runs again at low priority: only when no submission waits to be graded
    try:
        with state.runner.fast_place(low=True):
            outputs = visible_outputs(exercise, row.source, row.seed, state.runner,
                                      hidden_secret=state.service.hidden_secret)
    except SandboxError as error:
        log.error("the report page of %s has no pictures: %s", row.id, error)
        outputs = None
    except Exception:  # noqa: BLE001 - the reference failed on these inputs: a page without
        log.exception("the report page of %s has no pictures", row.id)  # pictures, not a 500
        outputs = None
    return render_report(report, exercise.spec.title, outputs), outputs is not None


@router.get("/v1/submissions/{submission_id}/report", response_class=HTMLResponse,
            responses={200: {"content": {"text/html": {}},
                             "description": "The report as a self-contained HTML page"},
                       401: {"model": Problem, "description": "No signature and no token"},
                       403: {"model": Problem, "description": "A wrong or expired signature"},
                       404: {"model": Problem, "description": "No such submission"},
                       422: {"model": Problem, "description": "A malformed query"},
                       503: {"model": Problem, "description": "Too many pages being drawn",
                             "headers": {"Retry-After": {"description": "Seconds to wait",
                                                         "schema": {"type": "string"}}}}},
            # a token, or none at all with the signature of report_url
            openapi_extra={"security": [{"HTTPBearer": []}, {}]})
async def report_page(
    submission_id: str, request: Request, state: StateDep, credentials: Credentials,
    expires: Annotated[int | None, Query(ge=0, le=2**53,
                                         description="From report_url")] = None,
    signature: Annotated[str | None, Query(max_length=128,
                                           description="From report_url")] = None,
) -> HTMLResponse:
    """The report as an HTML page with heatmaps of the visible cases' outputs: with the
    signature of ``report_url`` and no token, or with a token and no signature."""
    submission_id = submission_id[:64]
    signed = expires is not None or signature is not None
    if signed and (expires is None or signature is None
                   or not state.links.valid(submission_id, expires, signature)):
        raise ApiError(403, "Forbidden", "the link's signature is wrong or has expired; "
                       "get a new report_url from GET /v1/submissions/{id}")
    scope = None if signed else (await platform_principal(state, credentials))
    row = await run_in_threadpool(state.store.get, submission_id)
    if row is None or (scope is not None and scope.role != "instructor"
                       and row.scope != scope.scope):
        raise ApiError(404, "Not Found", f"no submission {submission_id!r}")
    if row.status != SubmissionStatus.DONE or not row.report:
        page = render_pending(row.exercise_id, state.service.status(row), row.error)
        return HTMLResponse(page, headers=HEADERS)
    cache = _cache(request)
    key = (row.id, str(row.finished_at))
    kept = cache.get(key)
    if kept is not None:
        return HTMLResponse(kept, headers=HEADERS)
    renders = _renders(request)
    started = renders.start(key)
    if started is None:
        raise ApiError(503, "Service Unavailable", "too many report pages are being drawn; "
                       "try again in a few seconds", headers={"Retry-After": "2"})
    drawing, mine = started
    if not mine:
        return HTMLResponse(await asyncio.wrap_future(drawing), headers=HEADERS)
    try:
        page, complete = await run_in_threadpool(_page, state, row)
    except BaseException as error:
        renders.finish(key, None, error)
        raise
    if complete:
        cache.put(key, page)
    renders.finish(key, page)
    return HTMLResponse(page, headers=HEADERS)

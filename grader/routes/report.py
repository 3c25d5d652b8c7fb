"""``GET /v1/submissions/{id}/report``: the report as an HTML page, always HTML.

Reached with a signed link (``report_url`` in a submission's JSON: ``expires`` and
``signature`` in the query, no token), or with a token as the JSON is (the platform that owns
the submission, or an instructor). A link with a wrong or past signature gets 403, whatever
token comes with it. The visible cases' arrays are drawn again for the page
(``grader.case_outputs``): the learner's code runs once more in the sandbox, on visible inputs
only. Pages are kept for the last ``PAGES_KEPT`` submissions viewed, so that reloading an
iframe runs nothing.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from grader.api import ApiError, Credentials, State, StateDep, platform_principal
from grader.case_outputs import CaseOutputs, visible_outputs
from grader.exercises import UnknownExercise
from grader.report import Report
from grader.report_page import CSP, render_pending, render_report
from grader.sandbox.base import SandboxError
from grader.schemas import Problem
from grader.store import DONE, Submission

log = logging.getLogger("grader.report_page")
PAGES_KEPT = 64
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


def _cache(request: Request) -> PageCache:
    cache: PageCache | None = getattr(request.app.state, "report_pages", None)
    if cache is None:
        cache = request.app.state.report_pages = PageCache(PAGES_KEPT)
    return cache


def _page(state: State, row: Submission) -> tuple[str, bool]:
    """The page of a graded submission, and whether it is complete (worth keeping)."""
    report = Report.model_validate_json(row.report or "{}")
    try:
        exercise = state.catalog.get(row.exercise_id)
    except UnknownExercise:
        return render_report(report, row.exercise_id), True
    outputs: dict[str, CaseOutputs] | None
    try:
        outputs = visible_outputs(exercise, row.source, row.seed, state.runner,
                                  hidden_secret=state.service.hidden_secret)
    except SandboxError as error:
        log.error("the report page of %s has no pictures: %s", row.id, error)
        outputs = None
    return render_report(report, exercise.spec.title, outputs), outputs is not None


@router.get("/v1/submissions/{submission_id}/report", response_class=HTMLResponse,
            responses={200: {"content": {"text/html": {}},
                             "description": "The report as a self-contained HTML page"},
                       401: {"model": Problem, "description": "No signature and no token"},
                       403: {"model": Problem, "description": "A wrong or expired signature"},
                       404: {"model": Problem, "description": "No such submission"},
                       422: {"model": Problem, "description": "A malformed query"}},
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
    if row.status != DONE or not row.report:
        page = render_pending(row.exercise_id, state.service.status(row), row.error)
        return HTMLResponse(page, headers=HEADERS)
    cache = _cache(request)
    key = (row.id, str(row.finished_at))
    kept = cache.get(key)
    if kept is not None:
        return HTMLResponse(kept, headers=HEADERS)
    page, complete = await run_in_threadpool(_page, state, row)
    if complete:
        cache.put(key, page)
    return HTMLResponse(page, headers=HEADERS)

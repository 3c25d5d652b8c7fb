"""``GET /v1/submissions/{id}/report``: the report as an HTML page, always HTML.

Reached with a signed link (``report_url`` in a submission's JSON: ``expires`` and
``signature`` in the query, no token), or with a token as the JSON is (the platform that owns
the submission, or an instructor). A link with a wrong or past signature gets 403, whatever
token comes with it. Drawing a page runs the learner's code again
(``grader.service.report_pages``), so pages are capped: 429 past the learner's or the
token's share, 503 when too many are being drawn.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse

from grader.api.deps import Credentials, StateDep, platform_principal, visible_submission
from grader.api.middleware import StrictRoute
from grader.api.problems import ApiError, error_answers
from grader.pages.report_page import CSP

HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "private, no-store",
}

router = APIRouter(tags=["submissions"], route_class=StrictRoute)


@router.get("/v1/submissions/{submission_id}/report", response_class=HTMLResponse,
            responses={200: {"content": {"text/html": {}},
                             "description": "The report as a self-contained HTML page"},
                       **error_answers(
                           401, 403, 404, 422, 429, 503,
                           s401="No signature and no token",
                           s403="A wrong or expired signature", s404="No such submission",
                           s422="A malformed query", s429=(
                               "As many pages of this learner's or this platform token's "
                               "submissions are being drawn as allowed"),
                           s503="Too many pages being drawn")},
            # a token, or none at all with the signature of report_url
            openapi_extra={"security": [{"HTTPBearer": []}, {}]})
async def report_page(
    submission_id: str, state: StateDep, credentials: Credentials,
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
    principal = None if signed else await platform_principal(state, credentials)
    row = await visible_submission(state, principal, submission_id)
    page = await state.pages.page(row, state.submissions.status(row))
    return HTMLResponse(page, headers=HEADERS)

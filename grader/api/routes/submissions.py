"""``/v1/submissions``: submit, read one, list (a platform its own, instructors all)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Header, Query, Response
from starlette.concurrency import run_in_threadpool

from grader.api.deps import PlatformDep, StateDep, known_exercise, visible_submission
from grader.api.middleware import StrictRoute
from grader.api.problems import BODY, ApiError, error_answers
from grader.api.schemas import (
    SUBMISSION_EXAMPLE,
    SubmissionCreate,
    SubmissionPage,
    SubmissionView,
)
from grader.grading.inputs import new_seed
from grader.service.admission import Busy
from grader.service.destinations import Destinations
from grader.service.submissions import NewSubmission, finished
from grader.service.views import CallbackAttemptView, PassbackView, spliced
from grader.service.views import submission_view as view
from grader.storage.lti import LTI_SCOPE

router = APIRouter(tags=["submissions"], route_class=StrictRoute)
# Seconds a client is told to wait before it reads a 202's Location: most submissions are
# graded within a second or two.
POLL_SECONDS = 1




@router.post("/v1/submissions", response_model=SubmissionView,
             responses={200: {"description": "Graded (done), or failed by the grader"},
                        202: {"model": SubmissionView, "description": "Accepted, not graded yet",
                              "headers": {"Location": {
                                  "description": "Where to read the submission",
                                  "schema": {"type": "string"}},
                                  "Retry-After": {
                                  "description": "Seconds to wait before reading it",
                                  "schema": {"type": "integer"}}}},
                        **error_answers(401, 404, 429, 503, *BODY)})
async def submit(
    body: Annotated[SubmissionCreate, Body(openapi_examples={
        "a submission": {"value": SUBMISSION_EXAMPLE}})],
    state: StateDep, principal: PlatformDep, response: Response,
    wait: Annotated[bool, Query(description="Grade before answering (default)")] = True,
    idempotency_key: Annotated[str | None, Header(min_length=1, max_length=256)] = None,
) -> SubmissionView | Response:
    """Store a submission and grade it: inline (200) or in the background (202).

    Synchronous (the default): the answer is the graded submission. The request waits for
    its report (in the distributed mode a worker's, told by a notification) up to three
    times the exercise's time limit (its run's longest on a busy machine) plus 30 s, and then
    answers 202 with ``Location``.
    With ``wait=false``: 202 at once (or 200 if it was graded already). A 202 has
    ``Retry-After``: the seconds to wait before polling ``Location``."""
    size = len(body.source.encode("utf-8"))
    if size > state.settings.max_source_bytes:
        raise ApiError(413, "Content Too Large", f"the source is {size} bytes; the limit "
                       f"is {state.settings.max_source_bytes}")
    if body.callback_url is not None and state.settings.callback_secret is None:
        raise ApiError(422, "Unprocessable Content", "callbacks are signed, and this server "
                       "has no GRADER_CALLBACK_SECRET: leave out callback_url")
    if body.callback_url is not None:
        refused = Destinations.from_settings(state.settings) \
            .literal_refusal(body.callback_url.host or "")
        if refused is not None:
            raise ApiError(422, "Unprocessable Content", f"callback_url: {refused}")
    known_exercise(state, body.exercise_id)
    new = NewSubmission(
        exercise_id=body.exercise_id, source=body.source, seed=new_seed(),
        scope=principal.scope, learner_id=body.learner_id,
        callback_url=str(body.callback_url) if body.callback_url else None,
        metadata=body.metadata or {})
    state.busy.check()  # before any wait for the database
    try:
        row = await state.submissions.submit(new, idempotency_key, wait)
    except Busy as busy:
        state.busy.refused(busy)
        raise
    if finished(row):
        return Response(spliced(row, state.links), media_type="application/json")
    response.status_code = 202
    response.headers["Location"] = f"/v1/submissions/{row.id}"
    response.headers["Retry-After"] = str(POLL_SECONDS)
    return view(row, state.submissions.status(row), state.links)


@router.get("/v1/submissions/{submission_id}", response_model=SubmissionView,
            responses=error_answers(401, 404, 422))
async def get_submission(submission_id: str, state: StateDep,
                         principal: PlatformDep) -> SubmissionView:
    """A submission's status, and its report once graded."""
    row = await visible_submission(state, principal, submission_id)
    result = view(row, state.submissions.status(row), state.links)
    if row.callback_url:
        attempts = await run_in_threadpool(state.submissions.callbacks, row.id)
        result.callback_attempts = [
            CallbackAttemptView(attempt=a.attempt, at=a.at, status_code=a.status_code,
                                error=a.error, delivered=a.delivered) for a in attempts]
    if row.scope.startswith(LTI_SCOPE):
        job = await run_in_threadpool(state.store.passback_of, row.id)
        if job is not None:
            result.passback = PassbackView.model_validate(
                {"status": job.status, "attempts": job.attempts, "error": job.last_error})
    return result


@router.get("/v1/submissions", response_model=SubmissionPage,
            responses=error_answers(401, 422))
async def list_submissions(
    state: StateDep, principal: PlatformDep,
    exercise_id: Annotated[str | None, Query(max_length=64)] = None,
    learner_id: Annotated[str | None, Query(max_length=256)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
) -> SubmissionPage:
    """Stored submissions, filtered, oldest first: a platform token's own (those it
    submitted), or every one for an instructor token."""
    scope = None if principal.role == "instructor" else principal.scope
    rows, total = await run_in_threadpool(state.submissions.page, exercise_id, learner_id,
                                          limit, offset, scope)
    after = offset + len(rows)
    items = [view(r, state.submissions.status(r), state.links) for r in rows]
    return SubmissionPage(items=items, total=total, limit=limit, offset=offset,
                          next_offset=after if after < total else None)

"""The instructor's pages under ``/instructor/``: HTML for a person with an instructor token,
who signs in once (``grader.api.sessions``). Without a valid session a page sends the browser
to sign in (303), and a form's post is refused (403); so is a post without the session's CSRF
token. Not in the OpenAPI document: these are pages, not API."""

from __future__ import annotations

import datetime as dt
from typing import Annotated
from urllib.parse import parse_qs

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from grader.api.deps import StateDep
from grader.api.sessions import (
    COOKIE,
    PATH,
    SESSION_SECONDS,
    SIGN_IN_COOKIE,
    SIGN_IN_SECONDS,
    Session,
    Sessions,
)
from grader.errors import NotFound
from grader.pages import instructor_views as views
from grader.pages.instructor_exercise import PAGE_SIZE, exercise_page
from grader.pages.instructor_page import CSP, ROOT, document, part
from grader.service import instructor
from grader.storage.listing import STATUSES, Wanted
from grader.storage.summary import Filters

router = APIRouter(include_in_schema=False)
HEADERS = {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff",
           "Referrer-Policy": "no-referrer", "Cache-Control": "no-store",
           "X-Frame-Options": "DENY"}
FORM_BYTES = 8192


def sessions_of(request: Request, state: StateDep) -> Sessions:
    found: Sessions | None = getattr(request.app.state, "instructor_sessions", None)
    if found is None or found.settings is not state.settings:
        found = Sessions(state.publisher.hidden_secret, state.settings)
        request.app.state.instructor_sessions = found
    return found


SessionsDep = Annotated[Sessions, Depends(sessions_of)]


def html(page: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(page, status_code=status, headers=HEADERS)


def to_sign_in() -> Response:
    return RedirectResponse(f"{ROOT}/sign-in", status_code=303, headers=HEADERS)


def signed_in(request: Request, sessions: Sessions) -> Session | None:
    return sessions.read(request.cookies.get(COOKIE))


async def posted(request: Request) -> dict[str, str]:
    """A form's fields (the first value of each), read from an urlencoded body."""
    body = await request.body()
    if len(body) > FORM_BYTES:
        return {}
    fields = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
    return {name: values[0] for name, values in fields.items()}


async def checked_post(request: Request, sessions: Sessions) -> Session | Response:
    """The session of a form's post, when it has one and the form its CSRF token."""
    session = signed_in(request, sessions)
    fields = await posted(request)
    if session is None or not sessions.csrf_valid(session, fields.get("csrf")):
        return html(views.message_page(
            "Refused", "This form needs a valid session and its own form token: sign in "
            "again and use the form from its page.", None), 403)
    return session


# -- signing in and out -----------------------------------------------------------------------


@router.get(ROOT)
@router.get(ROOT + "/")
async def home() -> Response:
    return RedirectResponse(f"{ROOT}/exercises", status_code=303, headers=HEADERS)


@router.get(ROOT + "/sign-in")
async def sign_in_form(sessions: SessionsDep) -> Response:
    nonce = sessions.nonce()
    response = html(views.sign_in_page(sessions.sign_in_csrf(nonce)))
    response.set_cookie(SIGN_IN_COOKIE, nonce, max_age=SIGN_IN_SECONDS, path=PATH,
                        httponly=True, samesite="strict")
    return response


@router.post(ROOT + "/sign-in")
async def sign_in(request: Request, sessions: SessionsDep) -> Response:
    fields = await posted(request)
    if not sessions.sign_in_valid(request.cookies.get(SIGN_IN_COOKIE), fields.get("csrf")):
        return html(views.message_page("Refused", "The sign-in form has expired: open it "
                                       "again.", None), 403)
    started = sessions.start(fields.get("token", ""))
    if started is None:
        nonce = sessions.nonce()
        refused = html(views.sign_in_page(sessions.sign_in_csrf(nonce),
                                          "That is not an instructor token."), 403)
        refused.set_cookie(SIGN_IN_COOKIE, nonce, max_age=SIGN_IN_SECONDS, path=PATH,
                           httponly=True, samesite="strict")
        return refused
    _, value = started
    response = RedirectResponse(f"{ROOT}/exercises", status_code=303, headers=HEADERS)
    response.set_cookie(COOKIE, value, max_age=SESSION_SECONDS, path=PATH, httponly=True,
                        samesite="strict", secure=request.url.scheme == "https")
    response.delete_cookie(SIGN_IN_COOKIE, path=PATH)
    return response


@router.post(ROOT + "/sign-out")
async def sign_out(request: Request, sessions: SessionsDep) -> Response:
    checked = await checked_post(request, sessions)
    if isinstance(checked, Response):
        return checked
    response = to_sign_in()
    response.delete_cookie(COOKIE, path=PATH, httponly=True, samesite="strict")
    return response


# -- the pages --------------------------------------------------------------------------------


@router.get(ROOT + "/exercises")
async def exercises(request: Request, state: StateDep, sessions: SessionsDep) -> Response:
    session = signed_in(request, sessions)
    if session is None:
        return to_sign_in()
    lines = await run_in_threadpool(instructor.exercise_lines, state.published, state.store)
    return html(views.exercises_page(lines, sessions.csrf(session)))


def _day(value: str | None) -> dt.datetime | None:
    try:
        day = dt.date.fromisoformat(value or "")
    except ValueError:
        return None
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


def _number(value: str | None, low: int = 0) -> int | None:
    return int(value) if value and value.isdigit() and len(value) < 10 and int(value) >= low \
        else None


def wanted_of(query: dict[str, str]) -> Wanted:
    until = _day(query.get("until"))
    return Wanted(learner_id=query.get("learner") or None,
                  status=query.get("status") if query.get("status") in STATUSES else None,
                  mistake=query.get("mistake") or None, version=_number(query.get("version")),
                  since=_day(query.get("since")),
                  # to the end of that day (of the last day there is: no bound)
                  until=until + dt.timedelta(days=1) if until and until.date() < dt.date.max
                  else None)


@router.get(ROOT + "/exercises/{exercise_id}")
async def exercise(exercise_id: str, request: Request, state: StateDep,
                   sessions: SessionsDep) -> Response:
    session = signed_in(request, sessions)
    if session is None:
        return to_sign_in()
    query = {k: v[:256] for k, v in request.query_params.items()
             if k in ("learner", "status", "mistake", "version", "since", "until")}
    page = _number(request.query_params.get("page"), 1) or 1
    wanted = wanted_of(query)

    def read() -> str:
        spec = state.published.get(exercise_id).spec  # UnknownExercise: NotFound
        counts = instructor.summary(state.published, state.store, exercise_id, Filters())
        listed = state.store.listed(exercise_id, wanted, PAGE_SIZE, (page - 1) * PAGE_SIZE)
        versions = views.version_numbers(state.store.versions(exercise_id),
                                         state.published.has_builtin(exercise_id))
        return exercise_page(exercise_id, spec.title, state.published.version(exercise_id),
                             counts, listed, query, page, state.links.url, versions)

    try:
        body = await run_in_threadpool(read)
    except NotFound as error:
        return html(views.message_page("Not found", str(error), sessions.csrf(session)), 404)
    return html(document(f"{exercise_id}: grader", body, sessions.csrf(session)))


@router.get(ROOT + "/learners/{learner_id:path}")
async def learner(learner_id: str, request: Request, state: StateDep,
                  sessions: SessionsDep) -> Response:
    session = signed_in(request, sessions)
    if session is None:
        return to_sign_in()
    rows = await run_in_threadpool(state.store.of_learner, learner_id[:256], 1000)
    return html(views.learner_page(learner_id, rows, state.links.url, sessions.csrf(session)))


# -- versions: diff, restore, regrade ---------------------------------------------------------


@router.get(ROOT + "/exercises/{exercise_id}/versions")
async def versions(exercise_id: str, request: Request, state: StateDep,
                   sessions: SessionsDep) -> Response:
    session = signed_in(request, sessions)
    if session is None:
        return to_sign_in()
    csrf = sessions.csrf(session)
    old = _number(request.query_params.get("old"))
    new = _number(request.query_params.get("new"))

    def read() -> str:
        state.published.get(exercise_id)
        rows = state.store.versions(exercise_id)
        newest = state.published.version(exercise_id)
        builtin = state.published.has_builtin(exercise_id)
        # the one before the newest, if any
        before = [n for n in views.version_numbers(rows, builtin) if n < newest]
        pair = (old if old is not None else before[-1] if before else newest,
                new if new is not None else newest)
        diffs = (instructor.diff(state.publisher, exercise_id, *pair)
                 if pair[0] != pair[1] else [])
        return views.versions_page(exercise_id, rows, newest, diffs, pair,
                                   state.store.regrading(exercise_id), csrf, builtin)

    try:
        return html(await run_in_threadpool(read))
    except NotFound as error:
        return html(views.message_page("Not found", str(error), csrf), 404)


@router.get(ROOT + "/exercises/{exercise_id}/versions/{version}/restore")
async def restore_form(exercise_id: str, version: int, request: Request, state: StateDep,
                       sessions: SessionsDep) -> Response:
    session = signed_in(request, sessions)
    if session is None:
        return to_sign_in()
    csrf = sessions.csrf(session)

    def known() -> int:
        """The newest version; NotFound when the exercise or the version is unknown."""
        state.published.at(exercise_id, version)
        return state.published.version(exercise_id)

    try:
        newest = await run_in_threadpool(known)
    except NotFound as error:
        return html(views.message_page("Not found", str(error), csrf), 404)
    return html(views.restore_page(exercise_id, version, newest, csrf))


@router.post(ROOT + "/exercises/{exercise_id}/versions/{version}/restore")
async def restore(exercise_id: str, version: int, request: Request, state: StateDep,
                  sessions: SessionsDep) -> Response:
    checked = await checked_post(request, sessions)
    if isinstance(checked, Response):
        return checked
    try:
        await run_in_threadpool(state.publisher.restore, exercise_id, version,
                                checked.principal.name)
    except NotFound as error:
        return html(views.message_page("Not found", str(error), sessions.csrf(checked)), 404)
    return RedirectResponse(f"{ROOT}/exercises/{part(exercise_id)}/versions", status_code=303,
                            headers=HEADERS)


@router.post(ROOT + "/exercises/{exercise_id}/regrade")
async def regrade(exercise_id: str, request: Request, state: StateDep,
                  sessions: SessionsDep) -> Response:
    checked = await checked_post(request, sessions)
    if isinstance(checked, Response):
        return checked
    try:
        state.published.get(exercise_id)
        await run_in_threadpool(state.submissions.regrade, exercise_id)
    except NotFound as error:
        return html(views.message_page("Not found", str(error), sessions.csrf(checked)), 404)
    return RedirectResponse(f"{ROOT}/exercises/{part(exercise_id)}/versions", status_code=303,
                            headers=HEADERS)

"""What routes depend on: the service's state, who is asking (a token's principal), and whether
that principal may see a submission.

Tokens: platform tokens may submit and read their own submissions; instructor tokens may do
everything. With no platform token configured, submitting and reading are open (for local
use); instructor routes are never open.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Annotated, Literal

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import SecretStr
from starlette.concurrency import run_in_threadpool
from starlette.requests import HTTPConnection

from grader.api.problems import ApiError
from grader.catalog.exercises import UnknownExercise
from grader.catalog.spec import ExerciseSpec
from grader.errors import NotFound
from grader.service.assembly import Service
from grader.service.submissions import UnknownSubmission
from grader.settings import Settings
from grader.storage.store import Submission

State = Service  # what a route reaches through ``StateDep``: the service's parts


async def get_state(request: Request) -> State:
    state: State = request.app.state.grader
    return state


StateDep = Annotated[State, Depends(get_state)]

# -- tokens -----------------------------------------------------------------------------------

Role = Literal["open", "platform", "instructor"]


@dataclass(frozen=True)
class Principal:
    role: Role
    scope: str  # what its submissions are stored under: a platform token's digest, or the role
    token: str  # which token: its digest ("open" without one), for caps per token
    name: str | None = None  # an instructor token's name, when it was given one


def _matches(token: str, candidates: list[SecretStr]) -> bool:
    found = False
    for candidate in candidates:  # no early exit: the time does not say which one matched
        found |= hmac.compare_digest(token.encode(), candidate.get_secret_value().encode())
    return found


def matching(token: str, candidates: list[SecretStr]) -> int | None:
    """Which of ``candidates`` the token is (its index), looking at every one whatever
    matches, so the time does not say which; None: none of them."""
    found = None
    for index, candidate in enumerate(candidates):
        if hmac.compare_digest(token.encode(), candidate.get_secret_value().encode()):
            found = index
    return found


def instructor_of(settings: Settings, token: str) -> Principal | None:
    """The instructor a token is, with its name; None: not an instructor token."""
    index = matching(token, settings.instructor_tokens)
    if index is None:
        return None
    return Principal("instructor", "instructor", _digest(token),
                     settings.instructor_name(index))


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()[:32]


def token_digest(token: str) -> str:
    """What a principal (and an instructor's session) records of its token: never the
    token itself."""
    return _digest(token)


def unauthorized(detail: str) -> ApiError:
    return ApiError(401, "Unauthorized", detail, headers={"WWW-Authenticate": "Bearer"})


class OneBearer(HTTPBearer):
    """A bearer token, from a request's one Authorization header. A request with two is
    refused (401): a proxy that checks the one and an app that reads the other would
    disagree on who is asking."""

    async def __call__(self, request: HTTPConnection) -> HTTPAuthorizationCredentials | None:
        count = len(request.headers.getlist("authorization"))
        if count > 1:
            raise unauthorized(f"send one Authorization header; this request has {count}")
        return await super().__call__(request)


_bearer = OneBearer(auto_error=False, scheme_name="HTTPBearer",
                    description="A platform or instructor token")
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


async def platform_principal(state: StateDep, credentials: Credentials) -> Principal:
    settings = state.settings
    if credentials is None:
        if not settings.platform_tokens:
            return Principal("open", "open", "open")
        raise unauthorized("send 'Authorization: Bearer <token>' with a platform token")
    token = credentials.credentials
    if _matches(token, settings.instructor_tokens):
        return Principal("instructor", "instructor", _digest(token))
    if _matches(token, settings.platform_tokens):
        return Principal("platform", _digest(token), _digest(token))
    raise unauthorized("the token is not valid")


async def instructor_principal(state: StateDep, credentials: Credentials) -> Principal:
    settings = state.settings
    if not settings.instructor_tokens:
        raise ApiError(403, "Forbidden", "instructor routes are disabled on this server: "
                       "set GRADER_INSTRUCTOR_TOKENS")
    if credentials is None:
        raise unauthorized("send 'Authorization: Bearer <token>' with an instructor token")
    token = credentials.credentials
    instructor = instructor_of(settings, token)
    if instructor is not None:
        return instructor
    if _matches(token, settings.platform_tokens):
        raise ApiError(403, "Forbidden", "this route needs an instructor token")
    raise unauthorized("the token is not valid")


PlatformDep = Annotated[Principal, Depends(platform_principal)]
InstructorDep = Annotated[Principal, Depends(instructor_principal)]

# -- what a principal may see -----------------------------------------------------------------


def may_see(principal: Principal | None, row: Submission) -> bool:
    """Whether ``principal`` may see the submission: an instructor sees every one, a platform
    its own. None: the caller holds a valid signed link to this very submission."""
    return principal is None or principal.role == "instructor" or row.scope == principal.scope


async def visible_submission(state: State, principal: Principal | None,
                             submission_id: str) -> Submission:
    """The submission, if ``principal`` may see it; else ``UnknownSubmission`` (404), as if
    it did not exist."""
    submission_id = submission_id[:64]
    row = await run_in_threadpool(state.submissions.get, submission_id)
    if row is None or not may_see(principal, row):
        raise UnknownSubmission(submission_id)
    return row


def known_exercise(state: State, exercise_id: str) -> ExerciseSpec:
    """The newest spec of the exercise, also one published by another replica just now."""
    try:
        return state.published.get(exercise_id).spec
    except UnknownExercise:
        raise NotFound(f"no exercise {exercise_id!r}; see GET /v1/exercises") from None

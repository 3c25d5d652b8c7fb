"""``/v1/exercises``: the public view of exercises; publishing, reading back, restoring and
regrading versions (instructors)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Query
from fastapi import Path as FastPath
from starlette.concurrency import run_in_threadpool

from grader.api.deps import InstructorDep, PlatformDep, StateDep, known_exercise
from grader.api.middleware import StrictRoute
from grader.api.problems import BODY, ApiError, error_answers
from grader.api.schemas import (
    BUNDLE_EXAMPLE,
    EXAMPLE_EXERCISE,
    BundleUpload,
    BundleView,
    ExerciseList,
    ExerciseVersions,
    ExerciseVersionView,
    ExerciseView,
    PublishedExercise,
    RegradeAccepted,
)
from grader.catalog.spec import IDENT

router = APIRouter(tags=["exercises"], route_class=StrictRoute)
VERSION = Annotated[int, FastPath(ge=0, le=2**31 - 1)]


@router.get("/v1/exercises", response_model=ExerciseList, responses=error_answers(401))
async def list_exercises(state: StateDep, _: PlatformDep) -> ExerciseList:
    """The public view of every exercise."""
    return ExerciseList(items=[ExerciseView.of(e.spec) for e in state.catalog])


@router.get("/v1/exercises/{exercise_id}", response_model=ExerciseView,
            responses=error_answers(401, 404, 422))
async def get_exercise(exercise_id: str, state: StateDep, _: PlatformDep) -> ExerciseView:
    """The statement and the visible cases of one exercise."""
    return ExerciseView.of(known_exercise(state, exercise_id))


@router.put("/v1/exercises/{exercise_id}", response_model=PublishedExercise,
            responses=error_answers(401, 403, 429, *BODY, s429=(
                "This instructor token is already proving as many bundles as allowed")))
async def put_exercise(exercise_id: Annotated[str, FastPath(pattern=IDENT,
                                                           examples=[EXAMPLE_EXERCISE])],
                       body: Annotated[BundleUpload, Body(openapi_examples={
                           "a new exercise": {"value": BUNDLE_EXAMPLE}})],
                       state: StateDep, principal: InstructorDep) -> PublishedExercise:
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
    spec, version = await run_in_threadpool(state.publisher.publish, exercise_id, body.files,
                                            principal.token, body.message, principal.name)
    return PublishedExercise(**ExerciseView.of(spec).model_dump(), version=version)


@router.get("/v1/exercises/{exercise_id}/bundle", response_model=BundleView,
            responses=error_answers(401, 403, 404, 409, 422))
async def get_bundle(
    exercise_id: str, state: StateDep, _: InstructorDep,
    version: Annotated[int | None, Query(ge=0, le=2**31 - 1, description=(
        "The version (default: the newest)"))] = None,
) -> BundleView:
    """A version's files, as pushed (instructors): what ``grader exercises pull``
    writes. Version 0 is the built-in bundle's."""
    known_exercise(state, exercise_id)
    chosen, files = await run_in_threadpool(state.publisher.files, exercise_id, version)
    return BundleView(exercise_id=exercise_id, version=chosen, files=files)


@router.get("/v1/exercises/{exercise_id}/versions", response_model=ExerciseVersions,
            responses=error_answers(401, 403, 404, 422))
async def exercise_versions(exercise_id: str, state: StateDep,
                            _: InstructorDep) -> ExerciseVersions:
    """Every published version of an exercise, oldest first (none for a built-in one
    never replaced). Submissions record the version they were graded with."""
    known_exercise(state, exercise_id)
    versions = await run_in_threadpool(state.publisher.versions, exercise_id)
    return ExerciseVersions(exercise_id=exercise_id, items=[
        ExerciseVersionView(version=row.version, created_at=row.created_at, bundle=row.bundle,
                            restored_from=row.restored_from, message=row.message,
                            published_by=row.published_by)
        for row in versions])


@router.post("/v1/exercises/{exercise_id}/versions/{version}/restore",
             response_model=PublishedExercise, status_code=201,
             responses=error_answers(401, 403, 404, 422))
async def restore_version(exercise_id: str, version: VERSION, state: StateDep,
                          principal: InstructorDep) -> PublishedExercise:
    """Roll back: publish a copy of ``version`` (0: the built-in spec) as the newest
    version, with the outputs it was proven with. Submissions go on recording the
    version that grades them; a regrade uses this one."""
    known_exercise(state, exercise_id)
    spec, new = await run_in_threadpool(state.publisher.restore, exercise_id, version,
                                        principal.name)
    return PublishedExercise(**ExerciseView.of(spec).model_dump(), version=new)


@router.post("/v1/exercises/{exercise_id}/regrade", response_model=RegradeAccepted,
             status_code=202, responses=error_answers(401, 403, 404, 422, 503))
async def regrade(exercise_id: str, state: StateDep, _: InstructorDep) -> RegradeAccepted:
    """Grade every stored submission of the exercise again, in the background."""
    known_exercise(state, exercise_id)
    queued = await run_in_threadpool(state.submissions.regrade, exercise_id)
    return RegradeAccepted(exercise_id=exercise_id, queued=queued)

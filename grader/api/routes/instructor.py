"""``GET /v1/exercises/{id}/summary``: how an exercise's submissions went (instructors),
counted by the database (``grader.storage.summary``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import AwareDatetime, BaseModel, Field
from starlette.concurrency import run_in_threadpool

from grader.api.deps import InstructorDep, StateDep
from grader.api.middleware import StrictRoute
from grader.api.problems import error_answers
from grader.service import instructor
from grader.storage.summary import Filters, SummaryCounts

router = APIRouter(tags=["exercises"], route_class=StrictRoute)


class Share(BaseModel):
    learners: int
    share: float | None = Field(description="Of the learners counted; null without any")


class CasePasses(BaseModel):
    name: str
    passed: int = Field(description="Graded submissions that passed this case")
    rate: float | None = Field(description="Of the graded submissions; null without any")


class Bucket(BaseModel):
    low: int = Field(description="Lowest score of the bucket, in % of the maximum")
    high: int = Field(description="Highest, in %")
    submissions: int


class MistakeView(BaseModel):
    mistake: str
    submissions: int
    examples: list[str] = Field(description="Ids of some of those submissions, newest first")


class SlowView(BaseModel):
    id: str
    learner_id: str | None
    duration_ms: float
    created_at: AwareDatetime
    passed: bool | None


class ExerciseSummary(BaseModel):
    exercise_id: str
    version: int | None = Field(description="The version counted alone; null: every one")
    since: AwareDatetime | None
    submissions: int = Field(description="Every one stored, graded or not")
    graded: int
    passed: int = Field(description="Graded submissions that passed")
    learners: int = Field(description="Distinct learner ids among the submissions")
    passed_first_try: Share = Field(description="Learners whose first submission passed")
    passed_eventually: Share = Field(description="Learners with a passing submission")
    median_attempts_to_pass: float | None = Field(
        description="Over the learners who passed: the median of their attempt that first "
        "passed (1: at the first)")
    histogram: list[Bucket]
    cases: list[CasePasses]
    mistakes: list[MistakeView]
    slowest: list[SlowView]

    @classmethod
    def of(cls, exercise_id: str, filters: Filters, c: SummaryCounts) -> ExerciseSummary:
        def share(n: int) -> Share:
            return Share(learners=n, share=n / c.learners if c.learners else None)

        return cls(
            exercise_id=exercise_id, version=filters.version, since=filters.since,
            submissions=c.submissions, graded=c.graded, passed=c.passed, learners=c.learners,
            passed_first_try=share(c.learners_first_try),
            passed_eventually=share(c.learners_passed),
            median_attempts_to_pass=c.median_attempts(),
            histogram=[Bucket(low=10 * i, high=min(100, 10 * i + 9), submissions=n)
                       for i, n in enumerate(c.histogram)],
            cases=[CasePasses(name=name, passed=n, rate=n / c.graded if c.graded else None)
                   for name, n in zip(c.case_names, c.case_passed, strict=True)],
            mistakes=[MistakeView(mistake=m.mistake, submissions=m.submissions,
                                  examples=m.examples) for m in c.mistakes],
            slowest=[SlowView(id=s.submission_id, learner_id=s.learner_id,
                              duration_ms=s.duration_ms, created_at=s.created_at,
                              passed=s.passed) for s in c.slowest])


@router.get("/v1/exercises/{exercise_id}/summary", response_model=ExerciseSummary,
            responses=error_answers(401, 403, 404, 422))
async def exercise_summary(
    exercise_id: str, state: StateDep, _: InstructorDep,
    since: Annotated[AwareDatetime | None, Query(
        description="Count submissions made at or after this moment (RFC 3339)")] = None,
    version: Annotated[int | None, Query(ge=0, le=2**31 - 1, description=(
        "Count the submissions graded with this version alone"))] = None,
) -> ExerciseSummary:
    """How the exercise's submissions went: how many, by how many learners, how many passed
    (at the first try and in the end), the scores, each case, the mistakes found with some
    of the submissions that made them, the attempts it takes to pass and the slowest
    submissions."""
    filters = Filters(since=since, version=version)
    counts = await run_in_threadpool(instructor.summary, state.published, state.store,
                                     exercise_id[:64], filters)
    return ExerciseSummary.of(exercise_id, filters, counts)

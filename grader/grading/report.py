"""The grading report: what a submission earned, case by case, and why."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

Status = Literal[
    "passed",
    "wrong_shape",
    "wrong_values",
    "invalid_output",
    "error",
    "timeout",
    "memory_limit",
    "crashed",
]


class Finding(BaseModel):
    """A diagnosis: a known mistake, or a problem with the submission as a whole."""

    code: str
    message: str
    cases: list[str] = Field(default_factory=list)
    severity: Literal["error", "warning", "mistake", "info"] = "error"


class Explanation(BaseModel):
    """What explains a submission's wrong outputs (or one case's): a known mistake of the
    exercise, a generic part (where the values sit, what was done to them), or a pair of them;
    a pattern across cases; or an idiom that Python 3 or NumPy 2 removed."""

    name: str  # the parts' codes joined by "+", e.g. "flipped_kernel+valid_in_zero_ring"
    parts: list[str]
    confidence: float = Field(ge=0.0, le=1.0)
    message: str
    kind: Literal["mistake", "across_cases", "environment"] = "mistake"
    cases: list[str] = Field(default_factory=list)


class TimeLimit(BaseModel):
    """The time limit that stopped a case: CPU time or the wall clock, a case's own or the
    whole submission's, and its value (the one the case's message states)."""

    kind: Literal["cpu", "wall"]
    seconds: float
    scope: Literal["case", "submission"]


class CaseReport(BaseModel):
    name: str
    passed: bool
    status: Status
    message: str
    points: float
    max_points: float
    visible: bool
    input_shape: list[int]
    expected_shape: list[int]
    output_shape: list[int] | None = None
    max_abs_error: float | None = None
    mistake: str | None = None
    explanation: Explanation | None = None
    duration_ms: float = 0.0
    limit: TimeLimit | None = None  # timeout: the limit that stopped it


class Report(BaseModel):
    exercise_id: str
    passed: bool
    score: float
    max_score: float
    seed: int
    duration_ms: float
    cases: list[CaseReport]
    diagnosis: list[Finding] = Field(default_factory=list)
    explanation: Explanation | None = None  # the one diagnosis to show first
    stdout: str = ""
    stderr: str = ""

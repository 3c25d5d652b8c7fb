"""How far a report page's second run of the learner's code may go: what its grading took."""

from __future__ import annotations

from grader.grading.report import CaseReport, Report
from grader.pages.case_outputs import REDRAW_FACTOR, REDRAW_FLOOR, redraw_limits
from grader.sandbox.base import RunLimits

LIMITS = RunLimits(case_seconds=2.0, submission_seconds=10.0, memory_mb=256)


def graded(*cases: tuple[str, bool, float]) -> Report:
    """A report of cases (status, visible, ms each took)."""
    reports = [CaseReport(name=f"c{i}", passed=status == "passed", status=status,  # type: ignore[arg-type]
                          message="", points=0, max_points=1, visible=visible,
                          input_shape=[8, 8], expected_shape=[6, 6], duration_ms=ms)
               for i, (status, visible, ms) in enumerate(cases)]
    return Report(exercise_id="conv2d", passed=False, score=0, max_score=len(reports), seed=1,
                  duration_ms=sum(ms for _, _, ms in cases) + 5, cases=reports)


def test_a_quick_grading_bounds_the_redraw_by_the_floor() -> None:
    limits = redraw_limits(LIMITS, graded(("wrong_values", True, 3.0), ("passed", False, 2.0)))
    assert (limits.case_seconds, limits.submission_seconds) == (REDRAW_FLOOR, REDRAW_FLOOR)
    assert limits.memory_mb == LIMITS.memory_mb


def test_the_bound_counts_the_cases_that_run_again_only() -> None:
    """A visible case that timed out (10 s) is not drawn again, so its time gives none: the
    quick one's does; a long hidden case's neither."""
    limits = redraw_limits(LIMITS, graded(("passed", True, 4.0), ("timeout", True, 10000.0),
                                          ("passed", False, 9000.0)))
    assert limits.submission_seconds == REDRAW_FLOOR


def test_a_long_grading_bounds_it_by_a_multiple_never_past_the_spec() -> None:
    limits = redraw_limits(LIMITS, graded(("passed", True, 1500.0)))
    assert limits.submission_seconds == REDRAW_FACTOR * 1.5 and limits.case_seconds == 2.0
    limits = redraw_limits(LIMITS, graded(("passed", True, 9000.0)))
    assert limits.submission_seconds == LIMITS.submission_seconds

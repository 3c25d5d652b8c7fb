"""How far a report page's second run of the learner's code may go: what its grading took."""

from __future__ import annotations

from grader.grading.report import CaseReport, Report
from grader.pages.case_outputs import REDRAW_CEILING, REDRAW_FACTOR, REDRAW_FLOOR, redraw_limits
from grader.sandbox.base import RunLimits

LIMITS = RunLimits(case_seconds=2.0, submission_seconds=10.0, memory_mb=256)


def graded(duration_ms: float, *cases: tuple[str, bool, float]) -> Report:
    """A report that took ``duration_ms`` on the grader's clock, of cases (status, visible, ms
    each claimed to take: the child's word)."""
    reports = [CaseReport(name=f"c{i}", passed=status == "passed", status=status,  # type: ignore[arg-type]
                          message="", points=0, max_points=1, visible=visible,
                          input_shape=[8, 8], expected_shape=[6, 6], duration_ms=ms)
               for i, (status, visible, ms) in enumerate(cases)]
    return Report(exercise_id="conv2d", passed=False, score=0, max_score=len(reports), seed=1,
                  duration_ms=duration_ms, cases=reports)


def test_a_quick_grading_bounds_the_redraw_by_the_floor() -> None:
    limits = redraw_limits(LIMITS, graded(12.0, ("wrong_values", True, 3.0)))
    assert (limits.case_seconds, limits.submission_seconds) == (REDRAW_FLOOR, REDRAW_FLOOR)
    assert limits.memory_mb == LIMITS.memory_mb


def test_the_bound_is_the_graders_clock_not_the_childs_word() -> None:
    """A child may claim each case took its whole limit: the grader's own clock decides."""
    limits = redraw_limits(LIMITS, graded(30.0, ("passed", True, 2000.0), ("passed", True, 2000.0)))
    assert limits.submission_seconds == REDRAW_FLOOR


def test_a_long_grading_bounds_it_by_a_multiple_up_to_a_ceiling() -> None:
    limits = redraw_limits(LIMITS, graded(500.0, ("passed", True, 400.0)))
    assert limits.submission_seconds == REDRAW_FACTOR * 0.5 and limits.case_seconds == 2.0
    limits = redraw_limits(LIMITS, graded(10_000.0, ("passed", True, 5.0), ("timeout", True, 0.0)))
    assert limits.submission_seconds == REDRAW_CEILING < LIMITS.submission_seconds
    short = RunLimits(case_seconds=0.5, submission_seconds=1.5, memory_mb=256)
    assert redraw_limits(short, graded(10_000.0)).submission_seconds == 1.5  # the spec's

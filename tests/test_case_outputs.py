"""How far a report page's second run of the learner's code may go: what its grading took."""

from __future__ import annotations

from grader.grading.report import CaseReport, Report
from grader.pages.case_outputs import REDRAW_FACTOR, REDRAW_FLOOR, redraw_limits
from grader.sandbox.base import RunLimits

LIMITS = RunLimits(case_seconds=2.0, submission_seconds=10.0, memory_mb=256)


def graded(duration_ms: float, *statuses: tuple[str, bool]) -> Report:
    cases = [CaseReport(name=f"c{i}", passed=status == "passed", status=status,  # type: ignore[arg-type]
                        message="", points=0, max_points=1, visible=visible, input_shape=[8, 8],
                        expected_shape=[6, 6])
             for i, (status, visible) in enumerate(statuses)]
    return Report(exercise_id="conv2d", passed=False, score=0, max_score=len(cases), seed=1,
                  duration_ms=duration_ms, cases=cases)


def test_a_quick_grading_bounds_the_redraw_by_the_floor() -> None:
    limits = redraw_limits(LIMITS, graded(12.0, ("wrong_values", True), ("passed", False)))
    assert limits is not None
    assert (limits.case_seconds, limits.submission_seconds) == (REDRAW_FLOOR, REDRAW_FLOOR)
    assert limits.memory_mb == LIMITS.memory_mb


def test_a_long_grading_bounds_it_by_a_multiple_never_past_the_spec() -> None:
    limits = redraw_limits(LIMITS, graded(1500.0, ("passed", True)))
    assert limits is not None
    assert limits.submission_seconds == REDRAW_FACTOR * 1.5 and limits.case_seconds == 2.0
    limits = redraw_limits(LIMITS, graded(9000.0, ("passed", True)))
    assert limits is not None and limits.submission_seconds == LIMITS.submission_seconds


def test_no_redraw_when_no_visible_case_gave_an_output() -> None:
    for status in ("error", "timeout", "crashed", "memory_limit"):
        assert redraw_limits(LIMITS, graded(30.0, (status, True), ("passed", False))) is None

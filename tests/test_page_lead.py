"""The top of the report page: the diagnosis once, from whatever the report holds."""

from __future__ import annotations

from typing import Any

import numpy as np

from grader.grading.grade import syntax_finding
from grader.grading.report import CaseReport, Finding, Report, TimeLimit
from grader.pages.case_outputs import CaseOutputs
from grader.pages.report_page import render_report
from grader.sandbox.base import LearnerError


def case(name: str, status: str = "wrong_values", message: str = "values differ",
         visible: bool = True, **extra: Any) -> CaseReport:
    return CaseReport(name=name, passed=status == "passed", status=status, message=message,
                      points=float(status == "passed"), max_points=1.0, visible=visible,
                      input_shape=[8, 8], expected_shape=[6, 6], **extra)


def report(cases: list[CaseReport], diagnosis: list[Finding] | None = None) -> Report:
    return Report(exercise_id="conv2d", passed=all(c.passed for c in cases),
                  score=sum(c.points for c in cases), max_score=len(cases), seed=3,
                  duration_ms=1.0, cases=cases, diagnosis=diagnosis or [])


def lead_of(page: str) -> str:
    start = page.index('id="diagnosis"')
    return page[start:page.index("</section>", start)]


def test_identical_hints_of_several_findings_are_said_once_with_all_their_cases() -> None:
    hint = "you flipped the kernel"
    page = render_report(report(
        [case("a"), case("b")],
        [Finding(code="flipped_kernel", message=hint, cases=["a"], severity="mistake"),
         Finding(code="flipped_kernel", message=hint, cases=["b"], severity="mistake")]), "t")
    assert page.count(hint) == 1 and "in a, b" in lead_of(page)


def test_a_top_level_diagnosis_is_shown_first_when_the_report_has_one() -> None:
    class WithDiagnosis(Report):
        diagnosis: dict[str, Any]  # type: ignore[assignment]
        findings: list[Finding] = []

    page = render_report(WithDiagnosis(
        exercise_id="conv2d", passed=False, score=0, max_score=1, seed=3, duration_ms=1.0,
        cases=[case("a")], findings=[Finding(code="x", message="a finding", cases=["a"])],
        diagnosis={"name": "flipped_kernel", "parts": ["flip"], "confidence": 0.9,
                   "message": "the kernel is flipped"}), "t")
    lead = lead_of(page)
    assert lead.index("the kernel is flipped") < lead.index("a finding")
    assert "flipped kernel</strong>" in lead and "confidence 0.9" in lead


def test_a_timeout_says_which_limit_when_the_report_names_it() -> None:
    cpu = case("a", "timeout", "stopped").model_copy(
        update={"limit": TimeLimit(kind="cpu", seconds=2, scope="case")})
    wall = case("b", "timeout", "stopped").model_copy(
        update={"limit": TimeLimit(kind="wall", seconds=10, scope="submission")})
    plain = case("c", "timeout", "stopped after 2.0 s: the time limit of 2 s")
    lead = lead_of(render_report(report([cpu, wall, plain]), "t"))
    assert "stopped at the CPU time limit of 2 s" in lead
    assert "stopped at the wall-clock time limit of 10 s" in lead
    assert "stopped after 2.0 s: the time limit of 2 s" in lead
    assert "look for a loop that never ends" in lead


def test_a_syntax_error_shows_its_message_then_line_and_caret_and_no_heatmap() -> None:
    finding = syntax_finding("def conv(image, kernel):\n    return (image\n")
    assert finding is not None
    cases = [case(n, "error", "the submission has a syntax error") for n in ("a", "b")]
    outputs = {n: CaseOutputs(np.zeros((6, 6)), None, "error") for n in ("a", "b")}
    page = render_report(report(cases, [finding]), "t", outputs)
    lead = lead_of(page)
    assert lead.index("SyntaxError: &#x27;(&#x27; was never closed") < lead.index(
        "return (image\n       ^")
    assert "<svg" not in page
    assert page.count("SyntaxError") == 1


def test_an_exception_shows_the_learners_line_underlined_under_its_message() -> None:
    source = "def conv(image, kernel):\n    x = 1\n    return image[99]\n"
    error = LearnerError("IndexError", "index 99 is out of bounds", line=3,
                         text="return image[99]")
    outputs = {"a": CaseOutputs(np.zeros((6, 6)), None, "error", error=error)}
    page = render_report(report([case("a", "error", "your code raised IndexError")]), "t",
                         outputs, source=source)
    lead = lead_of(page)
    assert "IndexError: index 99 is out of bounds</pre>" in lead
    assert "3 | return image[99]\n  | ^^^^^^^^^^^^^^^^" in lead
    assert "<svg" not in page


def test_hidden_failures_are_named_when_every_visible_case_passes() -> None:
    page = render_report(report([case("a", "passed", "all 36 values match"),
                                 case("h", "wrong_values", "hidden case: some values differ",
                                      visible=False)]), "t")
    assert "1 hidden case(s) did not pass (hidden case: some values differ)" in lead_of(page)

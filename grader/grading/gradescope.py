"""A report in Gradescope's autograder format: the ``results.json`` that an autograder writes
to ``/autograder/results/`` (otter-grader writes the same format).

One test per case, named by the case, with its points. A visible case is ``visible``; a hidden
case is ``after_published``, so learners see its name and points once the instructor publishes
the grades. A test's ``output`` is the case's message and the findings that name the case: the
same learner-safe text as the report, which never holds a hidden case's data. What the
submission printed is left out (it may print a hidden case's input), and the autograder's own
standard output is ``hidden``.
"""

from __future__ import annotations

from typing import Any

from grader.grading.messages import Msg, say
from grader.grading.report import CaseReport, Finding, Report

VISIBLE = "visible"
HIDDEN_UNTIL_PUBLISHED = "after_published"


def results(report: Report, title: str) -> dict[str, Any]:
    """``report`` as Gradescope's ``results.json``, a JSON object."""
    return {
        "score": report.score,
        "execution_time": round(report.duration_ms / 1000, 3),
        "output": _summary(report, title),
        "output_format": "text",
        "test_output_format": "text",
        "visibility": VISIBLE,
        "stdout_visibility": "hidden",
        "tests": [_test(case, number, report.diagnosis)
                  for number, case in enumerate(report.cases, start=1)],
    }


def _test(case: CaseReport, number: int, findings: list[Finding]) -> dict[str, Any]:
    lines = [case.message]
    lines += [f"{finding.code}: {finding.message}" for finding in findings
              if case.name in finding.cases]
    return {
        "name": case.name,
        "number": str(number),
        "score": case.points,
        "max_score": case.max_points,
        "status": "passed" if case.passed else "failed",
        "output": "\n".join(line for line in lines if line),
        "visibility": VISIBLE if case.visible else HIDDEN_UNTIL_PUBLISHED,
    }


def _summary(report: Report, title: str) -> str:
    """The submission as a whole: its score, then every finding, once."""
    verdict = say(Msg.VERDICT_PASSED if report.passed else Msg.VERDICT_NOT_PASSED)
    lines = [f"{title}: {report.score:g} / {report.max_score:g} ({verdict})"]
    lines += [f"{finding.code}: {finding.message}" for finding in report.diagnosis]
    return "\n".join(lines)

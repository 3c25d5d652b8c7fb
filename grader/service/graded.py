"""What a report says, as the facts the instructor's view counts (``Graded``): read from the
report's JSON, the same text that is stored, so that a report written by an older or a newer
grader is read the same way.

``mistakes_of`` is the one place that knows where a report names its mistakes.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

from grader.storage.rows import Graded

MAX_CASE_BITS = 64  # a spec has at most 64 cases; bit 63 is the sign of the stored integer


def mistakes_of(report: Mapping[str, Any]) -> list[str]:
    """The mistakes a report names, each once, in the order it names them: each case's
    ``mistake``, then the diagnosis's ``name`` when the diagnosis is one object that names
    one, or the codes of its findings of severity ``mistake`` when it is a list, then the
    name of the report's one ``explanation`` of kind ``mistake``, when it has one."""
    names: list[str] = []
    for case in report.get("cases") or []:
        if isinstance(case, Mapping) and isinstance(case.get("mistake"), str):
            names.append(case["mistake"])
    diagnosis = report.get("diagnosis")
    if isinstance(diagnosis, Mapping) and isinstance(diagnosis.get("name"), str):
        names.append(diagnosis["name"])
    elif isinstance(diagnosis, list):
        names += [f["code"] for f in diagnosis if isinstance(f, Mapping)
                  and f.get("severity") == "mistake" and isinstance(f.get("code"), str)]
    explanation = report.get("explanation")
    if isinstance(explanation, Mapping) and isinstance(explanation.get("name"), str) \
            and explanation.get("kind", "mistake") == "mistake":
        names.append(explanation["name"])
    return list(dict.fromkeys(name for name in names if name))


def cases_bits(passed: list[bool]) -> int:
    """Passed cases as the bits of a signed 64-bit integer: bit i set when case i passed."""
    bits = sum(1 << i for i, ok in enumerate(passed[:MAX_CASE_BITS]) if ok)
    return bits - (1 << 64) if bits >= 1 << 63 else bits


def score_pct(score: float, max_score: float) -> int:
    """The score as a whole percentage of the maximum, rounded down (a tiny float error under
    a whole number is not taken for the one below)."""
    if max_score <= 0 or not math.isfinite(score) or not math.isfinite(max_score):
        return 0
    return max(0, min(100, math.floor(score * 100 / max_score + 1e-9)))


def graded_of(report_json: str) -> Graded:
    """The facts of a stored report."""
    report = json.loads(report_json)
    cases = [c for c in report.get("cases") or [] if isinstance(c, Mapping)]
    return Graded(
        passed=bool(report.get("passed")),
        score_pct=score_pct(float(report.get("score") or 0), float(report.get("max_score") or 0)),
        cases_passed=cases_bits([bool(c.get("passed")) for c in cases]),
        duration_ms=float(report.get("duration_ms") or 0.0),
        mistakes=tuple(mistakes_of(report)))

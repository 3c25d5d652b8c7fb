"""The top of the report page: what is wrong, and what to try, said once.

Read from whatever the report holds: a top-level diagnosis (an object with ``name``,
``message``, ``confidence``) when the report has one, then the report's findings (each hint
once, with the cases it was seen in), then what the visible cases say where no finding does
(the line an exception was raised at, the limit a case ran into). The readers are tolerant:
a field that is missing or of another shape is left out, never an error.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from typing import Any

from grader.grading.messages import Msg, say
from grader.grading.report import CaseReport, Report
from grader.pages.case_outputs import CaseOutputs
from grader.pages.markup import text
from grader.sandbox.base import source_lines


def field(value: Any, name: str) -> Any:
    """``value[name]`` of a mapping, or its attribute ``name``; None when it has neither."""
    if isinstance(value, Mapping):
        return value.get(name)
    return getattr(value, name, None)


def _cases(names: list[str]) -> str:
    return say(Msg.PAGE_IN_CASES, cases=", ".join(names)) if names else ""


def _titled(title: str, message: str, names: list[str], extra: str = "") -> str:
    where = f' <span class="note">({text(_cases(names))})</span>' if names else ""
    return (f'<p class="hint"><strong>{text(title.replace("_", " "))}</strong>{extra}: '
            f"{text(message)}{where}</p>")


def _top(report: Report) -> Any:
    """The report's one explanation (``explanation``, or a ``diagnosis`` that is an object)."""
    for name in ("explanation", "diagnosis"):
        found = field(report, name)
        if found is not None and not isinstance(found, list):
            return found
    return None


def top_diagnosis(report: Report) -> str:
    """A report's one top-level diagnosis (an object with a message), when it has one."""
    found = _top(report)
    message = field(found, "message")
    if found is None or not isinstance(message, str):
        return ""
    confidence = field(found, "confidence")
    extra = (f' <span class="note">({text(say(Msg.PAGE_CONFIDENCE, confidence=confidence))})'
             "</span>" if isinstance(confidence, int | float | str) else "")
    name = field(found, "name")
    names = [c for c in field(found, "cases") or [] if isinstance(c, str)]
    return _titled(name if isinstance(name, str) else "", message, names, extra)


def findings(report: Report) -> list[Any]:
    """The report's list of findings, wherever it is kept: ``diagnosis`` (as today) or
    ``findings``."""
    for name in ("diagnosis", "findings"):
        found = field(report, name)
        if isinstance(found, list):
            return found
    return []


def finding_hints(report: Report) -> str:
    """Each finding's hint once: identical messages of several findings are joined, with
    every case they were seen in."""
    merged: dict[str, tuple[str, list[str]]] = {}
    said = field(_top(report), "message")  # shown above the findings already
    for finding in findings(report):
        message, code = field(finding, "message"), field(finding, "code")
        if not isinstance(message, str) or code == "syntax_error" or message == said:
            continue
        names = [c for c in field(finding, "cases") or [] if isinstance(c, str)]
        title, seen = merged.setdefault(message, (str(code or ""), []))
        seen += [n for n in names if n not in seen]
    return "".join(_titled(title, message, names) for message, (title, names) in merged.items())


def _syntax(report: Report) -> str:
    for finding in findings(report):
        if field(finding, "code") == "syntax_error":
            message, _, code = str(field(finding, "message")).partition("\n")
            shown = f'<pre class="code">{text(textwrap.dedent(code))}</pre>' if code else ""
            return (f"<p>{text(say(Msg.PAGE_SYNTAX_TRY))}</p>"
                    f"<pre>{text(message)}</pre>{shown}")
    return ""


def error_lines(message: str, line: int | None, code: str | None) -> str:
    """An exception's message, then its line of the learner's code, numbered and underlined
    (the message wraps; the code keeps its spaces)."""
    said = f"<pre>{text(message)}</pre>"
    if line is None or not code or not code.strip():
        return said
    body = code.strip()
    number = f"{line} | "
    caret = " " * (len(number) - 2) + "| " + "^" * len(body)
    return said + f'<pre class="code">{text(number + body)}\n{caret}</pre>'


def case_error(case: CaseReport, outputs: CaseOutputs | None, source: str) -> str:
    """The line, caret and message of a visible case that raised; its message alone when the
    page's run did not say where."""
    error = outputs.error if outputs is not None else None
    if error is None:
        return f"<pre>{text(case.message)}</pre>"
    lines = source_lines(source)
    code = lines[error.line - 1] if error.line and error.line <= len(lines) else error.text
    message = f"{error.type}: {error.message}" if error.message else error.type
    return error_lines(message, error.line, code)


def limit_words(case: CaseReport) -> str:
    """The limit a timed-out case ran into, from its ``limit`` field when the report has one
    (``{"kind": "cpu" | "wall", "seconds": 2}``), else its message."""
    limit = field(case, "limit")
    kind, seconds = field(limit, "kind"), field(limit, "seconds")
    words = {"cpu": Msg.PAGE_LIMIT_CPU, "wall": Msg.PAGE_LIMIT_WALL}.get(str(kind))
    if words is None or not isinstance(seconds, int | float):
        return case.message
    return say(Msg.PAGE_LIMIT, kind=say(words), seconds=seconds)


def _by_message(cases: list[CaseReport], words: Any) -> str:
    """Each distinct sentence once, with the cases that said it."""
    merged: dict[str, list[str]] = {}
    for case in cases:
        merged.setdefault(words(case), []).append(case.name)
    return "".join(f"<pre>{text(m)}</pre>"
                   f'<p class="note">{text(_cases(n))}</p>' for m, n in merged.items())


def _from_cases(report: Report, outputs: Mapping[str, CaseOutputs], source: str,
                explained: bool) -> str:
    """What the failing visible cases say, by kind of failure, where no finding did."""
    visible = [c for c in report.cases if c.visible and not c.passed]
    errors = [c for c in visible if c.status == "error"]
    timeouts = [c for c in visible if c.status == "timeout"]
    parts = []
    if errors:
        first = errors[0]
        parts.append(f"<p>{text(say(Msg.PAGE_ERROR_TRY))}</p>"
                     + case_error(first, outputs.get(first.name), source)
                     + f'<p class="note">{text(_cases([c.name for c in errors]))}</p>')
    if timeouts:
        parts.append(f"<p>{text(say(Msg.PAGE_TIMEOUT_TRY))}</p>"
                     + _by_message(timeouts, limit_words))
    others = [c for c in visible if c not in errors and c not in timeouts]
    if others and not explained:
        parts.append(f"<p>{text(say(Msg.PAGE_FAILED_TRY))}</p>"
                     + _by_message(others, lambda c: c.message.split("\n", 1)[0]))
    return "".join(parts)


def lead(report: Report, outputs: Mapping[str, CaseOutputs], source: str) -> str:
    """The section at the top of the page: the diagnosis, once, and what to try."""
    heading = f"<h2>{text(say(Msg.PAGE_WHAT_TO_TRY))}</h2>"
    syntax = _syntax(report)
    if syntax:
        return f'<section class="lead" id="diagnosis">{heading}{syntax}</section>'
    hints = top_diagnosis(report) + finding_hints(report)
    body = hints + _from_cases(report, outputs, source, explained=bool(hints))
    hidden = [c for c in report.cases if not c.visible and not c.passed]
    if not body and hidden:
        what = "; ".join(dict.fromkeys(c.message for c in hidden))
        body = f"<p>{text(say(Msg.PAGE_HIDDEN_FAILED, count=len(hidden), what=what))}</p>"
    kind = "lead"
    if report.passed or not body:
        body, kind = f"<p>{text(say(Msg.PAGE_ALL_MATCH))}</p>{body}", "lead passed"
        heading = f"<h2>{text(say(Msg.PAGE_NOTHING_TO_FIX))}</h2>"
    return f'<section class="{kind}" id="diagnosis">{heading}{body}</section>'

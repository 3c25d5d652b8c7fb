"""The report as one self-contained HTML page, for a person: what to do first, then each
case's pictures and words, then what was printed.

At the top, once: what is wrong and what to try (``grader.pages.lead``), and the exercise's
statement a click away. Then each visible case: a passing one says that it matches; one that
raised or ran out of time says the line, the message or the limit, with no picture; a wrong
output shows the case's inputs (small heatmaps, and as Python to copy), the expected output,
the learner's and their difference. Hidden cases show their status and points only: their
inputs never reach the page. Then what the submission printed.

The page requests nothing (``grader.pages.markup``: its own Content Security Policy says so);
every piece of learner text is made inert and then HTML-escaped.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from grader.catalog.spec import ExerciseSpec
from grader.grading.breakage import imports_note
from grader.grading.drawings import Drawings
from grader.grading.messages import Msg, say
from grader.grading.report import CaseReport, Report
from grader.pages.case_outputs import CaseOutputs, Inputs, kept_outputs, visible_inputs
from grader.pages.heatmap import colour_bar, heatmap
from grader.pages.lead import case_error, field, findings, lead, limit_words
from grader.pages.markup import CSP, STYLE, document, status_pill, text
from grader.pages.reproduce import argument_code, reproduce
from grader.storage.status import SubmissionStatus

__all__ = ["CSP", "STYLE", "render_pending", "render_report"]

# the names other page modules used before markup.py held them
_text, _status, _document = text, status_pill, document


def _figure(caption: str, svg: str, bar: str = "") -> str:
    return f"<figure>{svg}{bar}<figcaption>{text(caption)}</figcaption></figure>"


def _inputs(inputs: Inputs) -> str:
    """Each array argument as a small heatmap, each scalar as its value."""
    figures, scalars = [], []
    for name, value in inputs:
        if value.ndim == 0:
            scalars.append(argument_code(name, value))
            continue
        caption = say(Msg.PAGE_INPUT, name=name)
        low, high = (float(value.min()), float(value.max())) if value.size else (0.0, 0.0)
        figures.append(_figure(caption, heatmap(value, caption).svg, colour_bar(low, high)))
    words = "".join(f'<p class="scalars"><code>{text(s)}</code></p>' for s in scalars)
    return (f"<h3>{text(say(Msg.PAGE_INPUTS))}</h3>{words}"
            f'<div class="inputs">{"".join(figures)}</div>')


def _reproduce(entry_point: str, inputs: Inputs, open_: bool) -> str:
    if not inputs or not entry_point:
        return ""
    state = " open" if open_ else ""
    return (f'<details class="reproduce"{state}><summary>{text(say(Msg.PAGE_REPRODUCE))}'
            f'</summary><pre class="code">{text(reproduce(entry_point, inputs))}</pre>'
            "</details>")


def _pictures(case: CaseReport, outputs: CaseOutputs) -> str:
    expected, got = outputs.expected, outputs.got
    values = [expected] if got is None else [expected, got]
    finite = np.concatenate([v[np.isfinite(v)].ravel() for v in values])
    low = float(finite.min()) if finite.size else 0.0
    high = float(finite.max()) if finite.size else 0.0
    shared = colour_bar(low, high)
    expected_title, yours = say(Msg.PAGE_EXPECTED), say(Msg.PAGE_YOURS)
    figures = [_figure(expected_title, heatmap(expected, expected_title, low=low,
                                               high=high).svg, shared)]
    notes = []
    if got is None:
        notes.append(say(Msg.PAGE_NO_ARRAY))
    else:
        figures.append(_figure(yours, heatmap(got, yours, low=low, high=high).svg, shared))
        if got.shape == expected.shape:
            difference = got - expected
            drawn = heatmap(difference, say(Msg.PAGE_DIFFERENCE), diverging=True)
            finite_diff = np.abs(difference[np.isfinite(difference)])
            peak = float(finite_diff.max()) if finite_diff.size else 0.0
            figures.append(_figure(say(Msg.PAGE_DIFFERENCE_KEY), drawn.svg,
                                   colour_bar(-peak, peak, diverging=True)))
        else:
            notes.append(say(Msg.PAGE_NO_DIFFERENCE, got=tuple(got.shape),
                             expected=tuple(expected.shape)))
    return (f'<div class="maps">{"".join(figures)}</div>'
            + "".join(f'<p class="note">{text(n)}</p>' for n in notes))


def _ran_otherwise(case: CaseReport, outputs: CaseOutputs | None) -> str:
    if outputs is not None and outputs.cut:
        note = say(Msg.PAGE_CUT)
    elif outputs is None or outputs.status == case.status:
        return ""
    else:
        note = say(Msg.PAGE_RAN_OTHERWISE, status=outputs.status.replace("_", " "))
    return f'<p class="note">{text(note)}</p>'


def _visible_body(case: CaseReport, outputs: CaseOutputs | None, inputs: Inputs,
                  entry_point: str, source: str, first: bool) -> str:
    """A visible case: "matches" when it passed; the line and message, or the limit, when it
    stopped with no output; else its inputs and pictures."""
    if case.passed:
        return (f'<p class="matches">{text(say(Msg.PAGE_MATCHES))}</p>'
                f'<p class="note">{text(case.message)}</p>'
                + _reproduce(entry_point, inputs, False))
    if case.status == "error":
        return case_error(case, outputs, source) + _reproduce(entry_point, inputs, first)
    if case.status == "timeout":
        return (f'<pre>{text(limit_words(case))}</pre>'
                + _reproduce(entry_point, inputs, first))
    body = f"<pre>{text(case.message)}</pre>"
    if outputs is not None and outputs.got is not None:
        body += _inputs(inputs) + _pictures(case, outputs)
    elif outputs is not None and outputs.too_large:
        body += f'<p class="note">{text(say(Msg.PAGE_TOO_LARGE))}</p>'
    return body + _reproduce(entry_point, inputs, first) + _ran_otherwise(case, outputs)


def _case(case: CaseReport, outputs: CaseOutputs | None, inputs: Inputs, entry_point: str,
          source: str, first: bool) -> str:
    head = (f"<h2>{text(case.name)} {status_pill(case.status)}</h2>"
            f"<p>{text(say(Msg.PAGE_POINTS, points=case.points, max_points=case.max_points))}"
            "</p>")
    if not case.visible:
        hidden = text(say(Msg.PAGE_HIDDEN))
        return f'<section class="case hidden">{head}<p class="note">{hidden}</p></section>'
    body = _visible_body(case, outputs, inputs, entry_point, source, first)
    return f'<section class="case">{head}{body}</section>'


def _statement(statement: str) -> str:
    if not statement:
        return ""
    return (f'<details class="statement"><summary>{text(say(Msg.PAGE_STATEMENT))}</summary>'
            f"<pre>{text(statement.strip())}</pre><p>{text(imports_note())}</p></details>")


def render_report(report: Report, title: str,
                  outputs: Mapping[str, CaseOutputs] | None = None, *,
                  inputs: Mapping[str, Inputs] | None = None, statement: str = "",
                  entry_point: str = "", source: str = "") -> str:
    """The page of a graded submission. ``outputs``, by visible case name, give the pictures;
    ``inputs`` (visible cases only) the reproduce blocks, with ``entry_point``; ``source``
    the line an exception was raised at. A case without them shows its words only."""
    outputs = outputs or {}
    inputs = {**{n: o.inputs for n, o in outputs.items()}, **(inputs or {})}
    verdict = say(Msg.VERDICT_PASSED if report.passed else Msg.VERDICT_NOT_PASSED)
    score = say(Msg.PAGE_SCORE, score=report.score, max_score=report.max_score)
    body = [f"<h1>{text(report.exercise_id)}: {text(title)}</h1>",
            f'<p class="score">{text(score)} '
            f"{status_pill(verdict)} <span class=\"note\">(seed {report.seed})</span></p>",
            lead(report, outputs, source), _statement(statement)]
    # the reproduce block of the first failing case is open, unless the file does not parse
    unparsed = any(field(f, "code") == "syntax_error" for f in findings(report))
    first = None if unparsed else next(
        (c.name for c in report.cases if c.visible and not c.passed), None)
    body += [_case(c, outputs.get(c.name), inputs.get(c.name, ()) if c.visible else (),
                   entry_point, source, c.name == first) for c in report.cases]
    printed = report.stdout.rstrip()
    body.append(f'<section class="case"><h2>{text(say(Msg.PAGE_PRINTED))}</h2>'
                + (f"<pre>{text(printed)}</pre>" if printed
                   else f'<p class="note">{text(say(Msg.PAGE_NOTHING))}</p>') + "</section>")
    return document(say(Msg.PAGE_TITLE, exercise=report.exercise_id), "".join(body))


def render_kept(report: Report, spec: ExerciseSpec, drawings: Drawings, seed: int,
                hidden_secret: bytes, source: str) -> str:
    """The page of a graded submission from the arrays its grading kept: nothing runs."""
    inputs = visible_inputs(spec, seed, hidden_secret)
    return render_report(report, spec.title, kept_outputs(report, drawings, inputs),
                         inputs=inputs, statement=spec.statement,
                         entry_point=spec.entry_point, source=source)


def render_pending(exercise_id: str, status: str, error: str | None = None) -> str:
    """The page of a submission that is not graded yet (it reloads itself), or failed."""
    title = say(Msg.PAGE_TITLE, exercise=exercise_id)
    if status == SubmissionStatus.FAILED:
        body = (f"<h1>{text(exercise_id)}</h1><p>{text(say(Msg.PAGE_NOT_GRADED))}</p>"
                f"<pre>{text(error or '')}</pre>")
        return document(title, body)
    body = f"<h1>{text(exercise_id)}</h1><p>{text(say(Msg.PAGE_PENDING, status=status))}</p>"
    return document(title, body, refresh=True)

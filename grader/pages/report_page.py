"""The report as one self-contained HTML page, for a person: pictures, words, what was printed.

For each visible case: the expected output, the learner's and their difference as heatmaps
side by side, the case's status and message, and the diagnosis's hint for the mistake it
matches. Hidden cases show their status and points only. Then the whole diagnosis and what
the submission printed.

The page requests nothing: no script, no font, no image from anywhere (its own Content
Security Policy says so too); its pictures are inline SVG. Every piece of learner text
(messages quote exceptions, printed output is the learner's own) is made inert and then
HTML-escaped.
"""

from __future__ import annotations

import html
from collections.abc import Mapping

import numpy as np

from grader.grading.messages import Msg, say
from grader.grading.report import CaseReport, Finding, Report
from grader.grading.text import inert
from grader.pages.case_outputs import CaseOutputs
from grader.pages.heatmap import colour_bar, heatmap
from grader.storage.status import SubmissionStatus

# Also sent as a header by the server; in the page itself for a page saved as a file.
CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; "
       "form-action 'none'")

STYLE = """
:root { color-scheme: light; --ink: #1b1b1b; --muted: #5a5a5a; --line: #d0d0d0;
        --pass: #1a7f37; --fail: #b35900; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif;
       color: var(--ink); background: #fff; }
main { max-width: 72rem; margin: 0 auto; padding: 1rem; }
h1 { font-size: 1.4rem; margin: 0 0 .25rem; }
h2 { font-size: 1.15rem; margin: 0 0 .5rem; }
h3 { font-size: 1rem; margin: .25rem 0; }
.score { font-size: 1.1rem; margin: 0 0 1rem; }
.case { border: 1px solid var(--line); border-radius: .5rem; padding: .75rem 1rem;
        margin: 0 0 1rem; }
.status { display: inline-block; padding: 0 .5rem; border-radius: 1rem; font-size: .9rem;
          border: 1px solid currentColor; }
.status.passed { color: var(--pass); }
.status.failed { color: var(--fail); }
.maps { display: grid; grid-template-columns: repeat(auto-fit, minmax(13rem, 1fr));
        gap: 1rem; margin: .75rem 0; }
figure { margin: 0; }
figcaption { font-size: .9rem; color: var(--muted); }
svg.heatmap { width: 100%; height: auto; max-height: 22rem; display: block;
              border: 1px solid var(--line); }
.bar { display: flex; align-items: center; gap: .4rem; font-size: .8rem; margin-top: .25rem; }
.bar svg { flex: 1; height: .8rem; border: 1px solid var(--line); }
pre { white-space: pre-wrap; overflow-wrap: anywhere; background: #f4f4f4; padding: .5rem;
      border-radius: .25rem; margin: .25rem 0; }
.hint { border-left: .25rem solid var(--fail); padding-left: .5rem; }
.note { color: var(--muted); }
"""


def _text(value: str) -> str:
    """Learner-controlled text, safe in HTML: control characters shown as escapes, then
    every markup character escaped."""
    return html.escape(inert(value), quote=True)


def _status(status: str) -> str:
    kind = "passed" if status == "passed" else "failed"
    return f'<span class="status {kind}">{_text(status.replace("_", " "))}</span>'


def _document(title: str, body: str, refresh: bool = False) -> str:
    again = '<meta http-equiv="refresh" content="5">' if refresh else ""
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        f'<meta name="referrer" content="no-referrer">{again}'
        # no icon: a browser would otherwise ask the server for /favicon.ico
        '<link rel="icon" href="data:,">'
        f"<title>{_text(title)}</title><style>{STYLE}</style></head>"
        f"<body><main>{body}</main></body></html>\n"
    )


def _figure(caption: str, svg: str, bar: str = "") -> str:
    return f"<figure>{svg}{bar}<figcaption>{_text(caption)}</figcaption></figure>"


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
    if outputs.status != case.status:
        notes.append(say(Msg.PAGE_RAN_OTHERWISE, status=outputs.status.replace("_", " ")))
    return (f'<div class="maps">{"".join(figures)}</div>'
            + "".join(f'<p class="note">{_text(n)}</p>' for n in notes))


def _hint(case: CaseReport, diagnosis: list[Finding]) -> str:
    findings = [f for f in diagnosis if case.name in f.cases]
    return "".join(
        f'<p class="hint"><strong>{_text(f.code.replace("_", " "))}</strong>: '
        f"{_text(f.message)}</p>" for f in findings)


def _case(case: CaseReport, outputs: CaseOutputs | None, diagnosis: list[Finding]) -> str:
    head = (f"<h2>{_text(case.name)} {_status(case.status)}</h2>"
            f"<p>{_text(say(Msg.PAGE_POINTS, points=case.points, max_points=case.max_points))}"
            "</p>")
    if not case.visible:
        hidden = _text(say(Msg.PAGE_HIDDEN))
        return f'<section class="case hidden">{head}<p class="note">{hidden}</p></section>'
    body = f"<pre>{_text(case.message)}</pre>" + _hint(case, diagnosis)
    if outputs is not None:
        body += _pictures(case, outputs)
    return f'<section class="case">{head}{body}</section>'


def render_report(report: Report, title: str,
                  outputs: Mapping[str, CaseOutputs] | None = None) -> str:
    """The page of a graded submission. ``outputs``, by visible case name, give the pictures;
    a case without them shows its words only."""
    verdict = say(Msg.VERDICT_PASSED if report.passed else Msg.VERDICT_NOT_PASSED)
    score = say(Msg.PAGE_SCORE, score=report.score, max_score=report.max_score)
    body = [f"<h1>{_text(report.exercise_id)}: {_text(title)}</h1>",
            f'<p class="score">{_text(score)} '
            f"{_status(verdict)} <span class=\"note\">(seed {report.seed})</span></p>"]
    body += [_case(c, (outputs or {}).get(c.name), report.diagnosis) for c in report.cases]
    if report.diagnosis:
        items = "".join(
            f"<li><strong>{_text(f.code.replace('_', ' '))}</strong> ({_text(f.severity)})"
            f"{': ' + _text(', '.join(f.cases)) if f.cases else ''}"
            f"<pre>{_text(f.message)}</pre></li>" for f in report.diagnosis)
        body.append(f'<section class="case"><h2>{_text(say(Msg.PAGE_DIAGNOSIS))}</h2>'
                    f"<ul>{items}</ul></section>")
    printed = report.stdout.rstrip()
    body.append(f'<section class="case"><h2>{_text(say(Msg.PAGE_PRINTED))}</h2>'
                + (f"<pre>{_text(printed)}</pre>" if printed
                   else f'<p class="note">{_text(say(Msg.PAGE_NOTHING))}</p>') + "</section>")
    return _document(say(Msg.PAGE_TITLE, exercise=report.exercise_id), "".join(body))


def render_pending(exercise_id: str, status: str, error: str | None = None) -> str:
    """The page of a submission that is not graded yet (it reloads itself), or failed."""
    title = say(Msg.PAGE_TITLE, exercise=exercise_id)
    if status == SubmissionStatus.FAILED:
        body = (f"<h1>{_text(exercise_id)}</h1><p>{_text(say(Msg.PAGE_NOT_GRADED))}</p>"
                f"<pre>{_text(error or '')}</pre>")
        return _document(title, body)
    body = f"<h1>{_text(exercise_id)}</h1><p>{_text(say(Msg.PAGE_PENDING, status=status))}</p>"
    return _document(title, body, refresh=True)

"""The frame of the instructor's pages: one self-contained HTML document (no script, no font,
no image fetched: its Content Security Policy says so, and lets forms post to the grader
alone), the navigation, forms carrying their CSRF token, and bar charts as inline SVG.

Every value shown may come from a learner or an instructor (learner ids, mistake names,
specs), so every one is made inert and HTML-escaped here.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from urllib.parse import quote, urlencode

from grader.grading.text import inert

CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; "
       "form-action 'self'; frame-ancestors 'none'")
ROOT = "/instructor"

STYLE = """
:root { color-scheme: light; --ink: #1b1b1b; --muted: #5a5a5a; --line: #d0d0d0;
        --pass: #1a7f37; --fail: #b35900; --bar: #3a6ea5; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif;
       color: var(--ink); background: #fff; }
main { max-width: 72rem; margin: 0 auto; padding: 1rem; }
nav { display: flex; flex-wrap: wrap; gap: .25rem 1rem; align-items: center;
      border-bottom: 1px solid var(--line); padding-bottom: .5rem; margin-bottom: 1rem; }
nav form { margin-left: auto; }
h1 { font-size: 1.4rem; margin: 0 0 .5rem; overflow-wrap: anywhere; }
h2 { font-size: 1.15rem; margin: 1rem 0 .5rem; }
a { color: #0b5cad; }
.card { border: 1px solid var(--line); border-radius: .5rem; padding: .75rem 1rem;
        margin: 0 0 1rem; }
.figures { display: grid; grid-template-columns: repeat(auto-fit, minmax(9rem, 1fr));
           gap: .5rem; margin: 0 0 1rem; }
.figures div { border: 1px solid var(--line); border-radius: .5rem; padding: .5rem; }
.figures dt { font-size: .85rem; color: var(--muted); }
.figures dd { margin: 0; font-size: 1.3rem; font-weight: 600; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(18rem, 1fr));
          gap: 1rem; }
.chart p { margin: .35rem 0 0; display: flex; justify-content: space-between; gap: .5rem;
           font-size: .9rem; overflow-wrap: anywhere; }
.chart svg { width: 100%; height: .9rem; display: block; background: #f1f1f1; }
.chart rect { fill: var(--bar); }
.table { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-size: .9rem; }
th, td { text-align: left; padding: .3rem .5rem; border-bottom: 1px solid var(--line);
         vertical-align: top; }
.passed { color: var(--pass); }
.failed { color: var(--fail); }
.note { color: var(--muted); }
form.filters { display: grid; grid-template-columns: repeat(auto-fit, minmax(9rem, 1fr));
               gap: .5rem; align-items: end; margin: 0 0 1rem; }
label { display: block; font-size: .85rem; color: var(--muted); }
input, select, button { font: inherit; width: 100%; padding: .3rem; }
nav button, .inline button { width: auto; }
.inline { display: inline; }
pre { white-space: pre-wrap; overflow-wrap: anywhere; background: #f4f4f4; padding: .5rem;
      border-radius: .25rem; font-size: .85rem; }
.add { background: #e6f4ea; } .del { background: #fbe9e7; }
.pages { display: flex; gap: 1rem; align-items: center; }
@media (max-width: 40rem) {
  table.rows thead { display: none; }
  table.rows tr { display: block; border-bottom: 1px solid var(--line); padding: .3rem 0; }
  table.rows td { display: inline-block; border: 0; padding: .1rem .5rem .1rem 0; }
  table.rows[data-first-line] td:first-child { display: block; }
  table.rows td[data-label]::before { content: attr(data-label) " "; color: var(--muted); }
}
"""


def text(value: object) -> str:
    """Any value, safe in HTML: control characters shown as escapes, markup escaped."""
    return html.escape(inert(str(value)), quote=True)


def link(path: str, query: Mapping[str, object] | None = None) -> str:
    """A path under the grader, with the query's non-empty values."""
    kept = {k: v for k, v in (query or {}).items() if v not in (None, "")}
    return path + ("?" + urlencode(kept) if kept else "")


def part(value: str) -> str:
    """A value as one segment of a path."""
    return quote(value, safe="")


def form(action: str, csrf: str, inner: str, css: str = "") -> str:
    """A form that posts to ``action`` with the session's CSRF token."""
    return (f'<form method="post" action="{text(action)}" class="{css}">'
            f'<input type="hidden" name="csrf" value="{text(csrf)}">{inner}</form>')


def document(title: str, body: str, csrf: str | None = None, refresh: bool = False) -> str:
    """A whole page; signed in (``csrf`` given), with the navigation and sign-out."""
    nav = ""
    if csrf is not None:
        out = form(f"{ROOT}/sign-out", csrf, "<button>Sign out</button>", "inline")
        nav = (f'<nav><a href="{ROOT}/exercises">Exercises</a>{out}</nav>')
    again = '<meta http-equiv="refresh" content="5">' if refresh else ""
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        f'<meta name="referrer" content="no-referrer">{again}<link rel="icon" href="data:,">'
        f"<title>{text(title)}</title><style>{STYLE}</style></head>"
        f"<body><main>{nav}{body}</main></body></html>\n")


def figures(items: Sequence[tuple[str, str, object]]) -> str:
    """Headline numbers: (key, label, value); each value carries its key for tests and
    scripts (``data-figure``)."""
    cells = "".join(f'<div><dt>{text(label)}</dt><dd data-figure="{text(key)}">{text(value)}'
                    "</dd></div>" for key, label, value in items)
    return f'<dl class="figures">{cells}</dl>'


def bars(title: str, rows: Sequence[tuple[str, float, str]], top: float,
         key: str = "") -> str:
    """A bar chart: a row per (label, value, shown value), each bar an inline SVG as long as
    its value is of ``top``. ``key`` names the chart's rows for tests (``data-<key>``)."""
    if not rows:
        return (f'<section class="chart card"><h2>{text(title)}</h2>'
                '<p class="note">none yet</p></section>')
    drawn = []
    for label, value, shown in rows:
        width = 0.0 if top <= 0 else max(0.0, min(100.0, 100.0 * value / top))
        attribute = f' data-{key}="{text(label)}"' if key else ""
        drawn.append(
            f"<p><span>{text(label)}</span><span{attribute}>{text(shown)}</span></p>"
            '<svg viewBox="0 0 100 10" preserveAspectRatio="none" role="img" '
            f'aria-label="{text(label)}: {text(shown)}"><title>{text(label)}: {text(shown)}'
            f'</title><rect x="0" y="0" width="{width:.2f}" height="10"/></svg>')
    return f'<section class="chart card"><h2>{text(title)}</h2>{"".join(drawn)}</section>'


def percent(share: float | None) -> str:
    return "-" if share is None else f"{100 * share:.0f}%"

"""What every page of the grader shares in its HTML: learner text made safe, status pills,
the style sheet, the Content Security Policy and the document around a page's body.

The pages request nothing: no script, no font, no image from anywhere (their own Content
Security Policy says so too); their pictures are inline SVG.
"""

from __future__ import annotations

import html

from grader.grading.text import inert

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
h1 { font-size: 1.4rem; margin: 0 0 .25rem; overflow-wrap: anywhere; }
h2 { font-size: 1.15rem; margin: 0 0 .5rem; }
h3 { font-size: 1rem; margin: .25rem 0; }
.score { font-size: 1.1rem; margin: 0 0 1rem; }
.case { border: 1px solid var(--line); border-radius: .5rem; padding: .75rem 1rem;
        margin: 0 0 1rem; }
.lead { border: 2px solid var(--fail); border-radius: .5rem; padding: .75rem 1rem;
        margin: 0 0 1rem; background: #fff8f0; }
.lead.passed { border-color: var(--pass); background: #f2fbf4; }
.lead p { margin: .25rem 0 .5rem; }
.status { display: inline-block; padding: 0 .5rem; border-radius: 1rem; font-size: .9rem;
          border: 1px solid currentColor; }
.status.passed { color: var(--pass); }
.status.failed { color: var(--fail); }
.matches { color: var(--pass); font-weight: 600; }
.maps { display: grid; grid-template-columns: repeat(auto-fit, minmax(9.5rem, 1fr));
        gap: 1rem; margin: .75rem 0; }
.inputs { display: flex; flex-wrap: wrap; gap: 1rem; margin: .5rem 0; }
.inputs figure { width: 9rem; }
.scalars { margin: .25rem 0; }
figure { margin: 0; }
figcaption { font-size: .9rem; color: var(--muted); }
svg.heatmap { width: 100%; height: auto; max-height: 22rem; display: block;
              border: 1px solid var(--line); }
.bar { display: flex; align-items: center; gap: .4rem; font-size: .8rem; margin-top: .25rem; }
.bar svg { flex: 1; height: .8rem; border: 1px solid var(--line); }
pre { white-space: pre-wrap; overflow-wrap: anywhere; background: #f4f4f4; padding: .5rem;
      border-radius: .25rem; margin: .25rem 0; }
pre.code { white-space: pre; overflow-x: auto; overflow-wrap: normal; font-size: .85rem; }
.hint { border-left: .25rem solid var(--fail); padding-left: .5rem; }
.note { color: var(--muted); }
details { margin: .5rem 0; }
details.statement { margin: 0 0 1rem; }
summary { cursor: pointer; font-weight: 600; }
"""


def text(value: str) -> str:
    """Learner-controlled text, safe in HTML: control characters shown as escapes, then
    every markup character escaped."""
    return html.escape(inert(value), quote=True)


def status_pill(status: str) -> str:
    kind = "passed" if status == "passed" else "failed"
    return f'<span class="status {kind}">{text(status.replace("_", " "))}</span>'


def document(title: str, body: str, refresh: bool = False) -> str:
    again = '<meta http-equiv="refresh" content="5">' if refresh else ""
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        f'<meta name="referrer" content="no-referrer">{again}'
        # no icon: a browser would otherwise ask the server for /favicon.ico
        '<link rel="icon" href="data:,">'
        f"<title>{text(title)}</title><style>{STYLE}</style></head>"
        f"<body><main>{body}</main></body></html>\n"
    )

"""The HTML a launch answers with: the learner's exercise page, the instructor's page, the
deep-linking picker, the form that posts a signed answer back to the platform, and the page of
a refused launch.

As the report page: nothing is requested from anywhere (no font, no image, no stylesheet),
every piece of text is escaped, the forms work without JavaScript, and each page says its own
Content Security Policy. The one script, on the page that posts back to the platform, carries
a nonce the policy names; without it, a button posts the same form.
"""

from __future__ import annotations

import html
from typing import NamedTuple
from urllib.parse import urlsplit

from grader.catalog.spec import ExerciseSpec
from grader.grading.breakage import imports_note
from grader.grading.text import inert

STYLE = """
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif;
       color: #1b1b1b; background: #fff; }
main { max-width: 60rem; margin: 0 auto; padding: 1rem; }
h1 { font-size: 1.4rem; margin: 0 0 .5rem; }
.statement { white-space: pre-wrap; background: #f4f4f4; padding: .75rem; border-radius: .25rem; }
label { display: block; font-weight: 600; margin: 1rem 0 .25rem; }
textarea { width: 100%; min-height: 18rem; font: 14px/1.4 ui-monospace, monospace;
           padding: .5rem; border: 1px solid #8a8a8a; border-radius: .25rem; }
button { margin-top: .75rem; font: inherit; padding: .4rem 1.2rem; border-radius: .25rem;
         border: 1px solid #1a5fb4; background: #1a5fb4; color: #fff; cursor: pointer; }
ul.exercises { list-style: none; padding: 0; }
ul.exercises li { border: 1px solid #d0d0d0; border-radius: .5rem; padding: .5rem 1rem;
                  margin: 0 0 .75rem; }
.note { color: #5a5a5a; }
"""


def csp(form_action: str = "'self'", script_nonce: str | None = None) -> str:
    script = f"script-src 'nonce-{script_nonce}'; " if script_nonce else ""
    return (f"default-src 'none'; style-src 'unsafe-inline'; {script}base-uri 'none'; "
            f"form-action {form_action}")


def _text(value: str) -> str:
    return html.escape(inert(value), quote=True)


class Page(NamedTuple):
    html: str
    policy: str  # also sent as the Content-Security-Policy header


def _document(title: str, body: str, policy: str, script: str = "") -> Page:
    return Page(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta http-equiv="Content-Security-Policy" content="{_text(policy)}">'
        '<meta name="referrer" content="no-referrer"><link rel="icon" href="data:,">'
        f"<title>{_text(title)}</title><style>{STYLE}</style></head>"
        f"<body><main>{body}</main>{script}</body></html>\n", policy)


def starter_code(spec: ExerciseSpec) -> str:
    """What the learner starts from: the entry point with the exercise's arguments."""
    arguments = ", ".join(argument.name for argument in spec.arguments)
    return f"import numpy as np\n\n\ndef {spec.entry_point}({arguments}):\n    ...\n"


def learner_page(spec: ExerciseSpec, ticket: str, source: str | None = None) -> Page:
    body = (f"<h1>{_text(spec.title)}</h1>"
            f'<div class="statement">{_text(spec.statement.strip())}</div>'
            f'<p class="note">{_text(imports_note())}</p>'
            '<form method="post" action="/lti/submit">'
            f'<input type="hidden" name="ticket" value="{_text(ticket)}">'
            '<label for="source">Your code</label>'
            f'<textarea id="source" name="source" spellcheck="false">'
            f"{_text(source if source is not None else starter_code(spec))}</textarea>"
            '<button type="submit">Submit for grading</button></form>'
            '<p class="note">Your code is graded in a sandbox; the report opens here, and '
            "your score goes to your course's gradebook.</p>")
    return _document(spec.title, body, csp())


def instructor_page(spec: ExerciseSpec) -> Page:
    link = f"/instructor/exercises/{spec.id}"
    body = (f"<h1>{_text(spec.title)}</h1>"
            "<p>You launched this activity as an instructor.</p>"
            f'<p><a href="{_text(link)}" target="_blank" rel="noopener">Open the exercise '
            f"in the instructor's view</a> (its cases, versions and submissions).</p>")
    return _document(spec.title, body, csp())


def picker_page(specs: list[tuple[ExerciseSpec, float]], ticket: str) -> Page:
    """The exercises an instructor can put in the course, each with its maximum score."""
    items = "".join(
        '<li><form method="post" action="/lti/deep-link">'
        f'<input type="hidden" name="ticket" value="{_text(ticket)}">'
        f'<input type="hidden" name="exercise" value="{_text(spec.id)}">'
        f"<strong>{_text(spec.title)}</strong> <span class=\"note\">({_text(spec.id)}, "
        f"{most:g} points)</span><br>"
        f'<button type="submit">Add to the course</button></form></li>'
        for spec, most in specs)
    body = (f"<h1>Choose an exercise</h1><ul class=\"exercises\">{items}</ul>")
    return _document("Choose an exercise", body, csp())


def post_back_page(url: str, jwt_value: str, nonce: str) -> Page:
    """A form posting the signed answer (field ``JWT``) to the platform: sent at once by a
    script, or by its button without one."""
    parts = urlsplit(url)
    origin = f"{parts.scheme}://{parts.netloc}"
    body = (f'<form id="back" method="post" action="{_text(url)}">'
            f'<input type="hidden" name="JWT" value="{_text(jwt_value)}">'
            "<p>Sending your choice back to the course.</p>"
            '<button type="submit">Continue</button></form>')
    script = (f'<script nonce="{_text(nonce)}">'
              'document.getElementById("back").submit();</script>')
    return _document("Back to the course", body, csp(origin, nonce), script)


def refused_page(reason: str) -> Page:
    body = ("<h1>This launch was refused</h1>"
            f"<p>{_text(reason)}</p><p class=\"note\">Launch the activity again from your "
            "course.</p>")
    return _document("Launch refused", body, csp("'none'"))

"""The instructor's other pages: sign-in, the exercises, an exercise's versions (with a diff
of two, restore and regrade), a learner's submissions, and a page that says what went wrong."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from grader.pages.instructor_exercise import submissions_table
from grader.pages.instructor_page import ROOT, document, form, link, part, percent, text
from grader.storage.listing import ExerciseCounts, Listed
from grader.storage.rows import VersionRow


@dataclass(frozen=True)
class ExerciseLine:
    """An exercise as the list of exercises shows it."""

    exercise_id: str
    title: str
    version: int
    counts: ExerciseCounts | None


@dataclass(frozen=True)
class FileDiff:
    path: str
    lines: list[str]  # unified diff; empty: the same in both


def sign_in_page(csrf: str, problem: str | None = None) -> str:
    said = f'<p class="failed">{text(problem)}</p>' if problem else ""
    body = (f"<h1>Sign in</h1>{said}<p>With an instructor token (as set in "
            "GRADER_INSTRUCTOR_TOKENS).</p>"
            + form(f"{ROOT}/sign-in", csrf,
                   '<label for="token">Instructor token</label>'
                   '<input id="token" name="token" type="password" autocomplete="off" '
                   'required><p><button>Sign in</button></p>', "card"))
    return document("Sign in: grader", body)


def message_page(title: str, message: str, csrf: str | None) -> str:
    return document(title, f"<h1>{text(title)}</h1><p>{text(message)}</p>", csrf)


def exercises_page(lines: list[ExerciseLine], csrf: str) -> str:
    rows = []
    for line in lines:
        c = line.counts
        rate = percent(c.passed / c.graded) if c and c.graded else "-"
        mistake = f"{c.top_mistake} ({c.top_mistake_count})" if c and c.top_mistake else "-"
        rows.append(
            f'<tr data-exercise="{text(line.exercise_id)}">'
            f'<td><a href="{ROOT}/exercises/{part(line.exercise_id)}">'
            f"{text(line.exercise_id)}</a><br><span class=\"note\">{text(line.title)}</span></td>"
            f'<td data-label="version">{line.version}</td>'
            f'<td data-label="submissions">{c.submissions if c else 0}</td>'
            f'<td data-label="pass rate">{rate}</td>'
            f'<td data-label="commonest mistake">{text(mistake)}</td></tr>')
    table = ('<div class="table"><table class="rows" data-first-line><thead><tr>'
             "<th>exercise</th><th>version</th><th>submissions</th><th>pass rate</th>"
             "<th>commonest mistake</th></tr></thead>"
             f"<tbody>{''.join(rows)}</tbody></table></div>")
    return document("Exercises: grader", f"<h1>Exercises</h1>{table}", csrf)


def version_numbers(versions: list[VersionRow], builtin: bool) -> list[int]:
    """Every version of an exercise, oldest first: 0 where it has a built-in spec, then the
    published ones (an exercise published with PUT alone starts at 1)."""
    return [*([0] if builtin else []), *[v.version for v in versions]]


def _version_rows(exercise_id: str, versions: list[VersionRow], newest: int, builtin: bool,
                  ) -> str:
    rows = []
    base = f"{ROOT}/exercises/{part(exercise_id)}/versions"
    built_in = [VersionRow(0, None, True, None)] if builtin else []  # type: ignore[arg-type]
    for v in [*built_in, *versions]:
        when = "built in" if v.created_at is None else v.created_at.strftime("%Y-%m-%d %H:%M")
        origin = f"restored from {v.restored_from}" if v.restored_from is not None else ""
        restore = "" if v.version == newest else \
            f'<a href="{base}/{v.version}/restore">restore</a>'
        rows.append(f'<tr data-version="{v.version}"><td data-label="version">{v.version}</td>'
                    f"<td>{text(when)}</td>"
                    f'<td data-label="by">{text(v.published_by or "-")}</td><td>{text(origin)}</td>'
                    f"<td>{text(v.message or '')}</td><td>{restore}</td></tr>")
    return ('<div class="table"><table class="rows"><thead><tr><th>version</th><th>published</th>'
            "<th>by</th><th></th><th>message</th><th></th></tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table></div>")


def _diff(diffs: list[FileDiff], old: int, new: int) -> str:
    if not diffs:
        return ""
    parts = [f"<h2>From version {old} to version {new}</h2>"]
    for d in diffs:
        if not d.lines:
            parts.append(f'<p class="note">{text(d.path)}: the same</p>')
            continue
        shown = "\n".join(
            f'<span class="{"add" if ln.startswith("+") else "del" if ln.startswith("-") else ""}">'
            f"{text(ln)}</span>" for ln in d.lines)
        parts.append(f"<h3>{text(d.path)}</h3><pre>{shown}</pre>")
    return "".join(parts)


def versions_page(exercise_id: str, versions: list[VersionRow], newest: int,
                  diffs: list[FileDiff], pair: tuple[int, int], regrading: int,
                  csrf: str, builtin: bool) -> str:
    """The versions (0, the built-in spec, where there is one), a form choosing two to
    compare, their diff, and regrade with its progress (the page reloads itself while a
    regrade runs)."""
    path = f"{ROOT}/exercises/{part(exercise_id)}/versions"
    numbers = version_numbers(versions, builtin)

    def pick(name: str, chosen: int) -> str:
        options = "".join(f'<option{" selected" if n == chosen else ""}>{n}</option>'
                          for n in numbers)
        return (f'<div><label for="{name}">{name}</label><select id="{name}" name="{name}">'
                f"{options}</select></div>")

    compare = (f'<form class="filters" method="get" action="{path}">{pick("old", pair[0])}'
               f"{pick('new', pair[1])}<div><button>Compare</button></div></form>")
    progress = (f'<p data-figure="regrading">{regrading} submissions still to regrade</p>'
                if regrading else '<p class="note">No regrade running.</p>')
    regrade = form(f"{ROOT}/exercises/{part(exercise_id)}/regrade", csrf,
                   "<button>Regrade every submission</button>", "inline")
    body = (f'<h1><a href="{ROOT}/exercises/{part(exercise_id)}">{text(exercise_id)}</a>: '
            f"versions</h1>{_version_rows(exercise_id, versions, newest, builtin)}"
            f"<h2>Compare</h2>{compare}{_diff(diffs, *pair)}"
            f"<h2>Regrade</h2>{progress}{regrade}")
    return document(f"{exercise_id} versions: grader", body, csrf, refresh=regrading > 0)


def restore_page(exercise_id: str, version: int, newest: int, csrf: str) -> str:
    """The confirmation asked before a restore."""
    path = f"{ROOT}/exercises/{part(exercise_id)}/versions/{version}/restore"
    body = (f"<h1>Restore version {version} of {text(exercise_id)}?</h1>"
            f"<p>A copy of version {version} will be published as version {newest + 1}, the "
            "newest; new submissions will be graded with it, and a regrade would use it.</p>"
            + form(path, csrf, '<input type="hidden" name="confirm" value="yes">'
                   f"<button>Yes, restore version {version}</button>", "inline")
            + f' <a href="{link(f"{ROOT}/exercises/{part(exercise_id)}/versions")}">No</a>')
    return document(f"Restore {exercise_id}: grader", body, csrf)


def learner_page(learner_id: str, rows: list[Listed], report_url: Callable[[str], str],
                 csrf: str) -> str:
    body = (f"<h1>Learner {text(learner_id)}</h1><p>{len(rows)} submissions, oldest first.</p>"
            + submissions_table(rows, report_url, exercise_column=True))
    return document(f"{learner_id}: grader", body, csrf)

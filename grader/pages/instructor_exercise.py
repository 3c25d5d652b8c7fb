"""The instructor's page of one exercise: its summary as figures and charts (scores, each
case, mistakes), then its submissions, filtered and paginated, each linking to its report."""

from __future__ import annotations

from collections.abc import Callable

from grader.pages.instructor_page import (
    ROOT,
    bars,
    figures,
    link,
    part,
    percent,
    text,
)
from grader.storage.listing import STATUSES, Listed, Wanted
from grader.storage.summary import SummaryCounts

PAGE_SIZE = 50


def summary_figures(c: SummaryCounts) -> str:
    share = (lambda n: percent(n / c.learners) if c.learners else "-")  # noqa: E731
    median = c.median_attempts()
    return figures([
        ("submissions", "Submissions", c.submissions),
        ("passed", "Passed", c.passed),
        ("learners", "Learners", c.learners),
        ("passed_first_try", "Learners passing at the first try", share(c.learners_first_try)),
        ("passed_eventually", "Learners passing in the end", share(c.learners_passed)),
        ("median_attempts", "Median attempts to pass", "-" if median is None else f"{median:g}"),
    ])


def summary_charts(c: SummaryCounts, report_url: Callable[[str], str]) -> str:
    graded = c.graded
    scores = [(f"{10 * i}-{min(100, 10 * i + 9)}%" if i < 10 else "100%", n, str(n))
              for i, n in enumerate(c.histogram)]
    cases = [(name, n, percent(n / graded) if graded else "-")
             for name, n in zip(c.case_names, c.case_passed, strict=True)]
    mistakes = [(m.mistake, m.submissions, str(m.submissions)) for m in c.mistakes]
    top = max([m.submissions for m in c.mistakes] or [0])
    examples = "".join(
        f"<li>{text(m.mistake)}: " + ", ".join(
            f'<a href="{text(report_url(sid))}">{text(sid[:8])}</a>' for sid in m.examples)
        + "</li>" for m in c.mistakes)
    return ('<div class="charts">'
            + bars("Scores (submissions)", scores if graded else [], max(c.histogram), "score")
            + bars("Pass rate per case", cases if graded else [], graded, "case")
            + bars("Mistakes (submissions)", mistakes, top, "mistake")
            + "</div>"
            + (f'<p class="note">Some submissions of each mistake:</p><ul>{examples}</ul>'
               if examples else ""))


def slowest(c: SummaryCounts, report_url: Callable[[str], str]) -> str:
    if not c.slowest:
        return ""
    rows = "".join(
        f'<tr><td><a href="{text(report_url(s.submission_id))}">{text(s.submission_id[:8])}'
        f"</a></td><td>{text(s.learner_id or '-')}</td><td>{s.duration_ms:.0f} ms</td></tr>"
        for s in c.slowest)
    return ('<h2>Slowest submissions</h2><div class="table"><table><thead><tr><th>submission'
            f"</th><th>learner</th><th>time</th></tr></thead><tbody>{rows}</tbody></table></div>")


def _choice(name: str, label: str, options: list[tuple[str, str]], chosen: str) -> str:
    items = "".join(f'<option value="{text(v)}"{" selected" if v == chosen else ""}>'
                    f"{text(shown)}</option>" for v, shown in [("", "any"), *options])
    return f'<div><label for="{name}">{label}</label><select id="{name}" name="{name}">' \
           f"{items}</select></div>"


def _field(name: str, label: str, value: str, kind: str = "text") -> str:
    return (f'<div><label for="{name}">{label}</label><input id="{name}" name="{name}" '
            f'type="{kind}" value="{text(value)}"></div>')


def filters_form(exercise_id: str, query: dict[str, str], mistakes: list[str],
                 versions: list[int]) -> str:
    return (f'<form class="filters" method="get" action="{ROOT}/exercises/{part(exercise_id)}">'
            + _field("learner", "Learner", query.get("learner", ""))
            + _choice("status", "Status", [(s, s.replace("_", " ")) for s in STATUSES],
                      query.get("status", ""))
            + _choice("mistake", "Mistake", [(m, m) for m in mistakes],
                      query.get("mistake", ""))
            + _choice("version", "Version", [(str(v), str(v)) for v in versions],
                      query.get("version", ""))
            + _field("since", "From (day)", query.get("since", ""), "date")
            + _field("until", "To (day)", query.get("until", ""), "date")
            + "<div><button>Filter</button></div></form>")


def verdict(row: Listed) -> str:
    if row.passed is None:
        return text(row.status)
    return '<span class="passed">passed</span>' if row.passed else \
        '<span class="failed">not passed</span>'


def submissions_table(rows: list[Listed], report_url: Callable[[str], str],
                      exercise_column: bool = False) -> str:
    if not rows:
        return '<p class="note">No submission.</p>'
    lines = []
    for r in rows:
        learner = (f'<a href="{ROOT}/learners/{text(part(r.learner_id))}">{text(r.learner_id)}'
                   "</a>") if r.learner_id else "-"
        first = f"<td>{text(r.exercise_id)}</td>" if exercise_column else ""
        score = "-" if r.score_pct is None else f"{r.score_pct}%"
        lines.append(
            f'<tr data-submission="{text(r.submission_id)}">{first}'
            f'<td><a href="{text(report_url(r.submission_id))}">{text(r.submission_id[:8])}</a>'
            f"</td><td>{text(r.created_at.strftime('%Y-%m-%d %H:%M:%S'))}</td><td>{learner}</td>"
            f'<td data-label="version">{r.version}</td><td>{verdict(r)}</td>'
            f'<td data-label="score">{score}</td>'
            f"<td>{text(', '.join(r.mistakes))}</td></tr>")
    head = "<th>exercise</th>" if exercise_column else ""
    return ('<div class="table"><table class="rows"><thead><tr>' + head
            + "<th>submission</th><th>when (UTC)"
            "</th><th>learner</th><th>version</th><th>verdict</th><th>score</th>"
            f"<th>mistakes</th></tr></thead><tbody>{''.join(lines)}</tbody></table></div>")


def pager(exercise_id: str, query: dict[str, str], page: int, total: int) -> str:
    last = max(1, -(-total // PAGE_SIZE))
    path = f"{ROOT}/exercises/{part(exercise_id)}"
    before = (f'<a href="{text(link(path, {**query, "page": page - 1}))}">previous</a>'
              if page > 1 else "")
    after = (f'<a href="{text(link(path, {**query, "page": page + 1}))}">next</a>'
             if page < last else "")
    return f'<p class="pages">{before}<span>page {page} of {last} ({total})</span>{after}</p>'


def exercise_page(exercise_id: str, title: str, version: int, c: SummaryCounts,
                  listed: tuple[list[Listed], int], query: dict[str, str], page: int,
                  report_url: Callable[[str], str], versions: list[int]) -> str:
    """The body of the exercise's page."""
    rows, total = listed
    mistakes = sorted(m.mistake for m in c.mistakes)
    versions_link = f"{ROOT}/exercises/{part(exercise_id)}/versions"
    return (f"<h1>{text(exercise_id)}: {text(title)}</h1>"
            f'<p>Version {version} is the newest. <a href="{versions_link}">Versions</a></p>'
            + summary_figures(c) + summary_charts(c, report_url) + slowest(c, report_url)
            + "<h2>Submissions</h2>" + filters_form(exercise_id, query, mistakes, versions)
            + submissions_table(rows, report_url) + pager(exercise_id, query, page, total))


__all__ = ["PAGE_SIZE", "Wanted", "exercise_page", "submissions_table"]

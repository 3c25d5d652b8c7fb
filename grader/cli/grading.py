"""``grader grade`` and ``grader exercises try``: a file graded in the sandbox, printed inert."""

from __future__ import annotations

import argparse
import json
import sys
import textwrap

from grader.catalog.exercises import Exercise, UnknownExercise
from grader.cli.common import EXIT_FAILED, EXIT_PASSED, EXIT_USAGE, _catalog, _runner
from grader.grading.drawings import Drawings
from grader.grading.messages import Msg, say
from grader.grading.report import Report
from grader.grading.text import inert
from grader.settings import get_settings

PRINTED_LINES = 40  # of the learner's printed output, in the text report
BAR = "    | "  # before each further row of a text that may hold the learner's
# Columns of a row of such a text, its bar included: no row wraps on a terminal 80 wide, so
# none of the learner's words can start a row of their own there.
WIDTH = 78


def _rows(first: str, body: str) -> list[str]:
    """``body`` after ``first``, inert, in rows of at most ``WIDTH`` columns (a character
    past ASCII counts two), each row after the first behind ``BAR``."""
    rows: list[str] = []
    for number, line in enumerate(inert(body).expandtabs(4).split("\n")):
        indent = first if number == 0 else BAR
        wrapped = textwrap.wrap(line, WIDTH, initial_indent=indent, subsequent_indent=BAR,
                                break_on_hyphens=False) or [indent.rstrip()]
        for row in wrapped:
            rows += _cut(row)
    return rows


def _cut(row: str) -> list[str]:
    """``row`` cut where it passes ``WIDTH`` columns, each part after the first behind
    ``BAR``. Every character past ASCII counts two columns: terminals disagree with each
    other and with Python's table on how wide some are (the Yijing hexagrams, characters of
    ambiguous width), and none draws one wider than two."""
    parts, part, columns = [], "", 0
    for char in row:
        width = 1 if char < "\x80" else 2
        if columns + width > WIDTH:
            parts.append(part)
            part, columns = BAR, len(BAR)
        part += char
        columns += width
    return [*parts, part]


def format_report(report: Report, title: str) -> str:
    """The report as text for a terminal, inert: learner text cannot move the cursor, rewrite
    a line or reach the clipboard. Messages and what the submission printed come in rows of
    at most ``WIDTH`` columns, each further row behind a bar, so that nothing the learner
    wrote (an exception's message, a print) can start a row that passes for one of the
    grader's, such as a score line."""
    lines = [f"{report.exercise_id}: {title}    (seed {report.seed})", ""]
    width = max([16, *(len(case.name) for case in report.cases)])
    header = (f"  {'case':<{width}} {'status':<15} {'points':>7}  {'output / expected':<22} "
              "max error")
    lines += [header, "  " + "-" * (len(header) - 2)]
    for case in report.cases:
        got = "-" if case.output_shape is None else str(tuple(case.output_shape))
        shapes = f"{got} / {tuple(case.expected_shape)}"
        error = "-" if case.max_abs_error is None else f"{case.max_abs_error:.2g}"
        points = f"{case.points:g}/{case.max_points:g}"
        lines.append(f"  {case.name:<{width}} {case.status:<15} {points:>7}  {shapes:<22} "
                     f"{error}")
    verdict = say(Msg.VERDICT_PASSED if report.passed else Msg.VERDICT_NOT_PASSED).upper()
    lines += ["", say(Msg.TEXT_SCORE, score=report.score, max_score=report.max_score,
                      verdict=verdict, ms=report.duration_ms)]
    failing = [c for c in report.cases if not c.passed]
    if failing:
        lines.append("")
        for case in failing:
            hidden = "" if case.visible else say(Msg.TEXT_HIDDEN)
            lines += _rows(f"- {case.name}{hidden}: ", case.message)
    if report.diagnosis:
        lines += ["", say(Msg.TEXT_DIAGNOSIS)]
        for finding in report.diagnosis:
            lines += _rows(f"- [{finding.severity}] {finding.code}: ", finding.message)
    if report.stdout:
        printed = report.stdout.rstrip().split("\n")
        lines += ["", say(Msg.TEXT_PRINTED), *_rows(BAR, "\n".join(printed[:PRINTED_LINES]))]
        if len(printed) > PRINTED_LINES:
            lines.append(BAR + say(Msg.TEXT_MORE_PRINTED, count=len(printed) - PRINTED_LINES))
    return inert("\n".join(lines))


def _grade(args: argparse.Namespace) -> int:
    catalog = _catalog()
    try:
        exercise = catalog.get(args.exercise_id)
    except UnknownExercise:
        print(inert(f"grader: no exercise {args.exercise_id!r}; known: "
                    f"{', '.join(catalog.ids())}"), file=sys.stderr)
        return EXIT_USAGE
    return _grade_file(exercise, args)


def _grade_file(exercise: Exercise, args: argparse.Namespace) -> int:
    """Grade ``args.file`` against ``exercise`` and print the report (``grade``, ``try``)."""
    try:
        source = args.file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        print(inert(f"grader: cannot read {args.file}: {error}"), file=sys.stderr)
        return EXIT_USAGE
    from grader.grading.grade import grade
    from grader.service.secret import hidden_secret

    secret = hidden_secret(get_settings())
    runner = _runner()
    drawings = Drawings()
    try:
        report = grade(exercise, source, runner, seed=args.seed, hidden_secret=secret,
                       drawings=drawings)
    finally:
        runner.close()
    if args.html is not None:
        page = _page(exercise, source, report, drawings, secret)
        try:
            args.html.write_text(page, encoding="utf-8")
        except OSError as error:
            print(inert(f"grader: cannot write {args.html}: {error}"), file=sys.stderr)
            return EXIT_USAGE
    print(_printed(report, exercise.spec.title, args.format))
    return EXIT_PASSED if report.passed else EXIT_FAILED


def _printed(report: Report, title: str, form: str) -> str:
    """The report in the chosen format. JSON escapes every character but printable ASCII,
    which keeps it JSON and inert."""
    if form == "json":
        return json.dumps(report.model_dump(mode="json"), indent=2)
    if form == "gradescope":
        from grader.grading.gradescope import results

        return json.dumps(results(report, title), indent=2)
    return format_report(report, title)


def _page(exercise: Exercise, source: str, report: Report, drawings: Drawings,
          secret: bytes) -> str:
    """The report page, as the server shows it, from the arrays the grading kept."""
    from grader.pages.report_page import render_kept

    return render_kept(report, exercise.spec, drawings, report.seed, secret, source)

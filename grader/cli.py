"""The ``grader`` command.

    grader grade EXERCISE_ID FILE [--json] [--seed N] [--html FILE]
                                                        exit 0 all passed, 1 not, 2 usage
    grader exercises list
    grader exercises validate [ID | DIR]                exit 0 proven, 1 not
    grader exercises new ID [--dir DIR]                 a bundle that validates as it is
    grader exercises try DIR FILE [--json] [--seed N]   as grade, against the bundle DIR
    grader exercises push DIR --url URL --token TOKEN   publish a bundle on a server
    grader exercises pull ID --url URL --token TOKEN [--dir DIR] [--version N]
    grader serve [--host H] [--port P]
    grader migrate                                      the database, to the current schema
    grader worker [--concurrency N] [--health-port P]   grade the queue's jobs (distributed)
Exit status 3 means the grader itself failed (for example, no safe sandbox).

Learner text (messages, printed output) is made inert before it is printed or logged: no
control character of a learner's reaches the terminal.
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from grader.catalog.exercises import Catalog, Exercise, UnknownExercise
from grader.catalog.spec import SpecError
from grader.grading.messages import Msg, say
from grader.grading.report import Report
from grader.grading.text import InertFormatter, inert
from grader.sandbox.base import Runner
from grader.settings import get_settings

if TYPE_CHECKING:
    import httpx

EXIT_PASSED, EXIT_FAILED, EXIT_USAGE, EXIT_FAULT = 0, 1, 2, 3


EXIT_CODES = f"""exit status:
  {EXIT_PASSED}  success; for grade, every case passed; for validate, every spec proved out
  {EXIT_FAILED}  grade: a case failed; validate: a spec did not prove out
  {EXIT_USAGE}  a usage error: unknown command, exercise or option, an unreadable file
  {EXIT_FAULT}  the grader itself failed (no safe sandbox here, an unusable secret file)"""


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("grader")
    except PackageNotFoundError:
        return "unknown (not installed)"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="grader", description="Grades learners' numerical Python exercises in a sandbox.",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"grader {_version()}",
                        help="print the version and exit")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND",
                                     title="commands")

    def command(name: str, help: str) -> argparse.ArgumentParser:
        return commands.add_parser(name, help=help, description=help, epilog=EXIT_CODES,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)

    grade = command("grade", "grade a file against an exercise, in the sandbox")
    grade.add_argument("exercise_id", help="the exercise's id (see: grader exercises list)")
    _grading_options(grade)
    _exercises_command(command("exercises", "list, validate, create or try exercise bundles"))
    _service_commands(command)
    _measuring_commands(command)
    return parser


Command = Callable[[str, str], argparse.ArgumentParser]


def _exercises_command(exercises: argparse.ArgumentParser) -> None:
    which = exercises.add_subparsers(dest="action", required=True, metavar="ACTION",
                                     title="actions")
    which.add_parser("list", help="list the exercises", description="list the exercises")
    validate = which.add_parser(
        "validate", help="prove specs right before learners see them",
        description="grade the reference, every mistake model and every sample of a spec "
        "through the real sandbox, with several seeds")
    validate.add_argument("exercise_id", nargs="?", metavar="ID | DIR",
                          help="the exercise to validate, by id or as a bundle's folder "
                          "(default: every one)")
    new = which.add_parser(
        "new", help="create a bundle that validates as it is",
        description="create the folder ID with exercise.toml, reference.py and samples/: a "
        "small exercise that validates as it is, to replace with yours")
    new.add_argument("new_id", metavar="ID", help="the new exercise's id (its folder's name)")
    new.add_argument("--dir", type=Path, default=None,
                     help="where to create it (default: the exercises folder, "
                     "GRADER_EXERCISES_DIR)")
    try_ = which.add_parser(
        "try", help="grade a file against a local bundle, in the sandbox",
        description="grade FILE against the bundle in DIR, as `grader grade` does, with no "
        "server", epilog=EXIT_CODES, formatter_class=argparse.RawDescriptionHelpFormatter)
    try_.add_argument("bundle", type=Path, metavar="DIR", help="the bundle's folder")
    _grading_options(try_)
    push = which.add_parser(
        "push", help="publish a bundle on a server, as the exercise's next version",
        description="send the bundle in DIR (exercise.toml, reference.py, samples/) to a "
        "server, which proves it in its sandbox and publishes it as the exercise's next "
        "version; a refusal names the bundle's file and line", epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    push.add_argument("bundle", type=Path, metavar="DIR", help="the bundle's folder")
    _server_options(push)
    pull = which.add_parser(
        "pull", help="fetch a published bundle from a server",
        description="write the files of an exercise's newest version (or --version N) "
        "into DIR/ID", epilog=EXIT_CODES, formatter_class=argparse.RawDescriptionHelpFormatter)
    pull.add_argument("pull_id", metavar="ID", help="the exercise's id")
    pull.add_argument("--dir", type=Path, default=Path("."),
                      help="where to write the folder ID (default: the current folder)")
    pull.add_argument("--version", type=int, default=None,
                      help="the version to fetch (default: the newest)")
    _server_options(pull)


def _service_commands(command: Command) -> None:
    serve = command("serve", "serve the HTTP API")
    serve.add_argument("--host", default="127.0.0.1",
                       help="address to listen on (default: %(default)s)")
    serve.add_argument("--port", type=int, default=8000,
                       help="port to listen on (default: %(default)s)")

    command("migrate", "bring the database (the grader's tables and, on PostgreSQL, the job "
            "queue's) to the current schema; run once before servers and workers start")

    worker = command("worker", "grade the jobs of the distributed mode's queue "
                     "(GRADER_QUEUE=procrastinate, on PostgreSQL)")
    worker.add_argument("--concurrency", type=int, default=None,
                        help="submissions graded at once at full speed (default: "
                        "GRADER_WORKER_CONCURRENCY, the number of CPUs)")
    worker.add_argument("--health-port", type=int, default=None,
                        help="answer GET /healthz on 127.0.0.1:PORT (200 when this worker's "
                        "sandbox grades and its database answers)")


def _measuring_commands(command: Command) -> None:
    simulate = command("simulate", "simulate a deadline burst from service times measured "
                       "here: queue depth and waiting time against the number of workers")
    simulate.add_argument("--submissions", type=int, default=50_000,
                          help="submissions in the burst (default: %(default)s)")
    simulate.add_argument("--minutes", type=float, default=10.0,
                          help="length of the burst (default: %(default)s)")
    simulate.add_argument("--workers", default="1,2,3,4,6,8",
                          help="worker counts to simulate (default: %(default)s)")
    simulate.add_argument("--cpus-per-worker", type=int, default=2,
                          help="fast places per worker (default: %(default)s)")
    simulate.add_argument("--runaways", type=float, default=0.05,
                          help="share of infinite loops (default: %(default)s)")
    simulate.add_argument("--overhead-ms", type=float, default=5.0,
                          help="what the queue adds per submission, as measured by "
                          "`grader bench --distributed` (default: %(default)s)")
    simulate.add_argument("--samples", type=int, default=300,
                          help="submissions graded here to measure service times "
                          "(default: %(default)s)")

    sandbox = command("sandbox", "show the sandbox's layers and self-test it")
    sandbox.add_argument("action", choices=["check"],
                         help="check: print the layers and run the self-test")

    bench = command("bench", "measure grading speed (figures, not a test)")
    bench.add_argument("--count", type=int, default=200,
                       help="submissions per row (default: %(default)s)")
    bench.add_argument("--clients", type=int, default=None,
                       help="concurrent clients (default: GRADER_SLOTS)")
    bench.add_argument("--baseline-count", type=int, default=30,
                       help="runs of the no-sandbox baseline (default: %(default)s)")
    bench.add_argument("--attacks", action="store_true",
                       help="also measure one honest learner's latency while another's "
                       "submissions sleep, block, stop themselves or spin after answering")
    bench.add_argument("--http", action="store_true",
                       help="also measure over HTTP, through a real server process")
    bench.add_argument("--distributed", metavar="POSTGRES_URL", nargs="?",
                       const="postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
                       help="also measure the distributed mode (1 API + 2 workers) against "
                       "embedded mode, on a scratch database made on this PostgreSQL server "
                       "(default: %(const)s)")


def _server_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--url", required=True, help="the server, e.g. http://127.0.0.1:8000")
    parser.add_argument("--token", required=True, help="an instructor token")


def _grading_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", type=Path, help="the learner's Python source file")
    parser.add_argument("--json", action="store_true",
                        help="print the report as JSON instead of a table")
    parser.add_argument("--seed", type=int, help="seed for the case inputs (default: random)")
    parser.add_argument("--html", type=Path, metavar="FILE",
                        help="also write the report as a self-contained HTML page, with "
                        "heatmaps of the visible cases' outputs, to FILE")


def _catalog() -> Catalog:
    settings = get_settings()
    return Catalog(settings.exercises_dir)


def _runner():  # type: ignore[no-untyped-def]
    from grader.sandbox.forkserver import ForkServerRunner

    return ForkServerRunner.from_settings(get_settings(), slots=1)


def format_report(report: Report, title: str) -> str:
    """The report as text for a terminal, inert: learner text cannot move the cursor, rewrite
    a line or reach the clipboard, and what the submission printed is indented."""
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
            body = case.message.replace("\n", "\n    ")
            hidden = "" if case.visible else say(Msg.TEXT_HIDDEN)
            lines.append(f"- {case.name}{hidden}: {body}")
    if report.diagnosis:
        lines += ["", say(Msg.TEXT_DIAGNOSIS)]
        for finding in report.diagnosis:
            body = finding.message.replace("\n", "\n    ")
            lines.append(f"- [{finding.severity}] {finding.code}: {body}")
    if report.stdout:
        printed = report.stdout.rstrip().replace("\n", "\n    ")
        lines += ["", say(Msg.TEXT_PRINTED), f"    {printed}"]
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
    try:
        report = grade(exercise, source, runner, seed=args.seed, hidden_secret=secret)
        if args.html is not None:
            page = _page(exercise, source, report, runner, secret)
    finally:
        runner.close()
    if args.html is not None:
        try:
            args.html.write_text(page, encoding="utf-8")
        except OSError as error:
            print(inert(f"grader: cannot write {args.html}: {error}"), file=sys.stderr)
            return EXIT_USAGE
    # JSON escapes every character but printable ASCII, which keeps it JSON and inert.
    print(json.dumps(report.model_dump(mode="json"), indent=2) if args.json
          else format_report(report, exercise.spec.title))
    return EXIT_PASSED if report.passed else EXIT_FAILED


def _page(exercise: Exercise, source: str, report: Report, runner: Runner,
          secret: bytes) -> str:
    """The report page, as the server shows it: the visible cases drawn again."""
    from grader.pages.case_outputs import visible_outputs
    from grader.pages.report_page import render_report

    outputs = visible_outputs(exercise, source, report.seed, runner, hidden_secret=secret)
    return render_report(report, exercise.spec.title, outputs)


def _bundle(catalog: Catalog, folder: Path) -> Exercise | None:
    """The bundle in ``folder``, added to the catalog (so that it may name other bundles'
    functions); None, with the reason printed, when there is none."""
    if not folder.is_dir():
        print(inert(f"grader: no folder {folder}"), file=sys.stderr)
        return None
    return catalog.load_bundle(folder)


def _new(args: argparse.Namespace) -> int:
    from grader.catalog.scaffold import new_bundle
    from grader.catalog.spec import is_exercise_id

    if not is_exercise_id(args.new_id):
        print(inert(f"grader: {args.new_id!r} is not an exercise id: lowercase letters, "
                    "digits and _, starting with a letter, at most 64"), file=sys.stderr)
        return EXIT_USAGE
    folder = (args.dir if args.dir is not None else get_settings().exercises_dir) / args.new_id
    try:
        files = new_bundle(folder)
    except OSError as error:
        print(inert(f"grader: cannot create {folder}: {error}"), file=sys.stderr)
        return EXIT_USAGE
    for path in files:
        print(f"created {path}")
    print(f"prove it with: grader exercises validate {folder}")
    return EXIT_PASSED


def _problem(response: httpx.Response) -> str:
    """A server's refusal, a reason a line."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:2000]
    errors = body.get("errors") if isinstance(body, dict) else None
    if isinstance(errors, list) and errors:
        return "\n".join(f"  - {e.get('msg', e) if isinstance(e, dict) else e}" for e in errors)
    return f"  {body.get('detail', body) if isinstance(body, dict) else body}"


def _push(args: argparse.Namespace) -> int:
    import httpx

    from grader.catalog.bundle import BundleFiles

    folder: Path = args.bundle.resolve()
    if not folder.is_dir():
        print(inert(f"grader: no folder {args.bundle}"), file=sys.stderr)
        return EXIT_USAGE
    files = BundleFiles.read(folder).files()  # raises SpecError naming the file
    url = f"{args.url.rstrip('/')}/v1/exercises/{folder.name}"
    try:
        response = httpx.put(url, json={"files": files}, timeout=300,
                             headers={"Authorization": f"Bearer {args.token}"})
    except httpx.HTTPError as error:
        print(inert(f"grader: cannot reach {args.url}: {error}"), file=sys.stderr)
        return EXIT_FAULT
    if response.status_code != 200:
        print(inert(f"grader: {folder}: refused ({response.status_code}):\n"
                    f"{_problem(response)}"), file=sys.stderr)
        return EXIT_FAILED
    print(f"published {folder.name} version {response.json()['version']}")
    return EXIT_PASSED


def _pull(args: argparse.Namespace) -> int:
    import httpx

    from grader.catalog.bundle import FILE_NAME
    from grader.catalog.spec import is_exercise_id

    if not is_exercise_id(args.pull_id):
        print(inert(f"grader: {args.pull_id!r} is not an exercise id"), file=sys.stderr)
        return EXIT_USAGE
    url = f"{args.url.rstrip('/')}/v1/exercises/{args.pull_id}/bundle"
    try:
        response = httpx.get(url, timeout=60, headers={"Authorization": f"Bearer {args.token}"},
                             params={} if args.version is None else {"version": args.version})
    except httpx.HTTPError as error:
        print(inert(f"grader: cannot reach {args.url}: {error}"), file=sys.stderr)
        return EXIT_FAULT
    if response.status_code != 200:
        print(inert(f"grader: {args.pull_id}: {response.status_code}:\n{_problem(response)}"),
              file=sys.stderr)
        return EXIT_FAILED
    body = response.json()
    files = body.get("files")
    names = re.compile(FILE_NAME)
    if not isinstance(files, dict) or not all(
            isinstance(k, str) and names.match(k) and isinstance(v, str)
            for k, v in files.items()):
        print("grader: the server's answer is not a bundle's files", file=sys.stderr)
        return EXIT_FAULT
    folder = args.dir / args.pull_id
    try:
        for name, text in sorted(files.items()):
            path = folder / name  # names are checked: no "..", no absolute path
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    except OSError as error:
        print(inert(f"grader: cannot write {folder}: {error}"), file=sys.stderr)
        return EXIT_USAGE
    print(f"pulled {args.pull_id} version {body.get('version')} into {folder}")
    return EXIT_PASSED


def _exercises(args: argparse.Namespace) -> int:
    if args.action == "new":
        return _new(args)
    if args.action == "push":
        return _push(args)
    if args.action == "pull":
        return _pull(args)
    catalog = _catalog()
    if args.action == "try":
        exercise = _bundle(catalog, args.bundle)
        return EXIT_USAGE if exercise is None else _grade_file(exercise, args)
    if args.action == "list":
        for exercise in catalog:
            spec = exercise.spec
            print(f"{spec.id:<14} {len(spec.cases)} cases  {spec.max_score:g} points  {spec.title}")
        return EXIT_PASSED
    from grader.grading.validate import validate

    chosen: list[Exercise] = list(catalog)
    if args.exercise_id and ("/" in args.exercise_id or Path(args.exercise_id).is_dir()):
        bundle = _bundle(catalog, Path(args.exercise_id))
        if bundle is None:
            return EXIT_USAGE
        chosen = [bundle]
    elif args.exercise_id:
        try:
            chosen = [catalog.get(args.exercise_id)]
        except UnknownExercise:
            print(inert(f"grader: no exercise {args.exercise_id!r}"), file=sys.stderr)
            return EXIT_USAGE
    from grader.service.secret import hidden_secret

    secret = hidden_secret(get_settings())
    runner = _runner()
    failed = False
    try:
        for exercise in chosen:
            problems = validate(exercise, runner, hidden_secret=secret)
            failed |= bool(problems)
            print(f"{exercise.id}: {'ok' if not problems else 'FAILED'}")
            for problem in problems:
                print(inert(f"  - {problem}"))
    finally:
        runner.close()
    return EXIT_FAILED if failed else EXIT_PASSED


def _serve(host: str, port: int) -> int:
    from grader.api.app import create_app
    from grader.api.server import serve

    settings = get_settings()
    _log_level(settings.log_level)
    if settings.distributed and _old_schema(settings.database):
        return EXIT_FAULT
    serve(create_app(settings, freeze_heap=True), settings, host, port)
    return EXIT_PASSED


def _log_level(level: str) -> None:
    logging.getLogger().setLevel(level.upper())
    logging.getLogger("grader").setLevel(level.upper())


def _old_schema(url: str) -> bool:
    """Whether the database is not at the current schema (said on stderr)."""
    from grader.storage.store import make_engine, schema_problem

    engine = make_engine(url)
    try:
        problem = schema_problem(engine)
    finally:
        engine.dispose()
    if problem is not None:
        print(f"grader: {problem}", file=sys.stderr)
    return problem is not None


def _migrate() -> int:
    from grader.storage.store import make_engine, schema_problem, upgrade

    settings = get_settings()
    engine = make_engine(settings.database)
    try:
        upgrade(engine)
        assert schema_problem(engine) is None
    finally:
        engine.dispose()
    print("grader: the database is at the current schema")
    return EXIT_PASSED


def _worker(concurrency: int | None, health_port: int | None) -> int:
    from grader.service import worker

    settings = get_settings()
    _log_level(settings.log_level)
    if not settings.distributed:
        print("grader: a worker grades the distributed mode's queue: set "
              "GRADER_QUEUE=procrastinate and a PostgreSQL GRADER_DATABASE_URL", file=sys.stderr)
        return EXIT_USAGE
    if _old_schema(settings.database):
        return EXIT_FAULT
    return worker.run(settings, concurrency or settings.worker_concurrency, health_port)


def _simulate(args: argparse.Namespace) -> int:
    import os
    import secrets

    from grader.bench.measure import measure
    from grader.bench.simulate import table
    from grader.grading.grade import grade
    from grader.sandbox.forkserver import ForkServerRunner

    exercise = _catalog().get("conv2d")
    assert exercise.samples_dir is not None
    source = (exercise.samples_dir / "correct_numpy.py").read_text()
    cpus = os.cpu_count() or 1
    runner = ForkServerRunner.from_settings(get_settings(), slots=cpus)
    secret = secrets.token_bytes(32)
    try:
        def one(i: int) -> None:
            with runner.fast_place():
                assert grade(exercise, source, runner, seed=i, hidden_secret=secret).passed
        for i in range(10):
            one(i)
        # every place busy, as in a burst: the time one submission holds a place
        measured = measure("service", cpus, args.samples, one)
    finally:
        runner.close()
    print(f"measured here: {measured.rate:.1f} graded/s with {cpus} places "
          f"({measured.rate / cpus:.1f}/s per place)")
    workers = [int(w) for w in args.workers.split(",") if w.strip()]
    print("\n".join(table(args.submissions, args.minutes * 60, workers, args.cpus_per_worker,
                          measured.latencies, args.runaways, args.overhead_ms / 1000)))
    return EXIT_PASSED


def _sandbox_check() -> int:
    import json

    runner = _runner()
    try:
        print("layers:", json.dumps(runner.layers.summary(), indent=2))
        refusal, failures = runner.refusal, runner.self_test_failures
    finally:
        runner.close()
    print("self-test:", "passed" if refusal is None else "FAILED" if failures else "not run")
    for failure in failures:
        print(inert(f"  - {failure}"))
    if refusal is not None:
        print(f"grader: the sandbox refuses to grade: {refusal}", file=sys.stderr)
        return EXIT_FAULT
    return EXIT_PASSED


def configure_logging() -> None:
    """Log to stderr through an inert formatter: log records may quote learner text."""
    handler = logging.StreamHandler()
    handler.setFormatter(InertFormatter("%(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=logging.WARNING, handlers=[handler])


def main(argv: Sequence[str] | None = None) -> int:
    configure_logging()
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exit_:
        return int(exit_.code or 0) and EXIT_USAGE
    try:
        if args.command == "grade":
            return _grade(args)
        if args.command == "serve":
            return _serve(args.host, args.port)
        if args.command == "migrate":
            return _migrate()
        if args.command == "worker":
            return _worker(args.concurrency, args.health_port)
        if args.command == "sandbox":
            return _sandbox_check()
        if args.command == "simulate":
            return _simulate(args)
        if args.command == "bench":
            from grader.bench.run import run_bench

            clients = args.clients or get_settings().slots
            print(run_bench(_catalog(), args.count, clients, args.baseline_count, args.http,
                            args.distributed, args.attacks))
            return EXIT_PASSED
        return _exercises(args)
    except SpecError as error:
        print(inert(f"grader: {error}"), file=sys.stderr)
        return EXIT_USAGE
    except Exception as error:  # noqa: BLE001 - the last line of defence prints, not a traceback
        from grader.sandbox.base import SandboxError
        from grader.service.secret import SecretFileError

        if isinstance(error, SandboxError):
            print(inert(f"grader: sandbox failure: {error}"), file=sys.stderr)
            return EXIT_FAULT
        if isinstance(error, SecretFileError):
            print(inert(f"grader: {error}"), file=sys.stderr)
            return EXIT_FAULT
        raise


if __name__ == "__main__":
    sys.exit(main())

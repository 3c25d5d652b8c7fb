"""The command line: every command, option and exit status, as ``--help`` shows them."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from grader.cli.common import EXIT_CODES, ID_OR_DIR, REMOTE_EXIT_CODES
from grader.cli.lti import add_parser as add_lti_parser

if TYPE_CHECKING:
    pass



def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("grader")
    except PackageNotFoundError:
        return "unknown (not installed)"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line, parsed; an argument no parser knows is refused by the (sub)command
    it was given to, with that command's usage (argparse would give the top-level one)."""
    parser = _parser()
    _know_yourselves(parser)
    args, unknown = parser.parse_known_args(argv)
    if unknown:
        chosen: argparse.ArgumentParser = getattr(args, "usage_of", parser)
        chosen.error(f"unrecognized arguments: {' '.join(unknown)}")
    return args


def _know_yourselves(parser: argparse.ArgumentParser) -> None:
    """Every subcommand's parser sets ``usage_of`` to itself: the innermost one chosen wins."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                sub.set_defaults(usage_of=sub)
                _know_yourselves(sub)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="grader", description="Grades learners' numerical Python exercises in a sandbox.",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"grader {_version()}",
                        help="print the version and exit")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND",
                                     title="commands")

    def command(name: str, help: str, epilog: str | None = None) -> argparse.ArgumentParser:
        return commands.add_parser(name, help=help, description=help, epilog=epilog,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)

    grade = command("grade", "grade a file against an exercise, in the sandbox", EXIT_CODES)
    grade.add_argument("exercise_id", help="the exercise's id (see: grader exercises list)")
    _grading_options(grade)
    _exercises_command(command("exercises", "exercise bundles: list, validate, new, try, "
                               "push, pull, versions, restore, regrade"))
    _service_commands(command)
    _measuring_commands(command)
    export = command("export", "write an exercise's autograder for another platform")
    export.add_argument("platform", choices=["gradescope"],
                        help="gradescope: an autograder zip (setup.sh, run_autograder)")
    export.add_argument("exercise_id", metavar="ID", help="the exercise's id")
    export.add_argument("--out", type=Path, required=True, metavar="FILE.zip",
                        help="where to write the zip")
    add_lti_parser(command("lti", "the LMS platforms this grader is an LTI 1.3 tool of: "
                           "add-platform, list, remove, rotate-key"))
    return parser


Command = Callable[[str, str], argparse.ArgumentParser]


def _exercises_command(exercises: argparse.ArgumentParser) -> None:
    which = exercises.add_subparsers(dest="action", required=True, metavar="ACTION",
                                     title="actions")
    listing = which.add_parser("list", help="list the exercises",
                               description="list the exercises: id, cases, points and title")
    listing.add_argument("--json", action="store_true",
                         help="print them as JSON: a list of {id, title, cases, max_score}")
    validate = which.add_parser(
        "validate", help="prove specs right before learners see them",
        description="grade the reference, every mistake model and every sample of a spec "
        "through the real sandbox, with several seeds", epilog=f"{ID_OR_DIR}\n\n{EXIT_CODES}",
        formatter_class=argparse.RawDescriptionHelpFormatter)
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
        description="grade FILE against the exercise ID or the bundle in DIR, as `grader "
        "grade` does, with no server", epilog=f"{ID_OR_DIR}\n\n{EXIT_CODES}",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    try_.add_argument("exercise", metavar="ID | DIR",
                      help="the exercise, by id or as a bundle's folder")
    _grading_options(try_)
    push = which.add_parser(
        "push", help="publish a bundle on a server, as the exercise's next version",
        description="send the bundle in DIR (exercise.toml, reference.py, samples/) to a "
        "server, which proves it in its sandbox and publishes it as the exercise's next "
        "version; a refusal names the bundle's file and line", epilog=REMOTE_EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    push.add_argument("bundle", type=Path, metavar="DIR", help="the bundle's folder")
    push.add_argument("--message", "-m", metavar="TEXT",
                      help="what changed in this version (at most 500 characters), kept with "
                      "it and shown by `grader exercises versions`")
    _server_options(push)
    pull = which.add_parser(
        "pull", help="fetch a published bundle from a server",
        description="write the files of an exercise's newest version (or --version N) "
        "into DIR/ID, exactly: a folder whose bundle files differ is left as it is unless "
        "--force", epilog=REMOTE_EXIT_CODES, formatter_class=argparse.RawDescriptionHelpFormatter)
    pull.add_argument("pull_id", metavar="ID", help="the exercise's id")
    pull.add_argument("--dir", type=Path, default=Path("."),
                      help="where to write the folder ID (default: the current folder)")
    pull.add_argument("--version", type=int, default=None,
                      help="the version to fetch (default: the newest)")
    pull.add_argument("--force", action="store_true",
                      help="overwrite files of DIR/ID that differ from the version's, and "
                      "remove its samples/*.py that the version has not (without it, pull "
                      "refuses, naming them, and exits 1)")
    _server_options(pull)
    _versions_actions(which)


def _versions_actions(which: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    def remote(name: str, help: str, description: str) -> argparse.ArgumentParser:
        return which.add_parser(name, help=help, description=description,
                                epilog=REMOTE_EXIT_CODES,
                                formatter_class=argparse.RawDescriptionHelpFormatter)

    versions = remote(
        "versions", help="list a server's versions of an exercise",
        description="list the versions a server has published of the exercise ID, oldest "
        "first: when, pushed as a bundle or not, and which version a rollback copied")
    versions.add_argument("exercise_id", metavar="ID", help="the exercise's id")
    _server_options(versions)
    restore = remote(
        "restore", help="roll back: publish a copy of an old version as the newest",
        description="publish a copy of the exercise ID's VERSION (0: its built-in bundle) "
        "as its newest version; submissions graded before keep their version (see regrade)")
    restore.add_argument("exercise_id", metavar="ID", help="the exercise's id")
    restore.add_argument("version", metavar="VERSION", type=int, help="the version to copy")
    _server_options(restore)
    regrade = remote(
        "regrade", help="grade every stored submission of an exercise again, on a server",
        description="grade every stored submission of the exercise ID again with its newest "
        "version, in the server's background; prints how many were queued")
    regrade.add_argument("exercise_id", metavar="ID", help="the exercise's id")
    _server_options(regrade)


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

    soak = command("soak", "try the distributed mode on a bad day, on a PostgreSQL server of "
                   "its own: two API replicas, two workers, learners resubmitting, a burst "
                   "with callbacks to one host, a PostgreSQL restart (figures and checks; "
                   "exit 1 when a check fails)")
    soak.add_argument("--count", type=int, default=300,
                      help="asynchronous submissions with callbacks (default: %(default)s)")
    soak.add_argument("--learners", type=int, default=6,
                      help="learners resubmitting synchronously (default: %(default)s)")

    sandbox = command("sandbox", "show the sandbox's layers and self-test it")
    sandbox.add_argument("action", choices=["check"],
                         help="check: print the layers and run the self-test")
    sandbox.add_argument("--json", action="store_true",
                         help="print only JSON: {layers, self_test, failures, refusal}")

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
    given = parser.add_mutually_exclusive_group()
    given.add_argument("--token-file", type=Path, metavar="FILE",
                       help="read the instructor token from FILE (its first line)")
    given.add_argument("--token", help="the instructor token itself; the least safe way, as "
                       "other local users see it in `ps` and it stays in the shell's history "
                       "(default: --token-file, else the GRADER_TOKEN environment variable)")


def _grading_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", type=Path, help="the learner's Python source file")
    parser.add_argument("--format", choices=("table", "json", "gradescope"), default="table",
                        help="print the report as a table (default), as the API's JSON, or as "
                        "Gradescope's results.json")
    parser.add_argument("--json", action="store_const", const="json", dest="format",
                        help="the same as --format json")
    parser.add_argument("--seed", type=int, help="seed for the case inputs (default: random)")
    parser.add_argument("--html", type=Path, metavar="FILE",
                        help="also write the report as a self-contained HTML page, with "
                        "heatmaps of the visible cases' outputs, to FILE")

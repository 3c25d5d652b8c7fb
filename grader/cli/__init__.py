"""The ``grader`` command.

    grader grade EXERCISE_ID FILE [--format table|json|gradescope] [--seed N] [--html FILE]
    grader export gradescope ID --out FILE.zip          Gradescope's autograder for ID
                                                        exit 0 all passed, 1 not, 2 usage
    grader exercises list [--json]
    grader exercises validate [ID | DIR]                exit 0 proven, 1 not (DIR: with a / or
                                                        starting with ".", else an ID)
    grader exercises new ID [--dir DIR]                 a bundle that validates as it is
    grader exercises try ID | DIR FILE [--json] [--seed N]   as grade, with no server
    grader exercises push DIR --url URL --token TOKEN   publish a bundle on a server
    grader exercises pull ID --url URL --token TOKEN [--dir DIR] [--version N] [--force]
    grader exercises versions ID --url URL --token TOKEN     a server's versions of it
    grader exercises restore ID VERSION --url URL --token TOKEN   publish a copy of VERSION
    grader exercises regrade ID --url URL --token TOKEN      grade its submissions again
    grader serve [--host H] [--port P]
    grader migrate                                      the database, to the current schema
    grader worker [--concurrency N] [--health-port P]   grade the queue's jobs (distributed)
    grader sandbox check [--json]                       the sandbox's layers and self-test
    grader lti add-platform|list|remove|rotate-key      the LMSs this grader is an LTI tool of
Exit status 3 means the grader itself failed (for example, no safe sandbox); 4, that the
server could not be reached.

Learner text (messages, printed output) is made inert before it is printed or logged: no
control character of a learner's reaches the terminal.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence

from grader.catalog.spec import SpecError
from grader.cli.common import EXIT_FAILED, EXIT_FAULT, EXIT_PASSED, EXIT_USAGE, _catalog
from grader.cli.exercises import _exercises
from grader.cli.grading import _grade, format_report
from grader.cli.operations import _migrate, _sandbox_check, _serve, _simulate, _worker
from grader.cli.parser import parse_args
from grader.cli.versions import REMOTE
from grader.grading.text import InertFormatter, inert
from grader.settings import get_settings

__all__ = ["configure_logging", "format_report", "main"]


def configure_logging() -> None:
    """Log to stderr through an inert formatter: log records may quote learner text."""
    handler = logging.StreamHandler()
    handler.setFormatter(InertFormatter("%(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=logging.WARNING, handlers=[handler])


def main(argv: Sequence[str] | None = None) -> int:
    configure_logging()
    try:
        args = parse_args(argv)
    except SystemExit as exit_:
        return int(exit_.code or 0) and EXIT_USAGE
    try:
        if args.command == "grade":
            return _grade(args)
        if args.command == "export":
            from grader.cli.export import _export

            return _export(args)
        if args.command == "serve":
            return _serve(args.host, args.port)
        if args.command == "migrate":
            return _migrate()
        if args.command == "worker":
            return _worker(args.concurrency, args.health_port)
        if args.command == "sandbox":
            return _sandbox_check(args.json)
        if args.command == "simulate":
            return _simulate(args)
        if args.command == "soak":
            from grader.bench.soak import run_soak

            text, held = run_soak(args.count, learners=args.learners)
            print(text)
            return EXIT_PASSED if held else EXIT_FAILED
        if args.command == "bench":
            from grader.bench.run import run_bench

            clients = args.clients or get_settings().slots
            print(run_bench(_catalog(), args.count, clients, args.baseline_count, args.http,
                            args.distributed, args.attacks))
            return EXIT_PASSED
        if args.command == "lti":
            from grader.cli.lti import run as run_lti

            return run_lti(args)
        if args.command == "exercises" and args.action in REMOTE:
            return REMOTE[args.action](args)
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

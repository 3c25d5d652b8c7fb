"""The operator's commands: serve, migrate, worker, sandbox check, simulate."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from typing import TYPE_CHECKING

from grader.cli.common import EXIT_FAULT, EXIT_PASSED, EXIT_USAGE, _catalog, _runner
from grader.grading.text import inert
from grader.settings import get_settings

if TYPE_CHECKING:
    from grader.settings import Settings



def _serve(host: str, port: int) -> int:
    from grader.api.app import create_app
    from grader.api.server import serve

    settings = get_settings()
    _log_level(settings.log_level)
    if _broken_catalog(settings):
        return EXIT_USAGE
    if settings.distributed and _old_schema(settings.database):
        return EXIT_FAULT
    serve(create_app(settings, freeze_heap=True), settings, host, port)
    return EXIT_PASSED


def _broken_catalog(settings: Settings) -> bool:
    """Whether a bundle the server would serve is broken (said on stderr, in one line):
    it does not start without it, rather than fail in its startup with a traceback."""
    from grader.catalog.exercises import Catalog
    from grader.catalog.spec import SpecError

    try:
        Catalog.from_settings(settings)
    except SpecError as error:
        reason = "; ".join(line.strip() for line in str(error).splitlines() if line.strip())
        print(inert(f"grader: cannot serve the exercises: {reason}"), file=sys.stderr)
        return True
    return False


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
    from grader.storage.database import revisions, revisions_between
    from grader.storage.store import make_engine, schema_problem, upgrade

    settings = get_settings()
    engine = make_engine(settings.database)
    try:
        before, head, tables_before = revisions(engine)
        if before != head:
            upgrade(engine)
        assert schema_problem(engine) is None
        _, _, tables = revisions(engine)
    finally:
        engine.dispose()
    if before == head:
        print(f"grader: the database is already at revision {head} ({tables} tables); "
              "nothing to do")
        return EXIT_PASSED
    if before is None:
        print(f"grader: created the schema at revision {head} ({tables} tables); applied:")
    else:
        print(f"grader: upgraded the schema from revision {before} to {head} "
              f"({tables} tables, {tables - tables_before} new); applied:")
    for revision, doc in revisions_between(before, head):
        print(f"  {revision}  {doc}")
    return EXIT_PASSED


def _worker(concurrency: int | None, health_port: int | None) -> int:
    from grader.service import worker

    settings = get_settings()
    _log_level(settings.log_level)
    if not settings.distributed:
        print("grader: a worker grades the distributed mode's queue: set "
              "GRADER_QUEUE=procrastinate and a PostgreSQL GRADER_DATABASE_URL", file=sys.stderr)
        return EXIT_USAGE
    if _broken_catalog(settings):
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
    from grader.service.assembly import runner_from_settings

    exercise = _catalog().get("conv2d")
    assert exercise.samples_dir is not None
    source = (exercise.samples_dir / "correct_numpy.py").read_text()
    cpus = os.cpu_count() or 1
    runner = runner_from_settings(get_settings(), cpus)
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


def _sandbox_check(as_json: bool = False) -> int:
    runner = _runner()
    try:
        layers = runner.layers.summary()
        refusal, failures = runner.refusal, list(runner.self_test_failures)
    finally:
        runner.close()
    self_test = "passed" if refusal is None else "failed" if failures else "not run"
    if as_json:  # ASCII, control characters escaped: inert
        print(json.dumps({"layers": layers, "self_test": self_test, "failures": failures,
                          "refusal": refusal}, indent=2))
    else:
        print("layers:")
        for name, value in layers.items():
            print(inert(f"  {name + ':':<22} {_said(value)}"))
        print("self-test:", self_test)
        for failure in failures:
            print(inert(f"  - {failure}"))
    if refusal is not None:
        print(f"grader: the sandbox refuses to grade: {refusal}", file=sys.stderr)
        return EXIT_FAULT
    return EXIT_PASSED


def _said(value: object) -> str:
    """A layer's fact as text: yes/no, a list joined, none for nothing."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict):
        return ", ".join(f"{k}: {v}" for k, v in value.items()) or "none"
    if isinstance(value, list | tuple):
        return ", ".join(map(str, value)) or "none"
    return str(value)

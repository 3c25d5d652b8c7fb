"""``grader exercises``: list, validate, new, try, push and pull bundles."""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from grader.catalog.exercises import Catalog, Exercise, UnknownExercise
from grader.cli.common import EXIT_FAILED, EXIT_FAULT, EXIT_PASSED, EXIT_USAGE, _catalog, _runner
from grader.cli.grading import _grade_file
from grader.grading.text import inert
from grader.settings import get_settings

if TYPE_CHECKING:
    import httpx



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


TOKEN_VARIABLE = "GRADER_TOKEN"


def _token(args: argparse.Namespace) -> str | None:
    """The instructor token of push and pull: --token, else --token-file's first line, else
    $GRADER_TOKEN; None, with the reason printed, when there is none."""
    token: str | None = args.token
    if token is None and args.token_file is not None:
        try:
            with open(args.token_file, encoding="utf-8") as file:
                token = file.readline(4096).strip()
        except (OSError, UnicodeDecodeError) as error:
            print(inert(f"grader: cannot read the token file {args.token_file}: {error}"),
                  file=sys.stderr)
            return None
        if not token:
            print(inert(f"grader: the token file {args.token_file} is empty"), file=sys.stderr)
            return None
    if token is None:
        token = os.environ.get(TOKEN_VARIABLE, "").strip() or None
    if not token:
        print(f"grader: an instructor token is needed: set {TOKEN_VARIABLE}, or give "
              "--token-file FILE (or --token, which other local users can see)", file=sys.stderr)
        return None
    return token


def _push(args: argparse.Namespace) -> int:
    import httpx

    from grader.catalog.bundle import BundleFiles

    folder: Path = args.bundle.resolve()
    if not folder.is_dir():
        print(inert(f"grader: no folder {args.bundle}"), file=sys.stderr)
        return EXIT_USAGE
    token = _token(args)
    if token is None:
        return EXIT_USAGE
    files = BundleFiles.read(folder).files()  # raises SpecError naming the file
    url = f"{args.url.rstrip('/')}/v1/exercises/{folder.name}"
    try:
        response = httpx.put(url, json={"files": files}, timeout=300,
                             headers={"Authorization": f"Bearer {token}"})
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
    token = _token(args)
    if token is None:
        return EXIT_USAGE
    url = f"{args.url.rstrip('/')}/v1/exercises/{args.pull_id}/bundle"
    try:
        response = httpx.get(url, timeout=60, headers={"Authorization": f"Bearer {token}"},
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

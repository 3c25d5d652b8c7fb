"""``grader exercises``: list, validate, new, try, push and pull bundles."""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from grader.catalog.exercises import Catalog, Exercise, UnknownExercise
from grader.catalog.toml_text import SpecError
from grader.cli.common import (
    EXIT_FAILED,
    EXIT_FAULT,
    EXIT_PASSED,
    EXIT_UNREACHABLE,
    EXIT_USAGE,
    _catalog,
    _runner,
)
from grader.cli.grading import _grade_file
from grader.grading.text import inert
from grader.settings import get_settings

if TYPE_CHECKING:
    import httpx



# A bundle's own files, as a server names them in its reasons ("exercise.toml:64: ...").
_BUNDLE_FILE = re.compile(r"^(exercise\.toml|reference\.py|samples/[^:\s]+)(:|$)")


def spec_problems(where: Path | str, reasons: list[str]) -> int:
    """Spec errors as ``validate`` and ``push`` both report them, whoever found them (this
    machine or the server): the bundle's folder, then one reason a line, each naming its file
    (a server's bundle-relative names are put under ``where``) and line. Exit status 1."""
    print(inert(f"grader: {where}: the bundle has errors:"), file=sys.stderr)
    for reason in reasons:
        if _BUNDLE_FILE.match(reason):
            reason = f"{where}/{reason}"
        print(inert(f"  - {reason}"), file=sys.stderr)
    return EXIT_FAILED


def _bundle(catalog: Catalog, folder: Path) -> Exercise | None:
    """The bundle in ``folder``, added to the catalog (so that it may name other bundles'
    functions); None, with the reason printed, when there is none."""
    if not folder.is_dir():
        print(inert(f"grader: no folder {folder}"), file=sys.stderr)
        return None
    return catalog.load_bundle(folder)


def is_folder_argument(argument: str) -> bool:
    """The rule of ``try`` and ``validate`` (ID_OR_DIR): an argument with a path separator, or
    starting with ".", names a folder; any other, an exercise id."""
    return "/" in argument or os.sep in argument or argument.startswith(".")


def _chosen(catalog: Catalog, argument: str) -> Exercise | None:
    """The exercise an ID | DIR argument names (see ``is_folder_argument``); None, with the
    reason printed, when there is none."""
    from grader.catalog.spec import is_exercise_id

    if is_folder_argument(argument):
        return _bundle(catalog, Path(argument))
    if not is_exercise_id(argument):
        print(inert(f"grader: {argument!r} is not an exercise id (lowercase letters, digits "
                    f"and _); for a folder here, write ./{argument}"), file=sys.stderr)
        return None
    try:
        return catalog.get(argument)
    except UnknownExercise:
        hint = f" (for the folder here, write ./{argument})" if Path(argument).is_dir() else ""
        print(inert(f"grader: no exercise {argument!r}{hint}; known: "
                    f"{', '.join(catalog.ids())}"), file=sys.stderr)
        return None


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


def _reasons(response: httpx.Response) -> list[str] | None:
    """The ``msg`` of each of a problem answer's ``errors``; None when it has none."""
    try:
        errors = response.json().get("errors")
    except (ValueError, AttributeError):
        return None
    if not isinstance(errors, list):
        return None
    found = [e.get("msg") for e in errors if isinstance(e, dict)]
    return [m for m in found if isinstance(m, str)] or None


TOKEN_VARIABLE = "GRADER_TOKEN"


def _token(args: argparse.Namespace) -> str | None:
    """The instructor token of the commands that call a server: --token, else --token-file's
    first line, else $GRADER_TOKEN; None, with the reason printed, when there is none."""
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


def server_request(args: argparse.Namespace, method: str, path: str, label: str, *,
                   timeout: float = 60.0, invalid: Callable[[list[str]], int] | None = None,
                   **request: Any) -> httpx.Response | int:
    """A server's success answer to an instructor's request under ``/v1/exercises/``, or the
    exit status, with the reason said on stderr (``label`` names what was refused): what
    push, pull, versions, restore and regrade all send. ``invalid`` says a 422's reasons
    (the server's ``errors``) instead, and gives the exit status."""
    import httpx

    token = _token(args)
    if token is None:
        return EXIT_USAGE
    url = f"{args.url.rstrip('/')}/v1/exercises/{path}"
    try:
        response = httpx.request(method, url, timeout=timeout,
                                 headers={"Authorization": f"Bearer {token}"}, **request)
    except httpx.HTTPError as error:
        print(inert(f"grader: cannot reach {args.url}: {error}"), file=sys.stderr)
        return EXIT_UNREACHABLE
    reasons = _reasons(response) if response.status_code == 422 else None
    if invalid is not None and reasons:
        return invalid(reasons)
    if not response.is_success:
        print(inert(f"grader: {label}: refused ({response.status_code}):\n"
                    f"{_problem(response)}"), file=sys.stderr)
        return EXIT_FAILED
    return response


def _push(args: argparse.Namespace) -> int:
    from grader.catalog.bundle import BundleFiles, parse_bundle

    folder: Path = args.bundle.resolve()
    if not folder.is_dir():
        print(inert(f"grader: no folder {args.bundle}"), file=sys.stderr)
        return EXIT_USAGE
    try:  # the checks the server makes before it runs anything: offline, and said alike
        bundle = BundleFiles.read(folder)
        parse_bundle(folder.name, bundle)
    except SpecError as error:
        return spec_problems(args.bundle, error.reasons)
    body: dict[str, object] = {"files": bundle.files()}
    if args.message:
        body["message"] = args.message
    response = server_request(args, "PUT", folder.name, str(folder), timeout=300, json=body,
                              invalid=lambda reasons: spec_problems(args.bundle, reasons))
    if isinstance(response, int):
        return response
    print(f"published {folder.name} version {response.json()['version']}")
    return EXIT_PASSED


def _pull(args: argparse.Namespace) -> int:
    from grader.catalog.bundle import FILE_NAME
    from grader.catalog.spec import is_exercise_id

    if not is_exercise_id(args.pull_id):
        print(inert(f"grader: {args.pull_id!r} is not an exercise id"), file=sys.stderr)
        return EXIT_USAGE
    response = server_request(
        args, "GET", f"{args.pull_id}/bundle", args.pull_id,
        params={} if args.version is None else {"version": args.version})
    if isinstance(response, int):
        return response
    body = response.json()
    files = body.get("files")
    names = re.compile(FILE_NAME)
    if not isinstance(files, dict) or not all(
            isinstance(k, str) and names.match(k) and isinstance(v, str)
            for k, v in files.items()):
        print("grader: the server's answer is not a bundle's files", file=sys.stderr)
        return EXIT_FAULT
    folder = args.dir / args.pull_id
    changed = _local_changes(folder, files)
    if changed and not args.force:
        print(inert(f"grader: {folder} has files that differ from version "
                    f"{body.get('version')}'s, which pull would overwrite or remove: "
                    f"{', '.join(changed)}; keep them elsewhere, or pull again with --force"),
              file=sys.stderr)
        return EXIT_FAILED
    try:
        _write_bundle(folder, files)
    except OSError as error:
        print(inert(f"grader: cannot write {folder}: {error}"), file=sys.stderr)
        return EXIT_USAGE
    print(f"pulled {args.pull_id} version {body.get('version')} into {folder}")
    return EXIT_PASSED


def _local_files(folder: Path) -> list[str]:
    """The files of ``folder`` a bundle may have: its spec, its reference, samples/**.py."""
    from grader.catalog.spec import REFERENCE_FILE, SAMPLES_DIR, SPEC_FILE

    names = [name for name in (SPEC_FILE, REFERENCE_FILE) if (folder / name).is_file()]
    samples = folder / SAMPLES_DIR
    if samples.is_dir():
        names += sorted(str(p.relative_to(folder)) for p in samples.rglob("*.py")
                        if p.is_file())
    return names


def _local_changes(folder: Path, files: dict[str, str]) -> list[str]:
    """The files of ``folder`` a pull of ``files`` would overwrite with other text, or
    remove."""
    changed = []
    for name in _local_files(folder):
        try:
            same = name in files and (folder / name).read_text(encoding="utf-8") == files[name]
        except (OSError, UnicodeDecodeError):
            same = False
        if not same:
            changed.append(name)
    return changed


def _write_bundle(folder: Path, files: dict[str, str]) -> None:
    """Make ``folder`` hold exactly the bundle ``files``: samples no longer in it go (only
    samples/**.py, the bundle's own files: nothing else of the folder is touched)."""
    for name in _local_files(folder):
        if name not in files:
            (folder / name).unlink()
    for name, text in sorted(files.items()):
        path = folder / name  # names are checked: no "..", no absolute path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def _list(catalog: Catalog, as_json: bool) -> int:
    specs = [exercise.spec for exercise in catalog]
    if as_json:  # ASCII, control characters escaped: inert
        print(json.dumps([{"id": s.id, "title": s.title, "cases": len(s.cases),
                           "max_score": s.max_score} for s in specs], indent=2))
        return EXIT_PASSED
    for spec in specs:
        print(inert(f"{spec.id:<14} {len(spec.cases)} cases  {spec.max_score:g} points  "
                    f"{spec.title}"))
    return EXIT_PASSED


def _exercises(args: argparse.Namespace) -> int:
    if args.action == "new":
        return _new(args)
    if args.action == "push":
        return _push(args)
    if args.action == "pull":
        return _pull(args)
    if args.action == "validate":
        return _validate(args)
    catalog = _catalog()
    if args.action == "try":
        exercise = _chosen(catalog, args.exercise)
        return EXIT_USAGE if exercise is None else _grade_file(exercise, args)
    return _list(catalog, args.json)


def _validate(args: argparse.Namespace) -> int:
    """Prove one bundle, or every bundle of the catalog. A spec that cannot be loaded is said
    as ``push`` says it (``spec_problems``), with exit status 1."""
    from grader.grading.validate import validate
    from grader.service.secret import hidden_secret

    where = get_settings().exercises_dir
    try:
        catalog = _catalog()
        chosen: list[Exercise] = list(catalog)
        if args.exercise_id:
            if is_folder_argument(args.exercise_id):
                where = Path(args.exercise_id)
            one = _chosen(catalog, args.exercise_id)
            if one is None:
                return EXIT_USAGE
            chosen = [one]
    except SpecError as error:
        return spec_problems(where, error.reasons)
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

"""``grader export gradescope ID --out FILE.zip``: an autograder for Gradescope.

The zip holds what Gradescope runs (``setup.sh`` once, when it builds the image;
``run_autograder`` per submission) and what they need: the grader's own package, with a
``pyproject.toml`` that names the installed grader's dependencies, and the exercise's bundle,
self-contained as a push sends it (its reference module as the bundle's ``reference.py``).
"""

from __future__ import annotations

import argparse
import json
import sys
import zipfile
from importlib import metadata
from pathlib import Path

import grader
from grader.catalog.bundle import BundleFiles
from grader.catalog.exercises import Catalog, UnknownExercise
from grader.cli.common import EXIT_PASSED, EXIT_USAGE, _catalog
from grader.grading.text import inert

SCRIPTS = Path(__file__).with_name("autograder")
EXECUTABLE = 0o100755 << 16  # a zip entry's mode, in its external attributes
READABLE = 0o100644 << 16


def _export(args: argparse.Namespace) -> int:
    catalog = _catalog()
    try:
        files = autograder_files(catalog, args.exercise_id)
    except UnknownExercise:
        print(inert(f"grader: no exercise {args.exercise_id!r}; known: "
                    f"{', '.join(catalog.ids())}"), file=sys.stderr)
        return EXIT_USAGE
    try:
        write_zip(args.out, files)
    except OSError as error:
        print(inert(f"grader: cannot write {args.out}: {error}"), file=sys.stderr)
        return EXIT_USAGE
    print(inert(f"wrote {args.out}: Gradescope's autograder for {args.exercise_id} "
                f"({len(files)} files)"))
    return EXIT_PASSED


def autograder_files(catalog: Catalog, exercise_id: str) -> dict[str, tuple[bytes, int]]:
    """Every file of the autograder zip: its path, its bytes and its mode."""
    exercise = catalog.get(exercise_id)
    folder = catalog.library.bundles.get(exercise_id)
    if folder is None:  # a spec with no bundle of its own: nothing to send
        raise UnknownExercise(exercise_id)
    files = {name: ((SCRIPTS / name).read_bytes(), EXECUTABLE)
             for name in ("setup.sh", "run_autograder")}
    files["EXERCISE"] = (f"{exercise_id} {exercise.spec.entry_point}\n".encode(), READABLE)
    for name, text in BundleFiles.read(folder).files().items():
        files[f"exercises/{exercise_id}/{name}"] = (text.encode("utf-8"), READABLE)
    files["grader-src/pyproject.toml"] = (pyproject().encode("utf-8"), READABLE)
    package = Path(grader.__file__).parent
    for path in sorted(package.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
            mode = EXECUTABLE if path.stat().st_mode & 0o111 else READABLE
            name = path.relative_to(package.parent).as_posix()
            files[f"grader-src/{name}"] = (path.read_bytes(), mode)
    return files


def pyproject() -> str:
    """A ``pyproject.toml`` for the copied package: this installation's version and
    dependencies (not its extras), its command and its data files."""
    try:
        version = metadata.version("grader")
        needs = [need for need in metadata.requires("grader") or [] if "extra ==" not in need]
    except metadata.PackageNotFoundError:  # run from a checkout that was never installed
        version, needs = "0", []
    listed = "".join(f"    {json.dumps(need)},\n" for need in needs)
    return f"""[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "grader"
version = "{version}"
requires-python = ">=3.11"
dependencies = [
{listed}]

[project.scripts]
grader = "grader.cli:main"

[tool.setuptools.packages.find]
include = ["grader*"]

[tool.setuptools.package-data]
grader = ["storage/migrations/*.py", "storage/migrations/*.mako",
          "storage/migrations/versions/*.py", "cli/autograder/*"]
"""


def write_zip(out: Path, files: dict[str, tuple[bytes, int]]) -> None:
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, (data, mode) in sorted(files.items()):
            entry = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
            entry.external_attr = mode
            entry.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(entry, data)

"""A bundle as files in memory: what ``grader exercises push`` sends, and ``pull`` gets back.

    exercise.toml          the spec (``grader.catalog.spec``)
    reference.py           the solution and the mistake models the spec names
    samples/<name>.py      solutions with the verdicts the spec declares for them

A bundle read from a folder whose spec names its reference module elsewhere
(``reference_file``, as the built-in bundles name ``reference/<id>.py``) carries that file as its
``reference.py``, and its spec's ``reference_file`` line becomes a comment (the other lines keep
their numbers): what is pushed, or pulled back, is whole on its own.

A pushed bundle's code is code from an upload: the grader never imports it. Here it is only
parsed (``ast.parse``), to name the file and line of a mistake before anything runs; it runs
in the sandbox only (``grader.grading.pushed``). Every error names the bundle's file and its line.
"""

from __future__ import annotations

import ast
import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from grader.catalog.spec import (
    REFERENCE_FILE,
    SAMPLES_DIR,
    SPEC_FILE,
    ExerciseSpec,
    spec_from_toml,
)
from grader.catalog.toml_text import SpecError, read_toml, toml_lines

# A file's name in a bundle: the spec, the reference, or a sample under samples/.
FILE_NAME = (r"^(exercise\.toml|reference\.py|samples/[A-Za-z0-9_][A-Za-z0-9_-]*"
             r"(/[A-Za-z0-9_][A-Za-z0-9_-]*)*\.py)$")
MAX_FILES = 64


@dataclass(frozen=True)
class BundleFiles:
    spec: str  # exercise.toml's text
    reference: str  # reference.py's text
    samples: dict[str, str] = field(default_factory=dict)  # by their path under samples/

    def files(self) -> dict[str, str]:
        """Every file by its path in the bundle, as a push sends them."""
        return {SPEC_FILE: self.spec, REFERENCE_FILE: self.reference,
                **{f"{SAMPLES_DIR}/{name}": text for name, text in sorted(self.samples.items())}}

    @classmethod
    def of(cls, files: Mapping[str, str]) -> BundleFiles:
        """From files by path (names checked by the API's schema). Raises SpecError."""
        for needed in (SPEC_FILE, REFERENCE_FILE):
            if needed not in files:
                raise SpecError(f"{needed}: missing: a bundle has {SPEC_FILE}, "
                                f"{REFERENCE_FILE} and its samples/*.py")
        samples = {name.removeprefix(f"{SAMPLES_DIR}/"): text for name, text in files.items()
                   if name.startswith(f"{SAMPLES_DIR}/")}
        return cls(files[SPEC_FILE], files[REFERENCE_FILE], samples)

    @classmethod
    def read(cls, folder: Path) -> BundleFiles:
        """A bundle's folder. Raises SpecError naming the file that cannot be read."""
        def text(path: Path) -> str:
            try:
                return path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as error:
                raise SpecError(f"{path}: cannot read: {error}") from None

        samples_dir = folder / SAMPLES_DIR
        samples = {str(p.relative_to(samples_dir)): text(p)
                   for p in sorted(samples_dir.rglob("*.py"))} if samples_dir.is_dir() else {}
        spec = text(folder / SPEC_FILE)
        spec, reference = self_contained(spec)
        return cls(spec, text(folder / reference), samples)

    def to_json(self) -> str:
        return json.dumps(self.files(), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> BundleFiles:
        files = json.loads(text)
        if not isinstance(files, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in files.items()):
            raise SpecError("stored bundle files are not a JSON object of texts")
        return cls.of(files)


@dataclass(frozen=True)
class Pushed:
    """A published version of a pushed bundle: its files, whose code runs in the sandbox only
    (``grader.grading.pushed``)."""

    exercise_id: str
    version: int  # 0: not published (yet), as while it is proven
    bundle: BundleFiles


def self_contained(spec: str) -> tuple[str, str]:
    """A spec's text with its ``reference_file`` line made a comment, and that file's path
    (relative to the bundle's folder); the text as it is, and reference.py, when it names none.
    A spec that does not parse is left to the parse that follows, which names its line."""
    try:  # bounded in size and depth before it is parsed, as every spec is
        named = read_toml(spec, SPEC_FILE).get("reference_file", REFERENCE_FILE)
    except SpecError:
        return spec, REFERENCE_FILE
    line = toml_lines(spec).get(("reference_file",))
    if not isinstance(named, str) or named == REFERENCE_FILE or line is None:
        return spec, REFERENCE_FILE
    lines = spec.splitlines(keepends=True)
    lines[line - 1] = f"# {lines[line - 1].rstrip()}: sent as this bundle's {REFERENCE_FILE}\n"
    return "".join(lines), named


def defined_names(tree: ast.Module) -> set[str]:
    """The names a module binds at its top level: functions, classes, assignments, imports."""
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names |= {t.id for t in targets if isinstance(t, ast.Name)}
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names |= {(a.asname or a.name).partition(".")[0] for a in node.names}
    return names


# One parse at a time in this process: CPython 3.11 keeps the depth of the tree being built
# in state shared by every thread, and a thread switch in the middle (a finalizer run by the
# collector, say) fails another thread's parse with "SystemError: AST constructor recursion
# depth mismatch". Re-entrant, for a finalizer that parses on the same thread.
_PARSING = threading.RLock()


def parse_python(text: str, filename: str) -> ast.Module:
    """``ast.parse``, safe to call from any thread (see ``_PARSING``): every parse of the
    grader's goes through here."""
    with _PARSING:
        return ast.parse(text, filename=filename)


def _parse(text: str, name: str, what: str) -> ast.Module:
    try:
        return parse_python(text, name)
    except SyntaxError as error:
        raise SpecError(f"{name}:{error.lineno or 1}: {what} does not parse: {error.msg}") \
            from None
    except (ValueError, RecursionError, MemoryError) as error:
        raise SpecError(f"{name}: {what} does not parse: {error}") from None


def parse_bundle(exercise_id: str, bundle: BundleFiles) -> ExerciseSpec:
    """The spec of a pushed bundle, checked against its files: the functions it names are
    defined by reference.py (its own: a pushed bundle names no other bundle's), every sample
    it declares is there, and every sample there is declared. Raises SpecError naming the
    bundle's file and line."""
    spec = spec_from_toml(bundle.spec, SPEC_FILE, exercise_id, "URL's exercise")
    lines = toml_lines(bundle.spec)

    def at(*path: str | int) -> str:
        for end in range(len(path), 0, -1):
            if path[:end] in lines:
                return f"{SPEC_FILE}:{lines[path[:end]]}"
        return SPEC_FILE

    if spec.reference_file != REFERENCE_FILE:
        raise SpecError(f"{at('reference_file')}: reference_file: a pushed bundle's functions "
                        f"are in its own {REFERENCE_FILE} (`grader exercises push` sends the "
                        f"file reference_file names as {REFERENCE_FILE})")

    tree = _parse(bundle.reference, REFERENCE_FILE, REFERENCE_FILE)
    names = defined_names(tree)
    refs = [(spec.reference, at("reference"), "reference")] + [
        (m.function, at("mistakes", i, "function"), f"mistakes[{i}].function")
        for i, m in enumerate(spec.mistakes)]
    for ref, where, field_ in refs:
        if ":" in ref:
            raise SpecError(f"{where}: {field_}: {ref!r} names another bundle's function; a "
                            f"pushed bundle's functions are in its own {REFERENCE_FILE}")
        if ref not in names:
            known = ", ".join(sorted(n for n in names if not n.startswith("_"))) or "none"
            raise SpecError(f"{where}: {field_}: {REFERENCE_FILE} defines no {ref!r} at its "
                            f"top level (it defines: {known})")
    for i, sample in enumerate(spec.samples):
        if sample.file not in bundle.samples:
            raise SpecError(f"{at('samples', i, 'file')}: samples[{i}].file: the bundle has no "
                            f"{SAMPLES_DIR}/{sample.file}")
    declared = {s.file for s in spec.samples}
    for name in sorted(bundle.samples):
        if name not in declared:
            raise SpecError(f"{SAMPLES_DIR}/{name}: has no [[samples]] entry with its verdicts "
                            f"in {SPEC_FILE}")
    return spec

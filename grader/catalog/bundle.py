"""A bundle as files in memory: what ``grader exercises push`` sends, and ``pull`` gets back.

    exercise.toml          the spec (``grader.catalog.spec``)
    reference.py           the solution and the mistake models the spec names
    samples/<name>.py      solutions with the verdicts the spec declares for them

A pushed bundle's code is code from an upload: the grader never imports it. Here it is only
parsed (``ast.parse``), to name the file and line of a mistake before anything runs; it runs
in the sandbox only (``grader.grading.pool``). Every error names the bundle's file and its line.
"""

from __future__ import annotations

import ast
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from grader.catalog.exercises import REFERENCE_FILE, SAMPLES_DIR
from grader.catalog.spec import SPEC_FILE, ExerciseSpec, SpecError, spec_from_toml, toml_lines

# A file's name in a bundle: the spec, the reference, or a sample under samples/.
FILE_NAME = (r"^(exercise\.toml|reference\.py|samples/[A-Za-z0-9_][A-Za-z0-9_-]*"
             r"(/[A-Za-z0-9_][A-Za-z0-9_-]*)*\.py)$")
MAX_FILES = 64
# A pushed bundle's outputs are computed for a pool of seeds (``grader.grading.pool``), whose
# inputs are drawn in the server's process, all at once: their elements, over every seed, are
# bounded when the bundle is read, before anything is drawn.
POOL_SEEDS = 32
MAX_POOL_ELEMENTS = 1 << 23


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
        return cls(text(folder / SPEC_FILE), text(folder / REFERENCE_FILE), samples)

    def to_json(self) -> str:
        return json.dumps(self.files(), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> BundleFiles:
        files = json.loads(text)
        if not isinstance(files, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in files.items()):
            raise SpecError("stored bundle files are not a JSON object of texts")
        return cls.of(files)


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


def _parse(text: str, name: str, what: str) -> ast.Module:
    try:
        return ast.parse(text, filename=name)
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

    total = 0
    for i, count in enumerate(spec.case_elements()):
        total += count
        if total * POOL_SEEDS > MAX_POOL_ELEMENTS:
            raise SpecError(f"{at('cases', i)}: cases[{i}]: the arguments of the cases up to "
                            f"this one have {total} elements, drawn for each of the pool's "
                            f"{POOL_SEEDS} seeds: {total * POOL_SEEDS}, more than the "
                            f"{MAX_POOL_ELEMENTS} a pushed bundle may have")

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

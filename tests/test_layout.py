"""The package's shape, measured with ``ast`` as a reviewer would: layers import only downwards,
no import cycle, small functions and modules, one error tree."""

from __future__ import annotations

import ast
import builtins
from collections.abc import Iterator
from pathlib import Path

from tests.conftest import ROOT

PACKAGE = ROOT / "grader"
MAX_FUNCTION_LINES = 80
MAX_MODULE_LINES = 500
MAX_EXCEPTION_ROOTS = 2

# What each layer may import, besides itself: the README's "Layout" section, as a table.
BASE = {"errors", "settings"}
MAY_IMPORT: dict[str, set[str]] = {
    "errors": set(),
    "settings": {"errors"},
    "sandbox": set(),  # it imports nothing of the grader
    "storage": BASE,
    "catalog": BASE | {"sandbox"},
    "grading": BASE | {"sandbox", "catalog"},
    "pages": BASE | {"sandbox", "catalog", "grading", "storage"},
    "service": BASE | {"sandbox", "catalog", "grading", "pages", "storage"},
    "lti": BASE | {"sandbox", "catalog", "grading", "storage", "service"},
    "api": BASE | {"sandbox", "catalog", "grading", "pages", "storage", "service", "lti"},
    "bench": BASE | {"sandbox", "catalog", "grading", "pages", "storage", "service", "api"},
    "cli": BASE | {"sandbox", "catalog", "grading", "pages", "storage", "service", "api",
                   "bench", "lti"},
}


def modules() -> Iterator[tuple[str, Path]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        yield name, path


def layer(module: str) -> str:
    return module.split(".")[1] if module.count(".") else "grader"


def imports(module: str, path: Path, known: set[str]) -> set[str]:
    """Every module of ``known`` this one imports, at any depth of the file (typing-only
    included)."""
    found: set[str] = set()
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1]
                                + ([base] if base else []))
            found.add(base)
            found |= {f"{base}.{alias.name}" for alias in node.names}
    return {name for name in found if name in known and name != module}


def graph() -> dict[str, set[str]]:
    found = dict(modules())
    return {name: imports(name, path, set(found)) for name, path in found.items()}


def test_layers_import_only_downwards() -> None:
    upward = [f"{module} imports {target}"
              for module, targets in graph().items() if layer(module) in MAY_IMPORT
              for target in targets
              if layer(target) != layer(module) and layer(target) not in MAY_IMPORT[
                  layer(module)] and target != "grader"]
    assert upward == []


def test_every_module_belongs_to_a_known_layer() -> None:
    assert {layer(name) for name, _ in modules()} - {"grader"} <= set(MAY_IMPORT)


def test_no_import_cycle() -> None:
    edges = graph()
    # a module importing its own package's __init__ is not a cycle worth a name
    edges = {m: {t for t in ts if not m.startswith(t + ".")} for m, ts in edges.items()}
    cycles: list[list[str]] = []
    state: dict[str, int] = {}

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        for target in sorted(edges.get(node, ())):
            if state.get(target) == 1:
                cycles.append(stack[stack.index(target):] + [target])
            elif target not in state:
                visit(target, stack + [target])
        state[node] = 2

    for name in sorted(edges):
        if name not in state:
            visit(name, [name])
    assert cycles == []


def test_functions_and_modules_are_small() -> None:
    long_functions, long_modules = [], []
    for name, path in modules():
        text = path.read_text()
        if len(text.splitlines()) > MAX_MODULE_LINES:
            long_modules.append(f"{name}: {len(text.splitlines())} lines")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = (node.end_lineno or node.lineno) - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    long_functions.append(f"{name}.{node.name}: {lines} lines")
    assert (long_functions, long_modules) == ([], [])


def test_one_error_tree() -> None:
    """An exception root is a class whose bases are all outside the project."""
    classes: dict[str, list[str]] = {}
    for name, path in modules():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef):
                classes[f"{name}.{node.name}"] = [ast.unparse(base) for base in node.bases]
    own = {qualified.rsplit(".", 1)[1] for qualified in classes}
    builtin = {name for name, value in vars(builtins).items()
               if isinstance(value, type) and issubclass(value, BaseException)}
    roots = sorted(qualified for qualified, bases in classes.items()
                   if bases and all(base.rsplit(".", 1)[-1] not in own for base in bases)
                   and any(base.rsplit(".", 1)[-1] in builtin for base in bases))
    assert len(roots) <= MAX_EXCEPTION_ROOTS, roots


def test_top_level_is_the_design_cards() -> None:
    for entry in ("grader", "exercises", "reference", "tests", "Dockerfile", "pyproject.toml"):
        assert (ROOT / entry).exists(), entry

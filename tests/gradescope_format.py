"""Gradescope's ``results.json`` format, checked: what its autograder documentation allows
at the top level and in each test. Standard library only, so that ``scripts/docker-smoke``
runs it on the host too: ``python3 tests/gradescope_format.py results.json``."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

VISIBILITIES = {"hidden", "after_due_date", "after_published", "visible"}
FORMATS = {"text", "html", "simple_format", "md", "ansi"}
TOP = {"score", "execution_time", "output", "output_format", "test_output_format",
       "test_name_format", "visibility", "stdout_visibility", "extra_data", "tests",
       "leaderboard"}
TEST = {"score", "max_score", "status", "name", "name_format", "number", "output",
        "output_format", "tags", "visibility", "extra_data"}
NUMBER = (int, float)


def problems(results: Any) -> list[str]:
    """What in ``results`` Gradescope would reject or misread; empty when it is right."""
    if not isinstance(results, dict):
        return ["results.json is not a JSON object"]
    found = [f"unknown key {key!r}" for key in results if key not in TOP]
    found += _typed(results, "", {"score": NUMBER, "execution_time": NUMBER, "output": str,
                                  "tests": list})
    found += _enums(results, "")
    if "score" not in results and "tests" not in results:
        found.append("neither score nor tests")
    for index, test in enumerate(results.get("tests") or []):
        found += _test(test, f"tests[{index}].")
    return found


def _test(test: Any, where: str) -> list[str]:
    if not isinstance(test, dict):
        return [f"{where[:-1]} is not an object"]
    found = [f"{where}{key}: unknown key" for key in test if key not in TEST]
    found += _typed(test, where, {"score": NUMBER, "max_score": NUMBER, "name": str,
                                  "number": str, "output": str, "tags": list})
    found += _enums(test, where)
    if test.get("status") not in (None, "passed", "failed"):
        found.append(f"{where}status: {test['status']!r} is not passed or failed")
    return found


def _typed(node: dict[str, Any], where: str, types: dict[str, Any]) -> list[str]:
    return [f"{where}{key}: {type(node[key]).__name__} where {types[key]} belongs"
            for key in types if key in node and (not isinstance(node[key], types[key])
                                                 or isinstance(node[key], bool))]


def _enums(node: dict[str, Any], where: str) -> list[str]:
    found = [f"{where}{key}: {node[key]!r}" for key in ("visibility", "stdout_visibility")
             if key in node and node[key] not in VISIBILITIES]
    found += [f"{where}{key}: {node[key]!r}" for key in
              ("output_format", "test_output_format", "test_name_format", "name_format")
              if key in node and node[key] not in FORMATS]
    return found


if __name__ == "__main__":
    wrong = problems(json.loads(Path(sys.argv[1]).read_text()))
    print("\n".join(wrong) or f"{sys.argv[1]}: a valid results.json")
    sys.exit(1 if wrong else 0)

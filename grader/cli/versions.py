"""``grader exercises versions``, ``restore`` and ``regrade``: a server's versions of an
exercise, a rollback and a regrade, over its instructor API."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from grader.cli.common import EXIT_PASSED, EXIT_USAGE
from grader.cli.exercises import server_request
from grader.grading.text import inert

if TYPE_CHECKING:
    import httpx


def _call(args: argparse.Namespace, method: str, path: str) -> httpx.Response | int:
    """The server's answer to an instructor's request about ``args.exercise_id``, or the exit
    status, said on stderr."""
    from grader.catalog.spec import is_exercise_id

    if not is_exercise_id(args.exercise_id):
        print(inert(f"grader: {args.exercise_id!r} is not an exercise id"), file=sys.stderr)
        return EXIT_USAGE
    return server_request(args, method, f"{args.exercise_id}{path}", args.exercise_id)


def _body(response: httpx.Response) -> dict[str, Any]:
    body = response.json()
    return body if isinstance(body, dict) else {}


def _versions(args: argparse.Namespace) -> int:
    response = _call(args, "GET", "/versions")
    if isinstance(response, int):
        return response
    items = _body(response).get("items") or []
    if not items:
        print(f"{args.exercise_id}: no published version (its built-in bundle, version 0, "
              "grades it)")
    for item in items:
        kind = "bundle" if item.get("bundle") else "spec naming built-in functions"
        if item.get("restored_from") is not None:
            kind += f", restored from version {item['restored_from']}"
        if item.get("message"):
            kind += f": {item['message']}"
        print(inert(f"{item.get('version'):>5}  {item.get('created_at')}  {kind}"))
    return EXIT_PASSED


def _restore(args: argparse.Namespace) -> int:
    response = _call(args, "POST", f"/versions/{args.version}/restore")
    if isinstance(response, int):
        return response
    print(f"restored {args.exercise_id} version {args.version} as version "
          f"{_body(response).get('version')}")
    return EXIT_PASSED


def _regrade(args: argparse.Namespace) -> int:
    response = _call(args, "POST", "/regrade")
    if isinstance(response, int):
        return response
    print(f"regrading {args.exercise_id}: {_body(response).get('queued')} submissions queued")
    return EXIT_PASSED


REMOTE = {"versions": _versions, "restore": _restore, "regrade": _regrade}

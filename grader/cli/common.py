"""What the commands share: exit statuses, the catalog and a runner from settings."""

from __future__ import annotations

from typing import TYPE_CHECKING

from grader.catalog.exercises import Catalog
from grader.settings import get_settings

if TYPE_CHECKING:
    pass



EXIT_PASSED, EXIT_FAILED, EXIT_USAGE, EXIT_FAULT, EXIT_UNREACHABLE = 0, 1, 2, 3, 4


EXIT_CODES = f"""exit status:
  {EXIT_PASSED}  success; for grade, every case passed; for validate, every spec proved out
  {EXIT_FAILED}  grade: a case failed; validate: a spec has errors (each with its file and
     line, as push says them) or did not prove out
  {EXIT_USAGE}  a usage error: unknown command, exercise or option, an unreadable file
  {EXIT_FAULT}  the grader itself failed (no safe sandbox here, an unusable secret file)
  {EXIT_UNREACHABLE}  the server could not be reached (push, pull, versions, restore, regrade)"""


def _catalog() -> Catalog:
    settings = get_settings()
    return Catalog(settings.exercises_dir)


def _runner():  # type: ignore[no-untyped-def]
    from grader.service.assembly import runner_from_settings

    return runner_from_settings(get_settings(), 1)


ID_OR_DIR = """ID | DIR: an argument with a path separator or starting with "." is a bundle's folder
(./my_bundle, exercises/conv2d, /abs/path); anything else is an exercise id (conv2d), even
when a folder of that name is in the current directory."""


REMOTE_EXIT_CODES = f"""exit status:
  {EXIT_PASSED}  done
  {EXIT_FAILED}  the server refused (its reasons follow); for push, also: the bundle has
     errors found before sending (said as validate says them); for pull, also: files of the
     folder differ from the version's (see --force)
  {EXIT_USAGE}  a usage error: an unknown option, a bad id, an unreadable or unwritable file
  {EXIT_FAULT}  the server's answer is not what the grader sends
  {EXIT_UNREACHABLE}  the server could not be reached"""

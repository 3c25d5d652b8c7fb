"""A new exercise bundle that validates as it is: ``grader exercises new ID``.

The files show each part of the format (an array drawn at random, fixed values for a visible
case, a scalar given per case, a hidden case, a mistake model and samples with their verdicts)
for an instructor to replace.
"""

from __future__ import annotations

from pathlib import Path

from grader.catalog.spec import REFERENCE_FILE, SAMPLES_DIR, SPEC_FILE

SPEC = '''\
# The exercise's spec: data only. Prove it with `grader exercises validate {folder}`, and grade
# a file against it with `grader exercises try {folder} FILE`.
id = "{id}"                          # the folder's name, and the id platforms send
title = "Scale an array (replace this with your exercise)"
entry_point = "scale"                # the function the learner defines
reference = "scale"                  # the trusted answer: a function of reference.py
statement = """
Write `scale(x, factor)` that returns the 2D array `x` with every value multiplied by the
integer `factor`. Do not modify `x`.
"""

# The entry point's arguments, in order. An array, drawn at random for every submission:
[[arguments]]
name = "x"
dtype = "float64"                    # float64, float32, int64, int32, int16, int8, uint8, uint16
distribution = "normal"              # normal (mean, std) or uniform (low, high)
shape = [4, 5]                       # a default shape; a case may give its own

# A scalar, given by the cases (kind = "int" or "float"):
[[arguments]]
name = "factor"
kind = "int"
value = 2                            # the default; a case may give its own in `values`

# The cases, graded in this order.
[[cases]]
name = "the lesson's example"
values = {{ x = [[1, 2], [3, 4]], factor = 3 }}   # fixed values, for visible cases only

[[cases]]
name = "random 4x5"

[[cases]]
name = "hidden 6x3"
shapes = {{ x = [6, 3] }}
values = {{ factor = -2 }}
visible = false                      # learners see its status and points only

# Known mistakes: functions of reference.py; a wrong output that matches one gets its hint.
[[mistakes]]
code = "added_instead"
function = "added_instead"
hint = "you added the factor to each value; multiply each value by it"

# Solutions in samples/, with the verdict each case must get.
[[samples]]
file = "correct.py"
expect = ["passed", "passed", "passed"]

[[samples]]
file = "added_instead.py"
expect = ["wrong_values", "wrong_values", "wrong_values"]
mistake = "added_instead"
'''

REFERENCE = '''\
"""Trusted reference and mistake models of the {id} exercise (run in the grader, never
shown to learners)."""

import numpy as np


def scale(x: np.ndarray, factor: int) -> np.ndarray:
    return np.asarray(x, dtype=np.float64) * factor


def added_instead(x: np.ndarray, factor: int) -> np.ndarray:
    """The factor added to each value instead of multiplying it."""
    return np.asarray(x, dtype=np.float64) + factor
'''

SAMPLES = {
    "correct.py": '''\
def scale(x, factor):
    return x * factor
''',
    "added_instead.py": '''\
def scale(x, factor):
    return x + factor
''',
}


def bundle_files(exercise_id: str, folder: str | None = None) -> dict[str, str]:
    """The new bundle's files, by path in the bundle (the example of ``PUT /v1/exercises``
    too). ``folder``: where the spec's comment says it is; its id by default."""
    return {
        SPEC_FILE: SPEC.format(id=exercise_id, folder=folder or exercise_id),
        REFERENCE_FILE: REFERENCE.format(id=exercise_id),
        **{f"{SAMPLES_DIR}/{name}": text for name, text in SAMPLES.items()},
    }


def new_bundle(folder: Path) -> list[Path]:
    """Write a new bundle into ``folder`` (which must not exist); its id is the folder's
    name. Returns the files written."""
    folder.mkdir(parents=True)
    (folder / SAMPLES_DIR).mkdir()
    written = []
    for name, text in bundle_files(folder.name, str(folder)).items():
        path = folder / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written

"""What a child's answers mean, and the frames that carry a case to it: every byte a child
wrote is taken as a lie until parsed, and what cannot be read is a verdict, never an exception.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from grader.sandbox import frames
from grader.sandbox.base import (
    CHILD_INVALID,
    INVALID_PARAMS,
    CaseRun,
    Cause,
    Invalid,
    Job,
    LearnerError,
    RunResult,
    redact,
)


def error_run(error: LearnerError) -> CaseRun:
    """An exception of learner code; running out of memory has a status of its own."""
    return CaseRun(kind="memory_limit" if error.type.endswith("MemoryError") else "error",
                   error=error)


def fill(result: RunResult, job: Job, outcome: CaseRun) -> None:
    while len(result.cases) < len(job.cases):
        result.cases.append(dataclasses.replace(outcome, params=dict(outcome.params)))


def case_frame(index: int, args: tuple[np.ndarray, ...], max_elements: int) -> bytes:
    """A case's inputs for a child, with the most output elements it may send back (more is
    refused by the grader whatever the child does; the child says so in a clearer way)."""
    metas = []
    bodies = []
    for arg in args:
        arg = np.asarray(arg, order="C")  # a 0-d array (a scalar argument) stays 0-d
        metas.append({"dtype": arg.dtype.str, "shape": list(arg.shape)})
        bodies.append(arg.tobytes())
    return frames.encode({"type": "case", "index": index, "args": metas,
                          "max_elements": max_elements}, b"".join(bodies))


def case_run(frame: tuple[dict[str, Any], bytes], index: int, max_elements: int) -> CaseRun:
    """Turn a child's answer for case ``index`` into a CaseRun, trusting none of it."""
    header, body = frame
    kind = header.get("type")
    answered = header.get("index")
    if type(answered) is not int or answered != index:  # not True for 1, nor 2.0 for 2
        return CaseRun(kind="crashed", cause=Cause.PROTOCOL)
    mutated = header.get("mutated") is True
    output_type = header.get("output_type")
    output_type = output_type[:60] if isinstance(output_type, str) else None
    if kind == "error":
        return error_run(LearnerError.from_header(header.get("error")))
    if kind == "invalid":
        invalid, params = invalid_reason(header.get("why"), header.get("params"))
        return CaseRun(kind="invalid", output_type=output_type, mutated=mutated,
                       invalid=invalid, params=params)
    if kind == "result":
        try:
            output = frames.decode_array(header, body, max_elements)
        except (frames.FrameError, ValueError, TypeError, OverflowError) as error:
            return CaseRun(kind="invalid", invalid=Invalid.UNREADABLE, params=unreadable(error))
        return CaseRun(kind="output", array=output, output_type=output_type, mutated=mutated)
    return CaseRun(kind="crashed", cause=Cause.PROTOCOL)


def unreadable(error: Exception) -> dict[str, str | int]:
    """The facts of a frame that could not be read; what the child chose is redacted, cut."""
    if isinstance(error, frames.FrameError):
        params = {key: redact(value)[:80] if isinstance(value, str) else value
                  for key, value in error.params.items()}
        return {"fault": str(error.fault), **params}
    return {"fault": str(frames.Fault.MALFORMED)}


def invalid_reason(why: object, params: object) -> tuple[Invalid, dict[str, str | int]]:
    """A child's reason for an unusable output: a known code with exactly its parameters, each
    of its declared type (texts redacted and cut short), or UNUSABLE."""
    if not isinstance(why, str) or why not in CHILD_INVALID or not isinstance(params, dict):
        return Invalid.UNUSABLE, {}
    invalid = Invalid(why)
    kept: dict[str, str | int] = {}
    for name, kind in INVALID_PARAMS[invalid].items():
        value = params.get(name)
        if kind is str and isinstance(value, str):
            kept[name] = redact(value)[:60]
        elif kind is int and type(value) is int and 0 <= value < 1 << 63:
            kept[name] = value
        else:
            return Invalid.UNUSABLE, {}
    return invalid, kept

"""How a child's end and its unreadable bytes read to a learner: the signal that ended it, and
why a result's frame could not be read (``grader.sandbox.frames``' faults, with their facts)."""

from __future__ import annotations

from collections.abc import Mapping

SIGNAL_NAMES: dict[int, str] = {
    6: "it aborted (SIGABRT)",
    7: "a bus error (SIGBUS)",
    8: "an arithmetic fault (SIGFPE)",
    11: "a segmentation fault (SIGSEGV), often from unbounded recursion",
}
OTHER_SIGNAL = "signal {number}"

# Why the bytes of a result could not be read, by frames.Fault, with that fault's facts
FRAME_FAULTS: dict[str, str] = {
    "bad_magic": "bad frame magic",
    "header_too_long": "frame header of {size} bytes is over the limit",
    "body_too_long": "frame body of {size} bytes is over the limit",
    "header_not_json": "frame header is not JSON",
    "header_not_object": "frame header is not a JSON object",
    "dtype": "unsupported dtype '{dtype}'",
    "shape": "shape is not a short list of non-negative integers",
    "too_many": "array of {count} elements is over the limit of {limit}",
    "body_size": "body is {size} bytes but dtype {dtype} and shape {shape} need {need}",
    "malformed": "the frame is malformed",
}


def frame_fault(params: Mapping[str, object]) -> str:
    """A frame fault in words; a fault or a fact that is missing reads as malformed."""
    template = FRAME_FAULTS.get(str(params.get("fault")), FRAME_FAULTS["malformed"])
    try:
        return template.format(**params)
    except (KeyError, IndexError, ValueError):
        return FRAME_FAULTS["malformed"]


def signal_name(number: int) -> str:
    return SIGNAL_NAMES.get(number) or OTHER_SIGNAL.format(number=number)

"""What runs inside the sandboxed child, after confinement: load the submission, run cases.

The child only computes. It reads frames from fd 0 (the source and the visible cases, then the
hidden cases once every visible one is answered), and writes one frame per step to fd 3.
It never decides a verdict: the parent compares what arrives, and treats every byte as a
possible lie. Learner code runs in this process and may replace anything here; that can only
change the bytes it sends, never what the parent concludes from them.
"""

from __future__ import annotations

import builtins
import contextlib
import os
import sys
import time
import traceback
import types
from typing import Any, NoReturn

import numpy as np

from grader.sandbox import confine, frames
from grader.sandbox.base import SUBMISSION_FILE as FILENAME
from grader.sandbox.base import source_lines

IN_FD = 0
RESULT_FD = 3
MAX_TEXT = 500
# The CPU seconds this process took to be confined (set by the zygote's fork): sent with the
# greeting, for the benchmark's account only (the grader reads the child's CPU time itself).
CONFINED_CPU = 0.0
# Whether to warm up before the greeting (set by the zygote's fork): a child that a job is
# already waiting for, or that a busy grader forks ahead, has no idle time to warm up in.
WARM = False


def _write_all(fd: int, data: bytes | memoryview) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _send(header: dict[str, Any], body: bytes = b"") -> None:
    _flush_std()
    _write_all(RESULT_FD, frames.encode(header, body))


def _flush_std() -> None:
    for stream in (sys.stdout, sys.stderr):
        # learner code may have replaced or closed the stream
        with contextlib.suppress(Exception):
            stream.flush()


class _Reader:
    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.decoder = frames.Decoder(max_body=1 << 30)
        self.ready: list[tuple[dict[str, Any], bytes]] = []

    def next(self) -> tuple[dict[str, Any], bytes]:
        while not self.ready:
            data = os.read(self.fd, 1 << 16)
            if not data:
                os._exit(0)
            self.ready.extend(self.decoder.feed(data))
        return self.ready.pop(0)


def _short(text: str) -> str:
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 3] + "..."


def describe(error: BaseException, source_lines: list[str]) -> dict[str, Any]:
    """Type, message and the learner's own line: no frames of the grader, no paths."""
    kind = type(error)
    name = kind.__name__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__name__}"
    try:
        message = str(error)
    except Exception:  # noqa: BLE001 - a learner's __str__ may raise
        message = "<the exception's message could not be shown>"
    line = None
    if isinstance(error, SyntaxError) and error.filename == FILENAME:
        line = error.lineno
        message = error.msg
    for frame, lineno in traceback.walk_tb(error.__traceback__):
        if frame.f_code.co_filename == FILENAME:
            line = lineno
    text = None
    if line is not None and 0 < line <= len(source_lines):
        text = source_lines[line - 1].strip()
    return {"type": _short(name), "message": _short(message), "line": line,
            "text": _short(text) if text else None}


def _defined_callables(namespace: dict[str, Any]) -> list[str]:
    return sorted(
        name for name, value in namespace.items()
        if not name.startswith("__") and isinstance(value, types.FunctionType | type)
    )[:20]


def _items(output: tuple[Any, ...]) -> dict[str, Any]:
    """A tuple that is no array: how many items, and what the first is."""
    return {"count": len(output), "first": type(output[0]).__name__[:60] if output else ""}


def _convert(output: object) -> tuple[str, np.ndarray | None, str, dict[str, Any]]:
    """(accepted type, array, why, parameters). The array is None when the output is unusable;
    then ``why`` is a reason code of ``grader.sandbox.base.Invalid`` (this module imports none
    of the grader but frames, so the codes are spelled here) with its parameters."""
    if isinstance(output, np.ndarray):
        kind = "ndarray"
        array = np.asarray(output).view(np.ndarray)
    elif isinstance(output, list | tuple):
        kind = "list"
        try:
            array = np.array(output)
        except (ValueError, TypeError, RecursionError, MemoryError) as error:
            if isinstance(output, tuple):  # ``return out, cache``
                return kind, None, "tuple", _items(output)
            return kind, None, "not_an_array", {"error": type(error).__name__}
        if isinstance(output, tuple) and array.dtype.kind not in "iuf":
            return kind, None, "tuple", _items(output)
    elif isinstance(output, int | float | np.integer | np.floating) \
            and not isinstance(output, bool):
        kind = "number"
        try:
            array = np.asarray(output)
        except (ValueError, TypeError, OverflowError) as error:
            return kind, None, "not_an_array", {"error": type(error).__name__}
    else:
        return type(output).__name__[:60], None, "type", {"type": type(output).__name__[:60]}
    if array.dtype.kind in "iuf" and not array.dtype.isnative:
        array = array.astype(array.dtype.newbyteorder("="))
    if array.dtype.kind == "f" and array.dtype.itemsize > 8:  # longdouble: frames carry float64
        array = array.astype(np.float64)
    if array.dtype.kind not in "iuf":
        return kind, None, "elements", {"kind": array.dtype.kind, "dtype": str(array.dtype)[:60]}
    return kind, array, "", {}


# What a job touches, and no more: the compiler (the child compiles the learner's source), a
# function's call, slices and an arithmetic of arrays, a loop that sums a window and assigns an
# element (the two ways learners write this kind of exercise), then the harness's own path: a
# case's frame decoded, answered and encoded. Each page touched here is a page copied in every
# child, used or not: a longer warm-up (a 4x4 loop whose result went through lists, then a
# collection) cost 0.2 ms more of each child's CPU, and took no more off the job's.
_WARM_UP = """
import numpy as np
def f(a, b):
    out = a[:-2, :-2] * b[0, 0]
    for i in range(2):
        out[i, 0] = np.sum(a[i:i + 3, 0:3] * b)
    return out
"""


def _warm_up() -> None:
    """Touch, while idle, what a job touches: memory shared with the zygote is copied on first
    write, and paying for that before the source arrives keeps it off the clock."""
    namespace: dict[str, Any] = {}
    exec(compile(_WARM_UP, "warm-up", "exec"), namespace)
    args = (np.ones((6, 6)), np.ones((3, 3)))
    metas = [{"dtype": a.dtype.str, "shape": list(a.shape)} for a in args]
    data = frames.encode({"type": "case", "index": 0, "args": metas, "max_elements": 1 << 10},
                         b"".join(a.tobytes() for a in args))
    [(header, body)] = frames.Decoder(1 << 16).feed(data)
    _answer(namespace["f"], header, body, [])
    namespace.clear()  # the function and its globals referred to each other


def _answer(function: Any, header: dict[str, Any], body: bytes,
            lines: list[str]) -> list[bytes | memoryview]:
    """Run one case and return the frame that answers it, in parts to write in order."""
    index = header["index"]
    max_elements = int(header["max_elements"])
    args = []
    offset = 0
    for meta in header["args"]:
        dtype = np.dtype(meta["dtype"])
        count = int(np.prod(meta["shape"], dtype=np.int64))
        size = count * dtype.itemsize
        array = np.frombuffer(body[offset : offset + size], dtype=dtype).reshape(meta["shape"])
        # a 0-d array is a scalar argument (a stride, a padding): a Python number
        args.append(array.item() if array.ndim == 0 else array.copy())
        offset += size
    originals = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
    started = time.perf_counter()
    try:
        output = function(*args)
    except BaseException as error:  # noqa: BLE001 - any failure of learner code is reported
        return [frames.encode({"type": "error", "index": index,
                               "error": describe(error, lines)})]
    seconds = time.perf_counter() - started
    mutated = any(
        isinstance(o, np.ndarray)
        and not (a.shape == o.shape and np.array_equal(a, o, equal_nan=True))
        for a, o in zip(args, originals, strict=True)
    )
    try:
        kind, converted, why, params = _convert(output)
    except BaseException as error:  # noqa: BLE001 - conversion runs learner hooks
        return [frames.encode({"type": "error", "index": index,
                               "error": describe(error, lines)})]
    if converted is not None and converted.size > max_elements:
        why, params = "too_large", {"count": int(converted.size), "limit": max_elements,
                                    "shape": str(converted.shape)[:60]}
        converted = None
    if converted is None:
        return [frames.encode({"type": "invalid", "index": index, "output_type": kind,
                               "why": why, "params": params, "mutated": mutated,
                               "seconds": seconds})]
    return frames.encode_array_parts(
        {"type": "result", "index": index, "output_type": kind, "mutated": mutated,
         "seconds": seconds}, converted)


def _forget_grader_modules() -> None:
    """Learner code cannot import the grader: its files are unreadable, and what the zygote
    loaded is dropped from the module table (the harness keeps its own references). The
    zygote does it once, before it serves: a child that did it would copy every page the
    module table's names lie on."""
    for name in [n for n in sys.modules if n == "grader" or n.startswith("grader.")]:
        del sys.modules[name]


def serve() -> NoReturn:
    if WARM:
        _warm_up()
    _send({"type": "warm", "confined": round(CONFINED_CPU, 6), "warmed": WARM})
    reader = _Reader(IN_FD)
    header, body = reader.next()
    confine.lower_limits(int(header["cpu"]), int(header["memory"]))
    entry = str(header.get("entry"))
    source = body.decode("utf-8", errors="replace")
    lines = source_lines(source)
    namespace: dict[str, Any] = {"__name__": "submission", "__builtins__": builtins}
    try:
        exec(compile(source, FILENAME, "exec"), namespace)
    except BaseException as error:  # noqa: BLE001 - any failure of learner code is reported
        _send({"type": "load_error", "error": describe(error, lines)})
        os._exit(0)
    function = namespace.get(entry)
    if not callable(function):
        _send({"type": "missing", "found": _defined_callables(namespace)})
        os._exit(0)
    _send({"type": "ready"})
    while True:
        header, body = reader.next()
        if header.get("type") != "case":
            os._exit(0)
        parts = _answer(function, header, body, lines)
        _flush_std()
        for part in parts:
            _write_all(RESULT_FD, part)


def main() -> NoReturn:
    try:
        serve()
    except BaseException:  # noqa: BLE001 - the harness itself must never print a grader traceback
        os._exit(70)

"""Case inputs, drawn fresh for every submission from a seed that the report records.

A visible case's inputs come from the seed alone, so anyone with a report can draw them again.
A hidden case's come from the seed and the server's secret (``grader.service.secret``): the
seed in a report, which the learner sees, does not give them away.

A visible case may fix an array's values in its spec (the lesson's example), and a scalar
argument (an int such as a stride) is always given by the spec; a scalar travels as a 0-d
array and reaches the called function as a Python number (``call_args``). A hidden case's
arrays are always drawn, never fixed.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

import numpy as np

from grader.catalog.spec import INTEGER_DTYPES, Argument, ExerciseSpec

MIN_SECRET_BYTES = 16
Arguments = tuple[np.ndarray, ...]  # one case's arguments, in the entry point's order


def new_seed() -> int:
    return secrets.randbits(63)


def _draw(rng: np.random.Generator, argument: Argument, shape: tuple[int, ...]) -> np.ndarray:
    if argument.dtype in INTEGER_DTYPES and argument.dtype != "int64":
        # whole numbers from low to high, both included (int64 keeps its older rounding)
        whole = rng.integers(int(argument.low), int(argument.high), size=shape, endpoint=True)
        return whole.astype(argument.dtype)
    if argument.distribution == "normal":
        values = rng.normal(argument.mean, argument.std, size=shape)
    else:
        values = rng.uniform(argument.low, argument.high, size=shape)
    if argument.dtype == "int64":
        return np.rint(values).astype(np.int64)
    return values.astype(argument.dtype)


def hidden_entropy(secret: bytes, exercise_id: str, seed: int, index: int) -> int:
    """The seed of a hidden case's generator: HMAC-SHA256 of the exercise, seed and case index
    under the secret, its first 16 bytes as an integer."""
    message = f"{exercise_id}\x00{seed}\x00{index}".encode()
    return int.from_bytes(hmac.digest(secret, message, hashlib.sha256)[:16], "big")


def case_arguments(spec: ExerciseSpec, seed: int, secret: bytes) -> list[Arguments]:
    """One tuple of arguments per case, in order. Each case has its own stream: of the seed for
    a visible case, of the seed and ``secret`` for a hidden one."""
    if len(secret) < MIN_SECRET_BYTES:
        raise ValueError(f"the hidden-input secret must be at least {MIN_SECRET_BYTES} bytes")
    cases = []
    for index, case in enumerate(spec.cases):
        entropy = [seed, index] if case.visible else hidden_entropy(secret, spec.id, seed, index)
        # what np.random.default_rng(entropy) makes, without its dispatch
        rng = np.random.Generator(np.random.PCG64(entropy))
        args = []
        for argument in spec.arguments:
            fixed = spec.fixed_value(case, argument)
            args.append(_draw(rng, argument, spec.shape_of(case, argument)) if fixed is None
                        else fixed)
        cases.append(tuple(args))
    return cases


def call_args(args: Arguments) -> tuple[object, ...]:
    """Arguments as a function is called with them: each array a fresh copy, and each
    scalar (a 0-d array) a Python int or float."""
    return tuple(a.item() if a.ndim == 0 else a.copy() for a in args)

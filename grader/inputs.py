"""Case inputs, drawn fresh for every submission from a seed that the report records.

A visible case's inputs come from the seed alone, so anyone with a report can draw them again.
A hidden case's come from the seed and the server's secret (``grader.secret``): the seed in a
report, which the learner sees, does not give them away.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

import numpy as np

from grader.spec import Argument, ExerciseSpec

MIN_SECRET_BYTES = 16


def new_seed() -> int:
    return secrets.randbits(63)


def _draw(rng: np.random.Generator, argument: Argument, shape: tuple[int, ...]) -> np.ndarray:
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


def case_arguments(
    spec: ExerciseSpec, seed: int, secret: bytes
) -> list[tuple[np.ndarray, ...]]:
    """One tuple of arguments per case, in order. Each case has its own stream: of the seed for
    a visible case, of the seed and ``secret`` for a hidden one."""
    if len(secret) < MIN_SECRET_BYTES:
        raise ValueError(f"the hidden-input secret must be at least {MIN_SECRET_BYTES} bytes")
    cases = []
    for index, case in enumerate(spec.cases):
        entropy = [seed, index] if case.visible else hidden_entropy(secret, spec.id, seed, index)
        rng = np.random.default_rng(entropy)
        cases.append(tuple(_draw(rng, a, spec.shape_of(case, a)) for a in spec.arguments))
    return cases

"""A pushed bundle's outputs, computed in the sandbox: the pool its submissions are graded with.

A pushed bundle's ``reference.py`` is code from an upload. It never runs in the grader's
process: a function of it is "source + entry point", run by the runner that runs learner code,
with the spec's limits, in children of its own (never one that runs learner code), and what
comes back is parsed as any child's output is, as hostile bytes.

When a bundle is published, its reference and every mistake model (alone, and in pairs of
different stages) run there once for a pool of ``POOL_SEEDS`` seeds; the reference runs twice,
and must give the same outputs. The outputs are stored with the version, and a submission of it
is graded with a seed of the pool, compared with them: grading a pushed exercise calls no code
but the learner's, and costs what grading a built-in one does.

Hidden inputs are drawn with the server's secret (``grader.grading.inputs``), so a pool belongs
to one secret. It is stored under the secret's fingerprint (an HMAC of a label under the secret,
which does not give the secret away). A process with another secret (the secret was replaced, or a
worker was given another one) computes the pool for its own secret the first time it grades
that version, with the same seeds, and stores it beside the first.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import signal
import struct
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from grader.catalog.bundle import BundleFiles
from grader.catalog.exercises import REFERENCE_FILE, function_name
from grader.catalog.spec import MAX_ELEMENTS, ExerciseSpec
from grader.errors import InvalidInput
from grader.grading.inputs import case_arguments, new_seed
from grader.grading.oracle import Arguments, model_codes
from grader.sandbox.base import (
    CaseInput,
    CaseRun,
    Job,
    LearnerError,
    RunLimits,
    Runner,
    SandboxError,
)

if TYPE_CHECKING:
    from grader.storage.store import Store

log = logging.getLogger("grader.grading.pool")

POOL_SEEDS = 32
MIN_POOL_SEEDS = 4  # fewer, when the outputs would not fit POOL_BYTES, is refused
POOL_BYTES = 8 << 20  # the stored outputs of one version, for one secret
PROVE_SECONDS = 60.0  # computing a pool (and, when publishing, proving the bundle) takes at most
ENTRY = "__pushed_model__"
MAGIC = b"GPL1"
_HEADER = struct.Struct("<4sI")
Key = tuple[int, int]  # (seed, case index)


class PoolRefused(InvalidInput):
    """The bundle's code did not give a pool: each problem names the function, the case, and
    for an exception reference.py's line."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


class PoolUnavailable(SandboxError):
    """A stored version's pool for this secret could not be computed (a grader fault)."""


@dataclass
class Pool:
    seeds: list[int]
    expected: dict[Key, np.ndarray]  # every case's expected output, float64
    # visible cases only: each mistake model's output, None where it raised (does not apply)
    mistakes: dict[Key, list[tuple[str, np.ndarray | None]]]

    def nbytes(self) -> int:
        return sum(a.nbytes for a in self.expected.values()) + sum(
            a.nbytes for outs in self.mistakes.values() for _, a in outs if a is not None)


def fingerprint(secret: bytes) -> str:
    """Which secret a pool was computed with, without giving the secret away."""
    return hmac.new(secret, b"grader: pool of pushed outputs", hashlib.sha256).hexdigest()[:32]


def draw_seeds(count: int = POOL_SEEDS) -> list[int]:
    return sorted({new_seed() for _ in range(count)})


class PoolOracle:
    """Expected and mistake outputs read from a pool; a seed not in it is mapped to one."""

    def __init__(self, pool: Pool) -> None:
        self.pool = pool
        self._seeds = set(pool.seeds)

    def seed(self, seed: int) -> int:
        return seed if seed in self._seeds else self.pool.seeds[seed % len(self.pool.seeds)]

    def expected(self, seed: int, arguments: list[Arguments]) -> list[np.ndarray]:
        return [self.pool.expected[(seed, i)] for i in range(len(arguments))]

    def mistakes(self, seed: int, index: int, args: Arguments) -> Iterator[tuple[str, np.ndarray]]:
        for code, output in self.pool.mistakes.get((seed, index), []):
            if output is not None:
                yield code, output


# -- running a bundle's functions in the sandbox -----------------------------------------------

def model_source(reference: str, spec: ExerciseSpec, codes: tuple[str, ...]) -> str:
    """reference.py as it is (so that an error's line is the file's own), then the entry point:
    the reference (no codes), or mistakes composed as a built-in bundle's are (input, then the
    model or the reference, then output)."""
    stages = {m.code: (m.stage, function_name(m.function)) for m in spec.mistakes}
    by_stage = dict(stages[c] for c in codes)
    body = [f"def {ENTRY}(*args):"]
    if "input" in by_stage:
        body.append(f"    args = tuple({by_stage['input']}(*args))")
    body.append(f"    output = {by_stage.get('model', function_name(spec.reference))}(*args)")
    if "output" in by_stage:
        body.append(f"    output = {by_stage['output']}(__import__('numpy').asarray(output, "
                    "dtype=float))")
    body.append("    return output")
    return reference.rstrip("\n") + "\n\n\n" + "\n".join(body) + "\n"


def _signal_name(number: int) -> str:
    try:
        name = signal.Signals(number).name
    except ValueError:
        return f"signal {number}"
    if name == "SIGSYS":
        return "SIGSYS: a system call the sandbox forbids (files, processes, the network)"
    return name


_LIMITS = {"case_time": "the case's time limit", "total_time": "the time left for its runs",
           "cpu": "its CPU time", "memory": "its memory limit"}


def _failure(run: CaseRun, reference_lines: int) -> tuple[str, str]:
    """Where (``reference.py:LINE: ``, or nothing) and what went wrong in one case of a
    bundle's function, for the instructor."""
    if run.kind == "error" and run.error is not None:
        error = run.error
        inside = error.line is not None and error.line <= reference_lines
        where = f"{REFERENCE_FILE}:{error.line}: " if inside else ""
        return where, f"raised {error.type}: {error.message}"
    if run.kind == "timeout":
        limit = _LIMITS.get(str(run.limit), "its time limit")
        return "", f"ran past {limit}" + (f" ({run.limit_value:g} s)" if run.limit_value else "")
    if run.kind == "memory_limit":
        return "", "went over the memory limit"
    if run.kind == "crashed":
        if run.signal is not None:
            return "", f"was killed by {_signal_name(run.signal)}"
        if run.exit_status is not None:
            return "", f"exited with status {run.exit_status}"
        return "", f"stopped answering ({run.cause or 'crashed'})"
    if run.kind == "invalid":
        return "", f"gave an output that is not an array of numbers ({run.invalid}: {run.params})"
    return "", "gave no output"


def _load_problem(error: LearnerError, reference_lines: int) -> str:
    inside = error.line is not None and error.line <= reference_lines
    where = f"{REFERENCE_FILE}:{error.line}" if inside else REFERENCE_FILE
    return f"{where}: {REFERENCE_FILE} does not load in the sandbox: {error.type}: {error.message}"


class _Functions:
    """Runs one bundle's functions on cases of the pool's seeds, within one deadline."""

    def __init__(self, spec: ExerciseSpec, reference: str, runner: Runner, secret: bytes,
                 deadline: float) -> None:
        self.spec = spec
        self.reference = reference
        self.lines = len(reference.splitlines())
        self.runner = runner
        self.deadline = deadline
        self.secret = secret
        self.arguments: dict[int, list[Arguments]] = {}
        self.max_elements = MAX_ELEMENTS

    def args(self, seed: int) -> list[Arguments]:
        if seed not in self.arguments:
            self.arguments[seed] = case_arguments(self.spec, seed, self.secret)
        return self.arguments[seed]

    def run(self, codes: tuple[str, ...], seeds: Iterable[int], cases: Iterable[int],
            what: str, errors_apply: bool) -> dict[Key, np.ndarray | None]:
        """Each (seed, case)'s output as float64; with ``errors_apply``, None where the
        function raised (a mistake model that does not apply there). Raises PoolRefused."""
        spec = self.spec
        keys = [(seed, i) for seed in seeds for i in cases]
        if not keys:
            return {}
        keys.sort(key=lambda k: not spec.cases[k[1]].visible)  # visible inputs first
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise PoolRefused([f"running the bundle's functions took longer than "
                               f"{PROVE_SECONDS:g} s"])
        limits = spec.limits
        job = Job(
            source=model_source(self.reference, spec, codes), entry_point=ENTRY,
            cases=[CaseInput(self.args(s)[i], hidden=not spec.cases[i].visible)
                   for s, i in keys],
            limits=RunLimits(limits.case_seconds, max(left, limits.case_seconds),
                             limits.memory_mb, scratch_bytes=limits.scratch_kb * 1024,
                             scratch_files=limits.scratch_files),
            max_output_elements=self.max_elements)
        result = self.runner.run(job)
        if result.load_error is not None:
            raise PoolRefused([_load_problem(result.load_error, self.lines)])
        outputs: dict[Key, np.ndarray | None] = {}
        for (seed, i), run in zip(keys, result.cases, strict=True):
            case = spec.cases[i].name
            if run.kind == "error" and errors_apply:
                outputs[(seed, i)] = None
                continue
            if run.kind != "output" or run.array is None:
                where, failure = _failure(run, self.lines)
                raise PoolRefused([f"{where}{what} {failure}, on case {case!r} (seed {seed})"])
            array = np.asarray(run.array, dtype=np.float64)
            if not np.isfinite(array).all():
                raise PoolRefused([f"{what} gives non-finite values on case {case!r} "
                                   f"(seed {seed})"])
            outputs[(seed, i)] = array
        return outputs


def compute_pool(spec: ExerciseSpec, reference: str, runner: Runner, secret: bytes,
                 seeds: list[int], *, deadline: float, twice: bool = True) -> Pool:
    """Run the reference (``twice``: two times, which must agree) and every mistake model on
    the pool's seeds, in the sandbox. Each function runs first on the first seed alone, so
    that one that hangs or fails costs one run. The pool may keep fewer seeds than given when
    the outputs would not fit ``POOL_BYTES``. Raises PoolRefused with the reasons."""
    every = range(len(spec.cases))
    visible = [i for i in every if spec.cases[i].visible]
    run = _Functions(spec, reference, runner, secret, deadline)
    reference_name = f"the reference {function_name(spec.reference)!r}"
    first: dict[Key, np.ndarray | None] = {}
    for i in every:  # a case at a time: a reference that hangs costs one case's time limit
        first.update(run.run((), seeds[:1], [i], reference_name, errors_apply=False))
    largest = max(a.size for a in first.values() if a is not None)
    run.max_elements = min(max(16 * largest, 1 << 16), MAX_ELEMENTS)
    models = model_codes(spec)
    per_seed = 8 * sum(a.size for a in first.values() if a is not None) * (1 + len(models))
    keep = min(len(seeds), POOL_BYTES // max(per_seed, 1))
    if keep < MIN_POOL_SEEDS:
        raise PoolRefused([f"the outputs are too large to keep for {MIN_POOL_SEEDS} seeds "
                           f"(about {per_seed} bytes a seed, with the mistakes'; at most "
                           f"{POOL_BYTES} in all)"])
    seeds = seeds[:keep]
    expected = {**first, **run.run((), seeds[1:], every, reference_name, errors_apply=False)}
    if twice:
        again = run.run((), seeds, every, reference_name, errors_apply=False)
        for (seed, i), output in expected.items():
            other = again[(seed, i)]
            if other is None or output is None or not np.array_equal(output, other):
                raise PoolRefused([f"{reference_name} is not deterministic: case "
                                   f"{spec.cases[i].name!r} (seed {seed}) gave other outputs "
                                   "when run again"])
    mistakes: dict[Key, list[tuple[str, np.ndarray | None]]] = {
        (seed, i): [] for seed in seeds for i in visible}
    for codes in models:
        what = f"mistake {'+'.join(codes)!r}"
        outputs = run.run(codes, seeds[:1], visible, what, errors_apply=True)
        outputs.update(run.run(codes, seeds[1:], visible, what, errors_apply=True))
        for key, output in outputs.items():
            mistakes[key].append(("+".join(codes), output))
    pool = Pool(seeds, {k: v for k, v in expected.items() if v is not None}, mistakes)
    if pool.nbytes() > 2 * POOL_BYTES:
        raise PoolRefused([f"the outputs are too large to keep: {pool.nbytes()} bytes for "
                           f"{len(seeds)} seeds (at most {2 * POOL_BYTES})"])
    return pool


# -- stored as bytes ---------------------------------------------------------------------------

def encode(pool: Pool) -> bytes:
    """``GPL1 | u32 header length | JSON header | float64 bodies``: no pickle."""
    entries: list[list[object]] = []
    bodies: list[bytes] = []
    for (seed, i), array in pool.expected.items():
        entries.append([seed, i, None, list(array.shape)])
        bodies.append(np.ascontiguousarray(array, dtype="<f8").tobytes())
    for (seed, i), outputs in pool.mistakes.items():
        for code, output in outputs:
            entries.append([seed, i, code, None if output is None else list(output.shape)])
            if output is not None:
                bodies.append(np.ascontiguousarray(output, dtype="<f8").tobytes())
    header = json.dumps({"seeds": pool.seeds, "entries": entries}).encode()
    return _HEADER.pack(MAGIC, len(header)) + header + b"".join(bodies)


def decode(blob: bytes) -> Pool:
    """A stored pool. Raises ValueError when the bytes are not one."""
    if len(blob) < _HEADER.size:
        raise ValueError("a stored pool too short")
    magic, size = _HEADER.unpack_from(blob)
    if magic != MAGIC or _HEADER.size + size > len(blob):
        raise ValueError("not a stored pool")
    header = json.loads(blob[_HEADER.size:_HEADER.size + size])
    offset = _HEADER.size + size
    expected: dict[Key, np.ndarray] = {}
    mistakes: dict[Key, list[tuple[str, np.ndarray | None]]] = {}
    for seed, index, code, shape in header["entries"]:
        array = None
        if shape is not None:
            count = int(np.prod(shape, dtype=np.int64))
            end = offset + 8 * count
            if end > len(blob):
                raise ValueError("a stored pool cut short")
            array = np.frombuffer(blob[offset:end], dtype="<f8").reshape(shape).astype(
                np.float64)
            offset = end
        if code is None:
            if array is None:
                raise ValueError("a stored pool without an expected output")
            expected[(int(seed), int(index))] = array
        else:
            mistakes.setdefault((int(seed), int(index)), []).append((str(code), array))
    if offset != len(blob):
        raise ValueError("a stored pool with bytes left over")
    return Pool([int(s) for s in header["seeds"]], expected, mistakes)


# -- a published version's code and pools --------------------------------------------------------

class Pushed:
    """A published version of a pushed bundle: its files, and its pools by secret."""

    def __init__(self, exercise_id: str, version: int, bundle: BundleFiles,
                 store: Store | None, pools: dict[str, Pool] | None = None) -> None:
        self.exercise_id = exercise_id
        self.version = version
        self.bundle = bundle
        self.store = store
        self._oracles = {key: PoolOracle(pool) for key, pool in (pools or {}).items()}
        self._lock = threading.Lock()

    def oracle(self, spec: ExerciseSpec, runner: Runner, secret: bytes) -> PoolOracle:
        key = fingerprint(secret)
        with self._lock:
            oracle = self._oracles.get(key)
            if oracle is None:
                oracle = self._oracles[key] = PoolOracle(self._pool(spec, runner, secret, key))
        return oracle

    def _pool(self, spec: ExerciseSpec, runner: Runner, secret: bytes, key: str) -> Pool:
        seeds = None
        if self.store is not None:
            blob = self.store.pool(self.exercise_id, self.version, key)
            if blob is not None:
                return decode(blob)
            seeds = self.store.pool_seeds(self.exercise_id, self.version)
        log.warning("computing the outputs of %s version %d for this server's secret",
                    self.exercise_id, self.version)
        try:
            pool = compute_pool(spec, self.bundle.reference, runner, secret,
                                seeds or draw_seeds(),
                                deadline=time.monotonic() + PROVE_SECONDS, twice=False)
        except PoolRefused as refused:
            raise PoolUnavailable(f"the outputs of exercise {self.exercise_id} version "
                                  f"{self.version} could not be computed for this server's "
                                  f"secret: {refused}") from None
        if self.store is not None:
            self.store.save_pool(self.exercise_id, self.version, key, pool.seeds, encode(pool))
        return pool

"""A pushed bundle's pool: its outputs computed in the sandbox are the ones the same code gives
when trusted, they survive storage as bytes, and grading reads them."""

from __future__ import annotations

import time

import numpy as np
import pytest

from grader.catalog.bundle import BundleFiles, parse_bundle
from grader.catalog.exercises import Exercise
from grader.catalog.spec import SpecError
from grader.grading.inputs import case_arguments
from grader.grading.oracle import TrustedOracle
from grader.grading.pool import PoolOracle, compute_pool, decode, encode
from grader.sandbox.forkserver import ForkServerRunner
from tests.conftest import EXERCISES, HIDDEN_SECRET

pytestmark = pytest.mark.processes


def test_the_pool_holds_what_the_trusted_code_gives(conv2d: Exercise,
                                                    runner: ForkServerRunner) -> None:
    bundle = BundleFiles.read(EXERCISES / "conv2d")
    spec = parse_bundle("conv2d", bundle)
    pool = compute_pool(spec, bundle.reference, runner, HIDDEN_SECRET, [11, 12, 13, 14],
                        deadline=time.monotonic() + 60)
    assert pool.seeds == [11, 12, 13, 14]
    trusted, stored = TrustedOracle(conv2d), PoolOracle(decode(encode(pool)))
    for seed in pool.seeds:
        arguments = case_arguments(spec, seed, HIDDEN_SECRET)
        for want, got in zip(trusted.expected(seed, arguments),
                             stored.expected(seed, arguments), strict=True):
            np.testing.assert_array_equal(want, got)
        for index, case in enumerate(spec.cases):
            if case.visible:
                want = list(trusted.mistakes(seed, index, arguments[index]))
                got = list(stored.mistakes(seed, index, arguments[index]))
                assert [c for c, _ in want] == [c for c, _ in got]
                for (_, a), (_, b) in zip(want, got, strict=True):
                    np.testing.assert_array_equal(a, b)
    assert stored.seed(12) == 12 and stored.seed(10**12) in pool.seeds


def test_a_stored_pool_that_is_cut_short_is_refused(conv2d: Exercise,
                                                    runner: ForkServerRunner) -> None:
    bundle = BundleFiles.read(EXERCISES / "conv2d")
    pool = compute_pool(parse_bundle("conv2d", bundle), bundle.reference, runner,
                        HIDDEN_SECRET, [1, 2, 3, 4], deadline=time.monotonic() + 60, twice=False)
    blob = encode(pool)
    for broken in (blob[:-8], blob + b"x", b"GPL2" + blob[4:]):
        with pytest.raises(ValueError):
            decode(broken)


def test_a_bundle_names_its_own_functions_and_declares_its_samples() -> None:
    bundle = BundleFiles.read(EXERCISES / "conv2d")
    foreign = bundle.spec.replace('reference = "conv"', 'reference = "conv2d:conv"')
    with pytest.raises(SpecError, match=r"^exercise.toml:\d+: reference: 'conv2d:conv' names "
                       "another bundle's function"):
        parse_bundle("conv2d", BundleFiles(foreign, bundle.reference, bundle.samples))
    extra = {**bundle.samples, "mine.py": "def conv(i, k): ..."}
    with pytest.raises(SpecError, match=r"^samples/mine.py: has no \[\[samples\]\] entry"):
        parse_bundle("conv2d", BundleFiles(bundle.spec, bundle.reference, extra))
    with pytest.raises(SpecError, match=r"^exercise.toml:2: id: 'conv2d' must match"):
        parse_bundle("other", bundle)

"""A pushed bundle's outputs, computed in the sandbox for each submission's inputs: they are
the ones the same code gives when trusted, mistakes composed in the sandbox are composed as
they are here, and grading a pushed exercise draws its hidden inputs fresh, as a built-in one."""

from __future__ import annotations

import numpy as np
import pytest

from grader.catalog.bundle import BundleFiles, Pushed, parse_bundle
from grader.catalog.exercises import Catalog, Exercise
from grader.catalog.spec import SpecError
from grader.grading.grade import grade
from grader.grading.inputs import case_arguments
from grader.grading.mistakes import model_codes
from grader.grading.oracle import TrustedOracle
from grader.grading.pushed import OutputsRefused, OutputsUnavailable, SandboxOracle
from grader.grading.validate import prove_bundle
from grader.sandbox.forkserver import ForkServerRunner
from tests.conftest import EXERCISES, HIDDEN_SECRET, SHIPPED, source_of

pytestmark = pytest.mark.processes


def pushed(exercise_id: str, reference: str | None = None) -> tuple[Exercise, Pushed]:
    """A built-in bundle as pushed (its reference module as its reference.py, or ``reference``)."""
    bundle = BundleFiles.read(EXERCISES / exercise_id)
    if reference is not None:
        bundle = BundleFiles(bundle.spec, reference, bundle.samples)
    spec = parse_bundle(exercise_id, bundle)
    version = Pushed(exercise_id, 1, bundle)
    return Exercise(spec=spec, reference=None, mistakes={}, samples_dir=None, files={},
                    pushed=version), version


@pytest.mark.parametrize("exercise_id", SHIPPED)
def test_the_sandbox_composes_every_mistake_as_the_grader_does(
        exercise_id: str, catalog: Catalog, runner: ForkServerRunner) -> None:
    """The same composition, run here on trusted functions and in the sandbox on the same
    module's source: every mistake and pair, every visible case, the same outputs."""
    built_in = catalog.get(exercise_id)
    spec = built_in.spec
    _, version = pushed(exercise_id)
    trusted = TrustedOracle(built_in)
    for seed in (11, 12):
        sandboxed = SandboxOracle(spec, version, runner, HIDDEN_SECRET)
        arguments = case_arguments(spec, seed, HIDDEN_SECRET)
        for want, got in zip(trusted.expected(seed, arguments),
                             sandboxed.expected(seed, arguments), strict=True):
            np.testing.assert_array_equal(want, got)
        for index, case in enumerate(spec.cases):
            if not case.visible:
                continue
            want = list(trusted.mistakes(seed, index, arguments[index]))
            got = list(sandboxed.mistakes(seed, index, arguments[index]))
            assert [c for c, _ in want] == [c for c, _ in got]
            assert len(want) == len(model_codes(spec)) or exercise_id != "conv2d"
            for (_, a), (_, b) in zip(want, got, strict=True):
                np.testing.assert_array_equal(a, b)


def test_a_pushed_exercise_is_graded_on_the_submissions_own_inputs(
        conv2d: Exercise, runner: ForkServerRunner) -> None:
    exercise, _ = pushed("conv2d")
    for seed in (7, 10**12):
        report = grade(exercise, source_of("conv2d/correct_numpy"), runner, seed,
                       hidden_secret=HIDDEN_SECRET)
        assert report.passed and report.seed == seed  # no pool: the seed as drawn
    flipped = grade(exercise, source_of("conv2d/flipped_kernel"), runner, 8,
                    hidden_secret=HIDDEN_SECRET)
    built_in = grade(conv2d, source_of("conv2d/flipped_kernel"), runner, 8,
                     hidden_secret=HIDDEN_SECRET)
    assert flipped.model_dump(exclude={"duration_ms", "cases"}) == \
        built_in.model_dump(exclude={"duration_ms", "cases"})
    assert [c.mistake for c in flipped.cases] == [c.mistake for c in built_in.cases]


def test_a_reference_that_fails_on_a_submissions_inputs_is_a_grader_fault(
        runner: ForkServerRunner) -> None:
    """Proven on some inputs, failing on others: a SandboxError (retried, never the learner's
    fault), naming the version; strictly (a proof), a refusal naming the line."""
    reference = BundleFiles.read(EXERCISES / "conv2d").reference + (
        "\n\ndef conv(image, kernel):\n    if image.shape == (10, 10):\n"
        "        raise ValueError('no')\n    return image[1:-1, 1:-1] * 0\n")
    exercise, version = pushed("conv2d", reference)
    with pytest.raises(OutputsUnavailable, match="exercise conv2d version 1 could not be "
                       "computed: reference.py:\\d+: the reference 'conv' raised ValueError"):
        grade(exercise, source_of("conv2d/correct_numpy"), runner, 3,
              hidden_secret=HIDDEN_SECRET)
    strict = SandboxOracle(exercise.spec, version, runner, HIDDEN_SECRET, strict=True)
    with pytest.raises(OutputsRefused, match="on case 'square 10x10'"):
        strict.expected(3, case_arguments(exercise.spec, 3, HIDDEN_SECRET))


def test_a_reference_that_is_not_deterministic_is_refused(runner: ForkServerRunner) -> None:
    reference = BundleFiles.read(EXERCISES / "conv2d").reference + (
        "\n\n_conv = conv\n\n\ndef conv(image, kernel):\n"
        "    import random\n    return _conv(image, kernel) + random.random()\n")
    exercise, version = pushed("conv2d", reference)
    problems = prove_bundle(exercise.spec, version.bundle, runner, hidden_secret=HIDDEN_SECRET)
    assert len(problems) == 1 and "the reference 'conv' is not deterministic" in problems[0]


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


def test_a_pushed_bundle_is_whole_and_names_no_other_file() -> None:
    """Read from its folder, a built-in bundle carries reference/<id>.py as its reference.py,
    and its spec's reference_file line is a comment, every other line where it was; a pushed
    spec that names another file is refused at that line."""
    text = (EXERCISES / "conv2d" / "exercise.toml").read_text()
    bundle = BundleFiles.read(EXERCISES / "conv2d")
    assert bundle.reference == (EXERCISES.parent / "reference" / "conv2d.py").read_text()
    assert len(bundle.spec.splitlines()) == len(text.splitlines())
    changed = [(a, b) for a, b in zip(text.splitlines(), bundle.spec.splitlines(), strict=True)
               if a != b]
    assert changed == [('reference_file = "../../reference/conv2d.py"',
                        '# reference_file = "../../reference/conv2d.py": sent as this bundle\'s '
                        'reference.py')]
    assert parse_bundle("conv2d", bundle).reference_file == "reference.py"
    line = text.splitlines().index('reference_file = "../../reference/conv2d.py"') + 1
    with pytest.raises(SpecError, match=rf"^exercise.toml:{line}: reference_file: a pushed "
                       "bundle's functions are in its own reference.py"):
        parse_bundle("conv2d", BundleFiles(text, bundle.reference, bundle.samples))

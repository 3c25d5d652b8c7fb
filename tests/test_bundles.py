"""Exercise bundles: the layout, errors that name the file and the line, the richer argument
kinds, and every shipped bundle proven through the real sandbox."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from grader.catalog.exercises import Catalog
from grader.catalog.spec import SpecError
from grader.grading.grade import grade
from grader.grading.inputs import case_arguments
from grader.grading.validate import validate
from grader.sandbox.forkserver import ForkServerRunner
from tests.conftest import HIDDEN_SECRET, SHIPPED, copy_bundle

SCALE = '''
id = "scale"
title = "Scale"
statement = "Multiply x by factor."
entry_point = "scale"
reference = "scale"

[[arguments]]
name = "x"
shape = [3, 4]

[[arguments]]
name = "factor"
kind = "int"
value = 2

[[cases]]
name = "visible"

[[cases]]
name = "hidden"
visible = false
'''

REFERENCE = '''
import numpy as np


def scale(x, factor):
    return np.asarray(x) * factor
'''


def bundle(root: Path, spec: str = SCALE, reference: str = REFERENCE,
           name: str = "scale") -> Path:
    folder = root / name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "exercise.toml").write_text(spec)
    (folder / "reference.py").write_text(reference)
    return folder


def line(text: str, needle: str) -> int:
    """The number (from 1) of the first line of ``text`` that holds ``needle``."""
    return next(n for n, t in enumerate(text.splitlines(), start=1) if needle in t)


def refused(root: Path) -> str:
    with pytest.raises(SpecError) as error:
        Catalog(root)
    return str(error.value)


# -- the layout ---------------------------------------------------------------------------------

def test_a_bundle_names_functions_of_its_own_reference_py(tmp_path: Path) -> None:
    exercise = Catalog(tmp_path).get("scale") if bundle(tmp_path) else None
    assert exercise is not None
    assert exercise.reference(np.ones(2), 3).tolist() == [3, 3]
    assert exercise.samples_dir == tmp_path / "scale" / "samples"


def test_a_bundle_may_name_another_bundle_s_function(tmp_path: Path) -> None:
    bundle(tmp_path)
    bundle(tmp_path, SCALE.replace('id = "scale"', 'id = "twice"')
           .replace('reference = "scale"', 'reference = "scale:scale"'), "", name="twice")
    assert Catalog(tmp_path).get("twice").reference(np.ones(1), 2).tolist() == [2]


def test_a_loose_spec_file_is_refused_with_where_it_goes(tmp_path: Path) -> None:
    (tmp_path / "old.toml").write_text(SCALE)
    assert f"move this spec to {tmp_path / 'old' / 'exercise.toml'}" in refused(tmp_path)


def test_a_folder_without_a_spec_is_refused(tmp_path: Path) -> None:
    (tmp_path / "draft").mkdir()
    assert "draft: not an exercise bundle: it has no exercise.toml" in refused(tmp_path)


def test_the_id_must_be_the_folder_s_name(tmp_path: Path) -> None:
    bundle(tmp_path, name="other")
    where = f"{tmp_path / 'other' / 'exercise.toml'}:{line(SCALE, 'id =')}"
    assert f"{where}: id: 'scale' must match the folder name 'other'" in refused(tmp_path)


# -- errors name the file and the line ----------------------------------------------------------

def test_bad_toml_names_the_file_and_the_line(tmp_path: Path) -> None:
    spec = SCALE.replace('name = "visible"', 'name = visible')
    bundle(tmp_path, spec)
    message = refused(tmp_path)
    where = line(spec, "name = visible")
    assert message.startswith(f"{tmp_path / 'scale' / 'exercise.toml'}:{where}:8:")
    assert "not valid TOML" in message


def test_a_spec_error_names_the_file_the_line_and_the_field(tmp_path: Path) -> None:
    bundle(tmp_path, SCALE.replace('kind = "int"', 'kind = "integer"'))
    where = line(SCALE, 'kind = "int"')
    assert f"{tmp_path / 'scale' / 'exercise.toml'}:{where}: arguments.1.kind:" \
        in refused(tmp_path)


def test_an_error_found_across_fields_names_the_case_s_line(tmp_path: Path) -> None:
    bundle(tmp_path, SCALE + '\n[[cases]]\nname = "third"\nshapes = { y = [2] }\n')
    assert "exercise.toml:26: cases.2.shapes: gives shapes for unknown arguments ['y']" \
        in refused(tmp_path)


def test_a_reference_that_fails_to_import_names_the_file_and_the_line(tmp_path: Path) -> None:
    reference = REFERENCE + "\nLIMIT = 1 / 0\n"
    bundle(tmp_path, reference=reference)
    where = f"{tmp_path / 'scale' / 'reference.py'}:{line(reference, '1 / 0')}"
    assert f"{where}: reference.py does not import: ZeroDivisionError: division by zero" \
        in refused(tmp_path)


def test_a_reference_with_a_syntax_error_names_the_file_and_the_line(tmp_path: Path) -> None:
    bundle(tmp_path, reference="import numpy\n\ndef scale(x, factor)\n    return x\n")
    assert f"{tmp_path / 'scale' / 'reference.py'}:3: reference.py does not import: " \
        "SyntaxError" in refused(tmp_path)


# -- richer arguments, written as data -----------------------------------------------------------

@pytest.mark.parametrize(("old", "new", "error"), [
    ('shape = [3, 4]', 'shape = [3, 4]\ndtype = "uint8"',
     "arguments.0: Value error, uint8 arrays are drawn from a uniform distribution"),
    ('shape = [3, 4]', 'shape = [3, 4]\ndtype = "uint8"\ndistribution = "uniform"\nlow = 0\n'
     'high = 256', "uint8 needs whole low and high within 0..255, got 0..256"),
    ('name = "visible"', 'name = "visible"\nvalues = { x = [[1, 2], [3]] }',
     "cases.0.values.x: the nested lists are not rectangular"),
    ('name = "visible"', 'name = "visible"\nvalues = { x = [[1, "a"]] }',
     "cases.0.values.x: values must be numbers"),
    ('name = "hidden"', 'name = "hidden"\nvalues = { x = [[1, 2]] }',
     "cases.1.values.x: a hidden case's arrays are drawn from the server's secret"),
    ('name = "visible"', 'name = "visible"\nvalues = { factor = 1.5 }',
     "cases.0.values.factor: 'factor' is an int, got 1.5"),
    ('name = "visible"', 'name = "visible"\nshapes = { factor = [1] }',
     "cases.0.shapes.factor: 'factor' is a scalar (int): give it in values"),
    ('value = 2\n', '', "cases.0.values: has no value for the scalar argument 'factor'"),
])
def test_richer_arguments_are_checked_with_clear_errors(tmp_path: Path, old: str, new: str,
                                                         error: str) -> None:
    assert old in SCALE
    bundle(tmp_path, SCALE.replace(old, new, 1))
    assert error in refused(tmp_path)


def test_integer_arrays_fixed_values_and_scalars_become_the_case_arguments(
        tmp_path: Path) -> None:
    spec = SCALE.replace('shape = [3, 4]', 'shape = [30, 40]\ndtype = "uint8"\n'
                         'distribution = "uniform"\nlow = 0\nhigh = 255')
    spec = spec.replace('name = "visible"', 'name = "visible"\n'
                        'values = { x = [[1, 2, 3], [4, 5, 6]], factor = 7 }')
    spec += '\n[[cases]]\nname = "drawn"\n'
    exercise = Catalog(bundle(tmp_path, spec).parent).get("scale")
    [fixed, hidden, drawn] = case_arguments(exercise.spec, 5, HIDDEN_SECRET)
    assert fixed[0].dtype == np.uint8 and fixed[0].tolist() == [[1, 2, 3], [4, 5, 6]]
    assert fixed[1].shape == () and fixed[1].item() == 7
    for x, factor in (hidden, drawn):
        assert x.dtype == np.uint8 and x.shape == (30, 40) and factor.item() == 2
        assert x.min() < 20 and x.max() > 235  # drawn across the whole range 0..255
    other = case_arguments(exercise.spec, 5, b"another-hidden-secret-0123456")
    assert not np.array_equal(other[1][0], hidden[0])  # the hidden case's come from the secret
    assert np.array_equal(other[2][0], drawn[0])


@pytest.mark.processes
def test_scalars_reach_learner_code_as_python_ints(tmp_path: Path,
                                                   runner: ForkServerRunner) -> None:
    exercise = Catalog(bundle(tmp_path).parent).get("scale")
    source = ("def scale(x, factor):\n"
              "    assert type(factor) is int, type(factor)\n"
              "    return x * factor\n")
    report = grade(exercise, source, runner, seed=1, hidden_secret=HIDDEN_SECRET)
    assert [c.status for c in report.cases] == ["passed", "passed"]


@pytest.mark.processes
def test_a_number_is_an_output_only_where_the_spec_accepts_numbers(
        runner: ForkServerRunner, catalog: Catalog) -> None:
    source = "def conv(image, kernel):\n    return 1.5\n"
    report = grade(catalog.get("conv2d"), source, runner, seed=1, hidden_secret=HIDDEN_SECRET)
    assert report.cases[0].status == "invalid_output"
    assert "expected a numpy array or nested lists, got a number" in report.cases[0].message
    source = "def patch_dot(patch, kernel):\n    return 171\n"
    report = grade(catalog.get("patch_dot"), source, runner, seed=1,
                   hidden_secret=HIDDEN_SECRET)
    assert report.cases[0].status == "passed"  # the lesson's patch and kernel give 171
    assert report.cases[1].status == "wrong_values"


# -- the catalogue --------------------------------------------------------------------------------

def test_every_shipped_bundle_has_three_mistakes_each_with_a_sample(catalog: Catalog) -> None:
    assert catalog.ids() == SHIPPED
    for exercise in catalog:
        spec = exercise.spec
        assert len(spec.mistakes) >= 3, spec.id
        diagnosed = {part for s in spec.samples if s.mistake for part in s.mistake.split("+")}
        # every known mistake has its sample; the others expect diagnoses of any exercise
        assert diagnosed - spec.generic_diagnoses == {m.code for m in spec.mistakes}, spec.id
        assert any(s.mistake is None and set(s.expect) == {"passed"} for s in spec.samples)


@pytest.mark.processes
@pytest.mark.parametrize("exercise_id", SHIPPED)
def test_every_shipped_bundle_proves_out_in_the_sandbox(
        exercise_id: str, catalog: Catalog, runner: ForkServerRunner) -> None:
    assert validate(catalog.get(exercise_id), runner, hidden_secret=HIDDEN_SECRET) == []


@pytest.mark.processes
def test_validate_names_a_sample_that_declares_no_verdicts(
        tmp_path: Path, runner: ForkServerRunner) -> None:
    copy_bundle("maxpool2d", tmp_path / "maxpool2d")
    (tmp_path / "maxpool2d" / "samples" / "extra.py").write_text("def pool(image): pass\n")
    problems = validate(Catalog(tmp_path).get("maxpool2d"), runner, hidden_secret=HIDDEN_SECRET)
    assert problems == ["sample extra.py has no [[samples]] entry with its verdicts in the spec"]


@pytest.mark.processes
def test_samples_are_proven_on_the_same_inputs_whatever_seeds_prove_the_rest(
        catalog: Catalog, runner: ForkServerRunner) -> None:
    """On this seed the image's mean taken off adds almost nothing to one visible case (its
    kernel sums to 0.0007), so that case passes and the sample is not diagnosed: a push proven
    on it was refused. Samples are proven on the fixed seeds, wherever the proof runs."""
    chance = 3383681814217883649
    conv2d = catalog.get("conv2d")
    sample = (conv2d.samples_dir / "mean_subtracted_in_place.py").read_text()
    on_chance = grade(conv2d, sample, runner, seed=chance, hidden_secret=HIDDEN_SECRET)
    assert [c.status for c in on_chance.cases][:2] == ["wrong_values", "passed"]
    assert validate(conv2d, runner, (chance,), hidden_secret=HIDDEN_SECRET) == []

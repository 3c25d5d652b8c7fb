"""Exercise specs: loading, validation errors that name the file and field, a second exercise."""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.catalog.bundle import self_contained
from grader.catalog.exercises import Catalog
from grader.catalog.spec import SpecError, load_spec
from tests.conftest import ROOT, SHIPPED

BUNDLE = ROOT / "exercises" / "conv2d"
CONV2D = self_contained((BUNDLE / "exercise.toml").read_text())[0]


def write(tmp_path: Path, text: str, name: str = "conv2d") -> Path:
    """A bundle ``name`` under tmp_path with this spec and conv2d's reference.py."""
    folder = tmp_path / name
    folder.mkdir(exist_ok=True)
    (folder / "reference.py").write_text((ROOT / "reference" / "conv2d.py").read_text())
    path = folder / "exercise.toml"
    path.write_text(text)
    return path


def test_conv2d_spec_declares_the_four_cases_in_order() -> None:
    spec = load_spec(BUNDLE / "exercise.toml")
    image = spec.arguments[0]
    shapes = [spec.shape_of(case, image) for case in spec.cases]
    assert shapes == [(8, 8), (12, 10), (10, 10), (12, 8)]
    assert all(spec.shape_of(case, spec.arguments[1]) == (3, 3) for case in spec.cases)
    assert spec.entry_point == "conv"
    assert {m.code for m in spec.mistakes} >= {
        "flipped_kernel", "same_padding", "full_padding", "transposed_output"}


def test_error_names_the_file_and_the_field(tmp_path: Path) -> None:
    path = write(tmp_path, CONV2D.replace("rtol = 1e-6", "rtol = -1"))
    with pytest.raises(SpecError) as error:
        load_spec(path)
    assert str(path) in str(error.value)
    assert "compare.rtol" in str(error.value)


def test_unknown_field_is_refused(tmp_path: Path) -> None:
    text = CONV2D.replace('entry_point = "conv"', 'entry_point = "conv"\nentry = 1')
    path = write(tmp_path, text)
    with pytest.raises(SpecError, match="entry"):
        load_spec(path)


def test_case_with_unknown_argument_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, CONV2D.replace("shapes = { image = [8, 8] }",
                                          "shapes = { picture = [8, 8] }"))
    with pytest.raises(SpecError, match="unknown arguments"):
        load_spec(path)


def test_zero_time_limit_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, CONV2D.replace("case_seconds = 2.0", "case_seconds = 0"))
    with pytest.raises(SpecError, match="limits.case_seconds"):
        load_spec(path)


def test_a_scratch_needs_both_budgets(tmp_path: Path) -> None:
    path = write(tmp_path, CONV2D.replace("case_seconds = 2.0",
                                          "case_seconds = 2.0\nscratch_kb = 64"))
    with pytest.raises(SpecError, match="scratch_kb and scratch_files go together"):
        load_spec(path)
    both = write(tmp_path, CONV2D.replace(
        "case_seconds = 2.0", "case_seconds = 2.0\nscratch_kb = 64\nscratch_files = 10"))
    assert load_spec(both).limits.scratch_files == 10


def test_not_toml_is_reported_with_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "id = ")
    with pytest.raises(SpecError, match="not valid TOML"):
        load_spec(path)


def test_id_must_match_the_file_name(tmp_path: Path) -> None:
    path = write(tmp_path, CONV2D, name="other")
    with pytest.raises(SpecError, match="must match the folder name 'other'"):
        load_spec(path)


def test_sample_verdicts_must_cover_every_case(tmp_path: Path) -> None:
    text = CONV2D.replace('expect = ["passed", "passed", "passed", "passed"]',
                          'expect = ["passed"]', 1)
    with pytest.raises(SpecError, match="samples.0"):
        load_spec(write(tmp_path, text))


def test_unknown_reference_function_names_the_field(tmp_path: Path) -> None:
    write(tmp_path, CONV2D.replace('function = "same_padding"', 'function = "no_such_thing"'))
    with pytest.raises(SpecError, match=r"mistakes\[1\]\.function.*no_such_thing"):
        Catalog(tmp_path)


def test_unknown_reference_bundle_is_refused(tmp_path: Path) -> None:
    write(tmp_path, CONV2D.replace('reference = "conv"', 'reference = "nope:conv"'))
    with pytest.raises(SpecError, match="no exercise bundle 'nope'"):
        Catalog(tmp_path)


def test_catalog_holds_a_second_exercise_with_no_code_of_its_own(catalog: Catalog) -> None:
    assert catalog.ids() == SHIPPED
    pool = catalog.get("maxpool2d")
    assert pool.spec.entry_point == "pool"
    assert set(pool.mistakes) == {"average_pooling", "stride_one", "partial_windows",
                                  "last_in_window", "stride_not_in_index"}

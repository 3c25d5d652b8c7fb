"""The built-in exercises' references (``reference/<id>.py``), each against an oracle of its own:
SciPy for conv2d, an explicit loop for the others, on every case of the exercise's spec."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
from scipy.signal import correlate2d

from grader.catalog.exercises import Catalog
from grader.catalog.spec import load_spec
from grader.grading.inputs import call_args, case_arguments
from tests.conftest import EXERCISES, HIDDEN_SECRET, REFERENCES, SHIPPED


def module(exercise_id: str) -> ModuleType:
    """reference/<id>.py itself, imported by its path."""
    spec = importlib.util.spec_from_file_location(f"reference_{exercise_id}",
                                                  REFERENCES / f"{exercise_id}.py")
    assert spec is not None and spec.loader is not None
    loaded = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(loaded)
    return loaded


def cases(exercise_id: str, seeds: tuple[int, ...] = (1, 2, 3)) -> list[tuple[object, ...]]:
    """Every case's arguments, visible and hidden, as the reference is called with them."""
    spec = load_spec(EXERCISES / exercise_id / "exercise.toml")
    return [call_args(args) for seed in seeds
            for args in case_arguments(spec, seed, HIDDEN_SECRET)]


def loop_conv1d(signal: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    n, p = len(signal), len(kernel)
    return np.array([sum(float(signal[i + k]) * float(kernel[k]) for k in range(p))
                     for i in range(n - p + 1)])


def loop_conv2d(image: np.ndarray, kernel: np.ndarray, stride: int = 1,
                padding: int = 0) -> np.ndarray:
    """out[i, j] = sum over a, b of padded[i*S + a, j*S + b] * kernel[a, b], term by term."""
    h, w = image.shape
    kh, kw = kernel.shape
    padded = [[0.0] * (w + 2 * padding) for _ in range(h + 2 * padding)]
    for r in range(h):
        for c in range(w):
            padded[r + padding][c + padding] = float(image[r, c])
    rows = (h + 2 * padding - kh) // stride + 1
    cols = (w + 2 * padding - kw) // stride + 1
    out = np.zeros((rows, cols))
    for i in range(rows):
        for j in range(cols):
            out[i, j] = sum(padded[i * stride + a][j * stride + b] * float(kernel[a, b])
                            for a in range(kh) for b in range(kw))
    return out


def loop_conv_layer(x: np.ndarray, weights: np.ndarray, bias: np.ndarray) -> np.ndarray:
    channels_out = weights.shape[0]
    return np.array([sum(loop_conv2d(x[c], weights[o, c]) for c in range(x.shape[0])) + bias[o]
                     for o in range(channels_out)])


def loop_maxpool2d(image: np.ndarray) -> np.ndarray:
    h, w = image.shape[0] // 2, image.shape[1] // 2
    out = np.zeros((h, w))
    for i in range(h):
        for j in range(w):
            out[i, j] = max(float(image[2 * i + a, 2 * j + b]) for a in (0, 1) for b in (0, 1))
    return out


def loop_patch_dot(patch: np.ndarray, kernel: np.ndarray) -> float:
    return sum(float(patch[a, b]) * float(kernel[a, b])
               for a in range(patch.shape[0]) for b in range(patch.shape[1]))


ORACLES: dict[str, tuple[str, Callable[..., object]]] = {
    "conv1d": ("conv1d", loop_conv1d),
    "conv2d_kernels": ("conv2d", loop_conv2d),
    "conv2d_strided": ("conv2d", loop_conv2d),
    "conv_layer": ("conv_layer", loop_conv_layer),
    "maxpool2d": ("pool", loop_maxpool2d),
    "patch_dot": ("patch_dot", loop_patch_dot),
}


@pytest.mark.parametrize("shape", [(8, 8), (12, 10), (10, 10), (12, 8)])
def test_conv2d_is_scipys_valid_cross_correlation(shape: tuple[int, int]) -> None:
    conv = module("conv2d").conv
    rng = np.random.default_rng(list(shape))
    for _ in range(3):
        image, kernel = rng.normal(size=shape), rng.normal(size=(3, 3))
        got = conv(image, kernel)
        assert got.dtype == np.float64
        np.testing.assert_allclose(got, correlate2d(image, kernel, mode="valid"), rtol=1e-12,
                                   atol=1e-12)


def test_conv2d_on_its_cases_is_scipys() -> None:
    conv = module("conv2d").conv
    shapes = set()
    for image, kernel in cases("conv2d"):
        assert isinstance(image, np.ndarray) and isinstance(kernel, np.ndarray)
        shapes.add(image.shape)
        np.testing.assert_allclose(conv(image, kernel), correlate2d(image, kernel, mode="valid"),
                                   rtol=1e-12, atol=1e-12)
    assert shapes == {(8, 8), (12, 10), (10, 10), (12, 8)}


@pytest.mark.parametrize("exercise_id", sorted(ORACLES))
def test_a_reference_is_its_explicit_loop_on_every_case(exercise_id: str) -> None:
    name, oracle = ORACLES[exercise_id]
    reference = getattr(module(exercise_id), name)
    for args in cases(exercise_id):
        want = np.asarray(oracle(*args), dtype=np.float64)
        got = np.asarray(reference(*args), dtype=np.float64)
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_the_loops_are_not_the_reference_by_accident() -> None:
    """Each oracle tells a wrong answer from the right one: a flipped kernel, another stride."""
    rng = np.random.default_rng(5)
    image, kernel = rng.normal(size=(7, 7)), rng.normal(size=(3, 3))
    assert not np.allclose(loop_conv2d(image, kernel), loop_conv2d(image, kernel[::-1, ::-1]))
    assert loop_conv2d(image, kernel, 2, 1).shape == (4, 4)
    np.testing.assert_allclose(loop_conv2d(image, kernel),
                               correlate2d(image, kernel, mode="valid"), rtol=1e-12)
    assert loop_maxpool2d(np.arange(20.0).reshape(4, 5)).tolist() == [[6.0, 8.0], [16.0, 18.0]]


def test_every_built_in_bundle_takes_its_functions_from_reference(catalog: Catalog) -> None:
    """One copy: no bundle has a reference.py of its own, and the catalog binds each to
    reference/<id>.py, the file these tests check."""
    assert sorted(p.stem for p in REFERENCES.glob("*.py")) == SHIPPED
    for exercise_id in SHIPPED:
        assert not (EXERCISES / exercise_id / "reference.py").exists()
        exercise = catalog.get(exercise_id)
        assert set(exercise.files.values()) == {(REFERENCES / f"{exercise_id}.py").resolve()}
        assert Path(exercise.files[exercise.spec.reference]).name == f"{exercise_id}.py"

"""A case's inputs as Python: running the code gives back the very same arrays."""

from __future__ import annotations

import numpy as np

from grader.pages.reproduce import MAX_LISTED, reproduce


def test_the_code_calls_the_function_with_the_exact_inputs() -> None:
    rng = np.random.default_rng(7)
    inputs = (("image", rng.normal(size=(5, 4))), ("kernel", rng.normal(size=(3, 3))),
              ("counts", np.arange(4, dtype=np.int32)), ("stride", np.array(2)))
    code = reproduce("conv", inputs)
    called: list[tuple[object, ...]] = []
    namespace = {"conv": lambda *args: called.append(args), "print": lambda *_: None}
    exec(compile(code, "reproduce.py", "exec"), namespace)  # noqa: S102 - our own output
    (args,) = called
    for (name, want), got in zip(inputs, args, strict=True):
        if want.ndim == 0:
            assert got == want.item(), name
        else:
            assert got.dtype == want.dtype and np.array_equal(got, want), name


def test_an_array_too_large_to_read_is_named_not_listed() -> None:
    code = reproduce("f", (("big", np.zeros(MAX_LISTED + 1)),))
    assert f"# big has {MAX_LISTED + 1} values, too many to list here" in code
    assert "np.array(" not in code

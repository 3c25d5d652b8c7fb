"""Crashes of code written for Python 2 or NumPy 1: the idiom is named beside the crash, from
the exception's type, its message and the learner's line."""

from __future__ import annotations

import pytest

from grader.catalog.spec import GENERIC_DIAGNOSES
from grader.grading.breakage import IDIOMS, idiom_of
from grader.grading.grade import grade
from grader.sandbox.base import LearnerError
from grader.sandbox.modules import importable
from tests.conftest import HIDDEN_SECRET

ZERO_D = "only 0-dimensional arrays can be converted to Python scalars"
SEQUENCE = "setting an array element with a sequence."
FLOAT_INT = "'float' object cannot be interpreted as an integer"


@pytest.mark.parametrize(("error", "code", "fragment"), [
    (LearnerError("TypeError", ZERO_D, 12, "Z = Z + float(b)"), "numpy2_array_to_scalar",
     "float() of an array"),
    (LearnerError("TypeError", ZERO_D, 3, "n = int(np.sum(x, keepdims=True))"),
     "numpy2_array_to_scalar", "int() of an array"),
    (LearnerError("ValueError", SEQUENCE, 30, "Z[i, h, w, c] = conv_single_step(a, W, b)"),
     "numpy2_array_into_element", "(1, 1, 1)"),
    (LearnerError("ValueError", SEQUENCE, 30, "Z[i, c] = np.sum(a * W, axis=None) + b"),
     "numpy2_array_into_element", "(1, 1, 1)"),
    (LearnerError("ValueError", SEQUENCE, 30, "Z[i, c] = a.sum() + np.sum(W) + b"),
     "numpy2_array_into_element", "(1, 1, 1)"),
    (LearnerError("TypeError", FLOAT_INT, 5, "out = np.zeros((h / 2, w / 2))"),
     "python2_division", "use '//'"),
    (LearnerError("TypeError", "slice indices must be integers or None or have an __index__ "
                  "method", 7, "half = x[: n/2]"), "python2_division", "Python 2"),
    (LearnerError("AttributeError", "module 'numpy' has no attribute 'float'.\n`np.float` was "
                  "a deprecated alias", 4, "out = np.zeros(s, dtype=np.float)"),
     "numpy_removed_alias", "np.float was removed"),
    (LearnerError("NameError", "name 'xrange' is not defined", 6, "for i in xrange(n):"),
     "python2_name", "use range"),
    (LearnerError("ModuleNotFoundError", "No module named 'scipy'", 2,
                  "from scipy.signal import correlate2d"),
     "module_not_available", "scipy cannot be imported here"),
    (LearnerError("ModuleNotFoundError", "No module named 'matplotlib'", 1,
                  "import matplotlib.pyplot as plt"),
     "module_not_available", "remove the import if your code does not need it"),
    (LearnerError("RuntimeError", "can't start new thread", 9, "t.start()"),
     "threads_not_available", "cannot start another"),
    (LearnerError("PermissionError", "[Errno 1] Operation not permitted", 3,
                  "print(os.getcwd())"), "no_file_system", "no file system"),
    (LearnerError("FileNotFoundError", "[Errno 2] No such file or directory: 'k.npy'", 3,
                  "kernel = np.load('k.npy')"), "no_file_system", "no file system"),
    (LearnerError("ValueError", "not enough values to unpack (expected 3, got 2)", 4,
                  "h, w, c = image.shape"), "shape_unpacked", "unpacks 3 sizes from a shape "
                                                              "that has 2"),
    (LearnerError("ValueError", "operands could not be broadcast together with shapes (2,) "
                  "(16,) ", 6, "padded = [0] * padding + signal + [0] * padding"),
     "list_added_to_array", "np.pad(x, n)"),
    (LearnerError("ValueError", "The truth value of an array with more than one element is "
                  "ambiguous. Use a.any() or a.all()", 24, "out[i, j, s] = max(patch)"),
     "builtin_max_of_array", "Python's max() of an array"),

    (LearnerError("ValueError", "The truth value of an array with more than one element is "
                  "ambiguous. Use a.any() or a.all()", 9, "low = min(a[i, 0:2], b)"),
     "builtin_max_of_array", "for each value, use np.minimum(a, b)"),
    (LearnerError("ValueError", "The truth value of an array with more than one element is "
                  "ambiguous. Use a.any() or a.all()", 9, "out = max(0, conv(x, k))"),
     "builtin_max_of_array", "use np.maximum(a, b)"),
    (LearnerError("ValueError", "The truth value of an array with more than one element is "
                  "ambiguous. Use a.any() or a.all()", 9, "m = max(signal[i:i + 3] * w)"),
     "builtin_max_of_array", "use np.max(...)"),
    (LearnerError("NameError", "name 'np' is not defined", 3, "out = np.zeros((h, w))"),
     "module_not_imported", 'add "import numpy as np" at the top'),
    (LearnerError("NameError", "name 'math' is not defined", 3, "r = math.floor(x)"),
     "module_not_imported", 'add "import math"'),
    (LearnerError("OverflowError", "Python integer -4 out of bounds for uint8", 31,
                  "result[r][c] = round(value)"), "numpy2_integer_out_of_bounds",
     "refuses to store -4 in a uint8 array"),
    (LearnerError("IndexError", "tuple index out of range", 5,
                  "w, h, m = images.shape[2], images.shape[1], images.shape[0]"),
     "shape_indexed", "past its last axis"),
    (LearnerError("ValueError", "too many values to unpack (expected 2)", 4,
                  "h, w = np.shape(x)"), "shape_unpacked", "2 sizes from a shape that has "
                                                           "more than 2"),
    (LearnerError("TypeError", "Cannot interpret '6' as a data type", 18,
                  "output = np.zeros(h - 2, w - 2, self.num_filters)"), "shape_not_a_tuple",
     "np.zeros takes the array's shape as one tuple: np.zeros((h - 2, w - 2, "
     "self.num_filters)); given one by one"),
    (LearnerError("TypeError", "Cannot interpret '4' as a data type", 3,
                  "out = numpy.ones(len(x), k.shape[0], dtype=float)  # (n, k)"),
     "shape_not_a_tuple", "numpy.ones((len(x), k.shape[0]), dtype=float);"),
    (LearnerError("TypeError", "Cannot interpret '0' as a data type", 3,
                  "out = np.full(h, w, 0)"), "shape_not_a_tuple", "np.full((h, w), 0);"),
    (LearnerError("TypeError", "Cannot interpret '5' as a data type", 3,
                  "out = np.ones(h, w, order='F')  # (h, w), columns first"), "shape_not_a_tuple",
     "as one tuple: np.ones((h, w), order='F'); given"),
    (LearnerError("TypeError", "Cannot interpret '5' as a data type", 3,
                  "a = np.zeros((h, w)); b = np.ones(h, w)"), "shape_not_a_tuple",
     "np.ones takes the array's shape as one tuple: np.ones((h, w)); given"),
    (LearnerError("TypeError", "Cannot interpret '5' as a data type", 3,  # sizes, then a dtype
                  "out = np.zeros(h, w, 'float64')"), "shape_not_a_tuple",
     "as one tuple: np.zeros((h, w)); given"),
    (LearnerError("EOFError", "EOF when reading a line", 18,
                  'rows = int(input("Enter the number of rows: "))'), "input_asked",
     "if __name__ == \"__main__\":"),
    (LearnerError("TypeError", "only integer scalar arrays can be converted to a scalar index",
                  13, "ans[i] = np.dot(x[i: i + pad + 1], k)"), "array_as_index",
     "np.zeros(n) where n was meant"),
    (LearnerError("TypeError", "Cannot interpret 'nan' as a data type", 3,
                  "out = np.full(h, w, np.nan, np.float32)"), "shape_not_a_tuple",
     "as one tuple: np.full((h, w), value); given"),
])
def test_a_removed_idiom_is_named_with_its_fix(error, code, fragment) -> None:
    found = idiom_of(error)
    assert found is not None and found.code == code
    assert fragment in found.message


@pytest.mark.parametrize("error", [
    # a permission refused to something other than a file (a signal), an unpacking of
    # something other than a shape
    LearnerError("PermissionError", "[Errno 1] Operation not permitted", 3, "os.kill(1, 9)"),
    LearnerError("ValueError", "not enough values to unpack (expected 3, got 2)", 4,
                 "a, b, c = pair"),
    # the same errors from other code: arrays of two shapes added, an array in an if, a method
    LearnerError("ValueError", "operands could not be broadcast together with shapes (2,) "
                 "(16,) ", 6, "out = a + b"),
    LearnerError("IndexError", "tuple index out of range", 5, "first = pair[2]"),
    # a window past the edge, but the case's arguments unknown: which is the kernel?
    LearnerError("ValueError", "operands could not be broadcast together with shapes (2,) "
                 "(3,) ", 9, "acc = x[i:i+k] * w + acc"),
    # the line unknown: a broadcast or an ambiguous truth value alone says nothing of lists
    LearnerError("ValueError", "operands could not be broadcast together with shapes (2,) "
                 "(16,) ", 0, None),
    LearnerError("ValueError", "The truth value of an array with more than one element is "
                 "ambiguous. Use a.any() or a.all()", 0, None),
    # a variable named like a module, never assigned
    LearnerError("NameError", "name 'time' is not defined", 4, "for t in range(time):"),
    LearnerError("NameError", "name 'npp' is not defined", 3, "out = npp.zeros(3)"),
    LearnerError("ValueError", "The truth value of an array with more than one element is "
                 "ambiguous. Use a.any() or a.all()", 9, "if patch > 0:"),
    LearnerError("ValueError", "The truth value of an array with more than one element is "
                 "ambiguous. Use a.any() or a.all()", 9, "m = patch.max(axis=0) or np.max(x)"),
    # the same message, but the line does not use the idiom
    LearnerError("TypeError", FLOAT_INT, 5, "out = np.zeros((h, w), dtype=size)"),
    LearnerError("TypeError", FLOAT_INT, 5, "print('a/b'); out = np.zeros(shape)  # h/2"),
    LearnerError("ValueError", SEQUENCE, 9, "values.append(row)"),
    # a sum along one axis only: several values for one element, in any NumPy
    LearnerError("ValueError", SEQUENCE, 8, "out[i, j] = np.sum(image[i:i+3, j:j+3] * k, axis=0)"),
    LearnerError("ValueError", SEQUENCE, 8, "out[i, j] = sum(image[i:i+3, j:j+3] * kernel)"),
    # another exception with the same words, or other words
    LearnerError("ValueError", ZERO_D, 2, "float(x)"),
    LearnerError("TypeError", "unsupported operand type(s)", 2, "a / b"),
    # a dtype that is no dtype, on a line that makes no array of sizes given one by one
    LearnerError("TypeError", "Cannot interpret 'x' as a data type", 2,
                 "out = image.astype(kind)"),
    # the shape given whole, and a number where the dtype goes: another mistake
    LearnerError("TypeError", "Cannot interpret '3' as a data type", 2,
                 "out = np.zeros((h, w), 3)"),
    LearnerError("TypeError", "Cannot interpret '0' as a data type", 2,
                 "out = np.full((h, w), 0, 0)"),
    LearnerError("TypeError", "Cannot interpret '5' as a data type", 2,
                 "out = np.zeros(image.shape, w)"),
    LearnerError("TypeError", "Cannot interpret '5' as a data type", 2,
                 "out = np.zeros(*shape, 3)"),
    # an end of input that no input() asked for
    LearnerError("EOFError", "EOF when reading a line", 4, "data = sys.stdin.readline()"),
    # a call that goes on past the line: its arguments are not read
    LearnerError("TypeError", "Cannot interpret '8' as a data type", 3,
                 "out = np.zeros(h, w, [i for i in range(\n"),
])
def test_a_crash_that_is_not_the_idiom_gets_no_hint(error) -> None:
    assert idiom_of(error) is None


def broadcast(short: str, full: str, line: str) -> LearnerError:
    return LearnerError("ValueError", f"operands could not be broadcast together with shapes "
                        f"{short} {full} ", 9, line)


@pytest.mark.parametrize(("error", "arguments", "fragment"), [
    (broadcast("(3,2,3)", "(3,3,3)", "out[o, i, j] = np.sum(x[:, i:i + p, j:j + p] * w[o]) + b"),
     {(3, 6, 6), (2, 3, 3, 3), (2,)}, "a window of shape (3, 2, 3) met a kernel of shape "
                                      "(3, 3, 3)"),
    (broadcast("(2,)", "(3,)", "acc = x[i:i+k] * w + acc"), {(10,), (3,)},
     "let a window's first index go up to n - k only"),
    (broadcast("(3,3)", "(2,3)", "out[i, j] = (image[i*s:i*s+3, j:j+3] * kernel).sum()"),
     {(8, 8), (3, 3)}, "the slice gave fewer values than the kernel has"),
    (broadcast("(2,)", "(3,)", "res.append(np.sum(x_padded[i:i+w_rot.shape[0]] * w_rot))"),
     {(10,), (3,)}, "a window of shape (2,) met a kernel of shape (3,)"),
])
def test_a_loop_past_the_last_window_is_named(error: LearnerError, arguments: set,
                                              fragment: str) -> None:
    found = idiom_of(error, "", arguments)
    assert found is not None and found.code == "window_past_edge"
    assert fragment in found.message


@pytest.mark.parametrize(("error", "arguments"), [
    # a width written as a number, too narrow or too wide for this kernel everywhere
    (broadcast("(3,)", "(5,)", "out.append(np.sum(x[i:i + 3] * w))"), {(16,), (5,)}),
    (broadcast("(3,)", "(2,)", "out.append(np.sum(x[i:i + 3] * w))"), {(7,), (2,)}),
    # shapes that are not one cut short from the other, or an empty window
    (broadcast("(2,4)", "(3,3)", "out[i, j] = (image[i:i+k, j:j+k] * kernel).sum()"),
     {(8, 8), (3, 3)}),
    (broadcast("(3,3)", "(3,)", "out[i, j] = (image[i:i+k, j:j+k] * kernel).sum()"),
     {(8, 8), (3,)}),
    (broadcast("(0,3)", "(3,3)", "out[i, j] = (image[i-1:i+2, j:j+3] * kernel).sum()"),
     {(8, 8), (3, 3)}),
    # slices that are not a moving window: no loop goes past an edge
    (broadcast("(2,3)", "(3,3)", "return np.sum(patch[1:, :] * kernel)"), {(3, 3)}),
    (broadcast("(9,)", "(7,)", "d = signal[1:] - signal[:-k]"), {(10,), (3,)}),
    (broadcast("(5,)", "(4,)", "m = np.maximum(x[:n//2], x[n//2:n-1])"), {(10,)}),
    # the kernel sliced too: a second subscript with a slice
    (broadcast("(2,)", "(3,)", "acc = x[i:i+k] * w[1:]"), {(10,), (3,)}),
    # neither shape an argument's, or the shorter one is
    (broadcast("(2,)", "(3,)", "acc = x[i:i+k] * w"), {(10,), (4,)}),
    (broadcast("(3,)", "(5,)", "acc = x[i:i+k] * w"), {(3,), (8,)}),
])
def test_a_broadcast_error_that_is_not_a_loop_past_the_edge_is_not_named_so(
        error: LearnerError, arguments: set) -> None:
    assert idiom_of(error, "", arguments) is None


def test_which_shape_is_the_kernel_tells_a_window_past_the_edge_from_a_width_written() -> None:
    """``x[i:i + 3] * w`` fails with shapes (2,) and (3,) both where the loop runs past the edge
    (a 3-kernel) and where the width is written too wide (a 2-kernel): the case's arguments
    tell which of the two is the kernel."""
    past = LearnerError("ValueError", "operands could not be broadcast together with shapes "
                        "(2,) (3,) ", 6, "out.append(np.sum(x[i:i + 3] * w))")
    assert idiom_of(past) is None  # the kernel unknown: it could be either
    found = idiom_of(past, "", {(10,), (3,)})
    assert found is not None and found.code == "window_past_edge"
    assert "a window of shape (2,) met a kernel of shape (3,)" in found.message
    wide = LearnerError("ValueError", "operands could not be broadcast together with shapes "
                        "(3,) (2,) ", 6, "out.append(np.sum(x[i:i + 3] * w))")
    assert idiom_of(wide, "", {(7,), (2,)}) is None
    grid = LearnerError("ValueError", "operands could not be broadcast together with shapes "
                        "(3,3) (2,3) ", 9, "out[i, j] = (image[i:i+3, j:j+3] * kernel).sum()")
    found = idiom_of(grid, "", {(8, 8), (3, 3)})
    assert found is not None and found.code == "window_past_edge"


def test_a_crash_without_its_line_is_matched_on_its_message() -> None:
    found = idiom_of(LearnerError("TypeError", FLOAT_INT))
    assert found is not None and found.code == "python2_division"


def test_every_idiom_is_a_diagnosis_a_sample_may_expect() -> None:
    assert {idiom.code for idiom in IDIOMS} <= GENERIC_DIAGNOSES


def test_a_division_on_an_earlier_line_is_found_through_the_name_it_set() -> None:
    source = ("import numpy as np\n\ndef pool(image):\n    h, w = image.shape\n"
              "    oh = h / 2  # rows\n    ow = w // 2\n    out = np.zeros((oh, ow))\n")
    error = LearnerError("TypeError", FLOAT_INT, 7, "    out = np.zeros((oh, ow))")
    found = idiom_of(error, source)
    assert found is not None and found.code == "python2_division"
    # a name set by floor division only is no sign of it
    assert idiom_of(LearnerError("TypeError", FLOAT_INT, 7, "    x = range(ow)"), source) is None



def test_a_module_the_sandbox_lacks_is_named_with_what_may_be_imported(conv2d, runner) -> None:
    """A real child's import of a module it cannot load: the crash, and beside it, as the
    report's first explanation, what can be imported (the modules the zygote loads)."""
    source = ("import numpy as np\nimport matplotlib.pyplot as plt\n\n"
              "def conv(image, kernel):\n    return image[1:-1, 1:-1]\n")
    report = grade(conv2d, source, runner, seed=3, hidden_secret=HIDDEN_SECRET)
    codes = [d.code for d in report.diagnosis]
    assert codes[:2] == ["load_error", "module_not_available"]
    words = report.diagnosis[1].message
    assert words.startswith("matplotlib cannot be imported here")
    assert importable()[0] == "numpy"
    assert "what is loaded before it starts, which is numpy (with numpy.fft, numpy.linalg" in words
    assert "the standard modules " + ", ".join(importable()[1:]) + ", and a few others" in words
    assert report.explanation is not None and "matplotlib" in report.explanation.message


def test_what_numpy_imports_on_first_use_is_there_in_a_child(conv2d, runner) -> None:
    """numpy loads some submodules only when a function first needs them (np.median and
    np.unique import numpy.ma): a child, which can load nothing, finds them loaded."""
    source = ("import numpy as np\nimport numpy.typing as npt\n\n"
              "def conv(image: npt.NDArray, kernel):\n"
              "    np.unique(image), np.percentile(image, 50), np.ma.masked_array(kernel)\n"
              "    np.char.upper(['a']), np.strings.upper(np.array(['a']))\n"
              "    np.rec.array([(1, 2)])\n"
              "    windows = np.lib.stride_tricks.sliding_window_view(image, kernel.shape)\n"
              "    return np.median(windows * kernel, axis=(2, 3)) * 0 + np.einsum(\n"
              "        'ijkl,kl->ij', windows, kernel)\n")
    report = grade(conv2d, source, runner, seed=3, hidden_secret=HIDDEN_SECRET)
    assert report.passed, report.cases[0].message


def test_a_numpy_submodule_that_is_not_loaded_is_told_apart_from_numpy() -> None:
    """numpy is loaded, but not every submodule of it: the words say which ones are."""
    error = LearnerError("ModuleNotFoundError", "No module named 'numpy.lib.recfunctions'", 2,
                         "import numpy.lib.recfunctions as rf")
    found = idiom_of(error, "import numpy as np\nimport numpy.lib.recfunctions as rf\n")
    assert found is not None and found.code == "module_not_available"
    assert found.message.startswith("numpy.lib.recfunctions cannot be imported here: your code "
                                    "can import only what is loaded before it starts, which is "
                                    "numpy (with numpy.fft, ")
    assert "numpy.lib.stride_tricks" in found.message and "only these" not in found.message


@pytest.mark.parametrize(("source", "code"), [
    ("import threading\nimport numpy as np\n\ndef conv(image, kernel):\n"
     "    t = threading.Thread(target=print)\n    t.start()\n    return image[1:-1, 1:-1]\n",
     "threads_not_available"),
    ("import os\n\ndef conv(image, kernel):\n    os.listdir('.')\n"
     "    return image[1:-1, 1:-1]\n", "no_file_system"),
    ("def conv(image, kernel):\n    h, w, c = image.shape\n    return image[1:-1, 1:-1]\n",
     "shape_unpacked"),
    ("import numpy as np\n\ndef conv(image, kernel):\n    rows = [0] * 2 + image[0] + [0]\n"
     "    return image[1:-1, 1:-1]\n", "list_added_to_array"),
    ("import numpy as np\n\ndef conv(image, kernel):\n    top = max(image[:3, :3])\n"
     "    return image[1:-1, 1:-1]\n", "builtin_max_of_array"),
    ("import numpy as np\n\ndef conv(image, kernel):\n    n = image.shape[2]\n"
     "    return image[1:-1, 1:-1]\n", "shape_indexed"),
    ("import numpy as np\n\ndef conv(image, kernel):\n    out = np.zeros((2, 2), np.uint8)\n"
     "    out[0, 0] = -4\n    return image[1:-1, 1:-1]\n", "numpy2_integer_out_of_bounds"),
], ids=["thread", "listdir", "colour_shape", "list_plus_array", "builtin_max", "batch_shape",
        "uint8_store"])
def test_what_the_sandbox_lacks_is_named_beside_a_real_child_s_crash(conv2d, runner, source,
                                                                     code) -> None:
    report = grade(conv2d, source, runner, seed=3, hidden_secret=HIDDEN_SECRET)
    assert [c.status for c in report.cases] == ["error"] * 4
    assert code in [d.code for d in report.diagnosis]

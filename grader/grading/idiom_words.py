"""The words said beside a crash from an idiom that no longer runs, or reaches for what the
sandbox does not have (``grader.grading.breakage``), keyed by their ``Msg``'s value
(``grader.grading.messages`` adds them to its templates, and says them)."""

IDIOM_TEMPLATES: dict[str, str] = {
    "array_to_scalar": "{call} of an array with more than zero dimensions: NumPy 2 refuses "
                       "it (older NumPy took the single value); take the value first, e.g. "
                       "float(np.sum(...)) or x.item(), or keep the array's value as it is",
    "array_into_element": "an array of shape (1, 1, 1) or similar stored into one element: "
                          "NumPy 2 refuses it (older NumPy stored its single value); store "
                          "a number, e.g. np.sum(...) of the product or its .item()",
    "float_as_index": "'/' gives a float in Python 3 (it was integer division in Python 2) "
                      "and a float cannot be a shape, a range or an index; use '//' (or "
                      "int(...)) where a whole number is meant",
    "removed_numpy_alias": "np.{name} was removed in NumPy 1.24 (an alias of Python's own "
                           "{name}); use {name} or np.{name}64",
    "python2_name": "{name} exists in Python 2 only; use {replacement}",
    "module_not_available": "{name} cannot be imported here: your code can import only what is "
                            "loaded before it starts, which is numpy (with {numpy_parts}) and "
                            "the standard modules {modules}, and a few others that these use; "
                            "remove the import if your code does not need it (plotting, progress "
                            "bars, image files), else write that part with NumPy",
    "imports_note": "Your code may import numpy (with {numpy_parts}), the standard modules "
                    "{modules}, and a few others that these use; no other package can be "
                    "imported where it runs (no SciPy, OpenCV, Pillow or matplotlib).",
    "threads_not_available": "your code starts a thread (threading, a pool): here it runs in "
                             "one thread and cannot start another; compute in it (NumPy's "
                             "array operations are fast without threads)",
    "no_file_system": "your code reaches for a file or a folder (open, the working folder, "
                      "loading or saving an image or an array): here it has no file system "
                      "at all; compute from the arguments it is given, and return the result",
    "shape_unpacked": "your code unpacks {expected} sizes from a shape that has {got}: "
                      "the arrays here have another number of axes than your code was "
                      "written for (a grey image has two, a colour one three); unpack as "
                      "many as the array has, e.g. h, w = image.shape for two",
    "input_asked": "your code asks for input (input()), where nobody types any: it is called "
                   "with its arguments, and returns its result; take the values from the "
                   "arguments, and keep a script that asks under if __name__ == "
                   "\"__main__\": (which does not run here)",
    "array_as_index": "an array is used where one whole number is meant: an index, a slice's "
                      "start or stop, or a range's end (np.zeros(n) where n was meant, or an "
                      "array of one value, whose int(...) or .item() gives the number)",
    "shape_not_a_tuple": "np.{name} takes the array's shape as one tuple: {example}; given "
                         "one by one, the sizes after the first are read as its other "
                         "arguments (the second as a dtype)",
    "module_not_imported": "your code uses {name} without importing it: add "
                           "\"{statement}\" at the top of your file",
    "shape_indexed": "your code reads a size from a shape past its last axis: the arrays "
                     "here have fewer axes than your code was written for (a batch of "
                     "images has three, one grey image two); index only the axes they have",
    "integer_out_of_bounds": "NumPy 2 refuses to store {value} in a {dtype} array, where "
                             "NumPy 1 wrapped it round silently: make your output an array "
                             "of floats (np.zeros(shape)), and store the values as they are",
    "list_added_to_array": "your code joins a Python list and a NumPy array with + ([0] * n "
                           "+ x): on an array, + adds element by element instead of joining; "
                           "pad with np.pad(x, n), or join with np.concatenate(([0] * n, x))",
    "window_past_edge": "a window of shape {short} met a kernel of shape {full}: the slice "
                        "gave fewer values than the kernel has. Most often the loop goes past "
                        "the last window that fits whole (near the end of an input, a slice "
                        "such as x[i:i + k] stops at its edge): let a window's first index go "
                        "up to n - k only, for an input of n and a kernel of k. Else the "
                        "slice's width is not the kernel's: take it from the kernel's shape",
    "builtin_max_of_array": "Python's {name}() of an array compares its items (its rows, "
                            "for a 2-D one) with each other, which NumPy refuses; use "
                            "np.{name}(...) or the array's own .{name}()",
    "builtin_max_of_two": "Python's {name}(a, b) with an array compares the arrays as a "
                          "whole, which NumPy refuses; for each value, use np.{name}imum(a, b)",
}

"""What learner code may import: the modules the zygote loads once, for every child to share
(a child has no file system, so nothing else can load)."""

LEARNER_MODULES = (
    "numpy", "numpy.fft", "numpy.linalg", "numpy.random", "numpy.lib.stride_tricks",
    "numpy.polynomial", "numpy.testing",
    # numpy imports these on first use (np.median, np.percentile and np.unique need numpy.ma;
    # type hints numpy.typing): a child, which cannot load them, needs them loaded
    "numpy.ma", "numpy.typing", "numpy.strings", "numpy.char", "numpy.rec",
    "encodings.idna", "math", "cmath", "itertools", "functools", "operator", "collections",
    "collections.abc", "heapq", "bisect", "array", "copy", "numbers", "fractions", "decimal",
    "statistics", "random", "string", "re", "typing", "dataclasses", "enum", "time",
    "warnings", "abc", "contextlib", "types", "resource", "sys", "os",
)


def importable() -> list[str]:
    """The top-level names a learner may import, as told to one whose import failed."""
    return sorted({name.split(".")[0] for name in LEARNER_MODULES} - {"encodings"},
                  key=lambda name: (name != "numpy", name))


def numpy_parts() -> list[str]:
    """numpy's submodules a learner may import (numpy has more that are not loaded)."""
    return [name for name in LEARNER_MODULES if name.startswith("numpy.")]

# numpy's own file readers and writers, aimed at the reference and the grader's data: load,
# fromfile, memmap (an mmap of the file: its module cannot even be imported), loadtxt, genfromtxt, open_memmap, save and tofile.
# The child has no file system: every one is refused before a byte is read or written.
import numpy as np
from numpy.lib import format as npformat

TARGET = "__REFERENCE_DIR__/conv2d.py"
OUT = "__OUTSIDE_DIR__/escape.npy"


def conv(image, kernel):
    attempts = {
        "load": lambda: np.load(TARGET, allow_pickle=True),
        "fromfile": lambda: np.fromfile(TARGET, dtype=np.uint8),
        "memmap": lambda: np.memmap(TARGET, dtype=np.uint8, mode="r"),
        "loadtxt": lambda: np.loadtxt(TARGET, dtype=str, delimiter="\n"),
        "genfromtxt": lambda: np.genfromtxt(TARGET, dtype=str, delimiter="\n"),
        "open_memmap": lambda: npformat.open_memmap(OUT, mode="w+", shape=(4,)),
        "save": lambda: np.save(OUT, image),
        "tofile": lambda: image.tofile(OUT),
    }
    outcomes = {}
    for name, attempt in attempts.items():
        try:
            attempt()
            outcomes[name] = "worked"
        except (PermissionError, ModuleNotFoundError):  # memmap's mmap module is not there
            outcomes[name] = "refused"
        except Exception as error:  # noqa: BLE001 - any other failure is named
            outcomes[name] = type(error).__name__
    if set(outcomes.values()) == {"refused"}:
        raise PermissionError("every numpy file reader and writer was refused")
    raise RuntimeError(f"not all refused: {outcomes}")

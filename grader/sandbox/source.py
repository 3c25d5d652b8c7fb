"""Learner source compiled by the grader, for the child to load without a compiler.

A fresh child that compiles the source copies the pages the compiler writes (about 120 of the
zygote's, 0.5 ms of CPU, in its warm-up or on the submission's clock); loading the code from
``marshal`` costs it a tenth of that. The grader compiles the source the way the child always
has: as ``submission.py``, with the ``annotations`` future (the harness's module has it, and
``compile`` passed it on), without optimisation (the zygote runs without ``-O``). The parent
sends the child trusted bytes; nothing the child sends back is unmarshalled.

Source whose compiling warns (``x is 1``, an invalid escape sequence) is left to the child, so
that the learner sees the warning on the run's stderr, as before, and the grader's log does not.
"""

from __future__ import annotations
import __future__

import marshal
import threading
import types
import warnings

FILENAME = "submission.py"
FLAGS = __future__.annotations.compiler_flag
# ``catch_warnings`` swaps the warnings module's filters for the whole process: one compile at
# a time (a warning another thread gives meanwhile is caught here, and that source left to the
# child, as one of its own)
_COMPILING = threading.Lock()


def compiled(source: str) -> bytes | None:
    """The code of ``source`` for the child, or None when it does not compile: the child then
    compiles it itself and reports the error as a load error, as for any source."""
    with _COMPILING, warnings.catch_warnings(record=True) as warned:
        warnings.simplefilter("always")
        try:
            code = compile(source, FILENAME, "exec", flags=FLAGS, dont_inherit=True, optimize=0)
        except (SyntaxError, ValueError, RecursionError, MemoryError, OverflowError):
            return None
    return None if warned else marshal.dumps(code)


def load(code: bytes, source: str) -> types.CodeType:
    """What the child executes: the grader's code when it sent some, else ``source`` compiled
    exactly as ``compiled`` would have."""
    if code:
        loaded: types.CodeType = marshal.loads(code)
        return loaded
    return compile(source, FILENAME, "exec", flags=FLAGS, dont_inherit=True, optimize=0)

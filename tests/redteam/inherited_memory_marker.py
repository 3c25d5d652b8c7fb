# Looks for what an earlier child left in memory it inherited from the zygote, then leaves its
# own mark there and dies, so that every case runs in a new child: a marker with its pid is
# written over the text of a docstring the zygote loaded (numpy.fft's, in place, through
# ctypes). Each child's copy of a page is its own (copy on write): no child ever sees another's
# mark, and the zygote's stays as it was. Status 0: nothing found; 3: another child's mark.
import ctypes
import os
import sys

import numpy.fft

TEXT = numpy.fft.__doc__
MARK = b"RTMARK:"
DATA = id(TEXT) + sys.getsizeof("") - 1  # where a compact ASCII str keeps its characters


def conv(image, kernel):
    head = TEXT[:24]
    if head.startswith(MARK.decode()) and head[len(MARK):].split(":")[0] != str(os.getpid()):
        os._exit(3)
    mark = MARK + b"%d:" % os.getpid()
    ctypes.memmove(DATA, mark, len(mark))
    os._exit(0 if TEXT.startswith(mark.decode()) else 4)

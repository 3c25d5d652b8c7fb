# Answers each case with an "invalid" frame whose reason is lone surrogates, spelled as JSON
# escapes (the frame's bytes are plain ASCII).
import os
import struct
import sys


def conv(image, kernel):
    harness = sys._getframe(1)  # the child's code that called conv for this case
    harness.f_globals["_write_all"] = lambda fd, data: None  # its own answer is never sent
    head = b'{"type": "invalid", "index": %d, "why": "\\udfff\\ud800 a lone half"}' % (
        harness.f_locals["index"])
    os.write(3, struct.pack("<4sIQ", b"GRF1", len(head), 0) + head)

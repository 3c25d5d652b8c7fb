# Trickles a result frame into the grader's channel one byte per write, in the pipe's packet
# mode (O_DIRECT), where every write is a read of its own however slow the grader: it announces
# a body of half a MiB and sends it a byte at a time, forever. The grader's work per byte must
# be bounded (its reads of a frame that stays incomplete are spaced out), not one wake-up each.
import fcntl
import json
import os
import struct
import sys


def conv(image, kernel):
    harness = sys._getframe(1)  # the child's code that called conv for this case
    harness.f_globals["_write_all"] = lambda fd, data: None  # its own answer is never sent
    fcntl.fcntl(3, fcntl.F_SETFL, os.O_DIRECT)
    header = {"type": "result", "index": harness.f_locals["index"], "output_type": "ndarray",
              "dtype": "<f8", "shape": [256, 256]}
    head = json.dumps(header).encode()
    os.write(3, struct.pack("<4sIQ", b"GRF1", len(head), 256 * 256 * 8) + head)
    while True:
        os.write(3, b"\0")

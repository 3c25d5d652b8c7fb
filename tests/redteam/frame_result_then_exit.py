# While loading, writes a valid result frame for case 0 (where "ready" is due) and exits.
import json
import os
import struct

head = json.dumps({"type": "result", "index": 0, "output_type": "ndarray", "dtype": "<f8",
                   "shape": [6, 6]}).encode()
os.write(3, struct.pack("<4sIQ", b"GRF1", len(head), 288) + head + bytes(288))
os._exit(0)


def conv(image, kernel):
    return image

"""Length-prefixed frames between the grader and a sandboxed child.

    frame := b"GRF1" | u32 header length | u64 body length | JSON header | raw body

Arrays travel as a header naming dtype and shape and a body of raw bytes. Nothing is pickled.
The decoder is written for the parent, which reads what hostile code wrote: every length is
capped, the header must be a small JSON object, and an array's body must be exactly as long
as its declared dtype and shape say.

This module is imported by the sandbox child too, so it depends on numpy and the stdlib only.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Iterator
from enum import StrEnum
from typing import Any

import numpy as np

from grader.sandbox.errors import SandboxError

MAGIC = b"GRF1"
_PREFIX = struct.Struct("<4sIQ")
PREFIX_SIZE = _PREFIX.size
MAX_HEADER = 64 * 1024
MAX_NDIM = 8
# The only dtypes an array may name, exactly as numpy spells them for this machine: bool,
# signed and unsigned integers and floats, native byte order. Never object, str or complex.
DTYPES: dict[str, np.dtype] = {
    np.dtype(name).str: np.dtype(name)
    for name in ("bool", "int8", "uint8", "int16", "uint16", "int32", "uint32", "int64",
                 "uint64", "float16", "float32", "float64")
}


class Fault(StrEnum):
    """Why bytes are not a well-formed frame; the words are the grader's (``messages``)."""

    BAD_MAGIC = "bad_magic"
    HEADER_TOO_LONG = "header_too_long"  # {size}
    BODY_TOO_LONG = "body_too_long"  # {size}
    HEADER_NOT_JSON = "header_not_json"
    HEADER_NOT_OBJECT = "header_not_object"
    DTYPE = "dtype"  # {dtype}: the name it gave, cut short
    SHAPE = "shape"
    TOO_MANY = "too_many"  # {count, limit}
    BODY_SIZE = "body_size"  # {size, dtype, shape, need}
    MALFORMED = "malformed"  # anything else numpy refused


class FrameError(SandboxError):
    """The byte stream is not a well-formed frame sequence: a fault and its facts."""

    def __init__(self, fault: Fault, **params: str | int) -> None:
        super().__init__(f"{fault}: {params}" if params else str(fault))
        self.fault = fault
        self.params = params


def parse_prefix(data: bytes) -> tuple[bytes, int, int]:
    """(magic, header length, body length) of a frame's first ``PREFIX_SIZE`` bytes."""
    magic, head_len, body_len = _PREFIX.unpack_from(data)
    return magic, head_len, body_len


def encode(header: dict[str, Any], body: bytes = b"") -> bytes:
    head = json.dumps(header, separators=(",", ":")).encode()
    return _PREFIX.pack(MAGIC, len(head), len(body)) + head + body


def encode_array(header: dict[str, Any], array: np.ndarray) -> bytes:
    return b"".join(encode_array_parts(header, array))


def encode_array_parts(header: dict[str, Any], array: np.ndarray) -> list[bytes | memoryview]:
    """A frame as its prefix and header, then the array's own memory (no copy of the data)."""
    array = np.asarray(array, order="C")  # not ascontiguousarray: it makes a 0-d array 1-d
    meta = dict(header, dtype=array.dtype.str, shape=list(array.shape))
    head = json.dumps(meta, separators=(",", ":")).encode()
    return [_PREFIX.pack(MAGIC, len(head), array.nbytes) + head,
            array.data.cast("B") if array.nbytes else b""]


class Decoder:
    """Incremental decoder: ``feed`` bytes as they arrive, iterate complete frames."""

    def __init__(self, max_body: int) -> None:
        self.max_body = max_body
        self._buffer = bytearray()
        self._need: tuple[int, int] | None = None

    @property
    def pending(self) -> int:
        return len(self._buffer)

    def feed(self, data: bytes) -> Iterator[tuple[dict[str, Any], bytes]]:
        self._buffer += data
        while True:
            if self._need is None:
                if len(self._buffer) < PREFIX_SIZE:
                    return
                magic, head_len, body_len = _PREFIX.unpack_from(self._buffer)
                if magic != MAGIC:
                    raise FrameError(Fault.BAD_MAGIC)
                if head_len > MAX_HEADER:
                    raise FrameError(Fault.HEADER_TOO_LONG, size=head_len)
                if body_len > self.max_body:
                    raise FrameError(Fault.BODY_TOO_LONG, size=body_len)
                self._need = (head_len, body_len)
            head_len, body_len = self._need
            total = PREFIX_SIZE + head_len + body_len
            if len(self._buffer) < total:
                return
            head = bytes(self._buffer[PREFIX_SIZE : PREFIX_SIZE + head_len])
            body = bytes(self._buffer[PREFIX_SIZE + head_len : total])
            del self._buffer[:total]
            self._need = None
            yield _parse_header(head), body


def _parse_header(head: bytes) -> dict[str, Any]:
    try:
        text = head.decode("utf-8")
        header = json.loads(text)
        if "\\u" in text:
            # An escape may spell a lone surrogate ("\\ud800"), which no UTF-8 text can hold:
            # a report quoting it could not be written. Each such character becomes "?".
            clean = json.dumps(header, ensure_ascii=False).encode("utf-8", errors="replace")
            header = json.loads(clean)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise FrameError(Fault.HEADER_NOT_JSON) from None
    if not isinstance(header, dict):
        raise FrameError(Fault.HEADER_NOT_OBJECT)
    return header


def decode_array(header: dict[str, Any], body: bytes, max_elements: int) -> np.ndarray:
    """Build an array from a header and body that may both be lies. Raises FrameError."""
    dtype_text = header.get("dtype")
    shape = header.get("shape")
    dtype = DTYPES.get(dtype_text) if isinstance(dtype_text, str) else None
    if dtype is None:
        raise FrameError(Fault.DTYPE, dtype=str(dtype_text)[:40])
    if (
        not isinstance(shape, list)
        or len(shape) > MAX_NDIM
        or not all(type(d) is int and 0 <= d <= max_elements for d in shape)
    ):
        raise FrameError(Fault.SHAPE)
    count = 1
    for d in shape:
        count *= d
    if count > max_elements:
        raise FrameError(Fault.TOO_MANY, count=count, limit=max_elements)
    if len(body) != count * dtype.itemsize:
        raise FrameError(Fault.BODY_SIZE, size=len(body), dtype=str(dtype_text),
                         shape=str(shape)[:80], need=count * dtype.itemsize)
    return np.frombuffer(body, dtype=dtype).reshape(shape).copy()

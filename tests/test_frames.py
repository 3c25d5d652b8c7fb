"""The result-frame parser, which reads what hostile code wrote."""

from __future__ import annotations

import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grader.sandbox import frames
from grader.sandbox.base import CHILD_INVALID, INVALID_PARAMS, Cause, Invalid
from grader.sandbox.frames import Fault
from tests.conftest import ROOT


def decode_all(data: bytes, max_body: int = 1 << 20) -> list[tuple[dict, bytes]]:
    return list(frames.Decoder(max_body).feed(data))


def test_an_array_survives_the_round_trip() -> None:
    array = np.random.default_rng(0).normal(size=(4, 5))
    [(header, body)] = decode_all(frames.encode_array({"type": "result", "index": 2}, array))
    assert header["index"] == 2
    np.testing.assert_array_equal(frames.decode_array(header, body, 100), array)


def test_frames_split_at_any_byte_are_reassembled() -> None:
    data = frames.encode({"a": 1}, b"xyz") + frames.encode({"b": 2})
    decoder = frames.Decoder(100)
    got = [f for byte in data for f in decoder.feed(bytes([byte]))]
    assert got == [({"a": 1}, b"xyz"), ({"b": 2}, b"")]


def test_bad_magic_is_refused() -> None:
    with pytest.raises(frames.FrameError) as refused:
        decode_all(b"XXXX" + bytes(12))
    assert refused.value.fault is Fault.BAD_MAGIC


def test_an_oversized_body_is_refused_before_it_is_read() -> None:
    with pytest.raises(frames.FrameError) as refused:
        decode_all(struct.pack("<4sIQ", b"GRF1", 2, 1 << 40) + b"{}")
    assert (refused.value.fault, refused.value.params) == (Fault.BODY_TOO_LONG, {"size": 1 << 40})


def test_lone_surrogates_in_a_header_become_question_marks() -> None:
    """JSON may spell halves of a character that no UTF-8 text holds; a pair stays whole."""
    head = rb'{"why": "\ud800 and \udfff", "\udc80": ["\ud83d\ude00"]}'
    [(header, _)] = decode_all(struct.pack("<4sIQ", b"GRF1", len(head), 0) + head)
    assert header == {"why": "? and ?", "?": ["\U0001f600"]}


def test_a_header_that_is_not_a_json_object_is_refused() -> None:
    with pytest.raises(frames.FrameError) as refused:
        decode_all(struct.pack("<4sIQ", b"GRF1", 3, 0) + b"[1]")
    assert refused.value.fault is Fault.HEADER_NOT_OBJECT


@pytest.mark.parametrize("dtype", ["|O", "<c16", "<U4", "|S3", "<M8", "V8", "", "<f16",
                                   "<f1", "|f1", ">f8", "=f8", "<b1", "f8", "float64"])
def test_dtypes_off_the_allow_list_are_refused(dtype: str) -> None:
    """Only numpy's exact spelling of a numeric dtype in native order; numpy refuses some of
    the others itself (``<f1``), which must be a FrameError too, not numpy's TypeError."""
    with pytest.raises(frames.FrameError) as refused:
        frames.decode_array({"dtype": dtype, "shape": [1]}, bytes(16), 10)
    assert (refused.value.fault, refused.value.params) == (Fault.DTYPE, {"dtype": dtype})


@pytest.mark.parametrize("shape", [[-1], [2.0], "[2]", [True], [1] * 9, None])
def test_malformed_shapes_are_refused(shape: object) -> None:
    with pytest.raises(frames.FrameError):
        frames.decode_array({"dtype": "<f8", "shape": shape}, bytes(16), 10)


def test_a_body_that_disagrees_with_the_shape_is_refused() -> None:
    with pytest.raises(frames.FrameError) as refused:
        frames.decode_array({"dtype": "<f8", "shape": [2, 2]}, bytes(24), 10)
    assert refused.value.fault is Fault.BODY_SIZE
    assert (refused.value.params["size"], refused.value.params["need"]) == (24, 32)


def test_too_many_elements_are_refused() -> None:
    with pytest.raises(frames.FrameError) as refused:
        frames.decode_array({"dtype": "|u1", "shape": [1000, 1000]}, bytes(10**6), 1000)
    assert refused.value.fault is Fault.TOO_MANY


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_arbitrary_bytes_only_ever_raise_frame_error(data: bytes) -> None:
    try:
        for header, body in frames.Decoder(1 << 10).feed(data):
            frames.decode_array(header, body, 1 << 10)
    except frames.FrameError:
        pass


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(st.sampled_from(["dtype", "shape", "type", "index"]),
                    st.one_of(st.text(max_size=8), st.integers(), st.none(),
                              st.lists(st.integers(-3, 5), max_size=10)),
                    max_size=4),
    st.binary(max_size=128),
)
def test_arbitrary_headers_give_an_array_or_frame_error(header: dict, body: bytes) -> None:
    [(parsed, parsed_body)] = decode_all(frames.encode(header, body))
    try:
        array = frames.decode_array(parsed, parsed_body, 1 << 10)
    except frames.FrameError:
        return
    assert isinstance(array, np.ndarray) and array.dtype.kind in "biuf"
    assert array.nbytes == len(body)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=4),
    max_leaves=20)
DTYPE_TEXT = st.text(max_size=12) | st.sampled_from(
    ["<f1", ">f8", "=f8", "|b1", "<c16", "O", "|V8", "<U4", "<M8[s]", "f8", "float64", "<f8",
     "<i8", "S10", "(2,)<f8", "<f16", "|O", "<m8"]) | JSON


@settings(max_examples=400, deadline=None)
@given(kind=st.sampled_from(["result", "error", "invalid", "other"]) | JSON,
       index=st.integers(-2, 2) | JSON, dtype=DTYPE_TEXT,
       shape=st.lists(st.integers(-2**63, 2**63), max_size=10) | JSON,
       body=st.binary(max_size=256), extra=st.dictionaries(st.text(max_size=8), JSON,
                                                          max_size=4))
def test_any_header_and_body_from_a_child_becomes_a_case_run(
        kind: object, index: object, dtype: object, shape: object, body: bytes,
        extra: dict) -> None:
    """What a child claims is a verdict or an output; never an exception in the grader."""
    from grader.sandbox.conversation import case_run

    header = {**extra, "type": kind, "index": index, "dtype": dtype, "shape": shape}
    run = case_run((header, body), 0, max_elements=64)
    assert run.kind in ("output", "invalid", "error", "memory_limit", "crashed")
    if run.kind == "output":
        assert run.array is not None and run.array.dtype in frames.DTYPES.values()
        assert run.array.size <= 64


@settings(max_examples=300, deadline=None)
@given(chunks=st.lists(st.binary(max_size=64), max_size=12),
       head=st.binary(max_size=64), body_len=st.integers(0, 2**64 - 1))
def test_any_byte_stream_is_frames_or_a_frame_error(chunks: list[bytes], head: bytes,
                                                     body_len: int) -> None:
    decoder = frames.Decoder(max_body=1024)
    stream = [struct.pack("<4sIQ", frames.MAGIC, len(head), body_len) + head, *chunks]
    try:
        for chunk in stream:
            for header, _ in decoder.feed(chunk):
                assert isinstance(header, dict)
    except frames.FrameError:
        pass


@settings(max_examples=400, deadline=None)
@given(why=st.sampled_from([*CHILD_INVALID, "unreadable", "unusable", "nonsense"]) | JSON,
       params=st.dictionaries(st.sampled_from(["type", "error", "kind", "dtype", "count", "first",
                                               "limit", "reason"]), JSON, max_size=4) | JSON)
def test_a_child_s_reason_for_an_unusable_output_is_a_known_code_with_typed_parameters(
        why: object, params: object) -> None:
    from grader.grading.compare import unusable
    from grader.sandbox.conversation import case_run

    run = case_run(({"type": "invalid", "index": 0, "why": why, "params": params}, b""), 0, 64)
    assert run.kind == "invalid" and run.invalid is not None
    assert run.invalid in CHILD_INVALID or run.invalid is Invalid.UNUSABLE
    expected = INVALID_PARAMS[run.invalid]
    assert set(run.params) == set(expected)
    assert all(type(run.params[name]) is kind for name, kind in expected.items())
    assert unusable(run).startswith("expected a numpy array of numbers, got ")


@pytest.mark.parametrize(("output", "why", "params"), [
    (None, "type", {"type": "NoneType"}),
    ([[1.0], [1.0, 2.0]], "not_an_array", {"error": "ValueError"}),
    (np.array(["a"]), "elements", {"kind": "U", "dtype": "<U1"}),
    ((np.ones((2, 2)), {"x": 1}), "tuple", {"count": 2, "first": "ndarray"}),
    ((np.ones((2, 2)), np.ones(3)), "tuple", {"count": 2, "first": "ndarray"}),
    ((np.ones((2, 2)), None), "tuple", {"count": 2, "first": "ndarray"}),
])
def test_the_child_reports_why_an_output_is_unusable_as_a_code_and_parameters(
        output: object, why: str, params: dict) -> None:
    from grader.sandbox.child import _convert

    _, array, code, facts = _convert(output)
    assert array is None and (code, facts) == (why, params)
    assert Invalid(code) in CHILD_INVALID and set(facts) == set(INVALID_PARAMS[Invalid(code)])


def test_a_child_s_text_in_a_parameter_is_redacted_and_cut_short() -> None:
    from grader.sandbox.conversation import case_run

    secret_path = str(ROOT)
    header = {"type": "invalid", "index": 0, "why": "type",
              "params": {"type": f"{secret_path}/x" + "y" * 100}}
    run = case_run((header, b""), 0, 64)
    assert run.invalid is Invalid.TYPE
    assert secret_path not in str(run.params["type"])
    assert len(str(run.params["type"])) <= 60


@pytest.mark.parametrize("index", [True, 1.0, "1", None, [1]])
def test_an_answer_for_a_case_names_it_by_its_integer_index_only(index: object) -> None:
    """True equals 1 and 1.0 equals 1 in Python: a child's index is taken only as an int."""
    from grader.sandbox.conversation import case_run

    array = np.ones((2, 2))
    [(header, body)] = decode_all(frames.encode_array({"type": "result", "index": 1}, array))
    assert case_run((header, body), 1, 64).kind == "output"
    run = case_run(({**header, "index": index}, body), 1, 64)
    assert (run.kind, run.cause) == ("crashed", Cause.PROTOCOL)

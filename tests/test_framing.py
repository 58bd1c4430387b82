"""Audio event framing (compiled and twin) against json/base64 oracles, and against each other."""

from __future__ import annotations

import base64
import binascii
import contextlib
import importlib
import json
import re
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rtsdk.exceptions import AudioFormatError
from tests.conftest import NO_EXTENSIONS, kernel_params, load_impl

GA = "response.output_audio.delta"
BETA = "response.audio.delta"
SESSION = "session.output_audio.delta"
APPEND = "input_audio_buffer.append"
LIVE_APPEND = "session.input_audio.append"
TRANSLATION_APPEND = "session.input_audio_buffer.append"
RAISES = object()


@pytest.fixture(scope="module", params=kernel_params("framing"))
def fr_impl(request: pytest.FixtureRequest) -> ModuleType:
    return load_impl(request)


@pytest.fixture(scope="module", params=[True, False], ids=["simd", "portable"])
def fr(request: pytest.FixtureRequest, fr_impl: ModuleType) -> Iterator[ModuleType]:
    """The module with its SIMD base64 paths on (when the CPU has them) or forced off."""
    select = getattr(fr_impl, "_set_simd", None)
    if select is None:
        if not request.param:
            pytest.skip("the twin has a single path")
        yield fr_impl
        return
    select(request.param)
    try:
        yield fr_impl
    finally:
        select(True)


def oracle(frame: str | bytes | bytearray, session: bool = False) -> Any:
    """What decode_audio_delta (session: decode_session_audio_delta) must give, from json.loads
    and a dict lookup (RAISES if invalid)."""
    try:
        event = json.loads(frame)
    except (ValueError, RecursionError):
        return RAISES
    if not isinstance(event, dict) or not isinstance(event.get("type"), str):
        return RAISES
    if session:
        if event["type"] != SESSION:
            return None
        fields = ["", "", event.get("delta")]  # no ids: only the delta counts
    elif event["type"] not in (GA, BETA):
        return None
    else:
        fields = [event.get(k) for k in ("response_id", "item_id", "delta")]
    if not all(isinstance(f, str) for f in fields):
        return RAISES
    try:
        pcm = base64.b64decode(fields[2].encode("ascii"), validate=True)
    except (UnicodeEncodeError, binascii.Error):
        return RAISES
    return (fields[0], fields[1], pcm)


def check(fr: ModuleType, frame: str | bytes | bytearray) -> Any:
    """decode_audio_delta and decode_session_audio_delta against their oracles."""
    for decode, want in (
        (fr.decode_audio_delta, oracle(frame)),
        (fr.decode_session_audio_delta, oracle(frame, session=True)),
    ):
        if want is RAISES:
            with pytest.raises(ValueError) as info:
                decode(frame)
            assert 0 < len(str(info.value)) < 400
        else:
            assert decode(frame) == want
    return oracle(frame)


# ---------------------------------------------------------------- encode_append


@given(
    audio=st.binary(max_size=2000).map(lambda b: b[: len(b) & ~1]),
    event_id=st.none() | st.text(max_size=40),
)
def test_append_parses_to_the_exact_event(
    fr: ModuleType, audio: bytes, event_id: str | None
) -> None:
    frame = fr.encode_append(audio, event_id)
    assert type(frame) is bytes
    want = {"type": APPEND, "audio": base64.b64encode(audio).decode("ascii")}
    if event_id is not None:
        want["event_id"] = event_id
    assert json.loads(frame.decode("utf-8")) == want
    assert json.loads(frame) == want


@given(audio=st.binary(max_size=300))
def test_append_g711_takes_any_byte_count(fr: ModuleType, audio: bytes) -> None:
    event = json.loads(fr.encode_append(audio, sample_width=1))
    assert base64.b64decode(event["audio"]) == audio


def test_append_takes_any_contiguous_buffer(fr: ModuleType) -> None:
    pcm = np.arange(-480, 480, dtype=np.int16)
    want = base64.b64encode(pcm.tobytes()).decode()
    for audio in (pcm, pcm.view(np.uint8), memoryview(pcm), bytearray(pcm.tobytes())):
        assert json.loads(fr.encode_append(audio, "e1"))["audio"] == want


def test_append_refuses_bad_audio(fr: ModuleType) -> None:
    with pytest.raises(AudioFormatError, match="961"):
        fr.encode_append(bytes(961))
    with pytest.raises(AudioFormatError, match="contiguous"):
        fr.encode_append(np.zeros(20, np.int16)[::2])
    with pytest.raises(ValueError, match="15728640"):
        fr.encode_append(bytes(15 * 1024 * 1024 + 2))
    with pytest.raises(ValueError, match="sample_width"):
        fr.encode_append(bytes(4), sample_width=3)
    with pytest.raises(TypeError):
        fr.encode_append(bytes(4), 17)
    with pytest.raises(TypeError):
        fr.encode_append(None)


def test_append_at_the_limit(fr: ModuleType) -> None:
    audio = bytes(range(256)) * (15 * 4096)
    assert len(audio) == 15 * 1024 * 1024
    event = json.loads(fr.encode_append(audio, 'id"\\'))
    assert event["event_id"] == 'id"\\'
    assert base64.b64decode(event["audio"]) == audio
    event = json.loads(fr.encode_append(audio, event_type=LIVE_APPEND))
    assert event["type"] == LIVE_APPEND and base64.b64decode(event["audio"]) == audio


_EVENT_TYPE = re.compile(r"[A-Za-z0-9_.]{1,64}")
_event_types = st.sampled_from(
    [APPEND, LIVE_APPEND, TRANSLATION_APPEND, "a", "." * 64]
) | st.from_regex(_EVENT_TYPE, fullmatch=True)


def dumped(event_type: str, event_id: str | None, audio: bytes) -> bytes:
    """The frame as json.dumps writes it (compact, keys in the frame's order)."""
    want: dict[str, str] = {"type": event_type}
    if event_id is not None:
        want["event_id"] = event_id
    want["audio"] = base64.b64encode(audio).decode("ascii")
    return json.dumps(want, separators=(",", ":")).encode("ascii")


@given(
    audio=st.binary(max_size=2000).map(lambda b: b[: len(b) & ~1]),
    event_id=st.none() | st.text(max_size=40),
    event_type=st.none() | _event_types,
)
def test_append_of_any_type_is_what_json_dumps_writes(
    fr: ModuleType, audio: bytes, event_id: str | None, event_type: str | None
) -> None:
    frame = fr.encode_append(audio, event_id, event_type=event_type)
    assert frame == dumped(event_type or APPEND, event_id, audio)
    if event_type is None:  # the default path, unchanged
        assert frame == fr.encode_append(audio, event_id)
        assert frame == fr.encode_append(audio, event_id, event_type=APPEND)
    event = json.loads(frame)
    keys = ["type", "audio"] if event_id is None else ["type", "event_id", "audio"]
    assert list(event) == keys


@given(audio=st.binary(max_size=300), event_type=_event_types)
def test_typed_append_takes_any_buffer_and_width(
    fr: ModuleType, audio: bytes, event_type: str
) -> None:
    want = dumped(event_type, None, audio)
    assert fr.encode_append(audio, sample_width=1, event_type=event_type) == want
    assert fr.encode_append(bytearray(audio), sample_width=1, event_type=event_type) == want
    assert fr.encode_append(memoryview(audio), sample_width=1, event_type=event_type) == want
    even = audio[: len(audio) & ~1]
    pcm = np.frombuffer(even, np.int16)
    assert fr.encode_append(pcm, "e", event_type=event_type) == dumped(event_type, "e", even)


@given(
    event_type=st.text(max_size=70).filter(lambda t: _EVENT_TYPE.fullmatch(t) is None)
    | st.sampled_from(["x" * 65, "session.input_audio.append ", "a\n", "caf\u00e9", "a/b"])
    | st.sampled_from([0, 1.5, b"session.input_audio.append", ["a"], {"a": 1}, True])
)
def test_a_malformed_event_type_is_refused_by_name(fr: ModuleType, event_type: object) -> None:
    with pytest.raises(ValueError, match="event_type") as info:
        fr.encode_append(b"\x00\x00", event_type=event_type)
    assert len(str(info.value)) < 300
    with pytest.raises(ValueError, match="event_type"):
        fr.encode_append(b"\x00\x00", "e1", sample_width=1, event_type=event_type)


def test_typed_append_refuses_bad_audio_as_the_default_does(fr: ModuleType) -> None:
    with pytest.raises(AudioFormatError, match="961"):
        fr.encode_append(bytes(961), event_type=LIVE_APPEND)
    with pytest.raises(AudioFormatError, match="contiguous"):
        fr.encode_append(np.zeros(20, np.int16)[::2], event_type=LIVE_APPEND)
    with pytest.raises(ValueError, match="15728640"):
        fr.encode_append(bytes(15 * 1024 * 1024 + 2), event_type=LIVE_APPEND)
    with pytest.raises(TypeError):
        fr.encode_append(bytes(4), 17, event_type=LIVE_APPEND)


def test_many_event_types_all_frame_right(fr: ModuleType) -> None:
    """More types than the head cache keeps: the ones past it are framed all the same."""
    for i in range(200):
        event_type = f"x.t{i}"
        assert fr.encode_append(b"\x01\x02", event_type=event_type) == dumped(
            event_type, None, b"\x01\x02"
        )


# ---------------------------------------------------------------- decode_audio_delta

_scalar = (
    st.none()
    | st.booleans()
    | st.integers(-(10**30), 10**30)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
)
_json = st.recursive(
    _scalar,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)
_ws = st.sampled_from(["", "", "", " ", "\n", "\t", "\r\n  "])


@st.composite
def string_literal(draw: st.DrawFn, value: str) -> str:
    """A JSON literal for value: compact, ASCII-escaped, or with '/' written as '\\/'."""
    how = draw(st.sampled_from(["plain", "plain", "ascii", "slash"]))
    text = json.dumps(value, ensure_ascii=how == "ascii")
    return text.replace("/", "\\/") if how == "slash" else text


@st.composite
def frames(draw: st.DrawFn) -> str:
    """A server-event-like object as text: any key order, whitespace, extras, escapes, dups."""
    etype = draw(
        st.sampled_from(
            [GA, BETA, SESSION] * 2 + ["response.output_audio_transcript.delta", "error"]
        )
        | st.text(max_size=10)
    )
    pcm = draw(st.binary(max_size=64))
    pairs: list[tuple[str, str]] = [("type", draw(string_literal(etype)))]
    pairs.append(("event_id", draw(string_literal("event_" + draw(st.text(max_size=5))))))
    if draw(st.integers(0, 9)):
        pairs.append(("response_id", draw(string_literal("resp_" + draw(st.text(max_size=4))))))
    if draw(st.integers(0, 9)):
        pairs.append(("item_id", draw(string_literal("item_" + draw(st.text(max_size=4))))))
    pairs += [("output_index", "0"), ("content_index", json.dumps(draw(st.integers(0, 3))))]
    if draw(st.integers(0, 9)):
        pairs.append(("delta", draw(string_literal(base64.b64encode(pcm).decode()))))
    if draw(st.booleans()):  # a sideband copy's offsets
        start = draw(st.integers(0, 10**7))
        pairs.append(("start_ms", json.dumps(start)))
        pairs.append(("end_ms", json.dumps(draw(st.sampled_from([start + 20, start + 12.5])))))
    for _ in range(draw(st.integers(0, 3))):
        key = draw(st.sampled_from(["x", "obj", "type", "delta", "item_id", "k\u00e9", "start_ms"]))
        pairs.append((key, json.dumps(draw(_json), ensure_ascii=draw(st.booleans()))))
    order = draw(st.permutations(range(len(pairs))))
    body = ",".join(
        f"{draw(_ws)}{json.dumps(pairs[i][0])}{draw(_ws)}:{draw(_ws)}{pairs[i][1]}{draw(_ws)}"
        for i in order
    )
    return f"{draw(_ws)}{{{body}}}{draw(_ws)}"


@given(frame=frames(), as_bytes=st.booleans())
def test_generated_frames_match_json_loads(fr: ModuleType, frame: str, as_bytes: bool) -> None:
    check(fr, frame.encode() if as_bytes else frame)


@given(frame=frames(), edits=st.data())
def test_mutated_frames_match_json_loads(fr: ModuleType, frame: str, edits: st.DataObject) -> None:
    raw = bytearray(frame.encode())
    for _ in range(edits.draw(st.integers(1, 3))):
        i = edits.draw(st.integers(0, len(raw)))
        kind = edits.draw(st.sampled_from(["insert", "delete", "replace"]))
        byte = edits.draw(st.sampled_from(b'{}[]",:\\/ \n0e-.tnAa=\x00\x1f\x80\xc3\xff'))
        if kind == "insert":
            raw[i:i] = bytes([byte])
        elif kind == "delete":
            del raw[i : i + 1]
        else:
            raw[i : i + 1] = bytes([byte])
    check(fr, bytes(raw))
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return
    check(fr, text)


def _delta(pcm: bytes = b"\x01\x02\x03\x04", **extra: Any) -> dict[str, Any]:
    event = {
        "type": GA,
        "event_id": "event_1",
        "response_id": "resp_1",
        "item_id": "item_1",
        "output_index": 0,
        "content_index": 0,
        "delta": base64.b64encode(pcm).decode(),
    }
    event.update(extra)
    return event


def test_realistic_frame(fr: ModuleType) -> None:
    pcm = np.arange(480, dtype=np.int16).tobytes()
    frame = json.dumps(_delta(pcm))
    assert fr.decode_audio_delta(frame) == ("resp_1", "item_1", pcm)
    assert fr.decode_audio_delta(frame.encode()) == ("resp_1", "item_1", pcm)
    assert fr.decode_audio_delta(bytearray(frame.encode())) == ("resp_1", "item_1", pcm)
    assert fr.decode_audio_delta(json.dumps(_delta(pcm, type=BETA))) == ("resp_1", "item_1", pcm)


@pytest.mark.parametrize(
    "frame",
    [
        # '\/' inside base64 (allowed JSON escape): must decode through the full parser
        json.dumps(_delta(b"\xff\xff\xff" * 5)).replace("/", "\\/"),
        # duplicate "type": json.loads keeps the last
        '{"type":"response.output_audio.delta","response_id":"r","item_id":"i","delta":"AAAA",'
        '"type":"error"}',
        '{"type":"error","response_id":"r","item_id":"i","delta":"AAAA",'
        '"type":"response.output_audio.delta"}',
        '{"type":"response.audio.delta","response_id":"r","item_id":"i","delta":"AAAA",'
        '"delta":"AQID"}',
        # a key spelled with an escape is still "type"
        '{"typ\\u0065":"response.audio.delta","response_id":"r","item_id":"i","delta":"AQID"}',
        '{"type":"error","typ\\u0065":"response.audio.delta","response_id":"r","item_id":"i",'
        '"delta":"AQID"}',
        # NaN/Infinity are accepted by json.loads, so by us
        '{"type":"response.audio.delta","x":NaN,"y":-Infinity,"response_id":"r","item_id":"i",'
        '"delta":"AQID"}',
        '{"type":"error","x":Infinity}',
        # BOM: refused on str, accepted (utf-8-sig) on bytes
        '\ufeff{"type":"error"}',
        b'\xef\xbb\xbf{"type":"error"}',
        b'\xef\xbb\xbf{"type":"response.audio.delta","response_id":"r","item_id":"i","delta":"AQ=="}',
        # non-ASCII elsewhere, str of every kind and UTF-8 bytes
        json.dumps(_delta(x="caf\u00e9"), ensure_ascii=False),
        json.dumps(_delta(x="\u20ac\U0001f600"), ensure_ascii=False),
        json.dumps(_delta(x="caf\u00e9"), ensure_ascii=False).encode(),
        json.dumps(_delta(response_id="r\u00e9"), ensure_ascii=False),
        json.dumps({"type": "response.output_audio_transcript.delta", "delta": "h\u00e9"}),
        '{"type":"response.output_audio_transcript.delta","delta":"h\u00e9"}',
        # trailing whitespace, trailing garbage, two objects
        '{"type":"error"} \n',
        '{"type":"error"}x',
        '{"type":"error"}{"type":"error"}',
        # numbers Python's int cannot take
        '{"type":"error","n":' + "1" * 5000 + "}",
        '{"type":"error","n":1.' + "1" * 5000 + "}",
        # deep nesting
        '{"type":"error","n":' + "[" * 63 + "]" * 63 + "}",
        '{"type":"error","n":' + "[" * 200 + "]" * 200 + "}",
        '{"type":"error","n":' + "[" * 100000 + "]" * 100000 + "}",
        # malformed
        "",
        "[]",
        "null",
        '"type"',
        "{}",
        '{"type":1}',
        '{"type":null}',
        '{"event_id":"e"}',
        '{"type":"response.audio.delta"}',
        '{"type":"response.audio.delta","response_id":1,"item_id":"i","delta":"AQID"}',
        '{"type":"response.audio.delta","response_id":"r","item_id":["i"],"delta":"AQID"}',
        '{"type":"response.audio.delta","response_id":"r","item_id":"i","delta":null}',
        '{"type":"response.audio.delta","response_id":"r","item_id":"i","delta":"AQI"}',
        '{"type":"response.audio.delta","response_id":"r","item_id":"i","delta":"A\\nQID"}',
        '{"type":"response.audio.delta","response_id":"r","item_id":"i","delta":"AQ\u00e9D"}',
        '{"type":"error",}',
        '{"type":"error" "x":1}',
        '{"type":"err\x01or"}',
        '{"type":"error","x":01}',
        '{"type":"error","x":tru}',
        '{"type":"error","x":"\\x"}',
        '{"type":"error","x":"\\u12"}',
        b'{"type":"error","x":"\xff"}',
        b'{"type":"error","x":"\xc3"}',
        b'{\x00"\x00t\x00y\x00p\x00e\x00"\x00:\x00"\x00e\x00"\x00}\x00',
    ],
)
def test_hard_cases_match_json_loads(fr: ModuleType, frame: str | bytes) -> None:
    check(fr, frame)


def test_known_answers(fr: ModuleType) -> None:
    slash = json.dumps(_delta(b"\xff\xff\xff" * 5)).replace("/", "\\/")
    assert fr.decode_audio_delta(slash) == ("resp_1", "item_1", b"\xff\xff\xff" * 5)
    last = '{"type":"error","response_id":"r","item_id":"i","delta":"AQID","type":"' + GA + '"}'
    assert fr.decode_audio_delta(last) == ("r", "i", b"\x01\x02\x03")
    assert fr.decode_audio_delta('{"type":"session.created","session":{"a":[1,2.5e3]}}') is None
    with pytest.raises(ValueError, match="BOM"):
        fr.decode_audio_delta('\ufeff{"type":"error"}')


def test_large_frames(fr: ModuleType) -> None:
    pcm = np.random.default_rng(3).integers(0, 256, 3 * 1024 * 1024, np.uint8).tobytes()
    frame = json.dumps(_delta(pcm))
    assert fr.decode_audio_delta(frame) == ("resp_1", "item_1", pcm)
    assert fr.decode_audio_delta(frame.encode()) == ("resp_1", "item_1", pcm)
    big_other = json.dumps({"type": "x", "blob": "A" * (2 * 1024 * 1024), "n": list(range(1000))})
    assert fr.decode_audio_delta(big_other) is None


def test_error_messages_never_quote_the_whole_frame(fr: ModuleType) -> None:
    junk = '{"type":"response.audio.delta","response_id":"r","item_id":"i","delta":"' + "!" * 9000
    for frame in (junk, junk + '"}', junk.replace('"delta":', '"x":') + '"}', "x" * 9000):
        with pytest.raises(ValueError) as info:
            fr.decode_audio_delta(frame)
        assert len(str(info.value)) < 300


_RT, _LIVE = "decode_audio_delta", "decode_session_audio_delta"
_RD = '{"type":"response.audio.delta",'
_SD = '{"type":"session.output_audio.delta"'


@pytest.mark.parametrize(
    ("decoder", "frame", "what"),
    [
        (_RT, "nope", "not valid JSON"),
        (_RT, "[1]", "JSON object"),
        (_RT, '{"a":1}', "type"),
        (_RT, '{"type":2}', "type"),
        (_RT, _RD + '"item_id":"i","delta":""}', "response_id"),
        (_RT, _RD + '"response_id":"r","delta":""}', "item_id"),
        (_RT, _RD + '"response_id":"r","item_id":"i","delta":1}', "delta"),
        (_RT, _RD + '"response_id":"r","item_id":"i","delta":"A"}', "base64"),
        (_LIVE, "nope", "not valid JSON"),
        (_LIVE, "[1]", "JSON object"),
        (_LIVE, '{"delta":"AQID"}', "type"),
        (_LIVE, '{"type":null,"delta":"AQID"}', "type"),
        (_LIVE, _SD + "}", "no 'delta'"),
        (_LIVE, _SD + ',"delta":1}', "'delta' must be a string"),
        (_LIVE, _SD + ',"delta":"A"}', "base64"),
    ],
)
def test_error_messages_name_the_problem(
    fr: ModuleType, decoder: str, frame: str, what: str
) -> None:
    with pytest.raises(ValueError, match=what):
        getattr(fr, decoder)(frame)


# ---------------------------------------------------------------- decode_session_audio_delta


ESCAPED_SESSION = '"session\\u002eoutput_audio.delta"'  # its JSON literal with an escape


@st.composite
def session_deltas(draw: st.DrawFn, audio: bytes) -> str:
    """A session.output_audio.delta carrying audio, as json.dumps would write one (any key
    order, any extra keys, ASCII-escaped or not, '/' escaped or not, whitespace)."""
    pairs: list[tuple[str, str]] = [
        ("type", draw(st.sampled_from([json.dumps(SESSION), ESCAPED_SESSION]))),
        ("delta", draw(string_literal(base64.b64encode(audio).decode()))),
    ]
    if draw(st.booleans()):
        start = draw(st.integers(0, 10**9))
        pairs += [("start_ms", json.dumps(start)), ("end_ms", json.dumps(start + 20.5))]
    if draw(st.booleans()):
        pairs.append(("event_id", draw(string_literal("event_" + draw(st.text(max_size=6))))))
    for _ in range(draw(st.integers(0, 3))):
        key = draw(st.sampled_from(["x", "response_id", "item_id", "obj", "caf\u00e9", "k"]))
        pairs.append((key, json.dumps(draw(_json), ensure_ascii=draw(st.booleans()))))
    order = draw(st.permutations(range(len(pairs))))
    ascii_keys = draw(st.booleans())
    body = ",".join(
        f"{draw(_ws)}{json.dumps(pairs[i][0], ensure_ascii=ascii_keys)}{draw(_ws)}:"
        f"{draw(_ws)}{pairs[i][1]}{draw(_ws)}"
        for i in order
    )
    return f"{draw(_ws)}{{{body}}}{draw(_ws)}"


@given(audio=st.binary(max_size=3000), data=st.data())
def test_session_delta_round_trips_any_bytes(
    fr: ModuleType, audio: bytes, data: st.DataObject
) -> None:
    """Odd byte counts included (the caller's to judge); str, bytes and bytearray frames."""
    frame = data.draw(session_deltas(audio))
    want = ("", "", audio)
    assert fr.decode_session_audio_delta(frame) == want
    raw = frame.encode()
    assert fr.decode_session_audio_delta(raw) == want
    assert fr.decode_session_audio_delta(bytearray(raw)) == want
    assert fr.decode_audio_delta(frame) is None  # not a Realtime delta


@given(audio=st.binary(max_size=400), event_type=st.sampled_from([LIVE_APPEND, SESSION]))
def test_an_encoded_append_carries_what_a_session_delta_returns(
    fr: ModuleType, audio: bytes, event_type: str
) -> None:
    """The uplink's frame and the downlink's decoder agree on the audio: the append's base64,
    moved into a session delta with json.dumps, decodes to the same bytes."""
    sent = json.loads(fr.encode_append(audio, "ev", sample_width=1, event_type=event_type))
    assert sent["type"] == event_type
    frame = json.dumps({"type": SESSION, "delta": sent["audio"], "start_ms": 0, "end_ms": 20})
    assert fr.decode_session_audio_delta(frame) == ("", "", audio)


@pytest.mark.parametrize(
    "frame",
    [
        '{"type":"session.output_audio.delta","delta":"AQID"}',
        '{"delta":"AQID","end_ms":40,"type":"session.output_audio.delta","start_ms":20}',
        '{"type":"session.output_audio.delta","delta":"","start_ms":1.5e3,"end_ms":-0.0}',
        '{"type":"session.output_audio.delta","delta":"AQ==","event_id":"e","response_id":7}',
        '{"type":"session.output_audio.delta","delta":"AQID","item_id":null,"x":{"d":[1]}}',
        # escapes, duplicates, NaN: json.loads decides
        '{"type":"session.output_audio.delta","delta":"\\/\\/\\/\\/"}',
        '{"type":"session\\u002eoutput_audio.delta","delta":"AQID"}',
        '{"typ\\u0065":"session.output_audio.delta","delta":"AQID"}',
        '{"type":"session.output_audio.delta","delta":"!!!!","delta":"AQID"}',
        '{"type":"session.output_audio.delta","delta":"AQID","type":"error"}',
        '{"type":"error","delta":"AQID","type":"session.output_audio.delta"}',
        '{"type":"session.output_audio.delta","delta":"AQID","start_ms":NaN}',
        '{"type":"session.output_audio.delta","delta":"AQID","response_id":"r","response_id":1}',
        b'\xef\xbb\xbf{"type":"session.output_audio.delta","delta":"AQID"}',
        '\ufeff{"type":"session.output_audio.delta","delta":"AQID"}',
        json.dumps({"type": SESSION, "delta": "AQID", "x": "caf\u00e9"}, ensure_ascii=False),
        json.dumps({"type": SESSION, "delta": "AQID", "x": "\U0001f600"}, ensure_ascii=False),
        # the other session audio events and near misses
        '{"type":"session.output_audio.done"}',
        '{"type":"session.output_audio.delta.x","delta":"AQID"}',
        '{"type":"Session.output_audio.delta","delta":"AQID"}',
        '{"type":"session.input_audio.append","audio":"AQID"}',
        '{"type":"response.output_audio.delta","delta":"AQID"}',
        # malformed
        '{"type":"session.output_audio.delta"}',
        '{"type":"session.output_audio.delta","delta":null}',
        '{"type":"session.output_audio.delta","delta":["AQID"]}',
        '{"type":"session.output_audio.delta","delta":"AQI"}',
        '{"type":"session.output_audio.delta","delta":"AQ\\nID"}',
        '{"type":"session.output_audio.delta","delta":"AQ\u00e9D"}',
        '{"type":"session.output_audio.delta","delta":"AQID",}',
        '{"type":"session.output_audio.delta","delta":"AQID"',
        '{"type":"session.output_audio.delta","delta":"AQID"}x',
        '["session.output_audio.delta"]',
        "",
    ],
)
def test_session_hard_cases_match_json_loads(fr: ModuleType, frame: str | bytes) -> None:
    check(fr, frame)


def test_large_session_deltas(fr: ModuleType) -> None:
    pcm = np.random.default_rng(4).integers(0, 256, 3 * 1024 * 1024 + 1, np.uint8).tobytes()
    frame = json.dumps({"type": SESSION, "start_ms": 0, "end_ms": 65536, "delta": ""})
    frame = frame.replace('"delta": ""', '"delta": "' + base64.b64encode(pcm).decode() + '"')
    assert fr.decode_session_audio_delta(frame) == ("", "", pcm)
    assert fr.decode_session_audio_delta(frame.encode()) == ("", "", pcm)
    junk = frame[:-200] + "!" + frame[-199:]
    with pytest.raises(ValueError) as info:
        fr.decode_session_audio_delta(junk)
    assert "base64" in str(info.value) and len(str(info.value)) < 300


# ---------------------------------------------------------------- compiled == twin


def _outcome(call: Any, *args: Any, **kwargs: Any) -> Any:
    """The result, or the kind and message of the error raised."""
    try:
        return call(*args, **kwargs)
    except (ValueError, TypeError) as exc:
        return type(exc).__name__, str(exc)


@pytest.mark.skipif(NO_EXTENSIONS, reason="RTSDK_NO_EXTENSIONS=1: no compiled kernel")
@settings(max_examples=300)
@given(frame=frames(), edits=st.data())
def test_compiled_session_decoder_agrees_with_the_twin(frame: str, edits: st.DataObject) -> None:
    """Accepted (the same bytes), None or ValueError alike, on generated and mutated frames."""
    cy = importlib.import_module("rtsdk._kernels.framing")
    py = importlib.import_module("rtsdk._reference.framing")
    raw = bytearray(frame.encode())
    for _ in range(edits.draw(st.integers(0, 2))):
        i = edits.draw(st.integers(0, len(raw)))
        raw[i:i] = bytes([edits.draw(st.sampled_from(b'{}[]",:\\/ \n0e-.Aa=\x00\x80\xc3'))])
    cases: list[str | bytes | bytearray] = [bytes(raw), raw]
    with contextlib.suppress(UnicodeDecodeError):
        cases.append(raw.decode("utf-8"))
    for case in cases:
        for name in ("decode_session_audio_delta", "decode_audio_delta"):
            assert _outcome(getattr(cy, name), case) == _outcome(getattr(py, name), case)


@pytest.mark.skipif(NO_EXTENSIONS, reason="RTSDK_NO_EXTENSIONS=1: no compiled kernel")
@given(
    audio=st.binary(max_size=600),
    event_id=st.none() | st.text(max_size=12),
    event_type=st.none() | _event_types | st.text(max_size=8),
    width=st.sampled_from([1, 2]),
)
def test_compiled_append_agrees_with_the_twin(
    audio: bytes, event_id: str | None, event_type: str | None, width: int
) -> None:
    cy = importlib.import_module("rtsdk._kernels.framing")
    py = importlib.import_module("rtsdk._reference.framing")
    kw = {"sample_width": width, "event_type": event_type}
    assert _outcome(cy.encode_append, audio, event_id, **kw) == _outcome(
        py.encode_append, audio, event_id, **kw
    )

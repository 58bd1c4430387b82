"""Carrier media-stream splicing (compiled and twin) against json/base64 oracles."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import kernel_params, load_impl
from tests.test_framing import _json, _ws, frames, string_literal

RAISES = object()
APPEND_HEAD = b'{"type":"input_audio_buffer.append","audio":"'
MAX_APPEND = 15 * 1024 * 1024


@pytest.fixture(scope="module", params=kernel_params("mediastream"))
def ms_impl(request: pytest.FixtureRequest) -> ModuleType:
    return load_impl(request)


@pytest.fixture(scope="module", params=[True, False], ids=["simd", "portable"])
def ms(request: pytest.FixtureRequest, ms_impl: ModuleType) -> Iterator[ModuleType]:
    """The module with its SIMD base64 paths on (when the CPU has them) or forced off."""
    select = getattr(ms_impl, "_set_simd", None)
    if select is None:
        if not request.param:
            pytest.skip("the twin has a single path")
        yield ms_impl
        return
    select(request.param)
    try:
        yield ms_impl
    finally:
        select(True)


def _b64_len(text: Any) -> int | None:
    if not isinstance(text, str):
        return None
    try:
        return len(base64.b64decode(text.encode("ascii"), validate=True))
    except (UnicodeEncodeError, binascii.Error):
        return None


def _counter(value: Any) -> int | None:
    if isinstance(value, str):
        ok = 1 <= len(value) <= 18 and all("0" <= c <= "9" for c in value)
        return int(value) if ok else None
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 10**18:
        return value
    return None


def media_oracle(frame: str | bytes) -> Any:
    """What media_to_append must give, from json.loads and dict lookups (RAISES if invalid)."""
    try:
        msg = json.loads(frame)
    except (ValueError, RecursionError):
        return RAISES
    if not isinstance(msg, dict) or not isinstance(msg.get("event"), str):
        return RAISES
    if msg["event"] != "media":
        return None
    media = msg.get("media")
    if not isinstance(media, dict):
        return RAISES
    track = media.get("track", "inbound")
    if not isinstance(track, str):
        return RAISES
    if track != "inbound":
        return None
    seq = _counter(msg.get("sequenceNumber"))
    ts = _counter(media.get("timestamp"))
    n = _b64_len(media.get("payload"))
    if seq is None or ts is None or not n or n > MAX_APPEND:
        return RAISES
    return seq, ts, APPEND_HEAD + media["payload"].encode() + b'"}'


def delta_oracle(frame: str | bytes, sid: str) -> Any:
    try:
        event = json.loads(frame)
    except (ValueError, RecursionError):
        return RAISES
    if not isinstance(event, dict) or not isinstance(event.get("type"), str):
        return RAISES
    if event["type"] == "session.output_audio.delta":  # GPT-Live's: no ids
        fields = ["", "", event.get("delta")]
    elif event["type"] not in ("response.output_audio.delta", "response.audio.delta"):
        return None
    else:
        fields = [event.get(k) for k in ("response_id", "item_id", "delta")]
    if not all(isinstance(f, str) for f in fields):
        return RAISES
    n = _b64_len(fields[2])
    if n is None:
        return RAISES
    return (
        fields[0],
        fields[1],
        n,
        {"event": "media", "streamSid": sid, "media": {"payload": fields[2]}},
    )


def check_media(ms: ModuleType, frame: str | bytes) -> Any:
    want = media_oracle(frame)
    if want is RAISES:
        with pytest.raises(ValueError) as info:
            ms.media_to_append(frame)
        assert 0 < len(str(info.value)) < 400
    else:
        got = ms.media_to_append(frame)
        assert got == want
        if got is not None:
            assert type(got[2]) is bytes
            event = json.loads(got[2])
            assert event["type"] == "input_audio_buffer.append"
    return want


def check_delta(ms: ModuleType, frame: str | bytes, sid: str) -> Any:
    want = delta_oracle(frame, sid)
    if want is RAISES:
        with pytest.raises(ValueError) as info:
            ms.delta_to_media(frame, sid)
        assert 0 < len(str(info.value)) < 400
    else:
        got = ms.delta_to_media(frame, sid)
        if want is None:
            assert got is None
        else:
            assert got is not None and got[:3] == want[:3]
            assert type(got[3]) is bytes
            assert json.loads(got[3]) == want[3]
    return want


# ---------------------------------------------------------------- media_to_append


def _counter_literal(value: int) -> st.SearchStrategy[str]:
    return st.sampled_from([json.dumps(str(value)), json.dumps(str(value)), str(value)])


@st.composite
def media_frames(draw: st.DrawFn) -> str:
    """A carrier-message-like object as text: any key order, whitespace, extras, escapes, dups."""
    event = draw(
        st.sampled_from(["media"] * 5 + ["mark", "start", "dtmf", "stop"]) | st.text(max_size=6)
    )
    audio = draw(st.binary(max_size=200))
    inner: list[tuple[str, str]] = []
    if draw(st.integers(0, 5)):
        inner.append(
            (
                "track",
                draw(string_literal(draw(st.sampled_from(["inbound"] * 4 + ["outbound", ""])))),
            )
        )
    if draw(st.integers(0, 9)):
        inner.append(("chunk", draw(_counter_literal(draw(st.integers(1, 10**6))))))
    if draw(st.integers(0, 12)):
        inner.append(("timestamp", draw(_counter_literal(draw(st.integers(0, 10**19))))))
    if draw(st.integers(0, 12)):
        inner.append(("payload", draw(string_literal(base64.b64encode(audio).decode()))))
    for _ in range(draw(st.integers(0, 2))):
        key = draw(st.sampled_from(["x", "payload", "track", "timestamp"]))
        inner.append((key, json.dumps(draw(_json))))
    order = draw(st.permutations(range(len(inner))))
    media = "{" + ",".join(f"{_q(inner[i][0])}{draw(_ws)}:{inner[i][1]}" for i in order) + "}"
    pairs: list[tuple[str, str]] = [("event", draw(string_literal(event)))]
    if draw(st.integers(0, 12)):
        pairs.append(("sequenceNumber", draw(_counter_literal(draw(st.integers(0, 10**6))))))
    pairs.append(("streamSid", json.dumps("MZ" + draw(st.text(max_size=4)))))
    if draw(st.integers(0, 12)):
        pairs.append(("media", media if draw(st.integers(0, 9)) else json.dumps(draw(_json))))
    for _ in range(draw(st.integers(0, 2))):
        key = draw(st.sampled_from(["x", "event", "media", "sequenceNumber", "\u00e9"]))
        pairs.append((key, json.dumps(draw(_json), ensure_ascii=draw(st.booleans()))))
    order = draw(st.permutations(range(len(pairs))))
    body = ",".join(
        f"{draw(_ws)}{_q(pairs[i][0])}{draw(_ws)}:{draw(_ws)}{pairs[i][1]}{draw(_ws)}"
        for i in order
    )
    return f"{draw(_ws)}{{{body}}}{draw(_ws)}"


def _q(key: str) -> str:
    return json.dumps(key)


@given(frame=media_frames(), as_bytes=st.booleans())
def test_generated_media_matches_json_loads(ms: ModuleType, frame: str, as_bytes: bool) -> None:
    check_media(ms, frame.encode() if as_bytes else frame)


@given(frame=media_frames(), edits=st.data())
def test_mutated_media_matches_json_loads(ms: ModuleType, frame: str, edits: st.DataObject) -> None:
    raw = bytearray(frame.encode())
    for _ in range(edits.draw(st.integers(1, 3))):
        i = edits.draw(st.integers(0, len(raw)))
        kind = edits.draw(st.sampled_from(["insert", "delete", "replace"]))
        byte = edits.draw(st.sampled_from(b'{}[]",:\\/ \n0e-.tnAa=+\x00\x1f\x80\xc3\xff'))
        if kind == "insert":
            raw[i:i] = bytes([byte])
        elif kind == "delete":
            del raw[i : i + 1]
        else:
            raw[i : i + 1] = bytes([byte])
    check_media(ms, bytes(raw))
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return
    check_media(ms, text)


def _media(payload: bytes = bytes(range(160)), **extra: Any) -> dict[str, Any]:
    msg: dict[str, Any] = {
        "event": "media",
        "sequenceNumber": "4",
        "media": {
            "track": "inbound",
            "chunk": "2",
            "timestamp": "20",
            "payload": base64.b64encode(payload).decode(),
        },
        "streamSid": "MZ18ad3ab5a668481ce02b83e7395059f0",
    }
    msg.update(extra)
    return msg


def test_realistic_media_message(ms: ModuleType) -> None:
    audio = bytes(range(160))
    seq, ts, frame = ms.media_to_append(json.dumps(_media(audio)))
    assert (seq, ts) == (4, 20)
    event = json.loads(frame)
    assert event == {"type": "input_audio_buffer.append", "audio": base64.b64encode(audio).decode()}
    assert ms.media_to_append(json.dumps(_media(audio)).encode())[2] == frame
    assert ms.media_to_append(bytearray(json.dumps(_media(audio)).encode()))[2] == frame


@pytest.mark.parametrize(
    "frame",
    [
        json.dumps({"event": "connected", "protocol": "Call", "version": "1.0.0"}),
        json.dumps({"event": "mark", "sequenceNumber": "5", "mark": {"name": "m1"}}),
        json.dumps(_media(media={"track": "outbound", "timestamp": "1", "payload": "AA=="})),
        json.dumps(_media(sequenceNumber=7, media={"timestamp": 40, "payload": "AAAA"})),
        json.dumps(_media()).replace("/", "\\/"),
        json.dumps(_media(media={"timestamp": "1", "payload": "AAAA", "payload ": 1})),
        '{"event":"media","sequenceNumber":"1","media":{"timestamp":"1","payload":"AAAA"},'
        '"media":{"timestamp":"2","payload":"AQID"}}',
        '{"event":"media","sequenceNumber":"1","media":{"timestamp":"1","payload":"AAAA",'
        '"timestamp":"3"}}',
        '{"event":"mark","event":"media","sequenceNumber":"1","media":{"timestamp":"1",'
        '"payload":"AAAA"}}',
        '{"even\\u0074":"media","sequenceNumber":"1","media":{"timestamp":"1","payload":"AAAA"}}',
        json.dumps(_media(x=float("nan"))),
        # malformed
        "",
        "[]",
        "{}",
        '{"event":1}',
        '{"event":"media"}',
        '{"event":"media","sequenceNumber":"1","media":"AAAA"}',
        json.dumps(_media(sequenceNumber="-1")),
        json.dumps(_media(sequenceNumber="1e3")),
        json.dumps(_media(sequenceNumber=" 1")),
        json.dumps(_media(sequenceNumber="1" * 19)),
        json.dumps(_media(sequenceNumber=True)),
        json.dumps(_media(sequenceNumber=1.0)),
        json.dumps(_media(sequenceNumber="\u0661")),
        json.dumps(_media(media={"timestamp": "1", "payload": ""})),
        json.dumps(_media(media={"timestamp": "1", "payload": "AAA"})),
        json.dumps(_media(media={"timestamp": "1", "payload": "AA\nAA"})),
        json.dumps(_media(media={"timestamp": "1", "payload": "AA=A"})),
        json.dumps(_media(media={"timestamp": "1", "payload": "A\u00e9AA"}), ensure_ascii=False),
        json.dumps(_media(media={"timestamp": "1", "payload": None})),
        json.dumps(_media(media={"timestamp": "1", "track": 1, "payload": "AAAA"})),
        json.dumps(_media(media={"payload": "AAAA"})),
        json.dumps(_media(media={"timestamp": "1", "payload": "AAAA"}))[:-1],
    ],
)
def test_edge_media_messages(ms: ModuleType, frame: str) -> None:
    check_media(ms, frame)
    check_media(ms, frame.encode("utf-8", "surrogatepass"))


@given(
    frame=media_frames(),
    event_type=st.sampled_from(["session.input_audio.append", "session.input_audio_buffer.append"]),
)
def test_media_becomes_an_append_of_any_type(ms: ModuleType, frame: str, event_type: str) -> None:
    want = media_oracle(frame)
    if want is RAISES:
        with pytest.raises(ValueError):
            ms.media_to_append(frame, event_type=event_type)
        return
    got = ms.media_to_append(frame, event_type=event_type)
    if want is None:
        assert got is None
        return
    assert got[:2] == want[:2]
    head = b'{"type":"' + event_type.encode() + b'","audio":"'
    assert got[2] == head + want[2][len(APPEND_HEAD) :]
    assert ms.media_to_append(frame, event_type=None) == want


@pytest.mark.parametrize("bad", ["", "a b", "x" * 65, "caf\u00e9", 5])
def test_media_refuses_a_malformed_event_type_whatever_the_message(
    ms: ModuleType, bad: object
) -> None:
    for frame in (json.dumps(_media()), '{"event":"mark"}', "not json"):
        with pytest.raises(ValueError, match="event_type"):
            ms.media_to_append(frame, event_type=bad)


def test_large_payloads(ms: ModuleType) -> None:
    audio = bytes(range(256)) * 4001  # over one scratch block of the base64 check
    _, _, frame = ms.media_to_append(json.dumps(_media(audio)))
    assert json.loads(frame)["audio"] == base64.b64encode(audio).decode()
    bad = base64.b64encode(audio).decode()
    bad = bad[:-100] + "!" + bad[-99:]
    with pytest.raises(ValueError, match="base64"):
        ms.media_to_append(json.dumps(_media(media={"timestamp": "1", "payload": bad})))


# ---------------------------------------------------------------- delta_to_media

_sids = st.sampled_from(["MZ18ad3ab5a668481ce02b83e7395059f0", ""]) | st.text(max_size=8)


@given(frame=frames(), as_bytes=st.booleans(), sid=_sids)
def test_generated_deltas_match_json_loads(
    ms: ModuleType, frame: str, as_bytes: bool, sid: str
) -> None:
    check_delta(ms, frame.encode() if as_bytes else frame, sid)


@given(frame=frames(), edits=st.data())
def test_mutated_deltas_match_json_loads(ms: ModuleType, frame: str, edits: st.DataObject) -> None:
    raw = bytearray(frame.encode())
    for _ in range(edits.draw(st.integers(1, 3))):
        i = edits.draw(st.integers(0, len(raw)))
        byte = edits.draw(st.sampled_from(b'{}[]",:\\/ \n0e-.tnAa=\x00\x1f\x80\xff'))
        if edits.draw(st.booleans()):
            raw[i:i] = bytes([byte])
        else:
            del raw[i : i + 1]
    check_delta(ms, bytes(raw), "MZ1")


def test_delta_round_trip_carries_the_bytes(ms: ModuleType) -> None:
    audio = bytes(range(256)) * 10
    frame = json.dumps(
        {
            "type": "response.output_audio.delta",
            "event_id": "event_1",
            "response_id": "resp_1",
            "item_id": "item_1",
            "output_index": 0,
            "content_index": 0,
            "delta": base64.b64encode(audio).decode(),
        }
    )
    rid, iid, n, media = ms.delta_to_media(frame, "MZ1")
    assert (rid, iid, n) == ("resp_1", "item_1", len(audio))
    assert base64.b64decode(json.loads(media)["media"]["payload"]) == audio
    # and back up: the carrier echoing that payload gives the same audio in an append
    inbound = json.dumps(_media(audio))
    assert base64.b64decode(json.loads(ms.media_to_append(inbound)[2])["audio"]) == audio


@given(audio=st.binary(min_size=1, max_size=2000), extra=st.booleans())
def test_session_delta_round_trip_carries_the_bytes(
    ms: ModuleType, audio: bytes, extra: bool
) -> None:
    """GPT-Live's id-less delta: ("", "", nbytes, media), and the carrier's echo of that payload
    becomes a session.input_audio.append carrying the same bytes."""
    event: dict[str, Any] = {"type": "session.output_audio.delta"}
    if extra:
        event.update(start_ms=100, end_ms=120, event_id="event_1")
    event["delta"] = base64.b64encode(audio).decode()
    rid, iid, n, media = ms.delta_to_media(json.dumps(event), "MZ1")
    assert (rid, iid, n) == ("", "", len(audio))
    payload = json.loads(media)["media"]["payload"]
    assert base64.b64decode(payload) == audio
    inbound = json.dumps(_media(media={"timestamp": "20", "payload": payload}))
    up = json.loads(ms.media_to_append(inbound, event_type="session.input_audio.append")[2])
    assert up["type"] == "session.input_audio.append"
    assert base64.b64decode(up["audio"]) == audio


def test_stream_sid_is_json_escaped(ms: ModuleType) -> None:
    frame = '{"type":"response.audio.delta","response_id":"r","item_id":"i","delta":"AQID"}'
    for sid in ('a"b', "back\\slash", "caf\u00e9", "\x01", "\U0001f600"):
        assert json.loads(ms.delta_to_media(frame, sid)[3])["streamSid"] == sid
    with pytest.raises(TypeError):
        ms.delta_to_media(frame, None)
    with pytest.raises(TypeError):
        ms.delta_to_media(frame, b"MZ1")

"""Parsing and encoding of Realtime events: strings in, typed events out, never an exception."""

from __future__ import annotations

import json
import subprocess
import sys
import typing
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rtsdk.protocol import (
    CLIENT_EVENT_TYPES,
    SERVER_EVENT_TYPES,
    ProtocolErrorEvent,
    UnknownClientEvent,
    UnknownServerEvent,
    encode_event,
    parse_client_event,
    parse_server_event,
)
from rtsdk.protocol import events as ev


def _union_types(union: Any) -> set[str]:
    args = typing.get_args(union)
    if args and typing.get_args(args[0]):
        args = typing.get_args(args[0])
    return {typing.get_args(m.model_fields["type"].annotation)[0] for m in args}


def _sample(types: tuple[type, ...], name: str) -> Any:
    first = types[0]
    if first is str:
        return f"v_{name}"
    if first is int:
        return 7
    if first is float:
        return 1.5
    if first is dict:
        return {"k": name}
    if first is list:
        return [{"k": name}]
    return None


def _frame_for(cls: type[ev._EventBase]) -> dict[str, Any]:
    data: dict[str, Any] = {"type": cls.TYPE}
    for name, types in cls._spec.items():
        if name != "type":
            data[name] = _sample(types, name)
    return data


def test_registries_cover_the_ga_unions() -> None:
    realtime = pytest.importorskip("openai.types.realtime")
    server = _union_types(realtime.RealtimeServerEvent)
    client = _union_types(realtime.RealtimeClientEvent)
    assert len(server) == 46 and len(client) == 11
    # conversation.item.created is the beta name: it arrives as conversation.item.added
    assert set(SERVER_EVENT_TYPES) == server - {"conversation.item.created"}
    assert set(CLIENT_EVENT_TYPES) == client


@pytest.mark.parametrize("kind", sorted(SERVER_EVENT_TYPES))
def test_every_server_type_parses_to_its_class_with_fields(kind: str) -> None:
    cls = SERVER_EVENT_TYPES[kind]
    data = _frame_for(cls)
    if "event_id" not in data:
        data["event_id"] = "event_1"
    event = parse_server_event(json.dumps(data))
    assert type(event) is cls
    assert event.type == kind
    for name, value in data.items():
        assert getattr(event, name, event.extra.get(name)) == value
    assert json.loads(encode_event(event)) == data


@pytest.mark.parametrize("kind", sorted(CLIENT_EVENT_TYPES))
def test_every_client_type_parses_to_its_class_with_fields(kind: str) -> None:
    cls = CLIENT_EVENT_TYPES[kind]
    data = _frame_for(cls)
    for frame in (json.dumps(data), json.dumps(data).encode(), data):
        event = parse_client_event(frame)
        assert type(event) is cls
        for name, value in data.items():
            assert getattr(event, name) == value
        assert not event.extra
        assert json.loads(encode_event(event)) == data


def test_realistic_frames() -> None:
    delta = parse_server_event(
        '{"type":"response.output_audio_transcript.delta","event_id":"event_9","response_id":'
        '"resp_1","item_id":"item_2","output_index":0,"content_index":0,"delta":"Hel"}'
    )
    assert isinstance(delta, ev.ResponseOutputAudioTranscriptDeltaEvent)
    assert (delta.response_id, delta.item_id, delta.delta) == ("resp_1", "item_2", "Hel")
    done = parse_server_event(
        json.dumps(
            {
                "type": "response.done",
                "event_id": "event_3",
                "response": {"id": "resp_1", "status": "completed", "usage": {"total_tokens": 9}},
            }
        )
    )
    assert isinstance(done, ev.ResponseDoneEvent)
    assert done.response["usage"]["total_tokens"] == 9
    err = parse_server_event(
        '{"type":"error","event_id":"e","error":{"type":"invalid_request_error",'
        '"code":"response_cancel_not_active","message":"no","event_id":"evt_rtsdk_3"}}'
    )
    assert isinstance(err, ev.ErrorEvent)
    assert err.code == "response_cancel_not_active" and err.message == "no"


BETA = [
    ("response.audio.delta", ev.ResponseOutputAudioDeltaEvent),
    ("response.audio.done", ev.ResponseOutputAudioDoneEvent),
    ("response.audio_transcript.delta", ev.ResponseOutputAudioTranscriptDeltaEvent),
    ("response.audio_transcript.done", ev.ResponseOutputAudioTranscriptDoneEvent),
    ("response.text.delta", ev.ResponseOutputTextDeltaEvent),
    ("response.text.done", ev.ResponseOutputTextDoneEvent),
    ("conversation.item.created", ev.ConversationItemAddedEvent),
]


@pytest.mark.parametrize(("beta", "cls"), BETA)
def test_beta_names_become_ga(beta: str, cls: type[ev.ServerEvent]) -> None:
    data = _frame_for(cls)
    data["type"] = beta
    event = parse_server_event(json.dumps(data))
    assert type(event) is cls
    assert event.type == cls.TYPE
    assert not event.extra


def test_flat_beta_session_becomes_nested() -> None:
    beta = {
        "id": "sess_1",
        "object": "realtime.session",
        "modalities": ["text", "audio"],
        "instructions": "be brief",
        "voice": "alloy",
        "input_audio_format": "pcm16",
        "output_audio_format": "g711_alaw",
        "input_audio_transcription": {"model": "whisper-1"},
        "turn_detection": {"type": "server_vad", "threshold": 0.5},
        "tools": [],
        "tool_choice": "auto",
        "temperature": 0.8,
        "max_response_output_tokens": "inf",
        "speed": 1.1,
    }
    for kind in ("session.created", "session.updated"):
        event = parse_server_event(json.dumps({"type": kind, "event_id": "e", "session": beta}))
        s = event.session  # type: ignore[attr-defined]
        assert s["type"] == "realtime"
        assert s["output_modalities"] == ["audio"]
        assert s["max_output_tokens"] == "inf"
        assert s["audio"]["input"] == {
            "format": {"type": "audio/pcm", "rate": 24000},
            "transcription": {"model": "whisper-1"},
            "turn_detection": {"type": "server_vad", "threshold": 0.5},
        }
        assert s["audio"]["output"] == {
            "format": {"type": "audio/pcma"},
            "voice": "alloy",
            "speed": 1.1,
        }
        assert s["id"] == "sess_1" and s["instructions"] == "be brief"
        assert "modalities" not in s and "voice" not in s
    ts = parse_server_event(
        '{"type":"transcription_session.updated","event_id":"e",'
        '"session":{"input_audio_format":"g711_ulaw"}}'
    )
    assert isinstance(ts, ev.SessionUpdatedEvent)
    assert ts.session["type"] == "transcription"
    assert ts.session["audio"]["input"]["format"] == {"type": "audio/pcmu"}


def test_ga_session_is_untouched() -> None:
    ga = {"type": "realtime", "audio": {"output": {"voice": "marin"}}, "future": 1}
    event = parse_server_event(json.dumps({"type": "session.created", "session": ga}))
    assert event.session == ga  # type: ignore[attr-defined]


def test_unknown_fields_are_kept() -> None:
    event = parse_server_event(
        '{"type":"input_audio_buffer.speech_started","event_id":"e","audio_start_ms":120,'
        '"item_id":"item_1","new_field":{"a":1}}'
    )
    assert isinstance(event, ev.InputAudioBufferSpeechStartedEvent)
    assert event.audio_start_ms == 120
    assert event.extra == {"new_field": {"a": 1}}
    assert json.loads(encode_event(event))["new_field"] == {"a": 1}


def test_wrongly_typed_field_goes_to_extra() -> None:
    event = parse_server_event(
        '{"type":"conversation.item.truncated","item_id":"i","content_index":0,'
        '"audio_end_ms":"12","event_id":"e"}'
    )
    assert isinstance(event, ev.ConversationItemTruncatedEvent)
    assert event.audio_end_ms == 0
    assert event.extra == {"audio_end_ms": "12"}
    bool_int = parse_server_event('{"type":"conversation.item.truncated","audio_end_ms":true}')
    assert bool_int.extra == {"audio_end_ms": True}


def test_unknown_types_are_generic() -> None:
    event = parse_server_event('{"type":"brand.new","event_id":"event_5","x":[1,2]}')
    assert isinstance(event, UnknownServerEvent)
    assert event.type == "brand.new" and event.event_id == "event_5"
    assert event.raw == {"type": "brand.new", "event_id": "event_5", "x": [1, 2]}
    assert json.loads(encode_event(event)) == event.raw
    client = parse_client_event('{"type":"session.bogus","event_id":"c1"}')
    assert isinstance(client, UnknownClientEvent)
    assert client.event_id == "c1"


@pytest.mark.parametrize(
    ("frame", "why"),
    [
        ("{not json", "invalid JSON"),
        (b"\xff\xfe\x00", "invalid JSON"),
        ("[1,2]", "list"),
        ('"text"', "str"),
        ("{}", "missing"),
        ('{"type": 5}', "int"),
        ('{"type": null}', "missing"),
        ('{"type":"error","x":NaN}', "invalid JSON"),
        ("", "invalid JSON"),
        ("[" * 100_000, "JSON"),
    ],
)
def test_malformed_frames_give_protocol_error_then_parsing_goes_on(frame: Any, why: str) -> None:
    event = parse_server_event(frame)
    assert isinstance(event, ProtocolErrorEvent)
    assert why in event.description
    assert len(event.excerpt) <= 80
    nxt = parse_server_event('{"type":"input_audio_buffer.cleared","event_id":"e2"}')
    assert isinstance(nxt, ev.InputAudioBufferClearedEvent)
    client = parse_client_event(frame)
    assert isinstance(client, ProtocolErrorEvent)


def test_excerpt_is_short_for_a_big_frame() -> None:
    frame = '{"type": "x", ' + "a" * 100_000
    event = parse_server_event(frame)
    assert isinstance(event, ProtocolErrorEvent)
    assert event.excerpt == frame[:80]


def test_non_text_frame_objects() -> None:
    assert isinstance(parse_server_event(12), ProtocolErrorEvent)  # type: ignore[arg-type]
    ok = parse_server_event(bytearray(b'{"type":"input_audio_buffer.cleared"}'))  # type: ignore[arg-type]
    assert isinstance(ok, ev.InputAudioBufferClearedEvent)
    assert isinstance(parse_client_event({"no": "type"}), ProtocolErrorEvent)


def test_encode_is_compact_and_rejects_non_finite() -> None:
    assert encode_event({"type": "a", "b": [1, 2]}) == '{"type":"a","b":[1,2]}'
    for bad in (float("nan"), float("inf"), -float("inf")):
        with pytest.raises(ValueError):
            encode_event({"type": "response.create", "response": {"x": bad}})
    ev_none = ev.ResponseCancelEvent()
    assert encode_event(ev_none) == '{"type":"response.cancel"}'


@given(st.binary(max_size=300))
def test_arbitrary_bytes_never_raise(data: bytes) -> None:
    event = parse_server_event(data)
    assert isinstance(event, ev.ServerEvent)
    assert isinstance(parse_client_event(data), (ev.ClientEvent, ProtocolErrorEvent))


_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


@given(st.text(max_size=300))
def test_arbitrary_text_never_raises(text: str) -> None:
    assert isinstance(parse_server_event(text), ev.ServerEvent)


@given(
    st.sampled_from(sorted(SERVER_EVENT_TYPES) + [b for b, _ in BETA] + ["x.y"]),
    st.dictionaries(st.text(max_size=20), _json, max_size=8),
)
def test_any_object_with_a_known_type_never_raises(kind: str, body: dict[str, Any]) -> None:
    body["type"] = kind
    event = parse_server_event(json.dumps(body))
    assert not isinstance(event, ProtocolErrorEvent)
    again = json.loads(encode_event(event))
    if kind in SERVER_EVENT_TYPES:
        # every key that came in goes out unchanged (missing fields come out as defaults)
        for key, value in body.items():
            if not (kind.startswith("session.") and key == "session"):
                assert again[key] == value
    client = parse_client_event(body)
    assert isinstance(client, ev.ClientEvent)


def test_core_imports_no_io_modules() -> None:
    code = (
        "import importlib, pkgutil, sys, rtsdk.protocol as p\n"
        "names = [m.name for m in pkgutil.iter_modules(p.__path__)]\n"
        "assert {'codec', 'events', 'session'} <= set(names), names\n"
        "for n in names: importlib.import_module('rtsdk.protocol.' + n)\n"
        "bad = [m for m in ('asyncio', 'websockets', 'sounddevice', 'threading') "
        "if m in sys.modules]\n"
        "print(','.join(bad))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == ""


@given(
    st.sampled_from(sorted(SERVER_EVENT_TYPES)),
    st.dictionaries(
        st.sampled_from(["event_id", "item_id", "delta", "output_index", "item", "extra", "zz"]),
        _json,
        max_size=6,
    ),
)
def test_fast_constructor_agrees_with_the_tolerant_path(kind: str, body: dict[str, Any]) -> None:
    cls = SERVER_EVENT_TYPES[kind]
    body["type"] = kind
    fast = cls.from_dict(body)
    saved = cls._fast
    cls._fast = None
    try:
        slow = cls.from_dict(body)
    finally:
        cls._fast = saved
    assert fast == slow
    assert fast.extra == slow.extra


def test_every_module_exports_what_it_lists() -> None:
    import importlib
    import pkgutil

    import rtsdk.protocol as pkg

    for module in [pkg] + [
        importlib.import_module(f"rtsdk.protocol.{m.name}")
        for m in pkgutil.iter_modules(pkg.__path__)
    ]:
        assert module.__all__, module.__name__
        for name in module.__all__:
            assert hasattr(module, name), (module.__name__, name)


def test_beta_assistant_content_types_become_ga() -> None:
    item = {
        "id": "item_a",
        "type": "message",
        "role": "assistant",
        "content": [{"type": "audio", "transcript": "hi"}, {"type": "text", "text": "yo"}],
    }
    ga = [{"type": "output_audio", "transcript": "hi"}, {"type": "output_text", "text": "yo"}]
    for kind in ("conversation.item.created", "response.output_item.done"):
        event = parse_server_event(json.dumps({"type": kind, "event_id": "e", "item": item}))
        assert event.item["content"] == ga  # type: ignore[attr-defined]
    done = parse_server_event(
        json.dumps({"type": "response.done", "response": {"id": "r", "output": [item]}})
    )
    assert done.response["output"][0]["content"] == ga  # type: ignore[attr-defined]
    # user content and the content_part events keep their types
    user = dict(item, role="user", content=[{"type": "text", "text": "x"}])
    event = parse_server_event(json.dumps({"type": "conversation.item.added", "item": user}))
    assert event.item == user  # type: ignore[attr-defined]
    assert item["content"][0]["type"] == "audio"  # the input was not mutated


def test_a_known_field_with_a_wrong_type_round_trips_as_it_came() -> None:
    event = parse_server_event('{"type":"conversation.created","event_id":null,"x":1}')
    assert event.event_id == ""  # the typed attribute keeps its type
    out = json.loads(encode_event(event))
    assert out["type"] == "conversation.created"
    assert out["event_id"] is None and out["x"] == 1

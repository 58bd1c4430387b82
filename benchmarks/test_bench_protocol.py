"""Typed parsing of the frequent non-audio server events, and encoding of client events.

Parse cases (one realistic frame each, as bytes off the socket): a
``response.output_audio_transcript.delta``, a ``response.done`` with usage and an output item,
a ``session.updated`` with the full GA session; and "1s-mix": one second of typical traffic
besides audio (50 transcript deltas, 2 output items, a response.done, rate limits).

- "rtsdk": ``parse_server_event`` (stdlib ``json`` + slotted dataclasses, unknown keys kept).
- "rtsdk-orjson": the same typing over ``orjson.loads``.
- "msgspec-dict": ``msgspec.json.decode`` to a dict, then the same typing.
- "msgspec": ``msgspec`` Structs decoded straight from the wire (tagged union on ``type``).
  Fastest, but it drops unknown keys; keeping them needs a second decode to a dict, measured
  as "msgspec+extra".
- "stdlib": ``json.loads`` alone (an untyped dict: the floor for a stdlib-based parser).

Encode cases: ``session.update`` and ``conversation.item.create`` (``encode_event`` = stdlib
``json.dumps``, compact, ``allow_nan=False``) vs ``orjson.dumps`` / ``msgspec.json.encode``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from rtsdk.protocol import SessionSettings, encode_event, parse_server_event
from rtsdk.protocol import builders as b
from rtsdk.protocol.codec import server_event_from_dict

msgspec = pytest.importorskip("msgspec")
orjson = pytest.importorskip("orjson")

_IDS = {
    "response_id": "resp_CbzkU5m9Xw0bV3pS8xYqZ",
    "item_id": "item_CbzkU6yR2mWk0Q3vTbN1a",
    "output_index": 0,
    "content_index": 0,
}


def _dumps(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


TRANSCRIPT_DELTA = _dumps(
    {
        "type": "response.output_audio_transcript.delta",
        "event_id": "event_CbzkU7Hq0ZtY4mXbP2rVw",
        **_IDS,
        "delta": " weather",
    }
)
_ITEM = {
    "id": _IDS["item_id"],
    "type": "message",
    "object": "realtime.item",
    "status": "completed",
    "role": "assistant",
    "content": [{"type": "output_audio", "transcript": "It is sunny in Paris today, 21 C."}],
}
RESPONSE_DONE = _dumps(
    {
        "type": "response.done",
        "event_id": "event_CbzkUBq1a9d2",
        "response": {
            "object": "realtime.response",
            "id": _IDS["response_id"],
            "status": "completed",
            "status_details": None,
            "output": [_ITEM],
            "conversation_id": "conv_CbzkU4b1",
            "output_modalities": ["audio"],
            "max_output_tokens": "inf",
            "audio": {"output": {"format": {"type": "audio/pcm", "rate": 24000}, "voice": "marin"}},
            "usage": {
                "total_tokens": 1284,
                "input_tokens": 1012,
                "output_tokens": 272,
                "input_token_details": {
                    "text_tokens": 650,
                    "audio_tokens": 362,
                    "image_tokens": 0,
                    "cached_tokens": 832,
                    "cached_tokens_details": {
                        "text_tokens": 640,
                        "audio_tokens": 192,
                        "image_tokens": 0,
                    },
                },
                "output_token_details": {"text_tokens": 58, "audio_tokens": 214},
            },
            "metadata": None,
        },
    }
)
_SESSION = dict(
    SessionSettings(
        instructions="You are a helpful, concise voice assistant. " * 8,
        voice="marin",
        transcription_model="gpt-transcribe",
        tools=(
            {
                "type": "function",
                "name": "get_weather",
                "description": "Current weather for a city",
                "parameters": {
                    "type": "object",
                    "properties": {"city": {"type": "string"}},
                    "required": ["city"],
                },
            },
        ),
        tool_choice="auto",
    ).to_session(),
    object="realtime.session",
    id="sess_CbzkU1",
    expires_at=1764030000,
    model="gpt-realtime-2.1",
    tracing=None,
    truncation="auto",
    prompt=None,
    include=None,
)
SESSION_UPDATED = _dumps({"type": "session.updated", "event_id": "event_x1", "session": _SESSION})
MIX = (
    [TRANSCRIPT_DELTA] * 50
    + [
        _dumps({"type": "response.output_item.added", "event_id": "e", "response_id": "r",
                "output_index": 0, "item": _ITEM}),
        _dumps({"type": "conversation.item.done", "event_id": "e", "item": _ITEM}),
        RESPONSE_DONE,
        _dumps({"type": "rate_limits.updated", "event_id": "e", "rate_limits": [
            {"name": "requests", "limit": 1000, "remaining": 999, "reset_seconds": 0.06},
            {"name": "tokens", "limit": 50000, "remaining": 48716, "reset_seconds": 1.5}]}),
    ]
)  # fmt: skip


# msgspec Structs for the same events (typed straight from the wire) -------------------------


class _Ev(msgspec.Struct, tag_field="type", kw_only=True):
    event_id: str = ""


class _TranscriptDelta(_Ev, tag="response.output_audio_transcript.delta"):
    response_id: str
    item_id: str
    output_index: int
    content_index: int
    delta: str


class _ResponseDone(_Ev, tag="response.done"):
    response: dict[str, Any]


class _SessionUpdated(_Ev, tag="session.updated"):
    session: dict[str, Any]


class _OutputItemAdded(_Ev, tag="response.output_item.added"):
    response_id: str
    output_index: int
    item: dict[str, Any]


class _ItemDone(_Ev, tag="conversation.item.done"):
    item: dict[str, Any]
    previous_item_id: str | None = None


class _RateLimits(_Ev, tag="rate_limits.updated"):
    rate_limits: list[dict[str, Any]]


_DECODER = msgspec.json.Decoder(
    _TranscriptDelta | _ResponseDone | _SessionUpdated | _OutputItemAdded | _ItemDone | _RateLimits
)
_DICT_DECODER = msgspec.json.Decoder()


def _msgspec_keep_extra(frame: bytes) -> Any:
    return _DECODER.decode(frame), _DICT_DECODER.decode(frame)


PARSERS: dict[str, Callable[[bytes], Any]] = {
    "rtsdk": parse_server_event,
    "rtsdk-orjson": lambda f: server_event_from_dict(orjson.loads(f)),
    "msgspec-dict": lambda f: server_event_from_dict(_DICT_DECODER.decode(f)),
    "msgspec": _DECODER.decode,
    "msgspec+extra": _msgspec_keep_extra,
    "stdlib": json.loads,
}
FRAMES = {
    "transcript-delta": TRANSCRIPT_DELTA,
    "response-done": RESPONSE_DONE,
    "session-updated": SESSION_UPDATED,
}


@pytest.mark.parametrize("impl", list(PARSERS))
@pytest.mark.parametrize("case", list(FRAMES))
def test_parse(benchmark: Any, case: str, impl: str) -> None:
    benchmark.group = f"protocol:parse-{case}"
    benchmark.extra_info["impl"] = impl
    parse = PARSERS[impl]
    frame = FRAMES[case]
    result = benchmark(parse, frame)
    assert result is not None


@pytest.mark.parametrize("impl", list(PARSERS))
def test_parse_one_second_mix(benchmark: Any, impl: str) -> None:
    benchmark.group = "protocol:parse-1s-mix"
    benchmark.extra_info["impl"] = impl
    parse = PARSERS[impl]

    def run() -> int:
        for frame in MIX:
            parse(frame)
        return len(MIX)

    assert benchmark(run) == len(MIX)


ENCODE_EVENTS = {
    "session-update": b.session_update(
        SessionSettings(instructions="Be brief. " * 20, voice="marin", threshold=0.5)
    ),
    "item-create": b.conversation_item_create(b.user_text_item("What is the weather in Paris?")),
}
ENCODERS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "rtsdk": encode_event,
    "orjson": orjson.dumps,
    "msgspec": msgspec.json.encode,
}


@pytest.mark.parametrize("impl", list(ENCODERS))
@pytest.mark.parametrize("case", list(ENCODE_EVENTS))
def test_encode(benchmark: Any, case: str, impl: str) -> None:
    benchmark.group = f"protocol:encode-{case}"
    benchmark.extra_info["impl"] = impl
    out = benchmark(ENCODERS[impl], ENCODE_EVENTS[case])
    assert json.loads(out) == ENCODE_EVENTS[case]

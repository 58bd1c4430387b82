"""Builders against the official GA types (openai 3.57.0) and against our own schema.

The GA models come from tests/conformance.py, the shared checker (section 13 of the
reference): pick the model whose ``type`` literal matches, ``model_validate_json(strict=True)``,
and reject any key that lands in a ``model_extra`` anywhere in the tree.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rtsdk.exceptions import ConfigurationError
from rtsdk.protocol import SessionSettings, encode_event, parse_client_event
from rtsdk.protocol import builders as b
from rtsdk.protocol.schema import client_event_problems, unknown_client_keys
from tests.conformance import CLIENT_MODELS
from tests.conformance import model_extras as _extras


def openai_client_check(line: str) -> list[str]:
    """Keys the GA types do not know (raises if the line does not validate strictly)."""
    kind = json.loads(line)["type"]
    model = CLIENT_MODELS[kind].model_validate_json(line, strict=True)
    return _extras(model)


def _assert_conforms(event: dict[str, Any]) -> None:
    line = encode_event(event)
    assert openai_client_check(line) == [], line
    assert client_event_problems(json.loads(line)) == [], line
    parsed = parse_client_event(line)
    assert parsed.type == event["type"]
    assert json.loads(encode_event(parsed)) == json.loads(line)


# --------------------------------------------------------------------------------------------
# strategies

_text = st.text(max_size=40)
_b64 = st.binary(max_size=64).map(lambda raw: base64.b64encode(raw).decode())
_fmt = st.sampled_from(["pcm16", "g711_ulaw", "g711_alaw"])
_tool = st.builds(
    lambda name, desc: {
        "type": "function",
        "name": name,
        "description": desc,
        "parameters": {"type": "object", "properties": {"x": {"type": "string"}}},
    },
    st.from_regex(r"[a-z_]{1,12}", fullmatch=True),
    _text,
)


@st.composite
def settings(draw: st.DrawFn) -> SessionSettings:
    vad = draw(st.sampled_from(["server_vad", "semantic_vad", "none"]))
    opt = lambda s: draw(st.none() | s)  # noqa: E731
    kw: dict[str, Any] = {
        "instructions": opt(_text),
        "voice": opt(st.sampled_from(["alloy", "marin", "cedar", "verse"])),
        "output_modality": draw(st.sampled_from(["audio", "text"])),
        "input_format": draw(_fmt),
        "output_format": draw(_fmt),
        "turn_detection": vad,
        "noise_reduction": opt(st.sampled_from(["near_field", "far_field"])),
        "tools": tuple(draw(st.lists(_tool, max_size=2))),
        "tool_choice": opt(st.sampled_from(["auto", "none", "required"])),
        "max_output_tokens": opt(st.integers(1, 4096) | st.just("inf")),
        "speed": opt(st.floats(0.25, 1.5)),
        "model": opt(
            st.sampled_from(["gpt-realtime-2.1", "gpt-realtime-2.1-mini", "gpt-realtime"])
        ),
    }
    if draw(st.booleans()):
        kw["transcription_model"] = draw(
            st.sampled_from(["gpt-transcribe", "whisper-1", "gpt-4o-transcribe"])
        )
        kw["transcription_language"] = opt(st.sampled_from(["en", "fr"]))
        kw["transcription_prompt"] = opt(_text)
    if vad != "none":
        kw["create_response"] = opt(st.booleans())
        kw["interrupt_response"] = opt(st.booleans())
    if vad == "server_vad":
        kw["threshold"] = opt(st.floats(0.0, 1.0))
        kw["prefix_padding_ms"] = opt(st.integers(0, 2000))
        kw["silence_duration_ms"] = opt(st.integers(0, 2000))
        kw["idle_timeout_ms"] = opt(st.integers(0, 60000))
    if vad == "semantic_vad":
        kw["eagerness"] = opt(st.sampled_from(["low", "medium", "high", "auto"]))
    return SessionSettings(**kw)


_items = st.one_of(
    st.builds(b.user_text_item, _text),
    st.builds(b.user_audio_item, _b64, transcript=st.none() | _text),
    st.builds(b.system_message_item, _text),
    st.builds(b.assistant_text_item, _text),
    st.builds(b.function_call_output_item, st.just("call_1"), _text),
    st.builds(b.function_call_item, st.just("call_1"), st.just("f"), st.just('{"a":1}')),
    st.builds(b.user_text_item, _text, item_id=st.just("item_custom")),
)


@given(settings())
def test_session_update_conforms(s: SessionSettings) -> None:
    _assert_conforms(b.session_update(s))


@given(_items, st.none() | st.just("root"))
def test_item_create_conforms(item: dict[str, Any], previous: str | None) -> None:
    _assert_conforms(b.conversation_item_create(item, previous_item_id=previous))


@given(_b64)
def test_append_conforms(audio: str) -> None:
    event = b.input_audio_buffer_append(audio)
    assert "event_id" not in event
    _assert_conforms(event)
    _assert_conforms(b.input_audio_buffer_append(audio, event_id="e1"))


@given(st.text(min_size=1, max_size=20), st.integers(0, 10**7))
def test_item_events_conform(item_id: str, ms: int) -> None:
    _assert_conforms(b.conversation_item_truncate(item_id, ms))
    _assert_conforms(b.conversation_item_delete(item_id))
    _assert_conforms(b.conversation_item_retrieve(item_id))


def test_buffer_and_cancel_events_conform() -> None:
    for event in (
        b.input_audio_buffer_commit(),
        b.input_audio_buffer_clear(),
        b.response_cancel(),
        b.response_cancel("resp_1"),
        b.response_create(),
    ):
        assert event["event_id"].startswith("evt_rtsdk_")
        _assert_conforms(event)


@given(
    st.none() | st.sampled_from(["audio", "text"]),
    st.none() | st.sampled_from(["alloy", "marin"]),
    st.none() | _fmt,
    st.none() | _text,
    st.none() | st.sampled_from(["auto", "none"]),
    st.none() | st.dictionaries(st.text(max_size=10), st.text(max_size=10), max_size=3),
    st.none() | st.lists(_items, max_size=3),
    st.none() | st.integers(1, 4096),
)
def test_response_create_conforms(
    modality: str | None,
    voice: str | None,
    fmt: str | None,
    instructions: str | None,
    conversation: str | None,
    metadata: dict[str, str] | None,
    items: list[dict[str, Any]] | None,
    max_tokens: int | None,
) -> None:
    kw: dict[str, Any] = {}
    if instructions is not None:
        kw["instructions"] = instructions
    if conversation is not None:
        kw["conversation"] = conversation
    if metadata is not None:
        kw["metadata"] = metadata
    if max_tokens is not None:
        kw["max_output_tokens"] = max_tokens
    if items is not None:
        kw["input"] = items
    event = b.response_create(output_modality=modality, voice=voice, output_format=fmt, **kw)
    _assert_conforms(event)


def test_item_reference_in_response_input() -> None:
    # The reference allows {"type": "item_reference", "id"} in response.input; the GA
    # ResponseCreateEvent model of openai 3.57.0 does not list it (only the *WithReferences
    # params do), so this is checked against our schema only.
    event = b.response_create(
        conversation="none", input=[{"type": "item_reference", "id": "item_1"}]
    )
    assert client_event_problems(event) == []
    assert unknown_client_keys(
        {
            "type": "response.create",
            "response": {"input": [{"type": "item_reference", "id": "i", "x": 1}]},
        }
    ) == ["response.input[0].x"]


def test_event_ids_are_unique_and_counted() -> None:
    ids = b.EventIds("x_")
    assert [ids(), ids(), ids()] == ["x_1", "x_2", "x_3"]
    seen = {b.input_audio_buffer_commit()["event_id"] for _ in range(50)}
    assert len(seen) == 50


def test_builders_refuse_what_the_server_rejects() -> None:
    with pytest.raises(ConfigurationError, match="temperature"):
        b.response_create(temperature=0.7)
    with pytest.raises(ConfigurationError, match="audio_end_ms"):
        b.conversation_item_truncate("item_1", -1)
    with pytest.raises(ConfigurationError, match=r"session\.audio\.output\.format\.rate"):
        b.session_update({"type": "realtime", "audio": {"output": {"format": {"rate": 16000}}}})
    with pytest.raises(ConfigurationError, match=r"item\.content"):
        b.conversation_item_create({"type": "message", "role": "user", "content": [{"x": 1}]})
    with pytest.raises(ConfigurationError, match="output must be a str"):
        b.function_call_output_item("c", {"a": 1})  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------
# the schema agrees with the official types on where unknown keys are


def _dict_paths(node: Any, path: str = "") -> list[tuple[str, dict[str, Any]]]:
    found: list[tuple[str, dict[str, Any]]] = []
    if isinstance(node, dict):
        found.append((path, node))
        for key, value in node.items():
            found += _dict_paths(value, f"{path}.{key}" if path else key)
    elif isinstance(node, list):
        for i, element in enumerate(node):
            found += _dict_paths(element, f"{path}[{i}]")
    return found


FULL_EXAMPLES: list[dict[str, Any]] = [
    b.session_update(
        SessionSettings(
            instructions="hi",
            voice="marin",
            transcription_model="whisper-1",
            transcription_language="en",
            transcription_prompt="p",
            noise_reduction="near_field",
            threshold=0.4,
            prefix_padding_ms=300,
            silence_duration_ms=500,
            idle_timeout_ms=6000,
            create_response=True,
            interrupt_response=True,
            tools=({"type": "function", "name": "f", "description": "d", "parameters": {}},),
            tool_choice={"type": "function", "name": "f"},
            max_output_tokens="inf",
            speed=1.2,
            model="gpt-realtime",
        )
    ),
    b.session_update(SessionSettings(turn_detection="semantic_vad", eagerness="high")),
    b.session_update(
        {
            "type": "realtime",
            "tracing": {"workflow_name": "w", "group_id": "g"},
            "truncation": {"type": "retention_ratio", "retention_ratio": 0.5},
            "prompt": {"id": "pmpt_1", "version": "1"},
            "include": ["item.input_audio_transcription.logprobs"],
            "audio": {"output": {"voice": {"id": "voice_1"}}},
        }
    ),
    b.session_update(
        {
            "type": "transcription",
            "audio": {
                "input": {
                    "format": {"type": "audio/pcmu"},
                    "transcription": {"model": "gpt-4o-transcribe", "prompt": "x"},
                    "noise_reduction": {"type": "far_field"},
                    "turn_detection": {"type": "server_vad", "threshold": 0.5},
                }
            },
        }
    ),
    b.conversation_item_create(b.user_audio_item("AAAA", transcript="t")),
    b.conversation_item_create(
        {
            "type": "message",
            "role": "user",
            "content": [{"type": "input_image", "image_url": "data:image/png;base64,AA"}],
        }
    ),
    b.conversation_item_create(b.function_call_item("c", "f", "{}", item_id="item_f")),
    b.conversation_item_create(b.function_call_output_item("c", "{}")),
    b.conversation_item_create(b.system_message_item("s")),
    b.conversation_item_create(b.assistant_text_item("a")),
    b.conversation_item_truncate("item_a", 10),
    b.response_create(
        instructions="x",
        output_modality="text",
        voice="alloy",
        output_format="g711_ulaw",
        tools=[{"type": "function", "name": "f", "parameters": {}}],
        tool_choice="required",
        max_output_tokens=10,
        metadata={"purpose": "summary"},
        conversation="none",
        input=[b.user_text_item("q")],
    ),
    b.response_cancel("resp_1"),
]


@pytest.mark.parametrize("example", FULL_EXAMPLES, ids=lambda e: e["type"])
def test_every_object_rejects_an_unknown_key_like_the_official_types(
    example: dict[str, Any],
) -> None:
    _assert_conforms(example)
    for path, node in _dict_paths(example):
        if path.endswith(("parameters", "metadata", "properties", "variables")) or (
            path and path.split(".")[-1].startswith("parameters")
        ):
            continue  # free-form objects (JSON Schema, metadata)
        node["zz_new"] = 1
        try:
            expected = f"{path}.zz_new" if path else "zz_new"
            assert expected in unknown_client_keys(example), expected
            assert expected in openai_client_check(json.dumps(example)), expected
        finally:
            del node["zz_new"]


@pytest.mark.parametrize(
    ("event", "param", "code"),
    [
        ({"type": "session.update", "session": {}}, "session.type", "missing_required_parameter"),
        (
            {"type": "session.update", "session": {"type": "realtime", "modalities": ["audio"]}},
            "session.modalities",
            "unknown_parameter",
        ),
        (
            {
                "type": "session.update",
                "session": {"type": "realtime", "output_modalities": ["audio", "text"]},
            },
            "session.output_modalities",
            "invalid_value",
        ),
        (
            {
                "type": "session.update",
                "session": {"type": "realtime", "audio": {"input": {"format": {"rate": 16000}}}},
            },
            "session.audio.input.format.rate",
            "invalid_value",
        ),
        (
            {
                "type": "session.update",
                "session": {
                    "type": "realtime",
                    "audio": {"input": {"format": {"type": "audio/pcmu", "rate": 24000}}},
                },
            },
            "session.audio.input.format.rate",
            "unknown_parameter",
        ),
        (
            {
                "type": "session.update",
                "session": {
                    "type": "realtime",
                    "audio": {
                        "input": {"turn_detection": {"type": "semantic_vad", "threshold": 1}}
                    },
                },
            },
            "session.audio.input.turn_detection.threshold",
            "unknown_parameter",
        ),
        (
            {"type": "session.update", "session": {"type": "realtime", "temperature": 0.8}},
            "session.temperature",
            "unknown_parameter",
        ),
        (
            {
                "type": "conversation.item.truncate",
                "item_id": "a",
                "content_index": 1,
                "audio_end_ms": 5,
            },
            "content_index",
            "invalid_value",
        ),
        (
            {"type": "conversation.item.truncate", "item_id": "a", "content_index": 0},
            "audio_end_ms",
            "missing_required_parameter",
        ),
        ({"type": "input_audio_buffer.append"}, "audio", "missing_required_parameter"),
        ({"type": "input_audio_buffer.commit", "audio": "AA"}, "audio", "unknown_parameter"),
        (
            {"type": "response.create", "response": {"modalities": ["text"]}},
            "response.modalities",
            "unknown_parameter",
        ),
        (
            {"type": "response.create", "response": {"temperature": 1}},
            "response.temperature",
            "unknown_parameter",
        ),
        (
            {"type": "conversation.item.create", "item": {"type": "message", "content": []}},
            "item.role",
            "missing_required_parameter",
        ),
        (
            {
                "type": "conversation.item.create",
                "item": {
                    "type": "message",
                    "role": "assistant",
                    "content": [{"type": "input_audio", "audio": "AA"}],
                },
            },
            "item.content[0].type",
            "invalid_value",
        ),
        ({"type": "session.nope"}, "type", "invalid_value"),
        ({"event_id": "x"}, "type", "missing_required_parameter"),
    ],
)
def test_problems_name_the_param(event: dict[str, Any], param: str, code: str) -> None:
    problems = client_event_problems(event)
    assert any(p.param == param and p.code == code for p in problems), problems

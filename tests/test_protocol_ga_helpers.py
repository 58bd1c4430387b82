"""Protocol core: transcription session settings, image and MCP approval items, out-of-band
audio kept out of the playback. Every built client event is validated against the openai GA
types (tests/conformance.py) and against our own schema."""

from __future__ import annotations

from typing import Any

import pytest

from rtsdk.exceptions import ConfigurationError
from rtsdk.protocol import (
    ClientSessionState,
    TranscriptionSettings,
    conversation_item_create,
    mcp_approval_response_item,
    session_update,
    user_image_item,
)
from rtsdk.protocol.schema import client_event_problems
from tests.conformance import assert_client_event_valid
from tests.test_protocol_state import S, assistant_turn, audio_delta, response

PNG_URL = "data:image/png;base64,iVBORw0KGgo="


def valid(event: dict[str, Any]) -> dict[str, Any]:
    assert client_event_problems(event) == []
    assert_client_event_valid(event)
    return event


def test_transcription_settings_build_a_transcription_session_update() -> None:
    settings = TranscriptionSettings(
        model="gpt-4o-mini-transcribe",
        language="fr",
        prompt="expect words about trains",
        noise_reduction="far_field",
        silence_duration_ms=400,
        threshold=0.6,
        include_logprobs=True,
        input_format="g711_ulaw",
    )
    session = valid(session_update(settings))["session"]
    assert session == {
        "type": "transcription",
        "audio": {
            "input": {
                "format": {"type": "audio/pcmu"},
                "transcription": {
                    "model": "gpt-4o-mini-transcribe",
                    "language": "fr",
                    "prompt": "expect words about trains",
                },
                "noise_reduction": {"type": "far_field"},
                "turn_detection": {
                    "type": "server_vad",
                    "threshold": 0.6,
                    "silence_duration_ms": 400,
                },
            }
        },
        "include": ["item.input_audio_transcription.logprobs"],
    }
    manual = valid(session_update(TranscriptionSettings(turn_detection="none")))["session"]
    assert manual["audio"]["input"]["turn_detection"] is None and "include" not in manual
    semantic = TranscriptionSettings(turn_detection="semantic_vad", eagerness="high")
    turn = valid(session_update(semantic))["session"]["audio"]["input"]["turn_detection"]
    assert turn == {"type": "semantic_vad", "eagerness": "high"}


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"model": ""}, "model"),
        ({"language": 5}, "language"),
        ({"noise_reduction": "loud"}, "noise_reduction"),
        ({"turn_detection": "auto"}, "turn_detection"),
        ({"threshold": 1.5}, "threshold"),
        ({"turn_detection": "none", "silence_duration_ms": 300}, "silence_duration_ms"),
        ({"eagerness": "high"}, "eagerness"),
        ({"include_logprobs": "yes"}, "include_logprobs"),
        ({"input_format": "mp3"}, "input_format"),
        ({"model": "gpt-realtime-whisper"}, "turn_detection"),
    ],
)
def test_transcription_settings_name_what_is_wrong(kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(ConfigurationError, match=rf"TranscriptionSettings\.{field} "):
        TranscriptionSettings(**kwargs)


def test_transcription_settings_drive_the_session_state() -> None:
    state = ClientSessionState(TranscriptionSettings(language="de"))
    (update,) = state.on_connect()
    assert valid(update)["session"]["type"] == "transcription"
    # speech in a transcription session: nothing to cancel, nothing to truncate
    started = S("input_audio_buffer.speech_started", audio_start_ms=0, item_id="item_1")
    assert state.handle(started).send == []


def test_image_item_and_its_checks() -> None:
    item = user_image_item(PNG_URL, detail="low", text="What is this?")
    event = valid(conversation_item_create(item))
    assert event["item"]["content"] == [
        {"type": "input_text", "text": "What is this?"},
        {"type": "input_image", "image_url": PNG_URL, "detail": "low"},
    ]
    assert valid(conversation_item_create(user_image_item(PNG_URL)))["item"]["content"] == [
        {"type": "input_image", "image_url": PNG_URL}
    ]
    with pytest.raises(ConfigurationError, match="data:image"):
        user_image_item("https://example.com/cat.png")
    with pytest.raises(ConfigurationError, match="detail"):
        user_image_item(PNG_URL, detail="max")


def test_mcp_approval_response_item_always_has_an_id() -> None:
    first = valid(conversation_item_create(mcp_approval_response_item("mcpr_1", True)))
    second = valid(
        conversation_item_create(mcp_approval_response_item("mcpr_2", False, reason="no"))
    )
    assert first["item"]["id"] != second["item"]["id"]
    assert second["item"] == {
        "type": "mcp_approval_response",
        "id": second["item"]["id"],
        "approval_request_id": "mcpr_2",
        "approve": False,
        "reason": "no",
    }
    mine = mcp_approval_response_item("mcpr_3", True, item_id="mcpa_mine")
    assert mine["id"] == "mcpa_mine"
    with pytest.raises(ConfigurationError, match="approve"):
        mcp_approval_response_item("mcpr_1", "yes")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="approval_request_id"):
        mcp_approval_response_item("", True)


def test_out_of_band_audio_is_not_for_the_playback() -> None:
    state = ClientSessionState()
    state.on_connect()
    # an out-of-band response beside a default one
    state.handle(S("response.created", response=response("resp_oob", conversation_id=None)))
    assert state.audio_received("item_oob", 960, "resp_oob") is False
    state.handle(audio_delta("resp_oob", "item_oob", 960))
    assert "item_oob" not in state.audio
    for event in assistant_turn("resp_main", "item_main", 960):
        state.handle(event)
        if event.type == "response.created":
            assert state.audio_received("item_main", 960, "resp_main") is True
    assert state.audio["item_main"].received == 2 * 960
    state.handle(S("response.done", response=response("resp_oob", "completed", output=[])))
    assert "resp_oob" not in state.out_of_band

"""GA client events in the beta shape (Azure preview path), checked against the beta types."""

from __future__ import annotations

import json

import pytest

from rtsdk.protocol import (
    SessionSettings,
    assistant_text_item,
    conversation_item_create,
    input_audio_buffer_commit,
    normalize_session,
    response_create,
    session_update,
    to_beta_client_event,
)

beta_types = pytest.importorskip("openai.types.beta.realtime")


def _validate_beta(event: dict[str, object]) -> None:
    models = {
        "session.update": beta_types.SessionUpdateEvent,
        "response.create": beta_types.ResponseCreateEvent,
        "conversation.item.create": beta_types.ConversationItemCreateEvent,
        "input_audio_buffer.commit": beta_types.InputAudioBufferCommitEvent,
    }
    model = models[str(event["type"])]
    parsed = model.model_validate_json(json.dumps(event), strict=True)

    def no_extra(obj: object, path: str) -> None:
        extra = getattr(obj, "model_extra", None)
        assert not extra, f"unknown beta keys at {path}: {extra}"
        for name in getattr(type(obj), "model_fields", {}):
            value = getattr(obj, name)
            for i, v in enumerate(value if isinstance(value, list) else [value]):
                no_extra(v, f"{path}.{name}[{i}]")

    no_extra(parsed, str(event["type"]))


@pytest.mark.parametrize(
    "settings",
    [
        SessionSettings(instructions="x", voice="marin", speed=1.1, max_output_tokens=200),
        SessionSettings(
            output_modality="text",
            input_format="g711_ulaw",
            output_format="g711_alaw",
            turn_detection="none",
            transcription_model="whisper-1",
            noise_reduction="near_field",
        ),
        SessionSettings(turn_detection="server_vad", threshold=0.6, silence_duration_ms=300),
    ],
)
def test_session_update_round_trips_through_the_beta_shape(settings: SessionSettings) -> None:
    ga = session_update(settings)
    beta = to_beta_client_event(ga)
    session = beta["session"]
    assert "audio" not in session and "type" not in session
    _validate_beta(beta)
    back = normalize_session(dict(session))
    assert back["audio"]["input"]["format"] == ga["session"]["audio"]["input"]["format"]
    assert back["audio"]["output"]["format"] == ga["session"]["audio"]["output"]["format"]
    assert back["audio"]["input"].get("turn_detection") == ga["session"]["audio"]["input"].get(
        "turn_detection"
    )
    modalities = session["modalities"]
    assert ("audio" in modalities) == (settings.output_modality == "audio")


def test_response_create_and_assistant_items() -> None:
    beta = to_beta_client_event(
        response_create(output_modality="audio", voice="marin", instructions="hi")
    )
    assert beta["response"]["modalities"] == ["text", "audio"]
    assert beta["response"]["voice"] == "marin"
    _validate_beta(beta)
    item = to_beta_client_event(conversation_item_create(assistant_text_item("hello")))
    assert item["item"]["content"][0]["type"] == "text"
    _validate_beta(item)
    commit = input_audio_buffer_commit()
    assert to_beta_client_event(commit) is commit

"""Translation sessions, sans-I/O: the settings, the core, the transcript lines and the 200 ms
gathering of the uplink; client frames checked against the ``openai`` package's translation
client-event types."""

from __future__ import annotations

import base64
import json
from typing import Any

import numpy as np
import pydantic
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openai.types.realtime.realtime_translation_client_event import (
    RealtimeTranslationClientEvent,
)

from rtsdk.audio.encode import AppendEncoder, Gatherer
from rtsdk.client.live_transcripts import grouper_for
from rtsdk.exceptions import AuthenticationError, ConfigurationError, ModelUnavailableError
from rtsdk.protocol.translation import (
    TranslationCore,
    TranslationSettings,
    parse_translation_event,
)
from rtsdk.session.options import RealtimeAIOptions

CLIENT: pydantic.TypeAdapter[Any] = pydantic.TypeAdapter(RealtimeTranslationClientEvent)


def valid(frame: dict[str, Any]) -> dict[str, Any]:
    CLIENT.validate_python(json.loads(json.dumps(frame)), strict=True)
    return frame


def ev(**data: Any) -> Any:
    return parse_translation_event(json.dumps(data))


def created(core: TranslationCore, sid: str = "sess_t1") -> None:
    session = {"id": sid, "expires_at": 2_000_000_000, "model": "m", "type": "translation"}
    core.handle(ev(type="session.created", event_id="e0", session=dict(session, audio={})))


def test_the_config_goes_out_first_and_ready_comes_with_session_updated() -> None:
    core = TranslationCore(
        TranslationSettings(
            "pt-BR", source_transcription_model="gpt-transcribe", noise_reduction="far_field"
        )
    )
    (frame,) = core.on_connect()
    valid(frame)
    assert frame["session"] == {
        "audio": {
            "output": {"language": "pt-BR"},
            "input": {
                "transcription": {"model": "gpt-transcribe"},
                "noise_reduction": {"type": "far_field"},
            },
        }
    }
    created(core)
    assert core.session_id == "sess_t1" and not core.ready
    actions = core.handle(ev(type="session.updated", event_id="e1", session=core.session))
    assert actions.ready and core.ready and core.gate_sends
    (close,) = core.close()
    valid(close)
    closed = core.handle(ev(type="session.closed", event_id="e2"))
    assert closed.closed and closed.renew is None


def test_errors() -> None:
    core = TranslationCore(TranslationSettings("fr"))
    (frame,) = core.on_connect()
    refused = core.handle(
        ev(
            type="error",
            event_id="x",
            error={
                "type": "invalid_request_error",
                "code": "unknown_parameter",
                "message": "Unknown parameter: 'session.audio.output.voice'.",
                "param": "session.audio.output.voice",
                "event_id": frame["event_id"],
            },
        )
    )
    assert isinstance(refused.rejected, ConfigurationError)
    assert "session.audio.output.voice" in str(refused.rejected)
    auth = core.handle(ev(type="error", error={"type": "x", "code": "invalid_api_key"}))
    assert isinstance(auth.failure, AuthenticationError)
    gone = core.handle(ev(type="error", error={"type": "x", "code": "model_not_found"}))
    assert isinstance(gone.failure, ModelUnavailableError)
    core.handle(ev(type="session.updated", event_id="e", session={}))
    later = core.handle(ev(type="error", error={"type": "server_error", "code": None}))
    assert later.problem is not None and later.rejected is None
    # closed by the server, not asked: a new session
    assert core.handle(ev(type="session.closed", event_id="c")).renew


def test_update_settings_and_a_fixed_model() -> None:
    core = TranslationCore(TranslationSettings("fr"))
    core.on_connect()
    assert core.update_settings(TranslationSettings("de")) == []  # not ready: next connect
    core.handle(ev(type="session.updated", event_id="e", session={}))
    (frame,) = core.update_settings(TranslationSettings("es"))
    assert valid(frame)["session"]["audio"]["output"]["language"] == "es"
    with pytest.raises(ConfigurationError, match="model"):
        core.update_settings(TranslationSettings("es", model="another-translate"))


def test_output_audio_is_one_stream_and_malformed_audio_is_counted() -> None:
    core = TranslationCore(TranslationSettings("fr"))
    frame = json.dumps(
        {
            "type": "session.output_audio.delta",
            "event_id": "e",
            "delta": base64.b64encode(b"\1\0\2\0").decode(),
            "elapsed_ms": 400,
            "format": "pcm16",
            "sample_rate": 24000,
            "channels": 1,
        }
    ).encode()
    assert core.decode_output_audio(frame) == ("", "", b"\1\0\2\0")
    assert core.audio_received("", 4) and not core.audio_received("", 3)
    assert core.received_audio_bytes == 4 and core.malformed_audio == 1
    bad = core.handle(ev(type="session.output_audio.delta", event_id="e", delta="!!"))
    assert bad.unreadable
    append = json.loads(core.encode_input_audio(b"\0\0"))
    assert valid(append)["type"] == "session.input_audio_buffer.append"


def test_options_select_a_translation_session() -> None:
    o = RealtimeAIOptions(model="gpt-realtime-translate", url="ws://h/v1", target_language="fr")
    assert o.session_type == "translation"
    assert o.endpoint_url() == "ws://h/v1/realtime/translations?model=gpt-realtime-translate"
    assert o.session_max_seconds is None
    base = "ws://h/v1/realtime"  # another API's endpoint: its base
    o = RealtimeAIOptions(session_type="translation", url=base, target_language="es")
    assert o.endpoint_url().startswith("ws://h/v1/realtime/translations?model=")
    for bad, name in (
        ({"voice": "ash"}, "voice"),
        ({"instructions": "x"}, "instructions"),
        ({"input_format": "g711_ulaw", "output_format": "g711_ulaw"}, "PCM16 only"),
        ({"target_language": None}, "target_language"),
    ):
        kw = {"model": "gpt-realtime-translate", "url": "ws://h/v1", "target_language": "fr"}
        with pytest.raises(ConfigurationError, match=name):
            RealtimeAIOptions(**{**kw, **bad})
    with pytest.raises(ConfigurationError, match="translation sessions only"):
        RealtimeAIOptions(url="ws://h/v1", target_language="fr")


def test_transcript_lines_of_a_translation_run_side_by_side() -> None:
    grouper = grouper_for("translation")
    out = []
    for kind, text, elapsed in (
        ("input", "Bonjour ", 0),
        ("output", "Hello ", 200),
        ("input", "tout le monde", 200),
        ("output", "everyone", 400),
        ("input", "Ça va ?", 3000),
    ):
        event = ev(
            type=f"session.{kind}_transcript.delta", event_id="e", delta=text, elapsed_ms=elapsed
        )
        out += grouper.feed(event)
    out += grouper.flush()
    assert [(line.speaker, line.text) for line in out] == [
        ("source", "Bonjour tout le monde"),
        ("target", "Hello everyone"),
        ("source", "Ça va ?"),
    ]
    assert (out[0].start_ms, out[0].end_ms) == (0, 400)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(1, 2000), min_size=1, max_size=30), st.integers(100, 4800))
def test_gathering_in_any_chunking_gives_the_same_appends(chunks: list[int], size: int) -> None:
    """Device frames of any length gathered into appends of ``size`` samples: the same frames
    as framing the whole stream in ``size`` blocks (the last one shorter)."""
    rng = np.random.default_rng(sum(chunks) + size)
    x = rng.uniform(-1, 1, sum(chunks)).astype(np.float32)
    event = "session.input_audio_buffer.append"
    gatherer = Gatherer(AppendEncoder("pcm16", event_type=event), size)
    got: list[bytes] = []
    i = 0
    for k, n in enumerate(chunks):
        got += gatherer.frames(x[i : i + n], last=k == len(chunks) - 1)
        i += n
    reference = AppendEncoder("pcm16", event_type=event)
    want = [reference.frame(x[j : j + size]) for j in range(0, x.size, size)]
    assert got == want
    assert gatherer.pending == 0

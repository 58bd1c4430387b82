"""Local server parts without sockets: the VAD, audio helpers, session merging, scripts."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rtsdk.exceptions import ConfigurationError
from rtsdk.testing import FunctionCallScript, LocalRealtimeServer
from rtsdk.testing import audio as au
from rtsdk.testing.config import VadDefaults, default_session, merge_session
from rtsdk.testing.vad import EnergyVad, threshold_dbfs


def _tone(ms: int, amp: float, rate: int = 24000) -> np.ndarray:
    t = np.arange(rate * ms // 1000) / rate
    return (np.sin(2 * np.pi * 300 * t) * amp * 32767).astype(np.int16)


def _run(vad: EnergyVad, pcm: np.ndarray, cuts: list[int]) -> list[tuple[str, float]]:
    out: list[tuple[str, float]] = []
    bounds = [0, *sorted(c % (pcm.size + 1) for c in cuts), pcm.size]
    for a, b in itertools.pairwise(bounds):
        out += vad.process(pcm[a:b])
    return out


SPEECH = np.concatenate(
    [
        np.zeros(24000 // 2, np.int16),
        _tone(600, 0.3),
        np.zeros(24000 // 5, np.int16),
        _tone(300, 0.3),
        np.zeros(24000, np.int16),
    ]
)


def test_vad_start_stop_prefix_and_silence() -> None:
    vad = EnergyVad(24000, threshold=0.5, prefix_padding_ms=300, silence_duration_ms=500)
    assert vad.process(SPEECH) == [("started", 200.0), ("stopped", 1600.0)]  # one turn
    short = EnergyVad(24000, prefix_padding_ms=100, silence_duration_ms=150)
    assert short.process(SPEECH) == [
        ("started", 400.0),
        ("stopped", 1100.0),
        ("started", 1200.0),
        ("stopped", 1600.0),
    ]


@settings(max_examples=40)
@given(st.lists(st.integers(0, SPEECH.size), max_size=12))
def test_vad_gives_the_same_transitions_for_any_chunking(cuts: list[int]) -> None:
    whole = EnergyVad(24000, silence_duration_ms=150).process(SPEECH)
    chunked = _run(EnergyVad(24000, silence_duration_ms=150), SPEECH, cuts)
    assert chunked == whole


@pytest.mark.parametrize(
    ("threshold", "amp", "voiced"),
    [(0.5, 0.02, True), (0.5, 0.005, False), (0.9, 0.1, False), (0.9, 0.3, True)],
)
def test_vad_threshold_maps_to_a_level(threshold: float, amp: float, voiced: bool) -> None:
    vad = EnergyVad(8000, threshold=threshold)
    got = vad.process(_tone(200, amp, rate=8000))
    assert bool(got) is voiced
    assert threshold_dbfs(0.5) == -40.0 and threshold_dbfs(1.0) == -10.0


def test_vad_origin_and_position() -> None:
    vad = EnergyVad(8000, prefix_padding_ms=0, origin_ms=1000.0)
    assert vad.process(np.concatenate([np.zeros(800, np.int16), _tone(100, 0.3, 8000)])) == [
        ("started", 1100.0)
    ]
    assert vad.position_ms == 1200.0


def test_audio_helpers() -> None:
    sine = _tone(1000, 1.0)
    assert au.level_dbfs(sine) == pytest.approx(-3.01, abs=0.02)
    assert au.level_dbfs(np.zeros(10, np.int16)) == -120.0
    raw = sine.tobytes()
    ulaw = au.convert(raw, "pcm16", "g711_ulaw")
    assert abs(len(ulaw) - 8000) <= 40  # 1 s at 8 kHz (plus the resampler tail)
    back = au.convert(ulaw, "g711_ulaw", "g711_alaw")
    assert len(back) == len(ulaw)
    assert au.convert(raw, "pcm16", "pcm16") == raw
    tone = au.reply_tone(500, "g711_alaw")
    assert len(tone) == 4000
    level = au.level_dbfs(au.decode_pcm16(tone, "g711_alaw"))
    assert level == pytest.approx(-18.0, abs=0.5)
    assert au.decode_pcm16(b"\x01\x00\x02", "pcm16").tolist() == [1]  # odd byte ignored


def _session() -> dict:
    return default_session(session_id="sess_1", model="m", expires_at=1, vad=VadDefaults())


def test_merge_session_rules() -> None:
    base = _session()
    new, problem = merge_session(
        base,
        {"type": "realtime", "audio": {"input": {"format": {"type": "audio/pcm"}}}},
        vad=VadDefaults(),
        voice_locked=False,
    )
    assert problem is None and new["audio"]["input"]["format"] == {
        "type": "audio/pcm",
        "rate": 24000,
    }
    assert new["audio"]["output"] == base["audio"]["output"] and new is not base
    new, problem = merge_session(
        base,
        {"type": "realtime", "audio": {"input": {"turn_detection": {"type": "semantic_vad"}}}},
        vad=VadDefaults(),
        voice_locked=False,
    )
    assert new["audio"]["input"]["turn_detection"]["eagerness"] == "auto"
    _, problem = merge_session(
        base,
        {"type": "realtime", "audio": {"output": {"voice": "ash"}}},
        vad=VadDefaults(),
        voice_locked=True,
    )
    assert problem is not None and problem.key == "voice_locked"
    _, problem = merge_session(
        base, {"type": "transcription"}, vad=VadDefaults(), voice_locked=False
    )
    assert problem is not None and problem.key == "session_type_to_realtime"


def test_function_call_scripts() -> None:
    script = FunctionCallScript(name="f", arguments={"a": 1}, when_text_contains="Weather", times=1)
    assert script.arguments_json == '{"a":1}'
    assert script.matches("what's the weather?") and not script.matches(None)
    script.fired = 1
    assert not script.matches("weather")
    assert FunctionCallScript(name="g").matches(None)
    with pytest.raises(ConfigurationError, match="name"):
        FunctionCallScript(name="")
    with pytest.raises(ConfigurationError, match="times"):
        FunctionCallScript(name="f", times=0)


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"pacing": "slow"}, "pacing"),
        ({"audio_chunk_ms": 5}, "audio_chunk_ms"),
        ({"vad_threshold": 2}, "vad_threshold"),
        ({"turn_detection": "push"}, "turn_detection"),
        ({"api_key": ""}, "api_key"),
    ],
)
def test_bad_server_options_are_refused(kw: dict, match: str) -> None:
    with pytest.raises(ConfigurationError, match=match):
        LocalRealtimeServer(**kw)

"""GPT-Live beside Realtime per 20 ms frame: the same audio, each protocol's frames.

In every group "rtsdk" is the Realtime path and "rtsdk-live" the GPT-Live one, so the ratio
``benchmarks/ratios.py`` prints is GPT-Live's time over Realtime's (the target: within 1.1x).

- "live:uplink framer": a 48 kHz float32 microphone frame -> one append frame (bytes) with
  ``AppendFramer.frame`` (resample, PCM16, base64, frame in one call):
  ``input_audio_buffer.append`` against ``session.input_audio.append``.
- "live:uplink send_audio": the same through ``Uplink.frames``, what ``send_audio`` runs.
- "live:decode delta": a delta frame -> its PCM16: ``decode_audio_delta`` of a
  ``response.output_audio.delta`` (server key order, ids) against
  ``decode_session_audio_delta`` of a ``session.output_audio.delta`` (type and delta only).
- "live:downlink DeltaPlayer": a delta frame -> 48 kHz float32 in a ring through an armed
  ``DeltaPlayer`` (armed with the item's ids; with two empty ids for GPT-Live), the ring read
  back each frame as the output callback would.
- "live:downlink service": the whole receive path of ``RealtimeAIServiceManager`` without a
  socket: the link's read callback (the armed player as ``frame_filter``, ``_on_frame`` when it
  declines), the session's real ``Playback`` (adaptive prebuffer on GPT-Live, as the client
  sets it), and 20 ms rendered out of it each frame as a clocked sink does.

These run one after the other; ``python -m benchmarks.live_interleaved`` runs the same pairs
interleaved, the ratio taken per round (this VM's speed drifts within minutes).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from rtsdk import RealtimeAIOptions, kernels
from rtsdk.audio.playback import Playback
from rtsdk.session.service import RealtimeAIServiceManager
from rtsdk.session.uplink import Uplink

if kernels.BACKEND != "cython":
    pytest.skip("the compiled kernels are not built", allow_module_level=True)

FRAME_48K = 960  # 20 ms at 48 kHz
FRAME_24K = 480
LIVE_APPEND = "session.input_audio.append"
RESPONSE_ID = "resp_CbzkU5m9Xw0bV3pS8xYqZ"
ITEM_ID = "item_CbzkU6yR2mWk0Q3vTbN1a"
APIS = ("rtsdk", "rtsdk-live")  # Realtime, GPT-Live

Step = Callable[[int], Any]


def mic_frames(n: int = 50) -> list[np.ndarray]:
    rng = np.random.default_rng(7)
    t = np.arange(n * FRAME_48K) / 48000.0
    x = 0.3 * np.sin(2 * np.pi * 440.0 * t) + 0.05 * rng.standard_normal(t.size)
    return [f.astype(np.float32) for f in np.split(x, n)]


def delta_frames(api: str, n: int = 50) -> list[bytes]:
    """``n`` 20 ms delta frames as each service sends them (Realtime: its key order and ids)."""
    rng = np.random.default_rng(8)
    frames = []
    for i in range(n):
        pcm = (rng.standard_normal(FRAME_24K) * 3000).astype("<i2").tobytes()
        b64 = base64.b64encode(pcm).decode()
        if api == "rtsdk":
            event: dict[str, Any] = {
                "type": "response.output_audio.delta",
                "event_id": f"event_{i:020d}",
                "response_id": RESPONSE_ID,
                "item_id": ITEM_ID,
                "output_index": 0,
                "content_index": 0,
                "delta": b64,
            }
        else:
            event = {"type": "session.output_audio.delta", "delta": b64}
        frames.append(json.dumps(event, separators=(",", ":")).encode())
    return frames


def _event_type(api: str) -> str | None:
    return None if api == "rtsdk" else LIVE_APPEND


def _cycling(fn: Callable[[Any], Any], frames: list[Any]) -> Step:
    n = len(frames)

    def step(i: int) -> Any:
        return fn(frames[i % n])

    return step


def uplink_framer(api: str) -> Step:
    """Frame ``i`` (cycling) through a compiled ``AppendFramer`` of ``api``'s event type."""
    framer = kernels.AppendFramer(
        "pcm16", kernels.Resampler(48000, 24000), event_type=_event_type(api)
    )
    return _cycling(framer.frame, mic_frames())


def uplink_send_audio(api: str) -> Step:
    """Frame ``i`` (cycling) through ``Uplink.frames``, what ``send_audio`` runs per call."""
    up = Uplink("pcm16", event_type=_event_type(api))
    frames = mic_frames()
    n = len(frames)

    def step(i: int) -> list[bytes]:
        return up.frames(frames[i % n], 48000)

    return step


def decode_delta(api: str) -> Step:
    decode = kernels.decode_audio_delta if api == "rtsdk" else kernels.decode_session_audio_delta
    return _cycling(decode, delta_frames(api))


class _Counter:
    received = 0


def downlink_player(api: str) -> tuple[Step, Any]:
    """Delta ``i`` (cycling) through an armed compiled ``DeltaPlayer``; and the player."""
    ring = kernels.SpscRing(1 << 20)
    player = kernels.DeltaPlayer("pcm16", kernels.Resampler(24000, 48000), ring, lambda *a: None)
    if api == "rtsdk":
        player.arm(RESPONSE_ID, ITEM_ID, _Counter(), 0)
    else:
        player.arm("", "", _Counter(), 0)
    frames = delta_frames(api)
    n = len(frames)
    sink = bytearray(1 << 16)
    play, read_into = player.play, ring.read_into

    def step(i: int) -> int:
        got = play(frames[i % n])
        read_into(sink)  # the output callback's side, so the ring never fills
        return got

    return step, player


def downlink_service(api: str) -> tuple[Step, RealtimeAIServiceManager]:
    """Delta ``i`` (cycling) as the service receives it from its link, then a 20 ms render."""
    model = "gpt-realtime" if api == "rtsdk" else "gpt-live-1"
    service = RealtimeAIServiceManager(
        RealtimeAIOptions(model=model, url="ws://127.0.0.1:9/v1", api_key="sk-bench")
    )
    playback = Playback(session_format="pcm16", sink_rate=48000, adaptive=api != "rtsdk")
    service.playback = playback
    # stands in for the WebSocketManager: the service installs the armed player here
    link = SimpleNamespace(frame_filter=None)
    service._link = link  # type: ignore[assignment]
    on_frame = service._on_frame
    frames = delta_frames(api)
    n = len(frames)
    block = np.zeros(FRAME_48K, dtype=np.float32)
    render = playback.render

    def step(i: int) -> None:
        frame = frames[i % n]
        take = link.frame_filter  # what the connection's read callback does with a message
        if take is None or take(frame) < 0:
            on_frame(frame)
        render(block)

    return step, service


def _run(benchmark: Any, step: Step, api: str, warm: int = 5) -> Any:
    for i in range(warm):  # the filter state and the arming
        step(i)
    it = iter(range(warm, 1 << 62))
    benchmark.extra_info["impl"] = api
    return benchmark(lambda: step(next(it)))


@pytest.mark.benchmark(group="live:uplink framer 20ms 48k->24k append")
@pytest.mark.parametrize("api", APIS)
def test_uplink_framer(benchmark: Any, api: str) -> None:
    out = _run(benchmark, uplink_framer(api), api)
    assert json.loads(out)["type"] == (_event_type(api) or "input_audio_buffer.append")


@pytest.mark.benchmark(group="live:uplink send_audio 20ms 48k->24k append")
@pytest.mark.parametrize("api", APIS)
def test_uplink_send_audio(benchmark: Any, api: str) -> None:
    (out,) = _run(benchmark, uplink_send_audio(api), api)
    assert len(base64.b64decode(json.loads(out)["audio"])) == 2 * FRAME_24K


@pytest.mark.benchmark(group="live:decode delta 20ms 24k")
@pytest.mark.parametrize("api", APIS)
def test_decode_delta(benchmark: Any, api: str) -> None:
    found = _run(benchmark, decode_delta(api), api)
    assert found is not None and len(found[2]) == 2 * FRAME_24K


@pytest.mark.benchmark(group="live:downlink DeltaPlayer 20ms delta->48k ring")
@pytest.mark.parametrize("api", APIS)
def test_downlink_player(benchmark: Any, api: str) -> None:
    step, player = downlink_player(api)
    assert _run(benchmark, step, api) == FRAME_24K
    assert player.declined == 0


@pytest.mark.benchmark(group="live:downlink service receive 20ms delta->48k render")
@pytest.mark.parametrize("api", APIS)
def test_downlink_service(benchmark: Any, api: str) -> None:
    step, service = downlink_service(api)
    _run(benchmark, step, api)
    player = service.playback.delta_player  # type: ignore[union-attr]
    # every delta after the first took the armed shortcut, none was lost
    assert player.declined == 0 and player.played > 0
    assert service.metrics.protocol_errors == 0
    assert service.state.received_audio_bytes == 2 * FRAME_24K * (player.played + 1)

"""Echo cancellation per 20 ms capture frame, beside the bare backend call.

"echo:stage 20ms @ R" (R = 16, 24, 48 kHz), speech-like audio through a reverberant room:
- "rtsdk": what the uplink runs per frame with echo cancellation on: the render tap pulled
  (one rendered block recorded by the "output callback" per frame), the reference aligned on
  the timestamps, the canceller with its 10 ms carry framing, ERLE estimate and tail guard;
- "rtsdk-no-guard": the same without the tail guard;
- "bare-backend": ``pywebrtc_audio.AudioProcessor.process(mic, ref)`` on the same frame, the
  reference handed over ready-aligned (what our framing and alignment are measured against).

"echo:uplink 20ms 48k->24k append": the whole capture-side work of one device frame (level,
echo stage, resampler, PCM16, append frame) with and without echo cancellation ("rtsdk" is
without: the ratio is what echo cancellation costs on top).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

pytest.importorskip("pywebrtc_audio")
pytest.importorskip("scipy.signal")

from rtsdk.audio.align import EchoStage, ReferenceAligner
from rtsdk.audio.echo import WebRtcEchoCanceller
from rtsdk.audio.encode import AppendEncoder
from rtsdk.audio.tap import RenderTap
from rtsdk.kernels import Resampler
from tests.echo_room import echo_of, speechlike

SECONDS = 4


def _room(rate: int) -> tuple[np.ndarray, np.ndarray]:
    far = speechlike(rate, SECONDS, seed=21, floor=0.3)
    echo, noise = echo_of(far, rate, delay_ms=60, gain=0.3)
    return far, (echo + noise).astype(np.float32)


def _stage(rate: int, guard: bool) -> Callable[[int], np.ndarray]:
    """One capture frame (index ``i``) through the whole echo stage of the uplink."""
    far, mic = _room(rate)
    n = rate // 50
    tap = RenderTap(rate)
    aligner = ReferenceAligner(rate, rate, margin_ms=30)
    mark: list[tuple[int, float, float]] = [(0, 1.0, 1.0)]
    stage = EchoStage(
        WebRtcEchoCanceller(rate, delay_hint_ms=30, tail_guard=guard), tap, aligner, lambda: mark[0]
    )
    frames = mic.size // n
    out_lat = 0.04  # the speaker renders 40 ms ahead of its DAC

    def step(i: int) -> np.ndarray:
        k = i % frames
        lap = i // frames  # the signal repeats; the clocks run on
        j = (lap * frames + k) * n
        ahead = k + 3 if k + 3 < frames else k + 3 - frames
        tap.push(far[ahead * n : ahead * n + n], 1.0 + (j + 3 * n) / rate + out_lat, 1.0, 0, 0)
        mark[0] = (j, 1.0 + j / rate, 1.0 + j / rate)
        return stage.process(mic[k * n : k * n + n], j)

    # render the first blocks ahead of the first capture frame
    for b in range(3):
        tap.push(far[b * n : b * n + n], 1.0 + b * n / rate + out_lat, 1.0, 0, 0)
    return step


def _bare(rate: int) -> Callable[[int], np.ndarray]:
    from pywebrtc_audio import AudioProcessor

    far, mic = _room(rate)
    n = rate // 50
    ap = AudioProcessor(sample_rate=rate, echo_cancellation=True, stream_delay_ms=30)
    frames = mic.size // n

    def step(i: int) -> np.ndarray:
        k = i % frames
        y: np.ndarray = ap.process(mic[k * n : k * n + n], far[k * n : k * n + n])
        return y

    return step


@pytest.mark.parametrize("rate", [16_000, 24_000, 48_000])
@pytest.mark.parametrize("impl", ["rtsdk", "rtsdk-no-guard", "bare-backend"])
def test_echo_stage_frame(benchmark: Any, impl: str, rate: int) -> None:
    step = _bare(rate) if impl == "bare-backend" else _stage(rate, impl == "rtsdk")
    for i in range(100):  # two seconds: converged
        step(i)
    it = iter(range(100, 1 << 62))
    benchmark.group = f"echo:stage 20ms @ {rate // 1000}k"
    benchmark.extra_info["impl"] = impl
    y = benchmark(lambda: step(next(it)))
    assert y.dtype == np.float32 and y.size == rate // 50


@pytest.mark.benchmark(group="echo:uplink 20ms 48k->24k append")
@pytest.mark.parametrize("impl", ["rtsdk", "rtsdk-aec"])
def test_device_uplink_frame(benchmark: Any, impl: str) -> None:
    rate = 48_000
    n = rate // 50
    _, mic = _room(rate)
    echo = _stage(rate, True) if impl == "rtsdk-aec" else None
    rs = Resampler(rate, 24_000)
    enc = AppendEncoder("pcm16", n // 2 + 2)
    frames = mic.size // n
    it = iter(range(1 << 62))

    def step() -> bytes:
        i = next(it)
        k = i % frames
        x = mic[k * n : k * n + n]
        e = float(np.einsum("i,i->", x, x)) / n
        _level = 10.0 * math.log10(e) if e > 1e-12 else -120.0
        if echo is not None:
            x = echo(i)
        return enc.frame(rs.process(x))

    for _ in range(100):
        step()
    benchmark.extra_info["impl"] = impl
    out = benchmark(step)
    assert out.startswith(b'{"type":"input_audio_buffer.append"')

"""A translation session's uplink per 20 ms device frame: gathered into 200 ms appends.

A translation session consumes 200 ms engine frames, so the audio stream gathers its 20 ms
device frames (resampled to 24 kHz) into one ``session.input_audio_buffer.append`` per ten
frames (``rtsdk.audio.encode.Gatherer``). The group compares, per device frame, with the same
audio sent the conversation's way (one append per frame, ``AppendEncoder``): "rtsdk" is the
per-frame append, "rtsdk-gathered-200ms" the translation uplink, so the ratio is the gathered
path's cost over the per-frame one. The cost is the resampler plus a tenth of a ten-times-larger
append; the socket writes (not measured here) fall tenfold.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from rtsdk import kernels
from rtsdk.audio.encode import AppendEncoder, Gatherer
from rtsdk.protocol.translation import INPUT_AUDIO_EVENT

if kernels.BACKEND != "cython":
    pytest.skip("the compiled kernels are not built", allow_module_level=True)

FRAME_48K = 960  # 20 ms of a 48 kHz device
IMPLS = ("rtsdk", "rtsdk-gathered-200ms")


def mic_frames(n: int = 50) -> list[np.ndarray]:
    rng = np.random.default_rng(11)
    t = np.arange(n * FRAME_48K) / 48000.0
    x = 0.3 * np.sin(2 * np.pi * 300.0 * t) + 0.05 * rng.standard_normal(t.size)
    return [f.astype(np.float32) for f in np.split(x, n)]


def uplink(impl: str) -> Callable[[int], list[bytes]]:
    """Device frame ``i`` (cycling) -> the appends it completes (resample, PCM16, frame)."""
    frames = mic_frames()
    rs = kernels.Resampler(48000, 24000)
    if impl == "rtsdk":
        encoder = AppendEncoder("pcm16", 512)

        def step(i: int) -> list[bytes]:
            return [encoder.frame(rs.process(frames[i % len(frames)]))]

        return step
    gatherer = Gatherer(AppendEncoder("pcm16", 4800, event_type=INPUT_AUDIO_EVENT), 4800)

    def gathered(i: int) -> list[bytes]:
        return gatherer.frames(rs.process(frames[i % len(frames)]))

    return gathered


@pytest.mark.benchmark(group="translation:uplink per 20ms device frame 48k->24k")
@pytest.mark.parametrize("impl", IMPLS)
def test_translation_uplink(benchmark: Any, impl: str) -> None:
    step = uplink(impl)
    for i in range(20):  # warm: the resampler's history, the buffers grown
        step(i)
    counter = iter(range(20, 1 << 62))
    benchmark.extra_info["impl"] = impl
    out = benchmark(lambda: step(next(counter)))
    assert isinstance(out, list)
    # ten device frames make exactly one 200 ms append on the gathered path
    appends = [a for i in range(10) for a in step(i)]
    assert len(appends) == (10 if impl == "rtsdk" else 1)

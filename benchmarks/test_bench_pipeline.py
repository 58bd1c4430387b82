"""The whole audio path per 20 ms frame, ours beside the two usual ways of writing it.

Uplink: 48 kHz float32 microphone frame -> 24 kHz PCM16 -> complete
``input_audio_buffer.append`` text frame (bytes).
Downlink: ``response.output_audio.delta`` text frame -> PCM16 -> float32 -> 48 kHz -> bytes in a
playback ring.

(a) "obvious": ``scipy.signal.resample_poly`` + NumPy + stdlib ``base64`` + ``json``.
(b) "best-of-breed": ``soxr`` HQ stream + NumPy with ``out=`` + ``pybase64`` + a bytes template
    (``msgspec`` Struct for the delta).
"rtsdk": ``rtsdk.kernels`` (compiled), "rtsdk-py": the same calls on the twins.
"rtsdk-fused": what a session runs now, one compiled call per frame: ``AppendFramer.frame``
up, and an armed ``DeltaPlayer.play`` down (the playback's shortcut for a streaming reply).
"""

from __future__ import annotations

import base64
import importlib
import json
from collections.abc import Callable
from types import ModuleType
from typing import Any

import numpy as np
import pytest

FRAME_48K = 960  # 20 ms at 48 kHz
FRAME_24K = 480

soxr = pytest.importorskip("soxr")
pybase64 = pytest.importorskip("pybase64")
msgspec = pytest.importorskip("msgspec")
signal = pytest.importorskip("scipy.signal")


def _mic_frames(n: int = 50) -> list[np.ndarray]:
    rng = np.random.default_rng(7)
    t = np.arange(n * FRAME_48K) / 48000.0
    x = 0.3 * np.sin(2 * np.pi * 440.0 * t) + 0.05 * rng.standard_normal(t.size)
    return [f.astype(np.float32) for f in np.split(x, n)]


def _delta_frames(n: int = 50) -> list[bytes]:
    rng = np.random.default_rng(8)
    frames = []
    for i in range(n):
        pcm = (rng.standard_normal(FRAME_24K) * 3000).astype("<i2").tobytes()
        frames.append(
            json.dumps(
                {
                    "type": "response.output_audio.delta",
                    "event_id": f"event_{i:020d}",
                    "response_id": "resp_CbzkU5m9Xw0bV3pS8xYqZ",
                    "item_id": "item_CbzkU6yR2mWk0Q3vTbN1a",
                    "output_index": 0,
                    "content_index": 0,
                    "delta": base64.b64encode(pcm).decode(),
                },
                separators=(",", ":"),
            ).encode()
        )
    return frames


def _kernels(impl: str) -> dict[str, Any]:
    pkg = "rtsdk._kernels" if impl == "rtsdk" else "rtsdk._reference"
    mods: dict[str, ModuleType] = {}
    for name in ("ring", "pcm", "resample", "framing", "append_framer", "delta_player"):
        try:
            mods[name] = importlib.import_module(f"{pkg}.{name}")
        except ImportError as exc:  # pragma: no cover - a build problem, reported as a skip
            pytest.skip(f"{pkg}.{name} unavailable: {exc}")
    return {
        "SpscRing": mods["ring"].SpscRing,
        "f2p": mods["pcm"].float32_to_pcm16,
        "p2f": mods["pcm"].pcm16_to_float32,
        "Resampler": mods["resample"].Resampler,
        "encode_append": mods["framing"].encode_append,
        "decode_audio_delta": mods["framing"].decode_audio_delta,
        "AppendFramer": mods["append_framer"].AppendFramer,
        "DeltaPlayer": mods["delta_player"].DeltaPlayer,
    }


class _ByteRing:
    """The ring an alternative pipeline would use: a preallocated buffer, slice copies."""

    def __init__(self, capacity: int) -> None:
        self.buf = bytearray(capacity)
        self.view = memoryview(self.buf)
        self.head = 0
        self.cap = capacity

    def write(self, data: Any) -> int:
        b = memoryview(data).cast("B")
        n = len(b)
        end = self.head + n
        if end <= self.cap:
            self.view[self.head : end] = b
        else:
            first = self.cap - self.head
            self.view[self.head :] = b[:first]
            self.view[: n - first] = b[first:]
        self.head = end % self.cap
        return n


def uplink(impl: str) -> Callable[[np.ndarray], bytes]:
    """A callable turning one 48 kHz float32 frame into an append frame."""
    if impl == "rtsdk-fused":
        k = _kernels("rtsdk")
        return k["AppendFramer"]("pcm16", k["Resampler"](48000, 24000)).frame  # type: ignore[no-any-return]
    if impl in ("rtsdk", "rtsdk-py"):
        k = _kernels(impl)
        rs = k["Resampler"](48000, 24000)
        f2p, encode_append = k["f2p"], k["encode_append"]

        def ours(x: np.ndarray) -> bytes:
            return encode_append(f2p(rs.process(x)))  # type: ignore[no-any-return]

        return ours
    if impl == "obvious":

        def obvious(x: np.ndarray) -> bytes:
            y = signal.resample_poly(x, 1, 2)
            pcm = np.clip(np.rint(y * 32768.0), -32768, 32767).astype(np.int16)
            return json.dumps(
                {"type": "input_audio_buffer.append", "audio": base64.b64encode(pcm).decode()}
            ).encode()

        return obvious
    if impl == "best-of-breed":
        stream = soxr.ResampleStream(48000, 24000, 1, dtype="float32", quality="HQ")
        scratch = np.empty(FRAME_24K * 2, np.float32)
        pcm_buf = np.empty(FRAME_24K * 2, np.int16)
        head, tail = b'{"type":"input_audio_buffer.append","audio":"', b'"}'

        def best(x: np.ndarray) -> bytes:
            y = stream.resample_chunk(x)
            n = y.shape[0]
            s = scratch[:n]
            np.multiply(y, 32768.0, out=s)
            np.rint(s, out=s)
            np.clip(s, -32768, 32767, out=s)
            p = pcm_buf[:n]
            np.copyto(p, s, casting="unsafe")
            return head + pybase64.b64encode(p) + tail  # type: ignore[no-any-return]

        return best
    raise ValueError(impl)


class _Delta(msgspec.Struct):  # type: ignore[misc]
    type: str
    response_id: str
    item_id: str
    delta: str


def downlink(impl: str) -> Callable[[bytes], int]:
    """A callable turning one delta frame into 48 kHz float32 bytes written to a ring."""
    if impl == "rtsdk-fused":
        k = _kernels("rtsdk")
        ring = k["SpscRing"](1 << 20)
        player = k["DeltaPlayer"]("pcm16", k["Resampler"](24000, 48000), ring, lambda *a: None)
        player.arm("resp_CbzkU5m9Xw0bV3pS8xYqZ", "item_CbzkU6yR2mWk0Q3vTbN1a")
        sink = bytearray(1 << 20)

        def fused(frame: bytes) -> int:
            n = player.play(frame)
            ring.read_into(sink)  # the output callback's side, so the ring never fills
            return n  # type: ignore[no-any-return]

        return fused
    if impl in ("rtsdk", "rtsdk-py"):
        k = _kernels(impl)
        rs = k["Resampler"](24000, 48000)
        ring = k["SpscRing"](1 << 20)
        p2f, decode = k["p2f"], k["decode_audio_delta"]
        scratch = bytearray(1 << 20)

        def ours(frame: bytes) -> int:
            _, _, pcm = decode(frame)
            n = ring.write(rs.process(p2f(pcm)))
            ring.read_into(scratch)  # the output callback's side, so the ring never fills
            return n  # type: ignore[no-any-return]

        return ours
    ring_alt = _ByteRing(1 << 20)
    if impl == "obvious":

        def obvious(frame: bytes) -> int:
            event = json.loads(frame)
            pcm = np.frombuffer(base64.b64decode(event["delta"]), dtype="<i2")
            y = signal.resample_poly(pcm.astype(np.float32) / 32768.0, 2, 1).astype(np.float32)
            return ring_alt.write(y)

        return obvious
    if impl == "best-of-breed":
        stream = soxr.ResampleStream(24000, 48000, 1, dtype="float32", quality="HQ")
        decoder = msgspec.json.Decoder(_Delta)
        fbuf = np.empty(FRAME_24K * 4, np.float32)

        def best(frame: bytes) -> int:
            event = decoder.decode(frame)
            pcm = np.frombuffer(pybase64.b64decode(event.delta), dtype="<i2")
            f = fbuf[: pcm.shape[0]]
            np.multiply(pcm, np.float32(1.0 / 32768.0), out=f)
            return ring_alt.write(stream.resample_chunk(f))

        return best
    raise ValueError(impl)


IMPLS = ["rtsdk", "rtsdk-fused", "rtsdk-py", "obvious", "best-of-breed"]


@pytest.mark.benchmark(group="pipeline:uplink 20ms 48k->24k append")
@pytest.mark.parametrize("impl", IMPLS)
def test_uplink_frame(benchmark: Any, impl: str) -> None:
    fn = uplink(impl)
    frames = _mic_frames()
    for f in frames[:5]:  # warm the filter state
        fn(f)
    it = iter(range(1 << 62))

    def step() -> bytes:
        return fn(frames[next(it) % len(frames)])

    benchmark.extra_info["impl"] = impl
    out = benchmark(step)
    assert json.loads(out)["type"] == "input_audio_buffer.append"


@pytest.mark.benchmark(group="pipeline:downlink 20ms delta->48k ring")
@pytest.mark.parametrize("impl", IMPLS)
def test_downlink_frame(benchmark: Any, impl: str) -> None:
    fn = downlink(impl)
    frames = _delta_frames()
    for f in frames[:5]:
        fn(f)
    it = iter(range(1 << 62))

    def step() -> int:
        return fn(frames[next(it) % len(frames)])

    benchmark.extra_info["impl"] = impl
    assert benchmark(step) > 0

"""WAV files as a source (the user's side) and a sink (the assistant's, optionally both sides).

Reading and writing use the stdlib :mod:`wave` (integer PCM, 8/16/24/32-bit, any channel count).
A :class:`WavSource` hands the manager float32 mono at the file's rate when the in-process
resampler supports it, otherwise converts it to 48 kHz itself (a windowed-sinc interpolator on
the file thread, off the hot path).
"""

from __future__ import annotations

import asyncio
import math
import os
import threading
import time
import wave
from typing import TYPE_CHECKING, BinaryIO

import numpy as np
import numpy.typing as npt

from rtsdk._reference.resample import SUPPORTED_RATES
from rtsdk.audio.base import (
    AudioSink,
    BridgedSource,
    EndOfStream,
    as_buffer,
)
from rtsdk.exceptions import AudioFormatError
from rtsdk.kernels import SpscRing, float32_to_pcm16

if TYPE_CHECKING:
    from rtsdk.audio.options import AudioStreamOptions
    from rtsdk.audio.playback import Playback

__all__ = ["WavSink", "WavSource", "decode_pcm", "read_wav"]

_ODD_RATE_TARGET = 48_000


def decode_pcm(raw: bytes, width: int, channels: int) -> npt.NDArray[np.float32]:
    """Integer PCM WAV frames (little-endian; 8-bit unsigned) to float32 mono, full scale 1.0."""
    if width == 1:
        x = (np.frombuffer(raw, dtype=np.uint8).astype(np.float32) - 128.0) / 128.0
    elif width == 2:
        x = np.frombuffer(raw, dtype="<i2").astype(np.float32) / 32768.0
    elif width == 3:
        b = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 3).astype(np.int32)
        v = b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)
        v = np.where(v >= 1 << 23, v - (1 << 24), v)
        x = v.astype(np.float32) / float(1 << 23)
    elif width == 4:
        x = (np.frombuffer(raw, dtype="<i4").astype(np.float64) / float(1 << 31)).astype(np.float32)
    else:
        raise AudioFormatError(f"WAV sample width must be 1, 2, 3 or 4 bytes, got {width}")
    if channels > 1:
        x = x.reshape(-1, channels).mean(axis=1, dtype=np.float32)
    return np.ascontiguousarray(x, dtype=np.float32)


class _SincInterpolator:
    """Streaming windowed-sinc rate conversion for any pair of rates (file ingest only).

    Output ``k`` sits at input position ``k * in_rate / out_rate`` (exact integer arithmetic),
    computed from the ``2 * h`` inputs around it with a Hann-windowed sinc whose cutoff is 95 %
    of the lower Nyquist frequency. After ``n`` inputs and ``last=True``, exactly
    ``ceil(n * out_rate / in_rate)`` outputs have been returned.
    """

    def __init__(self, in_rate: int, out_rate: int, half_width: int = 16) -> None:
        self.in_rate, self.out_rate = in_rate, out_rate
        scale = min(1.0, out_rate / in_rate)
        self.fc = 0.95 * scale  # cutoff relative to the input Nyquist
        self.h = math.ceil(half_width / scale)  # half-span in input samples
        self.buf = np.zeros(self.h, dtype=np.float64)  # zeros before the start
        self.base = -self.h  # input index of buf[0]
        self.n_in = 0
        self.k = 0  # next output index

    def process(self, x: npt.NDArray[np.float32], last: bool = False) -> npt.NDArray[np.float32]:
        inr, outr, h = self.in_rate, self.out_rate, self.h
        self.buf = np.concatenate([self.buf, x.astype(np.float64)])
        self.n_in += x.size
        if last:
            self.buf = np.concatenate([self.buf, np.zeros(h + 1)])
            k_end = -(-self.n_in * outr // inr)
        else:  # outputs whose inputs up to floor(t) + h have arrived
            k_end = max(self.k, -(-(self.n_in - h) * outr // inr))
        ks = np.arange(self.k, k_end, dtype=np.int64)
        whole = ks * inr // outr
        frac = (ks * inr % outr) / outr
        offs = np.arange(-h + 1, h + 1)
        idx = whole[:, None] + offs[None, :]
        dist = frac[:, None] - offs[None, :]
        w = self.fc * np.sinc(self.fc * dist) * (0.5 + 0.5 * np.cos(np.pi * dist / h))
        y = (w * self.buf[idx - self.base]).sum(axis=1) if ks.size else np.zeros(0)
        self.k = k_end
        drop = max(0, k_end * inr // outr - h + 1 - self.base)
        self.buf = self.buf[drop:]
        self.base += drop
        return y.astype(np.float32)


def _open_wav(path: str | os.PathLike[str]) -> wave.Wave_read:
    try:
        return wave.open(os.fspath(path), "rb")
    except FileNotFoundError:
        raise
    except (wave.Error, EOFError) as exc:
        raise AudioFormatError(
            f"{os.fspath(path)!r} is not a WAV file rtsdk can read ({exc}); "
            "integer PCM (8, 16, 24 or 32-bit) is supported"
        ) from None


class _WavReader:
    """Chunks of a WAV file as float32 mono at ``rate``, then ``pad`` samples of silence."""

    def __init__(self, path: str | os.PathLike[str], append_silence_ms: int) -> None:
        self._w = _open_wav(path)
        self.width = self._w.getsampwidth()
        self.file_channels = self._w.getnchannels()
        self.file_rate = self._w.getframerate()
        if self.width not in (1, 2, 3, 4):
            self._w.close()
            raise AudioFormatError(f"WAV sample width {self.width} bytes is not supported")
        self._conv: _SincInterpolator | None = None
        self.rate = self.file_rate
        if self.file_rate not in SUPPORTED_RATES:
            self.rate = _ODD_RATE_TARGET
            self._conv = _SincInterpolator(self.file_rate, self.rate)
        self._pad = self.rate * append_silence_ms // 1000
        self._eof = False
        self._pending = np.zeros(0, dtype=np.float32)

    def read(self, n: int) -> npt.NDArray[np.float32]:
        """Up to ``n`` samples (fewer only at the very end; empty when done)."""
        parts = [self._pending]
        have = self._pending.size
        while have < n and not self._eof:
            want = max(1, math.ceil((n - have) / (self.rate / self.file_rate)))
            raw = self._w.readframes(want)
            x = decode_pcm(raw, self.width, self.file_channels) if raw else np.zeros(0, np.float32)
            if not raw:
                self._eof = True
            if self._conv is not None:
                x = self._conv.process(x, last=self._eof)
            parts.append(x)
            have += x.size
        if have < n and self._eof and self._pad:
            k = min(self._pad, n - have)
            parts.append(np.zeros(k, dtype=np.float32))
            self._pad -= k
            have += k
        buf = np.concatenate(parts) if len(parts) > 1 else parts[0]
        self._pending = buf[n:]
        return buf[:n]

    def close(self) -> None:
        self._w.close()


def read_wav(path: str | os.PathLike[str]) -> tuple[npt.NDArray[np.float32], int]:
    """A whole WAV file as float32 mono and its rate (odd rates converted to 48 kHz)."""
    r = _WavReader(path, 0)
    try:
        parts = []
        while True:
            x = r.read(1 << 16)
            if x.size == 0:
                break
            parts.append(x)
    finally:
        r.close()
    return (np.concatenate(parts) if parts else np.zeros(0, np.float32)), r.rate


class WavSource(BridgedSource):
    """The user's side from a WAV file, paced in real time (default) or as fast as possible.

    Any integer PCM WAV (8/16/24/32-bit, any channels, any rate) becomes float32 mono.
    ``append_silence_ms`` adds silence after the file (lets a server VAD see the end of the
    turn). In real time a thread writes one ``block_ms`` block per block period into the
    manager's bridge; otherwise the manager reads the file directly as fast as it sends.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        realtime: bool = True,
        append_silence_ms: int = 0,
        block_ms: int = 10,
    ) -> None:
        self.path = os.fspath(path)
        self.realtime = bool(realtime)
        if isinstance(append_silence_ms, bool) or not isinstance(append_silence_ms, int):
            raise AudioFormatError(f"append_silence_ms must be an int, got {append_silence_ms!r}")
        self.append_silence_ms = max(0, append_silence_ms)
        self.block_ms = max(1, int(block_ms))
        self._reader: _WavReader | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self.channels = 1

    def open(self, options: AudioStreamOptions) -> None:
        """Open the file and read its format."""
        if self._reader is None:
            self._reader = _WavReader(self.path, self.append_silence_ms)
            self.sample_rate = self._reader.rate
        if self.realtime:
            self._make_bridge(options)

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        """Start the pacing thread (real time only)."""
        del loop
        if self.realtime and self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="rtsdk-wav-source", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        reader, bridge = self._reader, self._bridge
        assert reader is not None and bridge is not None
        block = max(1, self.sample_rate * self.block_ms // 1000)
        period = block / self.sample_rate
        t0 = time.monotonic()
        k = 0
        try:
            while not self._stop.is_set():
                x = reader.read(block)
                if x.size == 0:
                    break
                bridge.write(as_buffer(x))
                k += 1
                delay = t0 + k * period - time.monotonic()
                if delay > 0 and self._stop.wait(delay):
                    break
        finally:
            bridge.close_threadsafe()

    def stop(self) -> None:
        """Stop the thread and close the file."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self._bridge is not None:
            self._bridge.close_threadsafe()
        if self._reader is not None:
            self._reader.close()

    async def read_into(self, out: npt.NDArray[np.float32]) -> int:
        """See :meth:`AudioSource.read_into`."""
        if self.realtime:
            return await super().read_into(out)
        if self._reader is None:
            raise RuntimeError("WavSource.read_into() before open()")
        x = self._reader.read(out.size)
        if x.size == 0:
            raise EndOfStream("WAV file ended")
        out[: x.size] = x
        return int(x.size)


class WavSink(AudioSink):
    """The assistant's audio into a 16-bit WAV file; with ``both_sides`` a 2-channel file.

    Real time (default): a thread renders one ``block_ms`` block per period, as a speaker
    would (silence where nothing played, prebuffer and underruns as on a device), so barge-in
    and played accounting behave as with a device. ``realtime=False`` writes the audio as fast
    as it arrives, with no silence between turns.

    ``both_sides=True``: channel 0 is the user's side as sent (after half-duplex muting),
    channel 1 the assistant's. ``sample_rate`` defaults to the session rate.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        sample_rate: int | None = None,
        realtime: bool = True,
        both_sides: bool = False,
        block_ms: int = 10,
    ) -> None:
        if sample_rate is not None and sample_rate not in SUPPORTED_RATES:
            rates = ", ".join(str(r) for r in SUPPORTED_RATES)
            raise AudioFormatError(
                f"WavSink sample_rate {sample_rate} Hz is not supported; use one of {rates}"
            )
        self.path = os.fspath(path)
        self._rate = sample_rate
        self.clocked = bool(realtime)
        self.wants_input = bool(both_sides)
        self.block_ms = max(1, int(block_ms))
        self._file: BinaryIO | None = None
        self._wav: wave.Wave_write | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._in_ring: SpscRing | None = None
        self.frames_written = 0

    def open(self, options: AudioStreamOptions, session_rate: int) -> None:
        """Create the file (truncating it)."""
        if self._wav is not None:
            return
        del options
        self.sample_rate = self._rate or session_rate
        w = wave.open(self.path, "wb")  # noqa: SIM115 - closed by stop()
        w.setnchannels(2 if self.wants_input else 1)
        w.setsampwidth(2)
        w.setframerate(self.sample_rate)
        self._wav = w
        if self.wants_input:
            self._in_ring = SpscRing(4 * self.sample_rate * 4)  # 4 s of float32

    def feed_input(self, samples: npt.NDArray[np.float32]) -> None:
        """The user's side, mono at :attr:`sample_rate` (from the manager's loop)."""
        if self._in_ring is not None:
            self._in_ring.write(as_buffer(samples))

    def start(self, playback: Playback) -> None:
        """Start the writer thread."""
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(
                target=self._run, args=(playback,), name="rtsdk-wav-sink", daemon=True
            )
            self._thread.start()

    def _run(self, playback: Playback) -> None:
        w = self._wav
        assert w is not None
        block = max(1, self.sample_rate * self.block_ms // 1000)
        period = block / self.sample_rate
        out = np.zeros(block, dtype=np.float32)
        inp = np.zeros(block, dtype=np.float32)
        q1 = np.zeros(block, dtype=np.int16)
        q2 = np.zeros((block, 2), dtype=np.int16)
        t0 = time.monotonic()
        k = 0
        while True:
            stopping = self._stop.is_set()
            if self.clocked:
                if stopping:
                    break
                playback.render(out)
                self._emit(w, out, inp, block, q1, q2)
            else:  # write everything queued now, then sleep one period
                while self._emit(w, out, inp, playback.drain(out), q1, q2):
                    pass
                if stopping:
                    break
            k += 1
            self._stop.wait(max(0.0, t0 + k * period - time.monotonic()))

    def _emit(
        self,
        w: wave.Wave_write,
        out: npt.NDArray[np.float32],
        inp: npt.NDArray[np.float32],
        n: int,
        q1: npt.NDArray[np.int16],
        q2: npt.NDArray[np.int16],
    ) -> int:
        """Write ``n`` output samples (and as many input samples); return the frames written."""
        if self._in_ring is None:
            if n:
                float32_to_pcm16(out[:n], out=q1[:n])
                w.writeframesraw(memoryview(as_buffer(q1[:n])).cast("B"))
            self.frames_written += n
            return n
        m = self._in_ring.read_into(as_buffer(inp[: n if self.clocked else inp.size])) >> 2
        if not self.clocked:
            out[n:] = 0.0  # pad the shorter side with silence
            n = max(n, m)
        inp[m:] = 0.0
        if n:
            float32_to_pcm16(inp[:n], out=q1[:n])
            q2[:n, 0] = q1[:n]
            float32_to_pcm16(out[:n], out=q1[:n])
            q2[:n, 1] = q1[:n]
            w.writeframesraw(memoryview(as_buffer(q2[:n])).cast("B"))
        self.frames_written += n
        return n

    def stop(self) -> None:
        """Stop the thread (an unclocked sink first writes what is queued) and close the file."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self._wav is not None:
            self._wav.close()
            self._wav = None

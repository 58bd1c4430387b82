"""Shared pieces of the client tests: signals, an event recorder, a fake real-time playback."""

from __future__ import annotations

import asyncio
import time
import wave
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from rtsdk import AsyncRealtimeAIClient
from rtsdk.audio import AudioStreamOptions
from rtsdk.protocol import ServerEvent

KEY = "sk-test-client-SECRET-5f0e1d2c3b4a"


def tone(seconds: float, rate: int = 24000, freq: float = 440.0, amp: float = 0.5) -> np.ndarray:
    """A float32 sine: loud enough for any energy VAD."""
    t = np.arange(int(seconds * rate), dtype=np.float64) / rate
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def silence(seconds: float, rate: int = 24000) -> np.ndarray:
    return np.zeros(int(seconds * rate), dtype=np.float32)


async def started_on_files(
    options: Any, source: Any, sink: Any
) -> tuple[AsyncRealtimeAIClient, Recorder]:
    """An ``AsyncRealtimeAIClient`` with ``options`` on ``source`` and ``sink`` instead of
    devices, every event recorded, started; ``(client, recorder)``."""
    client = AsyncRealtimeAIClient(
        options,
        stream_options=AudioStreamOptions(input_device=None, output_device=None),
        audio_source=source,
        audio_sink=sink,
    )
    rec = Recorder()
    client.on("*", rec)
    await client.start()
    return client, rec


async def talk_over_the_reply(
    source: Any, rec: Recorder, after_s: float, first_of_reply: str = "response.output_audio.delta"
) -> Any:
    """The user says 1.5 s of 500 Hz into ``source`` (a real-time ``PushSource``), the echo
    assistant starts its reply (``first_of_reply`` recorded), and ``after_s`` later the user
    says 0.6 s of 300 Hz over it (each followed by 0.5 s of silence); the first event of the
    reply."""
    source.push(tone(1.5, freq=500.0, amp=0.4))
    source.push(silence(0.5))
    first = await rec.wait(first_of_reply, timeout=10)
    await asyncio.sleep(after_s)
    source.push(tone(0.6, freq=300.0, amp=0.4))
    source.push(silence(0.5))
    return first


def best_correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Peak normalised cross-correlation of ``a`` placed anywhere inside ``b`` (0 if longer)."""
    if len(b) < len(a):
        return 0.0
    a = a - a.mean()
    n = 1 << int(np.ceil(np.log2(len(a) + len(b))))
    corr = np.fft.irfft(np.fft.rfft(b, n) * np.conj(np.fft.rfft(a, n)), n)
    k = int(np.argmax(corr[: len(b) - len(a) + 1]))
    seg = b[k : k + len(a)]
    return float(corr[k] / (np.linalg.norm(a) * np.linalg.norm(seg - seg.mean()) + 1e-12))


class Recorder:
    """Collects every event in order; lets a test wait for one."""

    def __init__(self) -> None:
        self.events: list[ServerEvent] = []
        self._waiters: list[tuple[Callable[[ServerEvent], bool], asyncio.Future[ServerEvent]]] = []

    def __call__(self, event: ServerEvent) -> None:
        self.events.append(event)
        for pred, fut in list(self._waiters):
            if not fut.done() and pred(event):
                fut.set_result(event)
                self._waiters.remove((pred, fut))

    def types(self) -> list[str]:
        return [e.type for e in self.events]

    def of(self, event_type: str) -> list[Any]:
        return [e for e in self.events if e.type == event_type]

    async def wait(
        self,
        event_type: str,
        pred: Callable[[Any], bool] = lambda e: True,
        timeout: float = 10.0,
        *,
        seen: bool = True,
    ) -> Any:
        """The first event of ``event_type`` matching ``pred`` (already seen ones count)."""
        if seen:
            for e in self.events:
                if e.type == event_type and pred(e):
                    return e
        fut: asyncio.Future[ServerEvent] = asyncio.get_running_loop().create_future()
        self._waiters.append((lambda e: e.type == event_type and pred(e), fut))
        try:
            return await asyncio.wait_for(fut, timeout)
        except asyncio.TimeoutError:
            raise AssertionError(
                f"no {event_type} within {timeout} s; saw {self.types()[-30:]}"
            ) from None


class RealTimePlayback:
    """An AudioPlayback that 'plays' session-format audio at wall-clock speed (PCM16 24 kHz)."""

    def __init__(self, rate: int = 24000) -> None:
        self.rate = rate
        self.queue: list[tuple[str, int]] = []  # (item_id, samples) in order
        self.started: float | None = None
        self.consumed = 0  # samples accounted so far
        self.interrupted_at: list[int] = []
        self.received: dict[str, int] = {}

    def play(self, item_id: str, data: bytes) -> None:
        samples = len(data) // 2
        self.received[item_id] = self.received.get(item_id, 0) + samples
        if self.started is None:
            self.started = time.monotonic()
        self.queue.append((item_id, samples))

    def _played_total(self) -> int:
        if self.started is None:
            return 0
        return int((time.monotonic() - self.started) * self.rate)

    def take_played(self) -> list[tuple[str, int]]:
        budget = self._played_total() - self.consumed
        out: list[tuple[str, int]] = []
        while budget > 0 and self.queue:
            item_id, n = self.queue[0]
            take = min(n, budget)
            out.append((item_id, take))
            budget -= take
            self.consumed += take
            if take == n:
                self.queue.pop(0)
            else:
                self.queue[0] = (item_id, n - take)
        return out

    def end_item(self, item_id: str | None = None) -> None:
        return None

    def interrupt(self) -> list[tuple[str, int]]:
        played = self.take_played()
        self.interrupted_at.append(self.consumed)
        self.queue.clear()
        self.started = None
        self.consumed = 0
        return played


def barge_in_stop_ms(both_sides: Path, window_s: float) -> float:
    """From a two-sided recording (``WavSink(both_sides=True)``: the user left, the reply
    right): how long after the user's onset the reply went silent, looking ``window_s`` ahead
    (0 when it was already silent). Asserts the reply was playing when the user started."""
    with wave.open(str(both_sides)) as wav:
        rate = wav.getframerate()
        both = np.frombuffer(wav.readframes(wav.getnframes()), "<i2").reshape(-1, 2) / 32768
    user, reply = both[:, 0], both[:, 1]
    onset = int(np.argmax(np.abs(user) > 0.05))
    assert 0 < onset and np.abs(reply[onset - rate // 10 : onset]).max() > 0.05, (
        "the reply was not playing when the user started"
    )
    window = reply[onset : onset + int(rate * window_s)]
    loud = np.flatnonzero(np.abs(window) > 0.02)
    return 1000 * (loud[-1] + 1) / rate if loud.size else 0.0

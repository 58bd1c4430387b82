"""Client CPU per live session: how many real-time sessions one core sustains.

A local Realtime server runs in another process (``python -m rtsdk serve --pacing realtime``),
so the client process's CPU time is the client's alone. ``SESSIONS`` sessions each stream a
48 kHz float32 "microphone" in 20 ms frames for ``SECONDS`` seconds of real time (speech bursts,
so the echo assistant answers) and take every server frame in, output audio decoded.

- "rtsdk": :class:`~rtsdk.AsyncRealtimeAIClient` (``send_audio`` with the 48 kHz frame; the
  audio deltas take the fast path into a playback that only counts them).
- "obvious": a plain ``websockets`` client: ``scipy.signal.resample_poly`` + NumPy + stdlib
  ``base64`` + ``json`` up; ``json.loads`` + ``base64`` + NumPy down.

The timer is the process CPU clock, so the ratio is CPU per session; ``extra_info`` has the
sessions one core would sustain (``cores_per_session`` inverted).
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

import rtsdk.client  # noqa: F401  (imported before the clock starts)

signal = pytest.importorskip("scipy.signal")
websockets_client = pytest.importorskip("websockets.asyncio.client")

SESSIONS = int(os.environ.get("RTSDK_BENCH_SESSIONS", "20"))
SECONDS = float(os.environ.get("RTSDK_BENCH_SECONDS", "6"))
FRAME = 960  # 20 ms at 48 kHz


@pytest.fixture(scope="module")
def server_url() -> Iterator[str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "rtsdk", "serve", "--port", "0", "--pacing", "realtime"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        url = ""
        for line in proc.stdout:
            if line.startswith("ws://"):
                url = line.strip()
                break
        assert url, "the local server did not print its URL"
        yield url
    finally:
        proc.terminate()
        proc.wait(10)
        if proc.stdout is not None:
            proc.stdout.close()


def _mic(index: int) -> np.ndarray:
    t = np.arange(int(1.5 * 48000)) / 48000
    burst = 0.3 * np.sin(2 * np.pi * (300 + index) * t)
    burst[int(0.6 * 48000) :] = 0.0  # 0.6 s of "speech", 0.9 s of quiet: a turn every 1.5 s
    return burst.astype(np.float32)


class _CountingPlayback:
    def __init__(self) -> None:
        self.bytes = 0

    def play(self, item_id: str, data: bytes) -> None:
        self.bytes += len(data)

    def take_played(self) -> list[tuple[str, int]]:
        return []

    def interrupt(self) -> list[tuple[str, int]]:
        return []

    def end_item(self, item_id: str | None = None) -> None:
        return None


async def _pace(stop_at: float, send: Any, mic: np.ndarray) -> None:
    loop = asyncio.get_running_loop()
    next_t = loop.time()
    k = 0
    n = len(mic) // FRAME
    while loop.time() < stop_at:
        i = (k % n) * FRAME
        await send(mic[i : i + FRAME])
        k += 1
        next_t += 0.02
        await asyncio.sleep(max(0.0, next_t - loop.time()))


async def _rtsdk_session(url: str, stop_at: float, index: int) -> int:
    from rtsdk import AsyncRealtimeAIClient, RealtimeAIOptions

    client = AsyncRealtimeAIClient(
        RealtimeAIOptions(url=url, silence_duration_ms=300, handshake_timeout=30)
    )
    playback = _CountingPlayback()
    client.service.playback = playback
    await client.start()

    async def send(frame: np.ndarray) -> None:
        await client.send_audio(frame, sample_rate=48000)

    await _pace(stop_at, send, _mic(index))
    await client.stop()
    return playback.bytes


async def _obvious_session(url: str, stop_at: float, index: int) -> int:
    got = 0
    async with websockets_client.connect(
        url + "?model=gpt-realtime", max_size=None, compression=None
    ) as ws:
        session = {
            "type": "realtime",
            "audio": {
                "input": {"turn_detection": {"type": "server_vad", "silence_duration_ms": 300}}
            },
        }
        await ws.send(json.dumps({"type": "session.update", "session": session}))

        async def reader() -> None:
            nonlocal got
            async for message in ws:
                event = json.loads(message)
                if event.get("type") == "response.output_audio.delta":
                    pcm = np.frombuffer(base64.b64decode(event["delta"]), dtype="<i2")
                    got += len(pcm.astype(np.float32) / 32768.0) * 2

        task = asyncio.create_task(reader())

        async def send(frame: np.ndarray) -> None:
            y = signal.resample_poly(frame, 1, 2)
            pcm = (np.clip(y, -1.0, 1.0) * 32767.0).astype("<i2")
            await ws.send(
                json.dumps(
                    {
                        "type": "input_audio_buffer.append",
                        "audio": base64.b64encode(pcm.tobytes()).decode(),
                    }
                )
            )

        await _pace(stop_at, send, _mic(index))
        task.cancel()
    return got


def _run(kind: str, url: str) -> int:
    async def main() -> int:
        loop = asyncio.get_running_loop()
        stop_at = loop.time() + SECONDS
        session = _rtsdk_session if kind == "rtsdk" else _obvious_session
        results = await asyncio.gather(*(session(url, stop_at, i) for i in range(SESSIONS)))
        return sum(results)

    return asyncio.run(main())


@pytest.mark.benchmark(group="sessions: client CPU per run", timer=time.process_time)
@pytest.mark.parametrize("kind", ["rtsdk", "obvious"])
def test_sessions_client_cpu(benchmark: Any, server_url: str, kind: str) -> None:
    received = benchmark.pedantic(_run, args=(kind, server_url), rounds=1, iterations=1)
    assert received > 0, "no output audio came back"
    cpu = benchmark.stats.stats.median
    per_session_second = cpu / (SESSIONS * SECONDS)
    benchmark.extra_info.update(
        impl=kind,
        sessions=SESSIONS,
        seconds=SECONDS,
        cpu_core_per_session=per_session_second,
        sessions_per_core=1.0 / per_session_second,
    )

"""A thousand concurrent sessions in one process against the local server in another.

Each session streams a 24 kHz tone in 200 ms appends on an absolute schedule and every 6 s
ends a short turn by hand (clear, 0.4 s of audio, commit, response.create), so the echo
assistant speaks 0.4 s back into a playback that counts it (the local server is Python: this
keeps it, not the client, from being the limit). For the whole run: no error of any kind
(server errors, unreadable frames, handler errors, reconnects, dropped audio, failures), every
session got audio back, and the client's resident memory is flat after the warm-up.
"""

from __future__ import annotations

import asyncio
import gc
import os
import resource
import sys
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from rtsdk import AsyncRealtimeAIClient, RealtimeAIOptions
from rtsdk.testing.process import serve_in_subprocess

from .conftest import NO_EXTENSIONS

SESSIONS = int(os.environ.get("RTSDK_SCALE_SESSIONS", "1000"))
SECONDS = float(os.environ.get("RTSDK_SCALE_SECONDS", "40"))
WARMUP = min(20.0, SECONDS / 3)
CHUNK = 4800  # 200 ms at 24 kHz
TURN = 30  # chunks per turn: 6 s

pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(SECONDS + 240),
    pytest.mark.skipif(NO_EXTENSIONS, reason="a load test: run once, on the compiled kernels"),
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc for memory"),
]


def _rss_mib() -> float:
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def _raise_fd_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = SESSIONS + 256
    if soft < want:
        if hard != resource.RLIM_INFINITY and hard < want:
            pytest.skip(f"needs {want} file descriptors, the hard limit is {hard}")
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))


@pytest.fixture(scope="module")
def server_url() -> Iterator[str]:
    _raise_fd_limit()
    with serve_in_subprocess("--pacing", "realtime") as url:
        yield url


class _CountingPlayback:
    """The service's playback interface; counts the audio it is given."""

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


class _Run:
    """Shared by the sessions: how many are connected, and when streaming stops."""

    def __init__(self) -> None:
        self.connected = 0
        self.stop_at = float("inf")  # set once every session is connected
        self.gate = asyncio.Semaphore(50)  # connect a few at a time (finite accept queue)


async def _session(url: str, index: int, run: _Run) -> dict[str, Any]:
    client = AsyncRealtimeAIClient(
        RealtimeAIOptions(
            url=url,
            turn_detection="none",
            handshake_timeout=120.0,
            connect_timeout=120.0,
            # a loaded CI machine can starve the server's loop for seconds: only a dead
            # server should end a session here, and audio the starved server could not take
            # in time is still sent (no drop for age: every frame must arrive)
            ping_interval=20.0,
            ping_timeout=60.0,
            audio_window=60.0,
        )
    )
    errors: list[str] = []
    client.on("error", lambda e: errors.append(str(e.error)))
    client.on("rtsdk.protocol_error", lambda e: errors.append(e.description))
    playback = _CountingPlayback()
    client.service.playback = playback
    async with run.gate:
        await client.start()
    run.connected += 1
    t = np.arange(CHUNK, dtype=np.float32) / 24000
    tone = (0.3 * np.sin(2 * np.pi * (200 + index % 400) * t)).astype(np.float32)
    loop = asyncio.get_running_loop()
    next_t = loop.time() + (index % 200) / 1000  # spread the sessions over the 200 ms
    k = 0
    while loop.time() < run.stop_at:
        k += 1
        if k % TURN == 0:  # a short turn: the echo speaks back what follows the clear
            await client.clear_audio()
            await client.send_audio(tone, sample_rate=24000)
            await client.send_audio(tone, sample_rate=24000)
            await client.commit_audio()
            await client.generate_response()
        else:
            await client.send_audio(tone, sample_rate=24000)
        next_t += CHUNK / 24000
        await asyncio.sleep(max(0.0, next_t - loop.time()))
    await client.drain(30.0)
    m = client.metrics
    result = {
        "errors": errors,
        "failure": client.failure,
        "connected": client.is_connected,
        "reconnects": m.reconnects,
        "protocol_errors": m.protocol_errors,
        "handler_errors": m.handler_errors,
        "server_errors": m.server_errors,
        "dropped": m.audio_frames_dropped,
        "audio_bytes": playback.bytes,
    }
    await client.stop(timeout=30.0)
    return result


async def test_a_thousand_sessions_at_once(server_url: str) -> None:
    loop = asyncio.get_running_loop()
    run = _Run()
    samples: list[tuple[float, float]] = []

    async def watch() -> None:
        while run.connected < SESSIONS:
            await asyncio.sleep(0.1)
        t0 = loop.time()
        run.stop_at = t0 + SECONDS  # the measured time starts with the last connection
        while loop.time() < run.stop_at - 1.0:
            gc.collect()
            samples.append((loop.time() - t0, _rss_mib()))
            await asyncio.sleep(2.0)

    watcher = asyncio.ensure_future(watch())
    try:
        results = await asyncio.gather(*(_session(server_url, i, run) for i in range(SESSIONS)))
    finally:
        watcher.cancel()
    assert len(results) == SESSIONS
    bad = [r for r in results if r["errors"] or r["failure"] is not None]
    assert not bad, bad[:3]
    for key in ("reconnects", "protocol_errors", "handler_errors", "server_errors", "dropped"):
        assert sum(r[key] for r in results) == 0, key
    assert all(r["connected"] for r in results)
    assert all(r["audio_bytes"] > 0 for r in results), "a session got no audio back"
    # memory flat after the warm-up: the second half of the samples peaks no higher than the
    # first half, give or take allocator noise
    after = [rss for t, rss in samples if t >= WARMUP]
    assert len(after) >= 4, samples
    head = max(after[: len(after) // 2])
    tail = max(after[len(after) // 2 :])
    assert tail <= head * 1.05 + 8.0, f"resident memory grew (s, MiB): {samples}"

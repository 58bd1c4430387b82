"""Many sessions at once against one local server: no errors, every client event conformant."""

from __future__ import annotations

import asyncio
import os
import time
from typing import Any

import numpy as np
import pytest

from rtsdk import AsyncRealtimeAIClient, RealtimeAIOptions
from rtsdk.testing import LocalRealtimeServer

from .client_helpers import Recorder
from .conformance import assert_client_event_valid
from .conftest import NO_EXTENSIONS

SESSIONS = int(os.environ.get("RTSDK_LOAD_SESSIONS", "100"))
SECONDS = float(os.environ.get("RTSDK_LOAD_SECONDS", "20"))


async def _session(url: str, stop_at: float, index: int) -> dict[str, Any]:
    rec = Recorder()
    client = AsyncRealtimeAIClient(
        RealtimeAIOptions(
            url=url,
            turn_detection="server_vad",
            silence_duration_ms=200,
            ping_interval=5.0,
            ping_timeout=10.0,
            handshake_timeout=30.0,
            connect_timeout=30.0,
        )
    )
    client.on("*", rec)
    await client.start()
    rng = np.random.default_rng(index)
    frame = 2400  # 100 ms at 24 kHz
    t = np.arange(frame) / 24000
    loop = asyncio.get_running_loop()
    next_t = loop.time()
    k = 0
    while loop.time() < stop_at:
        # 0.6 s of tone, 0.9 s of quiet: a turn every 1.5 s
        loud = (k % 15) < 6
        amp = 0.4 if loud else 0.0
        chunk = (amp * np.sin(2 * np.pi * (300 + index) * (t + k * 0.1))).astype(np.float32)
        chunk += rng.normal(0, 0.001, frame).astype(np.float32)
        await client.send_audio(chunk, sample_rate=24000)
        k += 1
        next_t += 0.1
        await asyncio.sleep(max(0.0, next_t - loop.time()))
    await client.drain()
    await asyncio.sleep(0.5)
    await client.stop(timeout=10)
    return {
        "errors": [e for e in rec.events if e.type in ("error", "rtsdk.protocol_error")],
        "handler_errors": client.metrics.handler_errors,
        "reconnects": client.metrics.reconnects,
        "responses": len(rec.of("response.done")),
        "failure": client.failure,
    }


@pytest.mark.slow
@pytest.mark.skipif(NO_EXTENSIONS, reason="a load test: run once, on the compiled kernels")
async def test_many_sessions_at_once() -> None:
    async with LocalRealtimeServer(pacing="realtime") as server:
        loop = asyncio.get_running_loop()
        stop_at = loop.time() + SECONDS
        t0 = time.monotonic()
        results = await asyncio.gather(*(_session(server.url, stop_at, i) for i in range(SESSIONS)))
        elapsed = time.monotonic() - t0
        assert elapsed < SECONDS + 30
        for r in results:
            assert not r["errors"], r["errors"][:3]
            assert r["failure"] is None
            assert r["reconnects"] == 0
            assert r["handler_errors"] == 0
        assert sum(r["responses"] for r in results) >= SESSIONS  # every session had turns
        # every client event any session sent validates against the official GA types
        checked = 0
        for conn in server.connections:
            for frame in conn.received:
                assert isinstance(frame, dict), frame
                if frame.get("type") == "input_audio_buffer.append" and checked > 2000:
                    continue  # thousands of appends: a sample of them is enough
                assert_client_event_valid(frame)
                checked += 1
        assert checked > SESSIONS

"""Callback thread → asyncio task handoff latency at real-time pacing.

A producer thread stands in for a PortAudio callback: every 10 ms it hands over one 48 kHz
float32 block (480 samples). One asyncio task on the main thread takes each block. Per block we
record the time from just before the producer's hand-over to the moment the task has it.

Implementations (``extra_info["impl"]``):

- "rtsdk": :class:`rtsdk.audio.AudioBridge` (a copy into the lock-free ring; the consumer parks
  with an armed threshold and the producer wakes the loop only then).
- "rtsdk-20ms-reads": the same, the consumer asking for two blocks at a time (as the manager
  does with 20 ms frames over 10 ms device blocks): one wake-up per two blocks; the latency is
  that of the second block of each pair.
- "queue.Queue+call_soon_threadsafe": ``queue.Queue.put_nowait(block.copy())`` then
  ``loop.call_soon_threadsafe(event.set)``; the task drains the queue, waits on the event.
- "asyncio.Queue": ``loop.call_soon_threadsafe(aq.put_nowait, block.copy())``; ``await aq.get()``
  (livekit's pattern).

The timed quantity is a whole 2 s run (the same for all: it is paced); the results are in
``extra_info``: ``p50_us``, ``p99_us``, ``max_us`` of the handoff latency, ``loop_cpu_us`` (CPU
time of the loop thread per block, wake-ups included) and ``wakeups`` (loop wake-ups scheduled
by the producer, where known). Run with ``--benchmark-json`` and read them there.
"""

from __future__ import annotations

import asyncio
import queue
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any

import numpy as np
import pytest

from rtsdk.audio import AudioBridge

IMPLS = ["rtsdk", "rtsdk-20ms-reads", "queue.Queue+call_soon_threadsafe", "asyncio.Queue"]
BLOCK = 480  # 10 ms at 48 kHz
PERIOD = 0.010
FRAMES = 200
WARMUP = 5


async def _handoff(impl: str) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    block = np.random.default_rng(1).uniform(-1, 1, BLOCK).astype(np.float32)
    stamps = [0] * FRAMES
    put: Callable[[int], None]
    get: Callable[[], Awaitable[object]]
    wakeups: Callable[[], int | None] = lambda: None  # noqa: E731
    per_get = 2 if impl == "rtsdk-20ms-reads" else 1

    if impl.startswith("rtsdk"):
        bridge = AudioBridge(BLOCK * 64)
        out = np.empty(BLOCK * per_get, np.float32)

        def put(i: int) -> None:
            stamps[i] = time.perf_counter_ns()
            bridge.write(block)

        async def get() -> object:
            return await bridge.read_into(out)

        def wakeups() -> int | None:
            return bridge.wakeups

    elif impl == "queue.Queue+call_soon_threadsafe":
        q: queue.Queue[np.ndarray] = queue.Queue()
        ev = asyncio.Event()

        def put(i: int) -> None:
            stamps[i] = time.perf_counter_ns()
            q.put_nowait(block.copy())
            loop.call_soon_threadsafe(ev.set)

        async def get() -> object:
            while True:
                try:
                    return q.get_nowait()
                except queue.Empty:
                    ev.clear()
                if not q.empty():
                    continue
                await ev.wait()

    else:
        aq: asyncio.Queue[np.ndarray] = asyncio.Queue()

        def put(i: int) -> None:
            stamps[i] = time.perf_counter_ns()
            loop.call_soon_threadsafe(aq.put_nowait, block.copy())

        async def get() -> object:
            return await aq.get()

    def produce() -> None:
        t0 = time.perf_counter()
        for i in range(FRAMES):
            delay = t0 + i * PERIOD - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            put(i)

    lat = []
    t = threading.Thread(target=produce, name="bench-producer")
    cpu0 = time.thread_time()
    t.start()
    for i in range(per_get - 1, FRAMES, per_get):
        await get()
        lat.append(time.perf_counter_ns() - stamps[i])
    cpu = time.thread_time() - cpu0
    t.join()
    us = np.array(lat[WARMUP // per_get :]) / 1_000
    return {
        "frames": FRAMES,
        "p50_us": round(float(np.percentile(us, 50)), 1),
        "p99_us": round(float(np.percentile(us, 99)), 1),
        "max_us": round(float(us.max()), 1),
        "loop_cpu_us": round(cpu * 1e6 / FRAMES, 1),
        "wakeups": wakeups(),
    }


@pytest.mark.parametrize("impl", IMPLS)
def test_handoff_latency(benchmark: Any, impl: str) -> None:
    benchmark.group = "bridge:handoff 10ms 48k realtime"
    benchmark.extra_info["impl"] = impl
    result: dict[str, Any] = {}

    def run() -> None:
        result.update(asyncio.run(_handoff(impl)))

    benchmark.pedantic(run, rounds=1, iterations=1)
    benchmark.extra_info.update(result)
    assert result["frames"] == FRAMES
    if impl.startswith("rtsdk"):
        assert result["wakeups"] <= FRAMES // (2 if impl == "rtsdk-20ms-reads" else 1)

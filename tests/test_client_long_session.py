"""A long session stays flat: after a warm-up, hundreds more turns add no objects and no bytes
(the conversation kept for replay is bounded by its budget, the output-audio marks by count).

Against a local server in another process (its own memory is not the client's), at fast
pacing; the bound is asserted in objects and bytes, not in time. Runs once, on the compiled
kernels (it is about state, not kernels).
"""

from __future__ import annotations

import asyncio
import gc
import tracemalloc
from collections import deque
from collections.abc import Iterator

import pytest

from rtsdk import AsyncRealtimeAIClient, RealtimeAIOptions
from rtsdk.protocol.state import MAX_AUDIO_MARKS
from rtsdk.testing.process import serve_in_subprocess

from .conftest import NO_EXTENSIONS

pytestmark = pytest.mark.skipif(NO_EXTENSIONS, reason="state, not kernels: run once, compiled")

WARMUP = 300
MORE = 700
BUDGET = 20_000  # characters of conversation kept for replay (the default is 512 Ki)


@pytest.fixture(scope="module")
def server_url() -> Iterator[str]:
    with serve_in_subprocess("--pacing", "fast") as url:
        yield url.removesuffix("/realtime")


def _measure() -> tuple[int, int]:
    gc.collect()
    return len(gc.get_objects()), tracemalloc.get_traced_memory()[0]


async def test_memory_stays_flat_over_many_turns(server_url: str) -> None:
    client = AsyncRealtimeAIClient(
        RealtimeAIOptions(url=server_url, api_key=None, turn_detection="none")
    )
    done = asyncio.Event()
    client.on("response.done", lambda e: done.set())
    await client.start()
    try:
        await _many_turns(client, done)
    finally:
        await client.stop()


async def _many_turns(client: AsyncRealtimeAIClient, done: asyncio.Event) -> None:
    state = client.service.state
    state.replay_budget = BUDGET
    client.metrics.turns = deque(maxlen=50)  # the latency history is bounded by its own maxlen
    tracemalloc.start()
    try:
        before = None
        for turn in range(WARMUP + MORE):
            if turn == WARMUP:
                before = _measure()
            done.clear()
            await client.send_text(f"turn {turn}: " + "words " * 8)
            await asyncio.wait_for(done.wait(), 10)
        after = _measure()
    finally:
        tracemalloc.stop()
    assert before is not None
    objects, traced = after[0] - before[0], after[1] - before[1]
    # 700 turns with audio replies (two items each, about 1.5 KB of state per turn when
    # kept): under one object and 256 bytes per turn is flat (whatever else the test process
    # allocates meanwhile included)
    assert objects < MORE, (before, after)
    assert traced < 256 * MORE, (before, after)
    kept = sum(len(str(i)) for i in state.items.values())
    assert len(state.items) == len(state.order) < 2 * (WARMUP + MORE)
    assert kept < 4 * BUDGET  # the item dicts hold ids and types besides the text counted
    assert len(state.audio) <= MAX_AUDIO_MARKS
    # every byte of output audio is still counted, marks let go included
    assert client.stats()["audio"]["received_bytes"] > 0
    replay = state.replay_frames()
    assert 0 < len(replay) == len(state.order)

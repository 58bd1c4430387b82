"""AudioBridge with a plain producer thread: every sample arrives once, in order."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from rtsdk.audio import AudioBridge, BridgeClosed
from rtsdk.exceptions import AudioFormatError


async def test_thread_to_task_in_order_and_few_wakeups() -> None:
    bridge = AudioBridge(48_000)
    blocks = 60

    def produce() -> None:
        for i in range(blocks):
            bridge.write(np.arange(i * 240, (i + 1) * 240, dtype=np.float32))
            time.sleep(0.001)
        bridge.close_threadsafe()

    t = threading.Thread(target=produce)
    t.start()
    got = []
    with pytest.raises(BridgeClosed):
        while True:
            got.append(await bridge.read(960))
    t.join()
    out = np.concatenate(got)
    np.testing.assert_array_equal(out, np.arange(blocks * 240, dtype=np.float32))
    assert bridge.wakeups <= blocks * 240 // 960 + 1  # one per requested 960, not per block
    assert bridge.overruns == 0


async def test_full_ring_counts_overruns() -> None:
    bridge = AudioBridge(100)
    assert bridge.write(np.zeros(150, np.float32)) == 100
    assert bridge.overruns == 50
    assert bridge.clear() == 100


async def test_read_into_rejects_wrong_dtype() -> None:
    with pytest.raises(AudioFormatError, match="float32"):
        await AudioBridge(10).read_into(np.zeros(4, np.float64))

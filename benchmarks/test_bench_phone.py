"""Phone bridge CPU per call-second: how many phone calls one core bridges.

Layout (the same for both): the bridge runs in this process on one event loop; a local
Realtime server (``python -m rtsdk serve --pacing realtime``) and the callers
(``python -m rtsdk.testing.caller``: ``CALLS`` simulated carrier streams, 20 ms μ-law media
each way in real time, a 1 s turn, the echo reply heard, a pause, again, for ``SECONDS``) run
in processes of their own. The timer is this process's CPU clock, so the ratio is bridge CPU
per call.

- "rtsdk": :class:`rtsdk.telephony.PhoneServer` (one :class:`~rtsdk.AsyncRealtimeAIClient`
  per call; caller audio spliced into appends without decoding; replies paced by marks).
- "rtsdk-uplink40": the same with ``uplink_ms=40`` (two carrier chunks per append: half the
  uplink socket writes, for 20 ms more delay before the model hears the caller).
- "usual": ``benchmarks/phone_usual.py``: ``json`` + ``base64`` + ``audioop`` μ-law decode and
  re-encode both ways over plain ``websockets`` (what hand-written bridges do).
- "bare": ``benchmarks/phone_bare.py``: the floor: the same splicing kernels on the same stack
  (picows both ways) with nothing else: no pacing, no state, no checks. Not a usable bridge;
  it says how much of rtsdk's CPU is the stack (loop, sockets, wake-ups) and how much its
  call and session layers.

``extra_info`` has ``calls_per_core`` (1 / CPU seconds per call-second) and the callers' summary.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest

import rtsdk.telephony  # noqa: F401  (imported before the clock starts)
from benchmarks.phone_bare import BareBridge
from benchmarks.phone_usual import UsualBridge
from rtsdk.testing.process import serve_in_subprocess

CALLS = int(os.environ.get("RTSDK_BENCH_CALLS", "40"))
SECONDS = float(os.environ.get("RTSDK_BENCH_SECONDS", "15"))


@pytest.fixture(scope="module")
def server_url() -> Iterator[str]:
    with serve_in_subprocess("--pacing", "realtime", stop_timeout=10.0) as url:
        yield url


async def _place_calls(media_url: str) -> dict[str, Any]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "rtsdk.testing.caller", media_url,
        "--calls", str(CALLS), "--seconds", str(SECONDS),
        stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, _ = await proc.communicate()
    summary: dict[str, Any] = json.loads(out.decode().strip().splitlines()[-1])
    return summary


def _run(kind: str, url: str) -> dict[str, Any]:
    async def main() -> dict[str, Any]:
        if kind.startswith("rtsdk"):
            from rtsdk.session.options import RealtimeAIOptions
            from rtsdk.telephony import PhoneServer

            uplink_ms = 40 if kind == "rtsdk-uplink40" else 20
            options = RealtimeAIOptions(url=url, api_key=None)
            async with PhoneServer(options, uplink_ms=uplink_ms) as srv:
                summary = await _place_calls(srv.url + "/media")
                while srv.calls:
                    await asyncio.sleep(0.05)
            return summary
        if kind == "bare":
            async with BareBridge(url) as bare:
                summary = await _place_calls(f"ws://127.0.0.1:{bare.port}/media")
                await asyncio.sleep(0.5)
            return summary
        async with UsualBridge(url) as bridge:
            summary = await _place_calls(f"ws://127.0.0.1:{bridge.port}/media")
            await asyncio.sleep(0.5)
            summary["bridge_errors"] = bridge.errors
        return summary

    return asyncio.run(main())


@pytest.mark.benchmark(group="phone: bridge CPU per run", timer=time.process_time)
@pytest.mark.parametrize("kind", ["rtsdk", "rtsdk-uplink40", "bare", "usual"])
def test_phone_bridge_cpu(benchmark: Any, server_url: str, kind: str) -> None:
    summary = benchmark.pedantic(_run, args=(kind, server_url), rounds=1, iterations=1)
    assert summary["failures"] == [] and summary["connected"] == CALLS
    assert summary["heard_ms"] > 0
    per_call_second = benchmark.stats.stats.median / (CALLS * SECONDS)
    benchmark.extra_info.update(
        impl=kind,
        calls=CALLS,
        seconds=SECONDS,
        cpu_core_per_call=per_call_second,
        calls_per_core=1.0 / per_call_second,
        turns=sum(summary["turns"]),
        heard_s=summary["heard_ms"] / 1000,
    )

"""Client CPU per live session: how many real-time duplex sessions one core carries.

The local Realtime server runs in another process (``python -m rtsdk serve --pacing
realtime``), pinned to the second CPU when there are two; each client runs in a process of
its own (``benchmarks/session_clients.py``) pinned to the first, on uvloop when it is
installed, with ``RTSDK_BENCH_SESSIONS`` sessions (default 200) for ``RTSDK_BENCH_SECONDS``
(default 10) after a warm-up. Every session sends a 20 ms 48 kHz microphone frame as a 24 kHz
PCM16 append every 20 ms, reads 20 ms from its 48 kHz playback, and decodes and resamples
every output audio delta into that playback; a turn ends every 3 s, so the echo assistant
answers.

- "rtsdk": :class:`~rtsdk.AsyncRealtimeAIClient` with its ``AudioStreamManager``.
- "peer-raw": the lean hand-built client: ``websockets`` + ``soxr`` + NumPy ``out=`` +
  ``pybase64`` bytes template + ``msgspec``.
- "obvious": ``websockets`` + ``scipy.signal.resample_poly`` + ``json`` + ``base64``.

The benchmark's "time" is the client process's CPU time over the measured window (getrusage
in the client), so the ratio between kinds is the ratio of CPU per session; ``extra_info``
has sessions per core, CPU µs per session-second and send lateness p50/p99. The clients run
in turn against one server; for ratios that hold on a VM whose speed drifts, run them
interleaved and repeated (the sessions-per-core harness does; see docs/performance.md).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from rtsdk.testing.process import serve_in_subprocess

SESSIONS = int(os.environ.get("RTSDK_BENCH_SESSIONS", "200"))
SECONDS = float(os.environ.get("RTSDK_BENCH_SECONDS", "10"))
CLIENTS = Path(__file__).with_name("session_clients.py")
TWO_CPUS = hasattr(os, "sched_getaffinity") and len(os.sched_getaffinity(0)) >= 2

pytest.importorskip("websockets.asyncio.client")

_cpu_total = [0.0]  # the benchmark's timer: client CPU seconds of the measured windows


def _client_cpu() -> float:
    return _cpu_total[0]


@pytest.fixture(scope="module")
def server_url() -> Iterator[str]:
    with serve_in_subprocess("--pacing", "realtime", cpu=1 if TWO_CPUS else None) as url:
        yield url


def _run(kind: str, url: str) -> dict[str, Any]:
    cmd = [sys.executable, str(CLIENTS), kind, url, str(SESSIONS), str(SECONDS)]
    if TWO_CPUS:
        cmd += ["--cpu", "0"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=SECONDS + 300, check=True)
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    _cpu_total[0] += result["cpu_s"]
    return result


@pytest.mark.benchmark(group="sessions: client CPU per run", timer=_client_cpu)
@pytest.mark.parametrize("kind", ["rtsdk", "peer-raw", "obvious"])
def test_sessions_client_cpu(benchmark: Any, server_url: str, kind: str) -> None:
    if kind == "peer-raw":
        for module in ("soxr", "pybase64", "msgspec"):
            pytest.importorskip(module)
    if kind == "obvious":
        pytest.importorskip("scipy.signal")
    result = benchmark.pedantic(_run, args=(kind, server_url), rounds=1, iterations=1)
    assert result["deltas"] > 0, "no output audio came back"
    per_session_second = result["cpu_s"] / (result["sessions"] * result["window_s"])
    benchmark.extra_info.update(
        impl=kind,
        sessions=result["sessions"],
        seconds=result["window_s"],
        loop=result["loop"],
        pinned=TWO_CPUS,
        cpu_us_per_session_second=per_session_second * 1e6,
        sessions_per_core=1.0 / per_session_second,
        lateness_p50_ms=result["lateness_ms"]["p50"],
        lateness_p99_ms=result["lateness_ms"]["p99"],
        appends=result["appends"],
        deltas=result["deltas"],
        errors=result["errors"],
    )

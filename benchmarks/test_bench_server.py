"""The local server as a load-test target: how many real-time sessions one of its cores holds.

``python -m rtsdk serve --pacing realtime`` runs in a process of its own, pinned to the second
CPU when there are two; ``RTSDK_BENCH_SERVER_SESSIONS`` sessions (default 100, each: a 20 ms
append every 20 ms, a turn every 3 s that the echo answers with paced audio) run in the
``benchmarks/session_clients.py`` process pinned to the first. The server's CPU time is read
from ``/proc`` over ``RTSDK_BENCH_SECONDS`` (default 10) of steady state, after the sessions
are up; ``extra_info`` has the server's CPU µs per session-second and the sessions one core of
it holds (what a load test of N sessions needs: N / that many server processes, e.g. with
``--workers``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from rtsdk.testing.process import server_process

SESSIONS = int(os.environ.get("RTSDK_BENCH_SERVER_SESSIONS", "100"))
SECONDS = float(os.environ.get("RTSDK_BENCH_SECONDS", "10"))
CLIENTS = Path(__file__).with_name("session_clients.py")
TWO_CPUS = hasattr(os, "sched_getaffinity") and len(os.sched_getaffinity(0)) >= 2
WARMUP = 5.0  # the clients' own warm-up (3 s) and every session connected

pytest.importorskip("websockets.asyncio.client")
if not Path("/proc/self/stat").exists():
    pytest.skip("reads the server's CPU time from /proc", allow_module_level=True)

_cpu_total = [0.0]


def _server_cpu() -> float:
    return _cpu_total[0]


def _proc_cpu(pid: int) -> float:
    """User + system CPU seconds of process ``pid``."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _measure() -> dict[str, Any]:
    with server_process("--pacing", "realtime", cpu=1 if TWO_CPUS else None) as (server, url):
        cmd = [sys.executable, str(CLIENTS), "rtsdk", url, str(SESSIONS), str(SECONDS + WARMUP)]
        if TWO_CPUS:
            cmd += ["--cpu", "0"]
        clients = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
        time.sleep(WARMUP)
        cpu0, t0 = _proc_cpu(server.pid), time.monotonic()
        time.sleep(SECONDS)
        cpu1, t1 = _proc_cpu(server.pid), time.monotonic()
        out, _ = clients.communicate(timeout=SECONDS + 300)
        result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    cpu = cpu1 - cpu0
    _cpu_total[0] += cpu
    return {"cpu_s": cpu, "window_s": t1 - t0, "clients": result}


@pytest.mark.benchmark(group="server: CPU per run", timer=_server_cpu)
def test_local_server_sessions_per_core(benchmark: Any) -> None:
    run = benchmark.pedantic(_measure, rounds=1, iterations=1)
    clients = run["clients"]
    assert clients["deltas"] > 0 and clients["errors"] == 0, clients
    per_session_second = run["cpu_s"] / (SESSIONS * run["window_s"])
    benchmark.extra_info.update(
        impl="local server",
        sessions=SESSIONS,
        seconds=run["window_s"],
        pinned=TWO_CPUS,
        server_cpu_us_per_session_second=per_session_second * 1e6,
        sessions_per_core=1.0 / per_session_second,
        client_lateness_p99_ms=clients["lateness_ms"]["p99"],
    )

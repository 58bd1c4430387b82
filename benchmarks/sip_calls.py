"""SIP calls per process and accept latency: ``python -m benchmarks.sip_calls``.

The local server plays OpenAI (webhooks, call control, sidebands, simulated callers talking in
real time) in this process; ``python -m rtsdk sip`` answers it in a child process, whose CPU
alone is measured (``/proc/<pid>/stat``). For each number of live calls N, the calls ring
(paced ``--ring-rate`` a second), every caller then speaks a 1 s tone every 4 s (the echo
model answers each), and the child's CPU is read over ``--seconds``: CPU per call, and the
calls one core would hold at 100 %. The simulator's own CPU is printed too: near 100 % it
cannot keep the calls' pace and the SIP process gets fewer events than real calls would send
(the share of the time the callers heard replies says how much), so such a row is a lower
bound of the cost. Accept latency: from the ring (the webhooks leaving) to the accept
arriving at the service, and to the sideband attached (polled every 2 ms).

Linux only (``/proc``). The numbers go to docs/sip-calls.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
from typing import Any

import numpy as np

from rtsdk.testing import LiveOptions, LocalRealtimeServer, SipOptions
from rtsdk.testing.sip_webhook import new_webhook_secret

KEY = "sk-bench-sip-0123456789"
MODELS = {"realtime": "gpt-realtime-2.1", "live": "gpt-live-1"}
TICK = os.sysconf("SC_CLK_TCK")


def _cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat", encoding="ascii") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime + stime


def _tone(seconds: float) -> bytes:
    t = np.arange(int(24000 * seconds)) / 24000
    return (np.sin(2 * np.pi * 440 * t) * 0.4 * 32767).astype("<i2").tobytes()


async def _until(check: Any, timeout: float) -> float:
    start = time.perf_counter()
    while not check():
        if time.perf_counter() - start > timeout:
            raise asyncio.TimeoutError
        await asyncio.sleep(0.002)
    return time.perf_counter()


async def run(
    api: str, counts: list[int], seconds: float, ring_rate: float, loop: str = "auto"
) -> list[dict]:
    secret = new_webhook_secret()
    server = LocalRealtimeServer(
        api_key=KEY,
        pacing="realtime",
        record=False,
        live=LiveOptions(pacing="realtime"),
        sip=SipOptions(webhook_secret=secret, retry_delays=(), caller_pacing="realtime"),
    )
    results = []
    async with server:
        env = dict(
            os.environ,
            OPENAI_WEBHOOK_SECRET=secret,
            OPENAI_API_KEY=KEY,
            OPENAI_BASE_URL=f"http://127.0.0.1:{server.port}/v1",
        )
        args = ["--port", "0", "--model", MODELS[api], "--loop", loop]
        proc = subprocess.Popen(
            [sys.executable, "-m", "rtsdk", "sip", *args],
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        try:
            assert proc.stdout is not None
            line = await asyncio.to_thread(proc.stdout.readline)
            webhook = line.split()[3]
            server.sip.options = SipOptions(
                webhook_url=webhook,
                webhook_secret=secret,
                retry_delays=(),
                caller_pacing="realtime",
            )
            for n in counts:
                results.append(await _round(server, proc.pid, n, seconds, ring_rate, api))
                results[-1]["loop"] = loop
                print(_row(results[-1]), flush=True)
        finally:
            proc.terminate()
            await asyncio.to_thread(proc.wait, 20)
    return results


async def _round(
    server: LocalRealtimeServer, pid: int, n: int, seconds: float, ring_rate: float, api: str
) -> dict:
    accept: list[float] = []
    attach: list[float] = []
    phones = []

    async def one() -> None:
        start = time.perf_counter()
        phone = server.sip.ring()
        phones.append(phone)
        await phone.wait_state("accepted", timeout=30)
        accept.append(time.perf_counter() - start)
        done = await _until(lambda: phone.line is not None and phone.line.sidebands, 30)
        attach.append(done - start)

    tasks = []
    for _ in range(n):
        tasks.append(asyncio.ensure_future(one()))
        await asyncio.sleep(1 / ring_rate)
    await asyncio.gather(*tasks)
    stop = asyncio.Event()

    async def talk(phone: Any, offset: float) -> None:
        await asyncio.sleep(offset)
        while not stop.is_set():
            phone.say(_tone(1.0))
            await asyncio.sleep(4.0)

    talkers = [asyncio.ensure_future(talk(p, 4.0 * i / n)) for i, p in enumerate(phones)]
    await asyncio.sleep(2.0)  # every caller has started talking
    heard0 = sum(p.recording_ms for p in phones)
    me = os.getpid()
    cpu0, own0, wall0 = _cpu_seconds(pid), _cpu_seconds(me), time.perf_counter()
    await asyncio.sleep(seconds)
    cpu1, own1, wall1 = _cpu_seconds(pid), _cpu_seconds(me), time.perf_counter()
    heard_ms = sum(p.recording_ms for p in phones) - heard0
    stop.set()
    for t in talkers:
        t.cancel()
    heard = sum(1 for p in phones if p.recording_ms > 0)
    for phone in phones:
        phone.hangup()
    await asyncio.sleep(1.0)
    share = (cpu1 - cpu0) / (wall1 - wall0)
    return {
        "api": api,
        "calls": n,
        "answered": heard,
        "cpu_share": share,
        "simulator_share": (own1 - own0) / (wall1 - wall0),
        "reply_audio_share": heard_ms / 1000 / (wall1 - wall0) / n,
        "cpu_ms_per_call_s": 1000 * share / n,
        "calls_per_core": n / share if share > 0 else float("inf"),
        "accept_ms_p50": 1000 * statistics.median(accept),
        "accept_ms_p95": 1000 * sorted(accept)[int(0.95 * (len(accept) - 1))],
        "attach_ms_p50": 1000 * statistics.median(attach),
        "attach_ms_p95": 1000 * sorted(attach)[int(0.95 * (len(attach) - 1))],
    }


def _row(r: dict) -> str:
    return (
        f"{r['api']:<9}{r.get('loop', ''):<8}{r['calls']:>5} calls ({r['answered']} heard replies, "
        f"{100 * r['reply_audio_share']:.0f} % of the time; simulator CPU "
        f"{100 * r['simulator_share']:.0f} %)  "
        f"SIP process CPU {100 * r['cpu_share']:5.1f} %  "
        f"{r['cpu_ms_per_call_s']:.2f} ms/call-s  ~{r['calls_per_core']:.0f} calls/core  "
        f"accept p50 {r['accept_ms_p50']:.1f} ms p95 {r['accept_ms_p95']:.1f}  "
        f"attached p50 {r['attach_ms_p50']:.1f} ms p95 {r['attach_ms_p95']:.1f}"
    )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    p.add_argument("--api", choices=("realtime", "live", "both"), default="both")
    p.add_argument("--calls", default="25,50,100", help="live calls per round")
    p.add_argument("--seconds", type=float, default=10.0, help="CPU measured this long")
    p.add_argument("--ring-rate", type=float, default=20.0, help="calls rung per second")
    p.add_argument(
        "--loops",
        default="auto",
        help="the SIP process's event loops, interleaved per round (e.g. asyncio,uvloop)",
    )
    args = p.parse_args()
    counts = [int(c) for c in args.calls.split(",")]
    apis = ["realtime", "live"] if args.api == "both" else [args.api]
    loops = args.loops.split(",")
    for api in apis:
        for n in counts:  # the loops interleaved: A B A B
            for loop in loops:
                asyncio.run(run(api, [n], args.seconds, args.ring_rate, loop))


if __name__ == "__main__":
    main()

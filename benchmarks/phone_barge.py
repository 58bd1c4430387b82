"""Barge-in accuracy of the phone bridge: where it truncates against what the caller heard.

``python -m benchmarks.phone_barge [--trials N] [--load CALLS] [--delay MS]``: a local Realtime
server (real-time paced) and a :class:`~rtsdk.telephony.PhoneServer` in this process. Each trial is
one call of a :class:`~rtsdk.testing.caller.SimulatedCaller` (in this process too): it speaks
the sample's first two seconds, waits until it has heard 1 s of the echo reply, then talks over
it. The line per trial gives the truncate's ``audio_end_ms`` (the bridge's estimate, from the
echoed marks, the 20 ms frames since and the round trip), what the caller's recording holds of
the reply when the ``clear`` reached it, their difference, and how much reply audio the caller
heard after the ``clear`` (0 when the reply stopped at once). ``--load`` places that many other
calls on the same bridge for the whole run (``python -m rtsdk.testing.caller`` in a process of
its own). ``--delay`` puts the measured caller that many milliseconds away from the bridge,
each way.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path
from typing import Any

import numpy as np

from rtsdk import kernels
from rtsdk.session.options import RealtimeAIOptions
from rtsdk.telephony import PhoneCall, PhoneCallHandler, PhoneServer
from rtsdk.testing import LocalRealtimeServer
from rtsdk.testing.caller import SimulatedCaller, ulaw_from_wav

SAMPLE = Path(__file__).resolve().parent.parent / "samples" / "assets" / "hello.wav"


def _talk_over(ms: int) -> bytes:
    """A 600 Hz tone: loud enough for the server's VAD."""
    t = np.arange(ms * 8) / 8000
    return bytes(kernels.pcm16_to_ulaw((9000 * np.sin(2 * np.pi * 600 * t)).astype(np.int16)))


class _Started(PhoneCallHandler):
    def __init__(self, started: asyncio.Event) -> None:
        self.started = started

    def on_session(self, call: PhoneCall) -> None:
        self.started.set()


async def _trial(
    rt: LocalRealtimeServer, url: str, started: asyncio.Event, speech: bytes, delay_ms: float
) -> tuple[float, float, float]:
    started.clear()
    async with SimulatedCaller(url, network_delay_ms=delay_ms) as caller:
        await asyncio.wait_for(started.wait(), 10)
        caller.say(speech)
        await caller.wait_spoken()
        await caller.wait_heard(1000, timeout=15)
        caller.say(_talk_over(600))
        conn = rt.connections[-1]
        truncate = await conn.wait_for_received("conversation.item.truncate", timeout=5)
        while not caller.clears:
            await asyncio.sleep(0.01)
        await caller.wait_spoken()
        after = caller.heard_bytes
    clear = caller.clears[0]
    return truncate["audio_end_ms"], clear.heard_bytes / 8, (after - clear.heard_bytes) / 8


async def main(trials: int, load: int, delay_ms: float) -> None:
    speech = ulaw_from_wav(str(SAMPLE))[:16000]
    started = asyncio.Event()
    async with LocalRealtimeServer(pacing="realtime") as rt:
        options = RealtimeAIOptions(url=rt.url, api_key=None, max_retries=0)
        async with PhoneServer(options, handler_factory=lambda: _Started(started)) as srv:
            others: Any = None
            if load:
                others = await asyncio.create_subprocess_exec(
                    sys.executable, "-m", "rtsdk.testing.caller", srv.url + "/media",
                    "--calls", str(load), "--seconds", str(trials * 8 + 10),
                    stdout=asyncio.subprocess.DEVNULL,
                )  # fmt: skip
                await asyncio.sleep(3)  # the other calls connected and talking
            media_url = srv.url + "/media"
            diffs = []
            try:
                for i in range(trials):
                    trial = _trial(rt, media_url, started, speech, delay_ms)
                    end_ms, heard_ms, after_ms = await trial
                    diffs.append(end_ms - heard_ms)
                    print(
                        f"trial {i}: truncate at {end_ms} ms, caller heard {heard_ms:.0f} ms "
                        f"({end_ms - heard_ms:+.0f}), after the clear {after_ms:.0f} ms",
                        flush=True,
                    )
            finally:
                if others is not None:  # cut off: their calls end without 'stop' (not news)
                    logging.getLogger("rtsdk.telephony").setLevel(logging.ERROR)
                    others.kill()
                    await others.wait()
            exact = sum(1 for d in diffs if d == 0)
            within = sum(1 for d in diffs if abs(d) <= 20)
            worst = max(diffs, key=abs)
            print(f"{exact}/{trials} exact, {within}/{trials} within 20 ms, worst {worst:+.0f} ms")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trials", type=int, default=10)
    parser.add_argument("--load", type=int, default=0, help="other calls on the same bridge")
    parser.add_argument("--delay", type=float, default=0.0, help="ms caller <-> bridge, each way")
    args = parser.parse_args()
    asyncio.run(main(args.trials, args.load, args.delay))

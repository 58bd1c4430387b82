"""One client process with N real-time duplex sessions: what ``test_bench_sessions`` runs.

``python benchmarks/session_clients.py KIND URL N SECONDS [--cpu C]`` runs N sessions of KIND in
one event loop (uvloop when installed), pinned to CPU ``C`` when given, against a local
Realtime server, and prints one JSON line: client CPU seconds over the measured window, the
window's length, appends sent, output audio received, send lateness percentiles and errors.

Every session ticks every 20 ms on an absolute schedule (random phase): one 20 ms 48 kHz
float32 "microphone" frame goes up as a 24 kHz PCM16 append, and 20 ms is read from its 48 kHz
playback; every received audio delta is decoded and resampled to 48 kHz into that playback.
Each session ends a turn by hand every 3 s, so the server's echo assistant talks back.

KIND:
- ``rtsdk``: ``AsyncRealtimeAIClient.send_audio(frame, sample_rate=48000)``; its
  ``AudioStreamManager`` plays into a sink read each tick (``Playback.render``).
- ``peer-raw``: the lean hand-built client: ``websockets`` + ``soxr`` HQ streams + NumPy with
  ``out=`` buffers + ``pybase64`` into a bytes template + a ``msgspec`` typed decode, and a
  NumPy playback ring.
- ``obvious``: ``websockets`` + ``scipy.signal.resample_poly`` + ``json`` + stdlib ``base64``.

Send lateness: for rtsdk the time ``send_audio`` returned (the frame is on the socket then when
the link is idle, which it is here), for the peers the time their ``await ws.send`` returned;
minus the tick's scheduled time.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import random
import resource
import sys
import time
from typing import Any

import numpy as np

MIC_RATE = 48000
FRAME = 960  # 20 ms at 48 kHz
TICK = 0.02
TURN_TICKS = 150  # a turn every 3 s
WARMUP = 3.0


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _mic(index: int) -> np.ndarray:
    t = np.arange(MIC_RATE) / MIC_RATE
    return (0.3 * np.sin(2 * np.pi * (300 + index % 200) * t)).astype(np.float32)


class Stats:
    def __init__(self) -> None:
        self.recording = False
        self.lateness: list[float] = []
        self.appends = 0
        self.received = 0
        self.errors = 0


class _Sink:
    """A clocked playback sink for rtsdk, read by the tick (as a device callback would)."""

    clocked = True
    wants_input = False
    sample_rate = MIC_RATE

    def __init__(self) -> None:
        self.playback: Any = None
        self.block = np.zeros(FRAME, dtype=np.float32)

    def open(self, options: Any, session_rate: int) -> None:
        pass

    def start(self, playback: Any) -> None:
        self.playback = playback

    def stop(self) -> None:
        self.playback = None

    def read(self) -> None:
        if self.playback is not None:
            self.playback.render(self.block)


class RtsdkSession:
    def __init__(self, url: str, stats: Stats) -> None:
        from rtsdk import AsyncRealtimeAIClient, RealtimeAIOptions
        from rtsdk.audio import AudioSink, AudioStreamOptions

        sink_cls = type("TickSink", (_Sink, AudioSink), {})
        self.sink = sink_cls()
        self.client = AsyncRealtimeAIClient(
            RealtimeAIOptions(
                url=url, turn_detection="none", handshake_timeout=60, connect_timeout=60
            ),
            stream_options=AudioStreamOptions(input_device=None, output_device=None),
            audio_sink=self.sink,
        )
        self.client.on("error", lambda e: setattr(stats, "errors", stats.errors + 1))

    async def start(self) -> None:
        await self.client.start()

    async def send(self, frame: np.ndarray) -> None:
        await self.client.send_audio(frame, sample_rate=MIC_RATE)

    async def end_turn(self) -> None:
        await self.client.commit_audio()
        await self.client.generate_response()

    def speaker_read(self) -> None:
        self.sink.read()

    def received(self) -> int:
        return sum(m.received for m in self.client.service.state.audio.values()) // 960

    async def stop(self) -> None:
        await self.client.stop()


class _PeerBase:
    """The shared socket part of the two peers: websockets, one reader task per session."""

    def __init__(self, url: str, stats: Stats) -> None:
        base = url.split("?")[0].rstrip("/")
        if not base.endswith("/realtime"):
            base += "/realtime"
        self.url = base + "?model=gpt-realtime-2.1"
        self.stats = stats
        self.ws: Any = None
        self.task: asyncio.Task[None] | None = None
        self.got = 0
        self.responding = False  # between response.created and response.done

    async def start(self) -> None:
        from websockets.asyncio.client import connect

        self.ws = await connect(self.url, compression=None, max_size=None, proxy=None)
        session = {"type": "realtime", "audio": {"input": {"turn_detection": None}}}
        await self.ws.send(json.dumps({"type": "session.update", "session": session}))
        self.task = asyncio.get_running_loop().create_task(self.consume())

    async def end_turn(self) -> None:
        await self.ws.send('{"type":"input_audio_buffer.commit"}')
        if not self.responding:  # one response at a time, as rtsdk does
            self.responding = True
            await self.ws.send('{"type":"response.create"}')

    def note(self, event_type: str) -> None:
        if event_type == "response.done":
            self.responding = False
        elif event_type == "error":
            self.stats.errors += 1

    def received(self) -> int:
        return self.got

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
        await self.ws.close()


class PeerRawSession(_PeerBase):
    PRE = b'{"type":"input_audio_buffer.append","audio":"'
    SUF = b'"}'

    def __init__(self, url: str, stats: Stats) -> None:
        import msgspec
        import soxr

        super().__init__(url, stats)

        class Ev(msgspec.Struct):
            type: str
            delta: str | None = None

        self.dec = msgspec.json.Decoder(Ev)
        self.up = soxr.ResampleStream(MIC_RATE, 24000, 1, dtype="float32", quality="HQ")
        self.down = soxr.ResampleStream(24000, MIC_RATE, 1, dtype="float32", quality="HQ")
        self.tmp = np.empty(4096, dtype=np.float32)
        self.i16 = np.empty(4096, dtype=np.int16)
        self.f32 = np.empty(4096, dtype=np.float32)
        self.ring = np.zeros(MIC_RATE * 2, dtype=np.float32)
        self.wpos = 0
        self.rpos = 0
        self.out = np.zeros(FRAME, dtype=np.float32)

    async def send(self, frame: np.ndarray) -> None:
        import pybase64

        y = self.up.resample_chunk(frame)
        n = len(y)
        if not n:
            return
        tmp = self.tmp[:n]
        np.clip(y, -1.0, 1.0, out=tmp)
        np.multiply(tmp, 32767.0, out=tmp)
        np.rint(tmp, out=tmp)
        i16 = self.i16[:n]
        np.copyto(i16, tmp, casting="unsafe")
        await self.ws.send(self.PRE + pybase64.b64encode(i16.tobytes()) + self.SUF, text=True)

    def _play(self, pcm: bytes) -> None:
        x = np.frombuffer(pcm, dtype="<i2")
        f = self.f32[: x.size]
        np.multiply(x, np.float32(1 / 32768), out=f)
        y = self.down.resample_chunk(f)
        ring = self.ring
        n = min(len(y), ring.size - (self.wpos - self.rpos))
        i = self.wpos % ring.size
        k = min(n, ring.size - i)
        ring[i : i + k] = y[:k]
        ring[: n - k] = y[k:n]
        self.wpos += n

    def speaker_read(self) -> None:
        n = min(FRAME, self.wpos - self.rpos)
        i = self.rpos % self.ring.size
        k = min(n, self.ring.size - i)
        self.out[:k] = self.ring[i : i + k]
        self.out[k:n] = self.ring[: n - k]
        self.out[n:] = 0.0
        self.rpos += n

    async def consume(self) -> None:
        import pybase64

        decode = self.dec.decode
        while True:
            ev = decode(await self.ws.recv(decode=False))
            if ev.type == "response.output_audio.delta":
                self._play(pybase64.b64decode(ev.delta, validate=True))
                self.got += 1
            else:
                self.note(ev.type)


class ObviousSession(_PeerBase):
    def __init__(self, url: str, stats: Stats) -> None:
        super().__init__(url, stats)
        self.played = np.zeros(0, dtype=np.float32)

    async def send(self, frame: np.ndarray) -> None:
        from scipy import signal

        y = signal.resample_poly(frame, 1, 2)
        pcm = (np.clip(y, -1.0, 1.0) * 32767.0).astype("<i2")
        event = {"type": "input_audio_buffer.append", "audio": base64.b64encode(pcm).decode()}
        await self.ws.send(json.dumps(event))

    def speaker_read(self) -> None:
        self.played = self.played[FRAME:]

    async def consume(self) -> None:
        from scipy import signal

        while True:
            event = json.loads(await self.ws.recv())
            if event.get("type") == "response.output_audio.delta":
                pcm = np.frombuffer(base64.b64decode(event["delta"]), dtype="<i2")
                y = signal.resample_poly(pcm.astype(np.float32) / 32768.0, 2, 1)
                self.played = np.concatenate((self.played, y.astype(np.float32)))[-MIC_RATE:]
                self.got += 1
            else:
                self.note(str(event.get("type")))


KINDS = {"rtsdk": RtsdkSession, "peer-raw": PeerRawSession, "obvious": ObviousSession}


async def _tick(session: Any, index: int, stats: Stats, stop_at: float) -> None:
    loop = asyncio.get_running_loop()
    mic = _mic(index)
    lat = stats.lateness
    next_t = loop.time() + random.random() * TICK
    k = 0
    while True:
        delay = next_t - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        if next_t >= stop_at:
            return
        i = (k % 50) * FRAME
        await session.send(mic[i : i + FRAME])
        if stats.recording:
            lat.append(loop.time() - next_t)
            stats.appends += 1
        session.speaker_read()
        k += 1
        if k % TURN_TICKS == 0:
            await session.end_turn()
        next_t += TICK


async def run(kind: str, url: str, n: int, seconds: float) -> dict[str, Any]:
    stats = Stats()
    sessions = [KINDS[kind](url, stats) for _ in range(n)]
    gate = asyncio.Semaphore(32)

    async def start(s: Any) -> None:
        async with gate:
            await s.start()

    await asyncio.gather(*(start(s) for s in sessions))
    loop = asyncio.get_running_loop()
    t_start = loop.time()
    stop_at = t_start + WARMUP + seconds + 1.0
    ticks = [loop.create_task(_tick(s, i, stats, stop_at)) for i, s in enumerate(sessions)]
    await asyncio.sleep(WARMUP)
    got0 = sum(s.received() for s in sessions)
    stats.recording = True
    cpu0, t0 = _cpu(), time.perf_counter()
    await asyncio.sleep(seconds)
    cpu1, t1 = _cpu(), time.perf_counter()
    stats.recording = False
    got1 = sum(s.received() for s in sessions)
    await asyncio.gather(*ticks)
    await asyncio.gather(*(s.stop() for s in sessions), return_exceptions=True)
    lat = np.sort(np.array(stats.lateness)) * 1e3 if stats.lateness else np.zeros(1)
    return {
        "kind": kind,
        "sessions": n,
        "window_s": t1 - t0,
        "cpu_s": cpu1 - cpu0,
        "appends": stats.appends,
        "deltas": got1 - got0,
        "lateness_ms": {
            "p50": float(lat[len(lat) // 2]),
            "p99": float(lat[min(len(lat) - 1, int(len(lat) * 0.99))]),
            "max": float(lat[-1]),
        },
        "errors": stats.errors,
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("kind", choices=sorted(KINDS))
    ap.add_argument("url")
    ap.add_argument("n", type=int)
    ap.add_argument("seconds", type=float)
    ap.add_argument("--cpu", type=int, default=None)
    a = ap.parse_args()
    if a.cpu is not None and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {a.cpu})
    try:
        import uvloop

        result = uvloop.run(run(a.kind, a.url, a.n, a.seconds))
        result["loop"] = "uvloop"
    except ImportError:
        result = asyncio.run(run(a.kind, a.url, a.n, a.seconds))
        result["loop"] = "asyncio"
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    sys.exit(main())

"""A simulated phone caller: a carrier media stream (Twilio Media Streams shape), no carrier.

:class:`SimulatedCaller` connects to a bridge's WebSocket as the carrier would, sends
``connected`` and ``start`` (stream and call ids, ``mediaFormat``, custom parameters), then runs
one clock of 20 ms ticks, started when the call is:

- each tick sends one ``media`` message of the caller's voice (what :meth:`say` queued, else
  μ-law silence), with a sequence number, chunk number and timestamp;
- each tick plays 20 ms of what the bridge sent (a playout buffer, as the carrier has):
  :attr:`recording` holds every tick's 160 bytes (silence when nothing was there), and
  :attr:`heard_bytes` counts the bridge's audio played. A ``mark`` is echoed once the audio
  sent before it has played; ``clear`` drops the buffered audio and echoes the marks still
  waiting (as the carrier does), recorded in :attr:`clears`.

``network_delay_ms`` puts the carrier across a network: each message takes that long to reach
the bridge, and the bridge's take that long to reach the caller (a round trip of twice it).

Tests use :meth:`wait_heard` to act at a moment of the reply (a barge-in), :meth:`press` for
DTMF, :meth:`send_raw` for malformed traffic and :meth:`hang_up` with or without ``stop``.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import secrets
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import kernels

__all__ = ["ULAW_SILENCE", "CallerClear", "SimulatedCaller", "ulaw_from_wav"]

log = logging.getLogger("rtsdk.testing.caller")

#: The μ-law code of a zero sample.
ULAW_SILENCE = 0xFF
TICK_BYTES = 160  # 20 ms of 8 kHz μ-law
TICK_S = 0.020


def ulaw_from_wav(path: str) -> bytes:
    """A WAV file (any rate, mono or not) as 8 kHz μ-law bytes, as a phone would send it."""
    from ..audio.files import read_wav

    x, rate = read_wav(path)
    if rate != 8000:
        x = kernels.Resampler(rate, 8000).process(np.ascontiguousarray(x), last=True)
    pcm = kernels.float32_to_pcm16(np.ascontiguousarray(x, dtype=np.float32).reshape(-1))
    return bytes(kernels.pcm16_to_ulaw(pcm))


@dataclass(frozen=True, slots=True)
class CallerClear:
    """A ``clear`` the caller got: on which tick, and how much bridge audio it had played."""

    tick: int
    heard_bytes: int
    dropped_bytes: int


@dataclass(slots=True)
class _Stats:
    media_received: int = 0
    marks_received: int = 0
    marks_echoed: int = 0
    late_ticks: int = 0
    other: list[Any] = field(default_factory=list)


class SimulatedCaller:
    """One simulated call to a media-stream bridge at ``url`` (``ws://host:port/media``).

    Use as ``async with SimulatedCaller(url) as caller:``; leaving the block hangs up (with a
    ``stop``). ``custom_parameters`` arrive in ``start.customParameters``; ``media_format``
    replaces the standard ``audio/x-mulaw`` 8 kHz mono description (to test refusals).
    ``network_delay_ms``: the one-way delay between caller and bridge, each way, once the
    call has started (see the module docstring).
    """

    def __init__(
        self,
        url: str,
        *,
        custom_parameters: dict[str, str] | None = None,
        media_format: dict[str, Any] | None = None,
        call_sid: str | None = None,
        stream_sid: str | None = None,
        connect_timeout: float = 10.0,
        headers: dict[str, str] | None = None,
        network_delay_ms: float = 0.0,
    ) -> None:
        if not network_delay_ms >= 0:
            raise ValueError(f"network_delay_ms must be >= 0, got {network_delay_ms!r}")
        self.url = url
        self.network_delay = network_delay_ms / 1000
        self.headers = dict(headers or {})
        self.custom_parameters = dict(custom_parameters or {})
        self.media_format = media_format or {
            "encoding": "audio/x-mulaw",
            "sampleRate": 8000,
            "channels": 1,
        }
        self.call_sid = call_sid or "CA" + secrets.token_hex(16)
        self.stream_sid = stream_sid or "MZ" + secrets.token_hex(16)
        self.account_sid = "AC" + "0" * 32
        self.connect_timeout = connect_timeout
        self.recording = bytearray()
        self.heard_bytes = 0
        self.clears: list[CallerClear] = []
        self.stats = _Stats()
        self.tick = 0
        self._ws: Any = None
        self._seq = 0
        self._speech = bytearray()
        self._playout = bytearray()
        self._marks: deque[tuple[int, str]] = deque()  # (received-bytes position, name)
        self._received_bytes = 0
        self._played_bytes = 0
        self._waiters: list[tuple[int, asyncio.Future[None]]] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._closed = asyncio.Event()
        self._ended = False
        # with a network delay: (when it arrives, message) on the way to the bridge / to us
        self._to_bridge: deque[tuple[float, str]] = deque()
        self._to_us: deque[tuple[float, str | bytes]] = deque()
        self._wire = asyncio.Event()  # something was put on the wire (either way)

    # -- lifecycle ---------------------------------------------------------------------------

    async def __aenter__(self) -> SimulatedCaller:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.hang_up()

    async def start(self) -> None:
        """Connect, send ``connected`` and ``start``, and start the call's clock."""
        from websockets.asyncio.client import connect

        self._ws = await asyncio.wait_for(
            connect(
                self.url,
                compression=None,
                max_size=None,
                proxy=None,
                additional_headers=self.headers or None,
            ),
            self.connect_timeout,
        )
        await self._send({"event": "connected", "protocol": "Call", "version": "1.0.0"})
        start = {
            "accountSid": self.account_sid,
            "streamSid": self.stream_sid,
            "callSid": self.call_sid,
            "tracks": ["inbound"],
            "mediaFormat": self.media_format,
            "customParameters": self.custom_parameters,
        }
        await self._send({"event": "start", "start": start, "streamSid": self.stream_sid}, seq=True)
        loop = asyncio.get_running_loop()
        self._tasks = [
            loop.create_task(self._clock(), name="caller-clock"),
            loop.create_task(self._reader(), name="caller-reader"),
        ]
        if self.network_delay > 0:
            self._tasks.append(loop.create_task(self._network(), name="caller-network"))

    async def hang_up(self, *, send_stop: bool = True) -> None:
        """End the call: a ``stop`` message (unless ``send_stop`` is False), then the close."""
        if self._ended:
            return
        self._ended = True
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        ws = self._ws
        if ws is None:
            return
        with contextlib.suppress(Exception):  # what was on its way still arrives
            while self._to_bridge:
                await ws.send(self._to_bridge.popleft()[1])
        if send_stop:
            stop = {"accountSid": self.account_sid, "callSid": self.call_sid}
            with contextlib.suppress(Exception):
                await self._send(
                    {"event": "stop", "stop": stop, "streamSid": self.stream_sid}, seq=True
                )
        with contextlib.suppress(Exception):
            await asyncio.wait_for(ws.close(), 5.0)
        self._closed.set()
        for _, fut in self._waiters:
            if not fut.done():
                fut.set_exception(ConnectionError("the call ended"))
        self._waiters.clear()

    @property
    def closed_by_bridge(self) -> bool:
        """True once the bridge closed the stream."""
        return self._closed.is_set() and not self._ended

    async def wait_closed(self, timeout: float = 10.0) -> None:
        """Until the stream has closed (by the bridge or by :meth:`hang_up`)."""
        await asyncio.wait_for(self._closed.wait(), timeout)

    # -- the caller's side -------------------------------------------------------------------

    def say(self, ulaw: bytes) -> None:
        """Queue 8 kHz μ-law speech; it goes out 20 ms a tick after what is already queued."""
        self._speech += ulaw

    @property
    def speaking(self) -> bool:
        """True while queued speech has not all been sent."""
        return bool(self._speech)

    async def wait_spoken(self, timeout: float = 30.0) -> None:
        """Until all queued speech has been sent."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self._speech:
            if loop.time() > deadline:
                raise TimeoutError("queued speech was not sent in time")
            await asyncio.sleep(TICK_S)

    async def press(self, digit: str) -> None:
        """Send one DTMF key press (``0-9``, ``*``, ``#``)."""
        dtmf = {"track": "inbound_track", "digit": digit}
        await self._send({"event": "dtmf", "streamSid": self.stream_sid, "dtmf": dtmf}, seq=True)

    def go_silent(self) -> None:
        """Stop the clock (no more media, no playback) but keep the socket open: a carrier
        that stopped talking without a ``stop``."""
        if self._tasks:
            self._tasks[0].cancel()

    async def send_raw(self, text: str | bytes) -> None:
        """Send any text (tests of malformed traffic)."""
        await self._ws.send(text)

    async def wait_heard(self, ms: float, timeout: float = 30.0) -> None:
        """Until ``ms`` of the bridge's audio (in total) has played on the caller's clock."""
        target = int(ms * 8)
        if self.heard_bytes >= target:
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append((target, fut))
        await asyncio.wait_for(fut, timeout)

    @property
    def heard_ms(self) -> float:
        """Milliseconds of the bridge's audio played so far."""
        return self.heard_bytes / 8

    # -- internals ---------------------------------------------------------------------------

    async def _send(self, message: dict[str, Any], *, seq: bool = False) -> None:
        if seq:
            self._seq += 1
            message["sequenceNumber"] = str(self._seq)
        text = json.dumps(message)
        if self.network_delay > 0 and self._tasks and not self._ended:
            arrives = asyncio.get_running_loop().time() + self.network_delay
            self._to_bridge.append((arrives, text))
            self._wire.set()
            return
        await self._ws.send(text)

    async def _network(self) -> None:
        """Deliver what is on the wire, each way, when it arrives."""
        loop = asyncio.get_running_loop()
        out, back = self._to_bridge, self._to_us
        while True:
            if not out and not back:
                self._wire.clear()
                await self._wire.wait()
                continue
            due = min(q[0][0] for q in (out, back) if q)
            if due > loop.time():
                await asyncio.sleep(due - loop.time())
            now = loop.time()
            while out and out[0][0] <= now:
                with contextlib.suppress(Exception):  # closed meanwhile: lost on the way
                    await self._ws.send(out.popleft()[1])
            try:
                while back and back[0][0] <= now:
                    await self._on_message(back.popleft()[1])
            except Exception as exc:  # as the reader does with what it cannot take
                log.debug("caller network stopped: %s", exc)
                back.clear()
                self._closed.set()
                return

    async def _clock(self) -> None:
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        chunk = 0
        try:
            while True:
                voice = bytes(self._speech[:TICK_BYTES])
                del self._speech[:TICK_BYTES]
                voice += bytes([ULAW_SILENCE]) * (TICK_BYTES - len(voice))
                chunk += 1
                media = {
                    "track": "inbound",
                    "chunk": str(chunk),
                    "timestamp": str(self.tick * 20),
                    "payload": base64.b64encode(voice).decode("ascii"),
                }
                await self._send(
                    {"event": "media", "media": media, "streamSid": self.stream_sid}, seq=True
                )
                await self._play_tick()
                self.tick += 1
                delay = t0 + self.tick * TICK_S - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
                else:
                    self.stats.late_ticks += 1
                    await asyncio.sleep(0)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the bridge closed the socket: the call is over
            log.debug("caller clock stopped: %s", exc)
            self._closed.set()

    async def _play_tick(self) -> None:
        # the audio handed to the speaker on the last tick has now played: echo its marks
        while self._marks and self._marks[0][0] <= self._played_bytes:
            await self._echo_mark(self._marks.popleft()[1])
        take = bytes(self._playout[:TICK_BYTES])
        del self._playout[:TICK_BYTES]
        self._played_bytes += len(take)
        self.heard_bytes += len(take)
        self.recording += take + bytes([ULAW_SILENCE]) * (TICK_BYTES - len(take))
        if self._waiters:
            keep = []
            for target, fut in self._waiters:
                if self.heard_bytes >= target:
                    if not fut.done():
                        fut.set_result(None)
                else:
                    keep.append((target, fut))
            self._waiters = keep

    async def _echo_mark(self, name: str) -> None:
        self.stats.marks_echoed += 1
        await self._send(
            {"event": "mark", "streamSid": self.stream_sid, "mark": {"name": name}}, seq=True
        )

    async def _reader(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            async for raw in self._ws:
                if self.network_delay > 0:
                    self._to_us.append((loop.time() + self.network_delay, raw))
                    self._wire.set()
                else:
                    await self._on_message(raw)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.debug("caller reader stopped: %s", exc)
        while self._to_us:  # the bridge's last words are still on their way
            await asyncio.sleep(self.network_delay / 4)
        self._closed.set()

    async def _on_message(self, raw: str | bytes) -> None:
        try:
            message = json.loads(raw)
            kind = message["event"]
        except (ValueError, KeyError, TypeError):
            self.stats.other.append(raw)
            return
        if kind == "media":
            audio = base64.b64decode(message["media"]["payload"], validate=True)
            self.stats.media_received += 1
            self._playout += audio
            self._received_bytes += len(audio)
        elif kind == "mark":
            self.stats.marks_received += 1
            self._marks.append((self._received_bytes, str(message["mark"]["name"])))
        elif kind == "clear":
            dropped = len(self._playout)
            self.clears.append(CallerClear(self.tick, self.heard_bytes, dropped))
            self._playout.clear()
            self._received_bytes = self._played_bytes
            while self._marks:
                await self._echo_mark(self._marks.popleft()[1])
        else:
            self.stats.other.append(message)


async def run_calls(
    url: str, calls: int, seconds: float, speech: bytes, *, pause_s: float = 1.0
) -> dict[str, Any]:
    """Place ``calls`` simulated calls at once for about ``seconds``: each caller says
    ``speech``, waits to hear at least half as much back, pauses, and again; then hangs up.

    Returns a summary: turns per call, audio heard, late clock ticks, and the failures
    (a call that could not connect, or a turn not answered within 30 s).
    """
    loop = asyncio.get_running_loop()
    callers = [SimulatedCaller(url) for _ in range(calls)]
    failures: list[str] = []
    started = await asyncio.gather(*(c.start() for c in callers), return_exceptions=True)
    live = [c for c, s in zip(callers, started, strict=True) if not isinstance(s, BaseException)]
    failures += [repr(s) for s in started if isinstance(s, BaseException)]
    end = loop.time() + seconds

    async def talk(c: SimulatedCaller) -> int:
        turns = 0
        try:
            while loop.time() < end - 2 * len(speech) / 8000 - pause_s:
                c.say(speech)
                await c.wait_spoken(timeout=30)
                await c.wait_heard((c.heard_bytes + len(speech) * 0.5) / 8, timeout=30)
                turns += 1
                await asyncio.sleep(pause_s)
        except Exception as exc:
            failures.append(f"{c.call_sid}: {exc!r}")
        return turns

    turns = await asyncio.gather(*(talk(c) for c in live))
    await asyncio.gather(*(c.hang_up() for c in live))
    return {
        "calls": calls,
        "connected": len(live),
        "turns": list(turns),
        "heard_ms": sum(c.heard_ms for c in live),
        "late_ticks": sum(c.stats.late_ticks for c in live),
        "ticks": sum(c.tick for c in live),
        "unexpected": sum(len(c.stats.other) for c in live),
        "failures": failures,
    }


def main(argv: list[str] | None = None) -> int:
    """``python -m rtsdk.testing.caller URL [--calls N] [--seconds S] [--wav W]``: place
    simulated calls against a bridge and print the :func:`run_calls` summary as JSON."""
    import argparse
    import sys

    p = argparse.ArgumentParser(prog="python -m rtsdk.testing.caller")
    p.add_argument("url", help="the bridge's media stream URL (ws://host:port/media)")
    p.add_argument("--calls", type=int, default=10)
    p.add_argument("--seconds", type=float, default=30.0)
    p.add_argument("--wav", default=None, help="what each caller says (default: a 1 s tone)")
    p.add_argument("--turn-ms", type=int, default=1000, help="length of each turn")
    args = p.parse_args(argv)
    if args.wav:
        speech = ulaw_from_wav(args.wav)[: args.turn_ms * 8]
    else:
        t = np.arange(args.turn_ms * 8) / 8000
        wave = 9000 * np.sin(2 * np.pi * 300 * t) * (np.sin(2 * np.pi * 2 * t) > -0.5)
        speech = bytes(kernels.pcm16_to_ulaw(wave.astype(np.int16)))
    summary = asyncio.run(run_calls(args.url, args.calls, args.seconds, speech))
    print(json.dumps(summary), flush=True)
    sys.stdout.flush()
    return 0 if not summary["failures"] and summary["connected"] == args.calls else 1


if __name__ == "__main__":
    raise SystemExit(main())

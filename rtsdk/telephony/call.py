"""One phone call: a carrier media stream bridged to one Realtime session, G.711 end to end.

:class:`PhoneCall` takes a WebSocket-like object (``recv()``, ``send()``, ``close()``; a
``websockets`` connection, or anything shaped like one) on which a carrier speaks the Twilio
Media Streams format, and runs one :class:`~rtsdk.AsyncRealtimeAIClient` session with
``g711_ulaw`` in and out for it:

- caller audio goes up without being decoded: each ``media`` message's base64 payload is
  spliced into an ``input_audio_buffer.append`` frame (:func:`rtsdk.kernels.media_to_append`);
  media that arrives out of order (an older sequence number or timestamp) is dropped, counted
  and logged;
- assistant audio goes down as ``media`` messages, each followed by a ``mark``; echoed marks
  are the played clock, and no more than ``lead_ms`` of audio is in flight at the carrier
  (:class:`~rtsdk.telephony.downlink.Downlink`);
- barge-in: when the server hears the caller (``input_audio_buffer.speech_started``), the
  carrier gets ``clear`` and the assistant item is truncated at what the caller heard;
- ``dtmf`` key presses reach :meth:`PhoneCallHandler.on_dtmf` (and, with ``dtmf_to_model``,
  the model as a user message); ``start`` custom parameters reach
  :meth:`PhoneCallHandler.configure`, which may change the session options per caller;
- bad input (malformed or out-of-order media, unknown events, a wrong ``mediaFormat``, a
  hang-up mid-response, a carrier that goes silent without ``stop``) gives a log line and a
  :class:`CallError` to :meth:`PhoneCallHandler.on_error`; the call's session is closed
  cleanly in every case, and nothing is shared with other calls.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import logging
from collections.abc import Awaitable
from typing import Any

from rtsdk import kernels
from rtsdk._reference.mediastream import APPEND_HEAD
from rtsdk.client.async_client import AsyncRealtimeAIClient
from rtsdk.exceptions import ConnectionClosedError
from rtsdk.session.options import RealtimeAIOptions

from .carrier import CarrierPort, SocketPort, pull
from .downlink import Downlink
from .types import CallError, CallInfo, CallStats, DtmfEvent

__all__ = ["CallError", "CallInfo", "CallStats", "DtmfEvent", "PhoneCall", "PhoneCallHandler"]

log = logging.getLogger("rtsdk.telephony")

_DIGITS = frozenset("0123456789*#ABCD")
_APPEND_HEAD = len(APPEND_HEAD)  # kernels.media_to_append's frames start with it
_LOUD_REPEATS = 3  # per kind of problem, this many log lines at WARNING, then DEBUG


def check_uplink_ms(uplink_ms: object) -> None:
    """Refuse an ``uplink_ms`` that :class:`PhoneCall` cannot use (ValueError)."""
    if type(uplink_ms) is not int or not 20 <= uplink_ms <= 500:
        raise ValueError(f"uplink_ms must be an int from 20 to 500, got {uplink_ms!r}")


class PhoneCallHandler:
    """Per-call hooks; override what you need (plain or ``async`` methods)."""

    def configure(
        self, info: CallInfo, options: RealtimeAIOptions
    ) -> RealtimeAIOptions | Awaitable[RealtimeAIOptions]:
        """The session options for this call (e.g. instructions from the custom parameters).

        The audio formats are set to ``g711_ulaw`` whatever this returns.
        """
        return options

    def on_session(self, call: PhoneCall) -> Any:
        """The call's client exists (not yet connected): register listeners and tools here."""

    def on_dtmf(self, call: PhoneCall, event: DtmfEvent) -> Any:
        """The caller pressed a key."""

    def on_error(self, call: PhoneCall, error: CallError) -> Any:
        """Something was wrong on the call (also logged)."""

    def on_end(self, call: PhoneCall) -> Any:
        """The call is over and its session closed (:attr:`PhoneCall.stats` is final)."""


class PhoneCall:
    """One carrier media stream bridged to one Realtime session (see the module docstring).

    ``ws``: a WebSocket-like object (``await recv()``, ``await send(text)``, ``await
    close()``): :meth:`run` reads it and bridges the call. ``None``: the messages are fed in
    with :meth:`feed` by whoever reads the stream, and :meth:`serve` runs the call on a
    :class:`~rtsdk.telephony.carrier.CarrierPort` (what :class:`PhoneServer` does).
    ``options``: the session options every call starts from (key, model, voice, ...).
    ``lead_ms``: most assistant audio in flight at the carrier. ``uplink_ms``: caller audio goes
    up in appends of at least this much (20: each carrier chunk as it comes; 40 gathers two
    20 ms chunks: half the uplink socket writes, 8-23 % less bridge CPU, for 20 ms more
    before the model hears the caller). ``start_timeout``: how long to wait for the carrier's
    ``start``. ``media_timeout``: a call whose carrier sends nothing
    for this long is over (a lost ``stop``).
    """

    #: the session speaks G.711 and its audio is spliced (an interpreter call transcodes)
    passthrough = True

    def __init__(
        self,
        ws: Any,
        options: RealtimeAIOptions,
        *,
        handler: PhoneCallHandler | None = None,
        dtmf_to_model: bool = False,
        lead_ms: int = 200,
        uplink_ms: int = 20,
        start_timeout: float = 10.0,
        media_timeout: float = 10.0,
    ) -> None:
        check_uplink_ms(uplink_ms)
        self.ws = ws
        self.options = options
        self.handler = handler if handler is not None else PhoneCallHandler()
        self.dtmf_to_model = dtmf_to_model
        self.start_timeout = start_timeout
        self.media_timeout = media_timeout
        self.info: CallInfo | None = None
        self.client: AsyncRealtimeAIClient | None = None
        self.stats = CallStats()
        self.downlink = Downlink(lead_ms)
        self._port: CarrierPort | None = None
        self._sid_json = b'""'
        self._service: Any = None
        self._early: list[bytes] = []  # caller audio that came before the session existed
        self._gather_bytes = uplink_ms * 8 if uplink_ms > 20 else 0  # G.711: 8 bytes per ms
        self._gathered = bytearray()  # caller audio of the append being gathered
        self._watchdog: asyncio.TimerHandle | None = None
        self._last_rx = 0.0
        self._last_seq = -1
        self._last_ts = -1
        self._loud: dict[str, int] = {}
        self._ending = ""
        self._done = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._helpers: set[asyncio.Task[Any]] = set()

    def __repr__(self) -> str:
        sid = self.info.call_sid if self.info is not None else "not started"
        return f"<PhoneCall {sid} {self.stats.ended_by or 'live'}>"

    @property
    def ended(self) -> bool:
        """True once the call is over (or ending)."""
        return bool(self._ending)

    # -- the call ----------------------------------------------------------------------------

    async def run(self) -> CallStats:
        """Bridge the call on ``ws`` until it ends; returns its counters. Never raises for
        call faults (they are logged and given to the handler)."""
        if self.ws is None:
            raise ValueError("PhoneCall.run() needs the ws it reads; use serve() with feed()")
        port = SocketPort(self.ws, self._port_broken)
        reader = asyncio.get_running_loop().create_task(
            pull(self.ws, self), name="rtsdk-phone-reader"
        )
        try:
            return await self.serve(port)
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await reader

    async def serve(self, port: CarrierPort) -> CallStats:
        """Run the call, writing to ``port``, while its messages come in through
        :meth:`feed`; returns its counters once it has ended and its session is closed."""
        self._loop = asyncio.get_running_loop()
        self._port = port
        self._last_rx = self._loop.time()
        self._watchdog = self._loop.call_later(
            min(self.start_timeout, self.media_timeout), self._check_idle
        )
        try:
            await self._done.wait()
        except asyncio.CancelledError:
            self._end("cancelled")
            await self._close()
            raise
        await self._close()
        return self.stats

    def feed(self, raw: str | bytes) -> None:
        """One message from the carrier (text, as ``str`` or UTF-8 ``bytes``)."""
        if self._ending:
            return
        loop = self._loop
        if loop is not None:
            self._last_rx = loop.time()
        try:
            if self.info is None:
                self._before_start(raw)
            else:
                self._take(raw)
        except Exception as exc:  # a bug must not take other calls down: report, end this one
            log.exception("phone call %s failed", self._name())
            self._error("session", f"the call failed: {exc!r}")
            self._end("failed")

    def carrier_closed(self) -> None:
        """The carrier's stream closed (or broke)."""
        if self._ending:
            return
        if self.info is None:
            self._end("carrier closed before start")
        else:
            self._error("no_stop", "the carrier closed the stream without 'stop'")
            self._end("carrier closed")

    def _port_broken(self) -> None:
        if not self._ending:
            self._error("no_stop", "the carrier stream closed while sending")
            self._end("carrier closed")

    def _before_start(self, raw: str | bytes) -> None:
        try:
            message = json.loads(raw)
            event = message["event"]
        except (ValueError, TypeError, KeyError):
            self.stats.malformed += 1
            self._error("malformed", "a message before 'start' is not a carrier event")
            return
        if event == "connected":
            return
        if event != "start":
            self._error("no_start", f"{str(event)[:40]!r} arrived before 'start'")
            return
        info = self._read_start(message)
        if info is None:
            return
        self.info = info
        self._sid_json = json.dumps(info.stream_sid).encode("ascii")
        self._spawn(self._begin(info))

    async def _begin(self, info: CallInfo) -> None:
        try:
            options = await self._session_options(info)
            client = self.client = AsyncRealtimeAIClient(options)
            client.service.playback = self  # barge-in: interrupt() and the played clock
            if self.passthrough:  # deltas come undecoded: splice() + play_spliced()
                client.service.raw_audio = self
            client.on("rtsdk.disconnected", self._on_disconnected)
            client.on("conversation.item.truncated", self._on_truncated)
            await _maybe_await(self.handler.on_session(self))
        except Exception as exc:
            log.exception("phone call %s: the session could not be set up", self._name())
            self._error("session", f"the session could not be set up: {exc!r}")
            self._end("session failed")
            return
        if self._ending:
            return
        self._service = client.service
        early, self._early = self._early, []
        for frame in early:
            self._up(frame)
        starting = asyncio.get_running_loop().create_task(
            client.start(), name="rtsdk-phone-session"
        )
        starting.add_done_callback(self._on_session_started)

    def _read_start(self, message: dict[str, Any]) -> CallInfo | None:
        start = message.get("start")
        if not isinstance(start, dict) or not isinstance(start.get("streamSid"), str):
            self._error("malformed", "'start' has no start.streamSid")
            self._end("bad start")
            return None
        fmt = start.get("mediaFormat")
        fmt = fmt if isinstance(fmt, dict) else {}
        ok = (
            fmt.get("encoding") == "audio/x-mulaw"
            and fmt.get("sampleRate") in (8000, "8000")
            and fmt.get("channels", 1) in (1, "1")
        )
        if not ok:
            self._error(
                "media_format",
                f"unsupported mediaFormat {fmt!r}: this bridge passes 8 kHz G.711 u-law "
                "(audio/x-mulaw, mono) through",
            )
            self._end("unsupported media format")
            return None
        params = start.get("customParameters")
        custom = {str(k): str(v) for k, v in params.items()} if isinstance(params, dict) else {}
        tracks = start.get("tracks")
        return CallInfo(
            stream_sid=start["streamSid"],
            call_sid=str(start.get("callSid") or ""),
            account_sid=str(start.get("accountSid") or ""),
            custom_parameters=custom,
            tracks=tuple(str(t) for t in tracks) if isinstance(tracks, list) else ("inbound",),
            media_format=dict(fmt),
        )

    async def _session_options(self, info: CallInfo) -> RealtimeAIOptions:
        options = await _maybe_await(self.handler.configure(info, self.options))
        if not isinstance(options, RealtimeAIOptions):
            raise TypeError(
                f"PhoneCallHandler.configure must return RealtimeAIOptions, got "
                f"{type(options).__name__}"
            )
        return self._call_formats(options)

    @staticmethod
    def _call_formats(options: RealtimeAIOptions) -> RealtimeAIOptions:
        """The session speaks the carrier's G.711 μ-law: audio spliced, never decoded."""
        return options.with_changes(input_format="g711_ulaw", output_format="g711_ulaw")

    def _take(self, raw: str | bytes) -> None:
        stats = self.stats
        try:
            media = kernels.media_to_append(raw)
        except ValueError as exc:
            stats.malformed += 1
            self._error("malformed", f"carrier message dropped: {exc}")
            return
        if media is None:
            self._control(raw)
            return
        seq, ts, frame = media
        if seq <= self._last_seq or ts < self._last_ts:
            stats.out_of_order += 1
            self._error(
                "out_of_order",
                f"media #{seq} at {ts} ms came after #{self._last_seq} at {self._last_ts} ms: "
                "dropped",
            )
            return
        if self._last_ts >= 0 and ts > self._last_ts + 20:
            stats.lost_ms += ts - self._last_ts - 20
        self._last_seq, self._last_ts = seq, ts
        stats.media_in += 1
        if self._gather_bytes:
            self._gather(frame)
        else:
            self._up(frame)

    def _gather(self, frame: bytes) -> None:
        self._gathered += kernels.b64decode(frame[_APPEND_HEAD:-2])
        if len(self._gathered) >= self._gather_bytes:
            self._flush_gathered()

    def _flush_gathered(self) -> None:
        if self._gathered:
            frame = kernels.encode_append(self._gathered, sample_width=1)
            self._gathered.clear()
            self._up(frame)

    def _up(self, frame: bytes) -> None:
        service = self._service
        if service is None:
            if len(self._early) < 500:  # 10 s of 20 ms media while the session is set up
                self._early.append(frame)
            return
        try:
            service.send_audio_frame(frame)
        except ConnectionClosedError:
            self._end("session closed")

    def _control(self, raw: str | bytes) -> None:
        message = json.loads(raw)  # valid JSON with a string "event": the splicer said so
        event = message["event"]
        if event == "mark":
            mark = message.get("mark")
            name = mark.get("name") if isinstance(mark, dict) else None
            try:
                number = int(name) if isinstance(name, str) else -1
            except ValueError:
                number = -1
            if self.downlink.on_mark(number, self._now()):
                self.stats.marks_echoed += 1
                self._pump()
        elif event == "dtmf":
            self._on_dtmf(message.get("dtmf"))
        elif event == "stop":
            self._end("stop")
        elif event == "media":
            pass  # another track's audio (not the caller): not ours to bridge
        elif event in ("connected", "start"):
            self._error("unknown_event", f"a second {event!r} in one stream: ignored")
        else:
            self.stats.unknown_events += 1
            self._error("unknown_event", f"unknown carrier event {event[:40]!r}: ignored")

    def _on_dtmf(self, dtmf: Any) -> None:
        digit = dtmf.get("digit") if isinstance(dtmf, dict) else None
        if not isinstance(digit, str) or digit not in _DIGITS:
            self.stats.malformed += 1
            self._error("malformed", f"dtmf message without a valid digit ({digit!r}): ignored")
            return
        assert self.info is not None and self.client is not None
        self.stats.dtmf.append(digit)
        self._spawn(self.handler.on_dtmf(self, DtmfEvent(digit, self.info)))
        if self.dtmf_to_model:
            self._spawn(self.client.send_text(f"(The caller pressed {digit} on the phone keypad.)"))

    def hang_up(self) -> None:
        """End the call from the app's side: the carrier stream is closed (with
        ``<Connect><Stream>`` the carrier then goes on with the rest of its TwiML, if any)."""
        self._end("hung up by the app")

    # -- the service's playback side (AudioPlayback) -------------------------------------------

    def play(self, item_id: str, data: bytes) -> None:
        """Assistant audio (G.711 bytes) of ``item_id``: queued for the carrier, paced."""
        media = (
            b'{"event":"media","streamSid":'
            + self._sid_json
            + b',"media":{"payload":"'
            + kernels.b64encode(data)
            + b'"}}'
        )
        self.downlink.push(item_id, len(data), media)
        self._pump()

    def splice(self, frame: bytes) -> tuple[str, str, int, bytes] | None:
        """A server frame: an output audio delta becomes this call's carrier ``media``
        message, its base64 copied across without decoding (``None`` for other events)."""
        assert self.info is not None
        return kernels.delta_to_media(frame, self.info.stream_sid)

    def play_spliced(self, item_id: str, nbytes: int, spliced: Any) -> None:
        """A ``media`` message from :meth:`splice` (``nbytes`` of ``item_id``): paced out."""
        self.downlink.push(item_id, nbytes, spliced)
        self._pump()

    def interrupt(self) -> list[tuple[str, int]]:
        """Barge-in: ``clear`` the carrier; what each item was heard (bytes = samples)."""
        played, had_audio = self.downlink.interrupt(self._now())
        port = self._port
        if had_audio and not self._ending and port is not None:
            port.discard_pending()  # not yet written: nothing of it reached the carrier
            port.write(b'{"event":"clear","streamSid":' + self._sid_json + b"}")
            self.stats.clears += 1
        return played

    def take_played(self) -> list[tuple[str, int]]:
        """Samples of each item played per the echoed marks since last asked."""
        return self.downlink.take_played()

    def end_item(self, item_id: str | None = None) -> None:
        """All audio of an item has arrived (nothing to do: the carrier plays it out)."""

    # -- internals ---------------------------------------------------------------------------

    def _now(self) -> float:
        loop = self._loop
        return loop.time() if loop is not None else 0.0

    def _pump(self) -> None:
        if self._ending:
            return
        port = self._port
        if port is None:
            return
        frames = self.downlink.pump(self._now(), self._mark_frame)
        if frames:
            port.write_many(frames)
            self.stats.media_out += len(frames) // 2

    def _mark_frame(self, number: int) -> bytes:
        return (
            b'{"event":"mark","streamSid":'
            + self._sid_json
            + b',"mark":{"name":"'
            + str(number).encode("ascii")
            + b'"}}'
        )

    def _check_idle(self) -> None:
        loop = self._loop
        if loop is None or self._ending:
            return
        idle = loop.time() - self._last_rx
        if self.info is None and idle >= self.start_timeout:
            self._error("no_start", f"no 'start' message within {self.start_timeout:g} s")
            self._end("no start")
            return
        if idle >= self.media_timeout:
            self._error(
                "no_stop", f"nothing from the carrier for {idle:.1f} s (no 'stop'): call over"
            )
            self._end("carrier silent")
            return
        limit = self.start_timeout if self.info is None else self.media_timeout
        self._watchdog = loop.call_later(max(0.01, limit - idle), self._check_idle)

    def _on_session_started(self, task: asyncio.Task[None]) -> None:
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None and not self._ending:
            self._error("session", f"the Realtime session could not start: {exc}")
            self._end("session failed")

    def _on_disconnected(self, event: Any) -> None:
        if not self._ending:
            error = getattr(event, "error", None)
            why = f"{event.reason}" if error is None else f"{type(error).__name__}: {error}"
            self._error("session", f"the Realtime session ended: {why}")
            self._end("session failed" if error is not None else "session ended")

    def _on_truncated(self, event: Any) -> None:
        self.stats.truncates += 1

    def _end(self, reason: str) -> None:
        """Mark the call over (idempotent); the read loop is released by closing the stream."""
        if self._ending:
            return
        self._ending = reason
        self.stats.ended_by = reason
        if self._watchdog is not None:
            self._watchdog.cancel()
        self._done.set()

    async def _close(self) -> None:
        if not self._ending:
            self._end("ended")
        if self._watchdog is not None:
            self._watchdog.cancel()
        port = self._port
        if port is not None:
            port.close()  # the carrier side is done (or gone): no more writes
        client = self.client
        if client is not None:
            self._flush_gathered()  # the caller's last words, before the session closes
            await client.stop()
        if port is not None:
            await port.aclose()
        if self._helpers:  # handler coroutines still running: a short grace, then cancelled
            _, late = await asyncio.wait(set(self._helpers), timeout=2.0)
            for task in late:
                task.cancel()
        stats = self.stats
        stats.audio_out_ms = self.downlink.sent_bytes / 8
        stats.carrier_rtt_ms = self.downlink.rtt * 1000
        for kind, count in self._loud.items():
            if count > _LOUD_REPEATS:
                log.warning("phone call %s: %d %s problems in all", self._name(), count, kind)
        log.info(
            "phone call %s ended (%s): %d media in, %d out, %d marks, %d clears, carrier "
            "round trip %.0f ms",
            self._name(),
            stats.ended_by,
            stats.media_in,
            stats.media_out,
            stats.marks_echoed,
            stats.clears,
            stats.carrier_rtt_ms,
        )
        with contextlib.suppress(Exception):
            await _maybe_await(self.handler.on_end(self))

    def _error(self, kind: str, message: str) -> None:
        error = CallError(kind, message)
        if len(self.stats.errors) < 100:
            self.stats.errors.append(error)
        count = self._loud[kind] = self._loud.get(kind, 0) + 1
        level = logging.WARNING if count <= _LOUD_REPEATS else logging.DEBUG
        log.log(level, "phone call %s: %s", self._name(), message)
        try:
            self._spawn(self.handler.on_error(self, error))
        except Exception:
            log.exception("PhoneCallHandler.on_error failed")

    def _name(self) -> str:
        info = self.info
        return info.call_sid or info.stream_sid if info is not None else "(no start yet)"

    def _spawn(self, result: Any) -> None:
        """Run what a handler returned (a coroutine runs as a task, errors logged)."""
        if not inspect.isawaitable(result):
            return
        loop = self._loop
        assert loop is not None

        async def run() -> None:
            try:
                await result
            except Exception:
                log.exception("phone call handler failed")

        task = loop.create_task(run(), name="rtsdk-phone-handler")
        self._helpers.add(task)
        task.add_done_callback(self._helpers.discard)


async def _maybe_await(value: Any) -> Any:
    if inspect.isawaitable(value):
        return await value
    return value

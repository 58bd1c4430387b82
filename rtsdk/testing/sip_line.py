"""The session behind an answered SIP call: the local server's own session logic, its audio
to and from the simulated caller instead of a WebSocket client, its events to the sidebands.

:class:`RealtimeLine` runs a :class:`~rtsdk.testing.session.RealtimeSession` (the echo
assistant, VAD turns, scripted tools) configured by the accept body. The caller's audio goes
into its input buffer (converted to the session's input format); its
``response.output_audio.delta`` audio goes to the caller (converted to PCM16 24 kHz) and not
to the sidebands, which get every other event, plus what a SIP session adds:
``output_audio_buffer.started`` / ``stopped`` (when a response's audio starts and has played
out at the caller) / ``cleared`` (the caller spoke over it, or a sideband sent
``output_audio_buffer.clear``: the rest of that response's audio is not sent), and
``input_audio_buffer.dtmf_event_received`` for a key the caller pressed. Each sideband starts
with ``session.created`` (the current session).

:class:`LiveLine` runs a :class:`~rtsdk.testing.live_session.LiveSession` (the echo model,
delegation, fixtures, usage), started with the accept's (or the outbound request's) session
and PCM16 24 kHz audio. The caller's audio is appended to it and reflected to the sidebands as
``session.input_audio.append`` (before muting); the model's output goes to the caller and to
the sidebands as ``session.output_audio.delta`` with ``start_ms`` / ``end_ms``; a key the
caller pressed is ``transport.dtmf.received``; ``transport.dtmf.send`` from a sideband reaches
the caller and is acked with ``transport.dtmf.sent``. A sideband that attaches first gets the
last ``replay_s`` (3 s) of events (deduplicate by ``event_id``). Outbound calls add
``transport.ringing`` / ``answered`` / ``failed``.

An error caused by a sideband's command goes to that sideband only; every other event goes to
all of them. The call ends with the session: a hangup request (GPT-Live: ``session.closed``
``close_requested``), the caller hanging up (``remote_hangup``), ``session.close``, expiry;
then every sideband gets a close frame 1000.
"""

from __future__ import annotations

import asyncio
import collections
import copy
import json
import time
from collections.abc import Callable
from typing import Any, Protocol

from ..kernels import b64decode, b64encode
from . import audio as au
from .catalogue_sip import SIP_ERRORS, call_failure
from .config import input_format, output_format
from .live_session import LiveSession
from .session import RealtimeSession
from .sip_call import DTMF_KEYS, SimulatedCall

__all__ = ["LiveLine", "RealtimeLine", "Sideband", "SipLine"]

Json = dict[str, Any]
_BYTES_PER_MS = au.BYTES_PER_MS["pcm16"]  # the session's audio: 24 kHz PCM16


class Sideband(Protocol):
    """What a line needs of an attached sideband connection."""

    def deliver(self, event: Json) -> None:
        """Send ``event`` on the sideband (in order)."""

    def end(self, code: int, reason: str) -> None:
        """Close the sideband after what is queued."""


class SipLine:
    """What both lines share: the sidebands, the routing of events, the end of the call."""

    api = ""

    def __init__(self, call: SimulatedCall, new_id: Callable[[str], str]) -> None:
        self.call = call
        self.new_id = new_id
        self.sidebands: list[Sideband] = []
        self.ended = False
        self._origin: Sideband | None = None

    @property
    def session(self) -> Json:
        raise NotImplementedError

    @property
    def logic(self) -> RealtimeSession | LiveSession:
        """The session logic (for the frames that are not commands: binary, not JSON)."""
        raise NotImplementedError

    def emit(self, event: Json) -> None:
        """An event of the session: an error caused by a sideband's command goes to that
        sideband only, anything else to every sideband."""
        if self._origin is not None and event.get("type") == "error":
            self._origin.deliver(event)
            return
        for sideband in self.sidebands:
            sideband.deliver(event)

    def attach(self, sideband: Sideband) -> None:
        self.sidebands.append(sideband)

    def detach(self, sideband: Sideband) -> None:
        if sideband in self.sidebands:
            self.sidebands.remove(sideband)

    def from_sideband(self, sideband: Sideband, act: Callable[[], None]) -> None:
        """Run ``act`` (the session handling a sideband's command) with its errors routed
        back to that sideband."""
        self._origin = sideband
        try:
            act()
        finally:
            self._origin = None

    def command(self, sideband: Sideband, data: Json) -> None:
        raise NotImplementedError

    def hear(self, pcm: bytes) -> None:
        """A frame of the caller's audio (PCM16 24 kHz)."""
        raise NotImplementedError

    def dtmf_in(self, digit: str) -> None:
        raise NotImplementedError

    def hangup(self, by: str) -> None:
        """End the call (``by``: ``"caller"``, ``"app"``, ``"refer"``)."""
        raise NotImplementedError

    def transport_failed(self, code: str, message: str) -> None:
        """An outbound call failed before it connected (GPT-Live only)."""

    def progress(self, kind: str, **fields: Any) -> None:
        """An outbound call's progress (GPT-Live only)."""

    def finish(self, by: str, reason: str = "call ended") -> None:
        """The session is over: close every sideband (1000), end the call."""
        if self.ended:
            return
        self.ended = True
        for sideband in list(self.sidebands):
            sideband.end(1000, reason)
        self.sidebands.clear()
        self.call.set_state("ended", by)


class RealtimeLine(SipLine):
    """A Realtime session on a SIP call (see the module docstring)."""

    api = "realtime"

    def __init__(
        self,
        call: SimulatedCall,
        new_id: Callable[[str], str],
        make: Callable[[Callable[[Json], None]], RealtimeSession],
        config: Json,
    ) -> None:
        super().__init__(call, new_id)
        self.rt = make(self._from_session)
        self._playing: str | None = None  # the response whose audio the caller hears
        self._play_until = 0.0
        self._stop_timer: asyncio.TimerHandle | None = None
        self._silenced: set[str] = set()  # responses cleared: their audio no longer sent
        # the accept's config, applied as a session.update before any sideband listens
        self.rt.handle({"type": "session.update", "session": config})

    @property
    def session(self) -> Json:
        return self.rt.session

    @property
    def logic(self) -> RealtimeSession:
        return self.rt

    def attach(self, sideband: Sideband) -> None:
        super().attach(sideband)
        session = copy.deepcopy(self.rt.session)
        sideband.deliver(
            {"type": "session.created", "event_id": self.new_id("event"), "session": session}
        )

    def command(self, sideband: Sideband, data: Json) -> None:
        if data["type"] == "output_audio_buffer.clear":  # served on WebRTC and SIP calls
            self.from_sideband(sideband, lambda: self._clear(data))
            return
        self.from_sideband(sideband, lambda: self.rt.handle(data))

    def _clear(self, data: Json) -> None:
        """``output_audio_buffer.clear``: what the caller has not been sent of the response
        being heard is dropped, and ``output_audio_buffer.cleared`` says so."""
        extra = sorted(set(data) - {"type", "event_id"})
        if extra:
            event_id = data.get("event_id")
            event_id = event_id if isinstance(event_id, str) else None
            self.rt.fail("unknown_parameter", event_id=event_id, param=extra[0])
            return
        if self._playing is not None:
            self._silenced.add(self._playing)
            self._buffer_event("output_audio_buffer.cleared")

    def _from_session(self, event: Json) -> None:
        kind = event.get("type")
        if kind == "response.output_audio.delta":
            if event.get("response_id") not in self._silenced:
                self._to_caller(event)
            return
        if kind == "input_audio_buffer.speech_started" and self._playing is not None:
            self.emit(event)  # the caller spoke over the reply: the server cuts it
            self._silenced.add(self._playing)
            self._buffer_event("output_audio_buffer.cleared")
            return
        self.emit(event)
        if kind == "response.done" and event["response"].get("id") == self._playing:
            left = max(0.0, self._play_until - time.monotonic())
            loop = asyncio.get_running_loop()
            self._stop_timer = loop.call_later(
                left, self._buffer_event, "output_audio_buffer.stopped"
            )

    def _to_caller(self, event: Json) -> None:
        raw = b64decode(event["delta"])
        fmt = output_format(self.rt.session)
        pcm = au.convert(raw, fmt, "pcm16") if fmt != "pcm16" else raw
        now = time.monotonic()
        response_id = event.get("response_id")
        if self._playing != response_id:
            if self._playing is not None:
                self._buffer_event("output_audio_buffer.stopped")
            self._playing = response_id
            self.emit(self._event("output_audio_buffer.started", response_id=response_id))
        self._play_until = max(self._play_until, now) + len(pcm) / (_BYTES_PER_MS * 1000)
        self.call.play(pcm)

    def _buffer_event(self, kind: str) -> None:
        """``output_audio_buffer.stopped`` / ``cleared`` for the response being heard."""
        if self._stop_timer is not None:
            self._stop_timer.cancel()
            self._stop_timer = None
        response_id, self._playing = self._playing, None
        if response_id is not None and not self.ended:
            self._play_until = 0.0
            self.emit(self._event(kind, response_id=response_id))

    def _event(self, kind: str, **fields: Any) -> Json:
        return {"type": kind, "event_id": self.new_id("event"), **fields}

    def hear(self, pcm: bytes) -> None:
        fmt = input_format(self.rt.session)
        self.rt.take_audio(au.convert(pcm, "pcm16", fmt) if fmt != "pcm16" else pcm)

    def dtmf_in(self, digit: str) -> None:
        event = {
            "type": "input_audio_buffer.dtmf_event_received",
            "event": digit,
            "received_at": int(time.time()),
        }
        self.emit(event)

    def hangup(self, by: str) -> None:
        if self._stop_timer is not None:
            self._stop_timer.cancel()
        self.rt.close()
        self.finish(by)


class LiveLine(SipLine):
    """A GPT-Live session on a SIP call (see the module docstring)."""

    api = "live"

    def __init__(
        self,
        call: SimulatedCall,
        new_id: Callable[[str], str],
        make: Callable[[Callable[[Json], None], Callable[[int, str], None]], LiveSession],
        config: Json,
        replay_s: float,
    ) -> None:
        super().__init__(call, new_id)
        self.replay_s = replay_s
        self._recent: collections.deque[tuple[float, Json]] = collections.deque()
        self._out_ms = 0.0
        self._ending_by = "session"
        self.live = make(self._from_session, self._session_over)
        self.live.handle({"type": "session.start", "session": config})

    @property
    def session(self) -> Json:
        return self.live.session

    @property
    def logic(self) -> LiveSession:
        return self.live

    def fail(self, key: str, event_id: str | None, **fields: Any) -> None:
        """Send SIP catalogue error ``key`` (:data:`SIP_ERRORS`) as a GPT-Live ``error``."""
        self.emit(self.live.error_event(key, event_id, catalogue=SIP_ERRORS, **fields))

    def emit(self, event: Json) -> None:
        now = time.monotonic()
        if self._origin is None or event.get("type") != "error":
            recent = self._recent
            recent.append((now, event))
            while recent and recent[0][0] < now - self.replay_s:
                recent.popleft()
        super().emit(event)

    def attach(self, sideband: Sideband) -> None:
        now = time.monotonic()
        for at, event in self._recent:
            if at >= now - self.replay_s:
                sideband.deliver(event)
        super().attach(sideband)

    def command(self, sideband: Sideband, data: Json) -> None:
        self.from_sideband(sideband, lambda: self._command(data))

    def _command(self, data: Json) -> None:
        kind = data["type"]
        event_id = data.get("event_id") if isinstance(data.get("event_id"), str) else None
        if kind in ("session.start", "session.input_audio.append"):
            self.fail("sip_sideband_unknown_event_type", event_id, value=f"'{kind}'")
        elif kind == "transport.dtmf.send":
            self._dtmf_send(data, event_id)
        else:
            if kind == "session.close":
                self._ending_by = "app"
            self.live.handle(data)

    def _dtmf_send(self, data: Json, event_id: str | None) -> None:
        extra = sorted(set(data) - {"type", "event_id", "event"})
        if extra:
            self.fail("unknown_parameter", event_id, param=extra[0])
            return
        if "event" not in data:
            self.fail("missing_required_parameter", event_id, param="event")
            return
        digit = data["event"]
        if not isinstance(digit, str) or len(digit) != 1 or digit not in DTMF_KEYS:
            self.fail("sip_dtmf_invalid", event_id, value=json.dumps(digit)[:40])
            return
        self.call.dtmf_out(digit)
        self.live.send("transport.dtmf.sent", event_id, event=digit)

    def _from_session(self, event: Json) -> None:
        if event.get("type") == "session.output_audio.delta":
            pcm = b64decode(event["delta"])
            start = max(self._out_ms, self.live.audio_ms)
            mixer = self.live.model.mixer if self.live.model is not None else None
            speech = mixer.current if mixer is not None else None
            if mixer is not None and speech is not None and speech.next_chunk:
                start = speech.start_ms + (speech.next_chunk - 1) * mixer.chunk_ms  # as its words
            self._out_ms = start + len(pcm) / _BYTES_PER_MS
            self.call.play(pcm)
            event = {**event, "start_ms": round(start), "end_ms": round(self._out_ms)}
        self.emit(event)

    def _session_over(self, code: int, reason: str) -> None:
        """The session ended (``session.closed`` is out): close the sidebands, end the call."""
        self.finish(self._ending_by, reason)

    def hear(self, pcm: bytes) -> None:
        self.emit({"type": "session.input_audio.append", "audio": b64encode(pcm).decode("ascii")})
        self.live.take_audio(pcm)

    def dtmf_in(self, digit: str) -> None:
        self.emit(
            {"type": "transport.dtmf.received", "event": digit, "event_id": self.new_id("event")}
        )

    def progress(self, kind: str, **fields: Any) -> None:
        """``transport.ringing`` / ``answered`` / ``failed`` of an outbound call."""
        self.emit(
            {
                "type": kind,
                "event_id": self.new_id("event"),
                "session_id": self.call.session_id,
                **fields,
            }
        )

    def transport_failed(self, code: str, message: str) -> None:
        self.progress("transport.failed", error=call_failure(code, message))
        self._ending_by = "callee"
        self.live.end("connection_lost")

    def hangup(self, by: str) -> None:
        self._ending_by = by
        self.live.end("remote_hangup" if by == "caller" else "close_requested")

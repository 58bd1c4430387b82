"""One simulated phone call of the local server's SIP side: :class:`SimulatedCall`.

The call is the phone end of a SIP call to (inbound) or from (outbound) the model: a caller
that speaks what :meth:`SimulatedCall.say` queues, presses keys (:meth:`SimulatedCall.press`),
records everything the session sends down the line (:attr:`SimulatedCall.recording`, PCM16
mono 24 kHz), and hangs up (:meth:`SimulatedCall.hangup`), mid-reply too.

Media flows once the call is answered (accepted by the app, or answered on command for an
outbound call): every ``frame_ms`` the caller sends one frame, of queued speech or else
silence, as a phone line always carries audio. ``pacing="fast"`` sends queued speech at once
instead, followed by ``tail_ms`` of silence (so that the session's VAD ends the turn without
waiting), then idles in real time again; ``"realtime"`` paces everything.

The states (:attr:`SimulatedCall.state`): an inbound call starts ``"ringing"`` (webhooks on
their way) and becomes ``"accepted"``, ``"rejected"`` or ``"missed"`` (the caller hung up
before a decision); an outbound call starts ``"dialing"``, then ``"ringing"``,
``"accepted"`` (answered) or ``"failed"``; an accepted call ends ``"ended"``
(:attr:`SimulatedCall.ended_by` says who ended it: ``"caller"``, ``"app"`` (a hangup request
or ``session.close``), ``"refer"`` or ``"session"`` (expiry)).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import wave
from collections.abc import Callable
from typing import Any, Literal, Protocol

import numpy as np

from .. import kernels
from ..exceptions import ConfigurationError
from .sip_webhook import Delivery

__all__ = ["DTMF_KEYS", "CallState", "Line", "MediaClock", "SimulatedCall"]

log = logging.getLogger("rtsdk.testing.sip")

CallState = Literal["dialing", "ringing", "accepted", "rejected", "missed", "failed", "ended"]
#: States after which nothing more happens on the call.
FINAL: frozenset[CallState] = frozenset({"rejected", "missed", "failed", "ended"})
RATE = 24000
_BYTES_PER_MS = RATE * 2 // 1000


class Line(Protocol):
    """What a call drives of the session that answered it (:mod:`.sip_line`)."""

    api: str
    ended: bool

    @property
    def session(self) -> dict[str, Any]:
        """The session's current config."""

    def hear(self, pcm: bytes) -> None:
        """A frame of the caller's audio (PCM16 24 kHz)."""

    def dtmf_in(self, digit: str) -> None:
        """The caller pressed ``digit``."""

    def hangup(self, by: str) -> None:
        """End the call."""

    def progress(self, kind: str, **fields: Any) -> None:
        """An outbound call's ``transport.*`` event."""

    def transport_failed(self, code: str, message: str) -> None:
        """An outbound call failed before it connected."""


def pcm24k(audio: Any, rate: int = RATE) -> bytes:
    """Caller audio as PCM16 mono 24 kHz bytes: raw PCM16 bytes at ``rate``, an int16 array
    at ``rate``, or the path of a WAV file (any rate; channels mixed down)."""
    if isinstance(audio, (str, os.PathLike)):
        from ..audio.files import read_wav

        x, rate = read_wav(audio)
        x = np.ascontiguousarray(x, dtype=np.float32).reshape(-1)
    elif isinstance(audio, (bytes, bytearray, memoryview)):
        raw = bytes(audio)
        if len(raw) % 2:
            raise ConfigurationError(f"PCM16 caller audio needs whole samples, got {len(raw)} B")
        x = kernels.pcm16_to_float32(np.frombuffer(raw, dtype="<i2").astype(np.int16))
    elif isinstance(audio, np.ndarray) and audio.dtype == np.int16 and audio.ndim == 1:
        x = kernels.pcm16_to_float32(np.ascontiguousarray(audio))
    else:
        raise ConfigurationError(
            "caller audio must be PCM16 bytes, a 1-D int16 array or a WAV path, got "
            f"{type(audio).__name__}"
        )
    if isinstance(rate, bool) or not isinstance(rate, int) or not 8000 <= rate <= 192000:
        raise ConfigurationError(f"caller audio rate must be an int in [8000, 192000]: {rate!r}")
    if rate != RATE and x.size:
        x = kernels.Resampler(rate, RATE).process(np.ascontiguousarray(x), last=True)
    pcm = kernels.float32_to_pcm16(np.ascontiguousarray(x, dtype=np.float32).reshape(-1))
    return np.asarray(pcm, dtype="<i2").tobytes()


class SimulatedCall:
    """One simulated SIP call (see the module docstring); made by
    :meth:`SipCalls.incoming_call <rtsdk.testing.sip.SipCalls.incoming_call>` or by an
    outbound ``POST /v1/live/sessions``.

    ``call_id`` is the Realtime id (``rtc_…``; None for an outbound call), ``session_id`` the
    GPT-Live id (``live_…``); ``api`` is the API that accepted it (``"realtime"`` or
    ``"live"``; None before) and ``accepted_with`` the accept's body (for an outbound call,
    the create request's). ``sip_headers`` are the INVITE's headers as the webhooks carry
    them. ``deliveries`` holds every webhook attempt. After a reject, ``status_code`` is the
    SIP status the caller got; after a refer, ``referred_to`` the target. ``dtmf_sent`` holds
    the keys the app sent down the line (GPT-Live ``transport.dtmf.send``).

    Use it on the server's event loop (from synchronous code with a
    :class:`~rtsdk.testing.ServerHandle`: ``handle.call(...)``), as the rest of the server.
    """

    def __init__(
        self,
        *,
        direction: Literal["inbound", "outbound"],
        call_id: str | None,
        session_id: str,
        sip_headers: list[dict[str, str]],
        pacing: Literal["fast", "realtime"],
        frame_ms: int,
        tail_ms: int = 1000,
        clock: MediaClock,
        destination: str | None = None,
    ) -> None:
        if pacing not in ("fast", "realtime"):
            raise ConfigurationError(f"caller pacing must be 'fast' or 'realtime': {pacing!r}")
        if isinstance(frame_ms, bool) or not isinstance(frame_ms, int) or not 10 <= frame_ms <= 200:
            raise ConfigurationError(f"caller frame_ms must be an int in [10, 200]: {frame_ms!r}")
        self.direction = direction
        self.call_id = call_id
        self.session_id = session_id
        self.sip_headers = sip_headers
        self.destination = destination
        self.pacing = pacing
        self.frame_ms = frame_ms
        self.tail_ms = tail_ms
        self.state: CallState = "ringing" if direction == "inbound" else "dialing"
        self.api: Literal["realtime", "live"] | None = "live" if direction == "outbound" else None
        self.status_code: int | None = None
        self.referred_to: str | None = None
        self.ended_by: str | None = None
        #: The accept's body as the app sent it (None before an accept).
        self.accepted_with: dict[str, Any] | None = None
        #: The failure of an outbound call (``code``, ``message``), when it failed.
        self.failure: tuple[str, str] | None = None
        self.deliveries: list[Delivery] = []
        self.recording = bytearray()
        self.dtmf_sent: list[str] = []
        #: The session of the answered call (None before).
        self.line: Line | None = None
        self._queue = bytearray()  # speech still to send (PCM16 24 kHz)
        self._fast_pending = False
        self._changed = asyncio.Event()
        self._clock = clock
        self._settle: list[Callable[[], None]] = []

    def __repr__(self) -> str:
        ident = self.call_id or self.session_id
        return f"<SimulatedCall {ident} {self.direction} {self.state} api={self.api}>"

    @property
    def ids(self) -> tuple[str, ...]:
        """Every id of the call (the Realtime one, then the GPT-Live one)."""
        return tuple(i for i in (self.call_id, self.session_id) if i)

    @property
    def recording_ms(self) -> float:
        """How much audio the caller has received, in ms."""
        return len(self.recording) / _BYTES_PER_MS

    @property
    def over(self) -> bool:
        """True once nothing more can happen on the call."""
        return self.state in FINAL

    # -- the caller's side ----------------------------------------------------------------

    def say(self, audio: Any, *, rate: int = RATE) -> None:
        """Queue speech for the caller (see :func:`pcm24k` for what ``audio`` may be); it is
        sent once the call is answered, after what is already queued."""
        self._queue += pcm24k(audio, rate)
        self._fast_pending = True
        self._poke()

    def press(self, digits: str) -> None:
        """Press keys (each of ``0-9``, ``A-D``, ``*``, ``#``) on an answered call: each
        reaches the session as a DTMF event."""
        if not isinstance(digits, str) or not digits or any(d not in DTMF_KEYS for d in digits):
            raise ConfigurationError(
                f"DTMF keys must be a non-empty str of {DTMF_KEYS}: {digits!r}"
            )
        if self.state != "accepted" or self.line is None:
            raise RuntimeError(f"the call is {self.state}; keys need an answered call")
        for digit in digits:
            self.line.dtmf_in(digit)

    def hangup(self) -> None:
        """The caller hangs up: before a decision the call is ``"missed"`` (an accept then
        gets 404); on an answered call the session ends (GPT-Live: ``session.closed`` with
        ``remote_hangup``), mid-reply or not."""
        if self.state in ("ringing", "dialing") and self.direction == "inbound":
            self.set_state("missed", "caller")
        elif self.state == "accepted" and self.line is not None:
            self.line.hangup("caller")
        elif self.state in ("ringing", "dialing"):
            self.fail("declined", "The callee declined the call.")

    def save_recording(self, path: str | os.PathLike[str]) -> None:
        """Write :attr:`recording` as a mono 24 kHz PCM16 WAV file."""
        with wave.open(os.fspath(path), "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(RATE)
            out.writeframes(bytes(self.recording))

    # -- waiting ----------------------------------------------------------------------------

    async def _until(self, ready: Callable[[], bool], timeout: float, what: str) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not ready():
            left = deadline - loop.time()
            if left <= 0:
                raise asyncio.TimeoutError(f"{self!r}: {what} within {timeout} s")
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._changed.wait(), left)

    async def wait_state(self, *states: CallState, timeout: float = 5.0) -> CallState:
        """Wait until the call is in one of ``states`` (or over, if none is given); return
        the state."""
        want = set(states) or set(FINAL)
        await self._until(lambda: self.state in want, timeout, f"not {sorted(want)}")
        return self.state

    async def wait_recording(self, ms: float, timeout: float = 5.0) -> None:
        """Wait until the caller has received at least ``ms`` of audio."""
        await self._until(lambda: self.recording_ms >= ms, timeout, f"no {ms} ms of audio")

    async def wait_dtmf(self, count: int = 1, timeout: float = 5.0) -> list[str]:
        """Wait until the app has sent ``count`` DTMF keys down the line; return them."""
        await self._until(lambda: len(self.dtmf_sent) >= count, timeout, f"no {count} key(s)")
        return list(self.dtmf_sent)

    async def wait_deliveries(self, count: int, timeout: float = 5.0) -> list[Delivery]:
        """Wait until ``count`` webhook attempts have been made; return them all."""
        await self._until(lambda: len(self.deliveries) >= count, timeout, f"no {count} attempts")
        return list(self.deliveries)

    def _poke(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    # -- driven by the server -----------------------------------------------------------------

    def set_state(self, state: CallState, by: str | None = None) -> None:
        """Move to ``state`` (``by``: who ended it, for the final states)."""
        if self.over:
            return
        self.state = state
        if state in FINAL:
            self.ended_by = self.ended_by or by
            self._settled()
        self._poke()

    def delivered(self, delivery: Delivery) -> None:
        self.deliveries.append(delivery)
        self._poke()

    def connect(self, line: Line) -> None:
        """The call is answered on ``line``: media starts flowing both ways."""
        self.line = line
        self.set_state("accepted")
        self._clock.add(self)
        self._settled()

    def on_answer_or_end(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` once the call is answered or over (an outbound ring timer)."""
        self._settle.append(callback)

    def _settled(self) -> None:
        callbacks, self._settle = self._settle, []
        for callback in callbacks:
            callback()

    # -- an outbound call's far end, on command --------------------------------------------

    def ring(self) -> None:
        """The dialled phone rings (an outbound call): ``transport.ringing``."""
        if self.direction != "outbound" or self.state != "dialing" or self.line is None:
            raise RuntimeError(f"{self!r}: only a dialing outbound call can ring")
        self.set_state("ringing")
        self.line.progress("transport.ringing")

    def answer(self) -> None:
        """The dialled phone is picked up (an outbound call): ``transport.answered``, then
        media flows (what :meth:`say` queued is spoken)."""
        line = self.line
        if self.direction != "outbound" or self.state not in ("dialing", "ringing") or not line:
            raise RuntimeError(f"{self!r}: only a dialing or ringing outbound call can answer")
        line.progress("transport.answered")
        self.connect(line)

    def fail(self, code: str = "no_answer", message: str = "The call failed.") -> None:
        """An outbound call that never connected: ``transport.failed`` (``error.code``
        ``code``, type ``call_error``), then the session ends (``session.closed``
        ``connection_lost``). Nothing happens on a call already answered or over."""
        if self.over or self.state == "accepted":
            return
        self.failure = (code, message)
        self.set_state("failed", "callee")
        if self.line is not None:
            self.line.transport_failed(code, message)

    def play(self, pcm: bytes) -> None:
        """The session sent ``pcm`` (PCM16 24 kHz) down the line to the caller."""
        self.recording += pcm
        self._poke()

    def dtmf_out(self, digit: str) -> None:
        """The app sent key ``digit`` to the caller."""
        self.dtmf_sent.append(digit)
        self._poke()

    def tick(self) -> bool:
        """The caller's next frame (the :class:`MediaClock` calls this every ``frame_ms``);
        False once the call no longer carries media."""
        line = self.line
        if self.state != "accepted" or line is None:
            return False
        frame = self.frame_ms * _BYTES_PER_MS
        if self.pacing == "fast" and self._fast_pending:
            self._fast_pending = False
            self._queue += bytes(self.tail_ms * _BYTES_PER_MS)
            while self._queue and self.state == "accepted":
                chunk = bytes(self._queue[:frame])
                del self._queue[:frame]
                line.hear(chunk + bytes(frame - len(chunk)))
            return self.state == "accepted"
        chunk = bytes(self._queue[:frame])
        del self._queue[:frame]
        line.hear(chunk + bytes(frame - len(chunk)))
        return True


class MediaClock:
    """One timer for the callers of many calls: every ``frame_ms`` each answered call sends
    one frame (one task per frame length, not one per call). Late (a busy loop), it skips
    ahead after a second behind, never bursting."""

    def __init__(self) -> None:
        self._calls: dict[int, dict[SimulatedCall, None]] = {}
        self._tasks: dict[int, asyncio.Task[None]] = {}

    def add(self, call: SimulatedCall) -> None:
        """Start sending ``call``'s frames (until its :meth:`SimulatedCall.tick` says no)."""
        calls = self._calls.setdefault(call.frame_ms, {})
        calls[call] = None
        if call.frame_ms not in self._tasks:
            task = asyncio.get_running_loop().create_task(self._run(call.frame_ms, calls))
            self._tasks[call.frame_ms] = task

    async def _run(self, frame_ms: int, calls: dict[SimulatedCall, None]) -> None:
        loop = asyncio.get_running_loop()
        due = loop.time()
        try:
            while calls:
                for call in list(calls):
                    try:
                        going = call.tick()
                    except Exception:  # one call's fault must not stop the others
                        log.exception("the simulated caller of %r failed", call)
                        going = False
                    if not going:
                        calls.pop(call, None)
                due += frame_ms / 1000
                delay = due - loop.time()
                if delay < -1.0:
                    due = loop.time()
                    delay = 0.0
                await asyncio.sleep(max(0.0, delay))
        finally:
            self._tasks.pop(frame_ms, None)

    def close(self) -> None:
        """Stop every call's media (the server stops)."""
        for task in list(self._tasks.values()):
            task.cancel()
        self._calls.clear()


DTMF_KEYS = "0123456789ABCD*#"

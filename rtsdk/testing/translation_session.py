"""A Realtime translation session as the service plays it, for one connection of the local server.

:class:`TranslationSession` takes decoded client events and sends server events (dicts,
through the ``send`` callback, in order); what it "translates" is :mod:`.translator`'s. What a
client can rely on (the ``openai`` 3.57 types, ``types/realtime/realtime_translation_*``):

- ``session.created`` is the first event, with the default config: ``id`` (``sess_…``),
  ``type: "translation"``, ``model`` (the ``?model=`` of the URL; it never changes),
  ``expires_at`` (now + ``session_seconds``), ``audio``: ``input.noise_reduction`` and
  ``input.transcription`` null, ``output.language`` the server's default (``"en"``).
- ``session.update`` changes ``audio.output.language``, ``audio.input.transcription`` and
  ``audio.input.noise_reduction`` (``strength`` 1.0 when first enabled, kept when left out;
  ``null`` turns it off) and answers ``session.updated`` with the whole session. A refused
  update (see :mod:`.translation_schema`: ``model`` or ``type``, a format field, an unknown
  key at any depth, a bad value) changes nothing and gets an ``error`` naming the ``param``,
  with the client's ``event_id`` in ``error.event_id``; the session goes on.
- ``session.input_audio_buffer.append``: base64 24 kHz PCM16 mono. Bad base64, empty audio,
  more than 15 MiB, an odd number of bytes or a format field get an ``error`` and the audio is
  dropped; the session goes on. Audio is gathered into 200 ms engine frames: a short append
  waits in the buffer until a frame is complete, a long one is split into frames consumed
  back to back. Nothing acknowledges an append.
- ``session.close`` flushes: the partial frame and the utterance in progress are translated
  at once, every output still waiting is sent, then ``session.closed``, then a close frame
  1000. Events after it are ignored.
- At ``expires_at`` (or ``Faults(session_max_seconds=T)``): the Realtime ``session_expired``
  error, ``session.closed``, a close frame 1000 (nothing is flushed).
- An unknown event type, a binary or non-JSON frame: the Realtime errors; the session goes on.
"""

from __future__ import annotations

import asyncio
import copy
import time
from collections.abc import Callable
from typing import Any

from ..kernels import b64decode
from .catalogue_translation import TRANSLATION_ERRORS
from .errors import Refusal
from .session import MAX_APPEND_BYTES
from .translation_options import FRAME_MS, TranslationOptions
from .translation_schema import COMMANDS, command_problem
from .translator import RATE, Translator
from .wording import Ids, frame_refusal, quoted

__all__ = ["FRAME_BYTES", "TranslationSession"]

Json = dict[str, Any]

#: Bytes of one engine frame (200 ms of 24 kHz PCM16 mono).
FRAME_BYTES = RATE * 2 * FRAME_MS // 1000


def _span(seconds: float) -> str:
    return f"{seconds / 60:g} minutes" if seconds >= 60 else f"{seconds:g} seconds"


class TranslationSession:
    """Server side of one Realtime translation session (see the module docstring)."""

    def __init__(
        self,
        *,
        send: Callable[[Json], None],
        close_socket: Callable[[int, str], None],
        ids: Ids,
        model: str,
        options: Callable[[], TranslationOptions],
        session_seconds: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._send = send
        self._close_socket = close_socket
        self.new_id = ids
        self.model = model
        self._options = options
        self._seconds = session_seconds
        self._clock = clock
        #: The session as ``session.created`` / ``session.updated`` last said it.
        self.session: Json = {}
        self.closing = False
        self.closed = False
        #: Audio appended (bytes, after the checks) and the partial frame waiting.
        self.audio_bytes = 0
        self.pending = bytearray()
        self.translator: Translator | None = None
        self._timer: asyncio.TimerHandle | None = None

    # -- sending ------------------------------------------------------------------------------

    def send(self, kind: str, **fields: Any) -> None:
        """Send server event ``kind`` with a fresh ``event_id``."""
        self._send({"type": kind, "event_id": self.new_id("event"), **fields})

    def fail(self, key: str, event_id: str | None = None, **fields: Any) -> None:
        """Send the ``error`` event of catalogue entry ``key``; the session goes on."""
        entry = TRANSLATION_ERRORS[key]
        error = entry.render(**fields)
        error["event_id"] = event_id if entry.echoes_event_id else None
        self.send("error", error=error)

    def refuse(self, refusal: Refusal, event_id: str | None) -> None:
        self.fail(refusal.key, event_id, **refusal.fields)

    # -- frames -------------------------------------------------------------------------------

    def start(self) -> None:
        """The connection is up: ``session.created`` with the default config."""
        options = self._options()
        seconds = self._length()
        self.session = {
            "id": self.new_id("sess"),
            "type": "translation",
            "model": self.model,
            "expires_at": int(time.time() + seconds),
            "audio": {
                "input": {"noise_reduction": None, "transcription": None},
                "output": {"language": options.language},
            },
        }
        self.translator = Translator(
            send=self.send,
            language=lambda: self.session["audio"]["output"]["language"],
            transcribing=lambda: self.session["audio"]["input"]["transcription"] is not None,
            pacing=lambda: self._options().pacing,
            clock=self._clock,
            lag_ms=options.lag_ms,
            silence_ms=options.silence_ms,
            threshold=options.vad_threshold,
        )
        self.send("session.created", session=copy.deepcopy(self.session))
        self._timer = asyncio.get_running_loop().call_later(seconds, self.expire)

    def binary_frame(self) -> None:
        if not self.closing:
            self.fail("binary_frame")

    def bad_frame(self, text: str) -> None:
        if not self.closing:
            refusal, event_id = frame_refusal(text)
            self.refuse(refusal, event_id)

    def handle(self, data: Json) -> None:
        """Act on one decoded client event (a dict with a string ``type``)."""
        if self.closing:
            return
        kind = data["type"]
        event_id = data.get("event_id")
        event_id = event_id if isinstance(event_id, str) else None
        if kind not in COMMANDS:
            self.fail("translation_unknown_event_type", event_id, value=quoted(kind))
            return
        problem = command_problem(data)
        if problem is not None:
            self.refuse(problem, event_id)
        elif kind == "session.update":
            self._update(data["session"])
        elif kind == "session.input_audio_buffer.append":
            self._append(data["audio"], event_id)
        else:
            self._finish()

    # -- session.update -----------------------------------------------------------------------

    def _update(self, change: Json) -> None:
        audio = change.get("audio") or {}
        current = self.session["audio"]
        wanted = audio.get("input") or {}
        if "noise_reduction" in wanted:
            noise = wanted["noise_reduction"]
            if noise is not None:
                before = current["input"]["noise_reduction"] or {}
                strength = noise.get("strength")
                if strength is None:
                    strength = before.get("strength", 1.0)
                noise = {"type": noise["type"], "strength": float(strength)}
            current["input"]["noise_reduction"] = noise
        if "transcription" in wanted:
            current["input"]["transcription"] = copy.deepcopy(wanted["transcription"])
        language = (audio.get("output") or {}).get("language", "")
        if language is None:
            language = self._options().language
        if language:
            current["output"]["language"] = language
        self.send("session.updated", session=copy.deepcopy(self.session))

    # -- audio --------------------------------------------------------------------------------

    def _append(self, audio_b64: str, event_id: str | None) -> None:
        try:
            raw = b64decode(audio_b64)
        except ValueError:
            self.fail("append_bad_base64", event_id)
            return
        if not raw:
            self.fail("append_empty", event_id)
        elif len(raw) > MAX_APPEND_BYTES:
            self.fail("append_too_large", event_id, size=len(raw))
        elif len(raw) % 2:
            self.fail("translation_odd_length", event_id, size=len(raw))
        else:
            self.audio_bytes += len(raw)
            self.pending += raw
            translator = self._translator()
            while len(self.pending) >= FRAME_BYTES:
                frame = bytes(self.pending[:FRAME_BYTES])
                del self.pending[:FRAME_BYTES]
                translator.frame(frame)

    def _translator(self) -> Translator:
        assert self.translator is not None
        return self.translator

    # -- the end ------------------------------------------------------------------------------

    def _length(self) -> float:
        """The session's length cap (s): the fault plan's, else the options'."""
        return self._seconds if self._seconds is not None else self._options().session_seconds

    def _finish(self) -> None:
        """``session.close``: flush, then ``session.closed`` and a close frame 1000."""
        self.closing = True
        rest = bytes(self.pending)
        self.pending.clear()
        self._translator().flush(rest, lambda: self._end("session closed"))

    def _end(self, reason: str) -> None:
        if self.closed:
            return
        self.send("session.closed")
        self.close()
        self._close_socket(1000, reason)

    def expire(self) -> None:
        """End the session at its length cap: ``session_expired``, ``session.closed``, 1000."""
        if self.closed:
            return
        self.closing = True
        self.fail("session_expired", duration=_span(self._length()))
        self._end("session expired")

    def close(self) -> None:
        """Stop the timer and the output (the session is over or the socket gone)."""
        self.closing = self.closed = True
        if self._timer is not None:
            self._timer.cancel()
        if self.translator is not None:
            self.translator.close()

"""The output side of a GPT-Live session of the local server: its audio format and its mixer.

:class:`LiveFormat` is the session's one audio format (``audio/pcm`` at 24 or 16 kHz,
``audio/pcmu`` / ``audio/pcma`` at 8 kHz), both ways: it decodes what the client appends and
encodes what the model says.

:class:`Mixer` plays what the model says (:class:`Speech`) as ``session.output_audio.delta``
events (no ``event_id``, no ids: the primary-socket shape) with the words of each in
``session.output_transcript.delta`` events beside the audio that carries them. Speeches play
one after the other on one output timeline, at real-time pace: chunk ``k`` of a speech (``chunk_ms``
of audio) leaves ``lead_ms`` before it would start playing, so a client holds about
``lead_ms`` of audio, whatever the number of speeches. When the mixer falls behind (a busy
loop), a chunk whose time is wholly past is skipped, never sent late in a burst (its words are
still sent). ``pacing "fast"`` sends every chunk at once instead (for tests where time is not
the point). :meth:`Mixer.cut` stops the speech at a given moment (barge-in): no chunk due after
it leaves, and nothing queued plays.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from .. import kernels
from . import audio as au

__all__ = ["LiveFormat", "Mixer", "Speech"]

Json = dict[str, Any]
Pcm = npt.NDArray[np.int16]

#: The format of a fixture, whatever the session's: PCM16 at 24 kHz.
FIXTURE_RATE = 24000


@dataclass(frozen=True, slots=True)
class LiveFormat:
    """One GPT-Live audio format (``type`` as on the wire, ``rate`` in Hz)."""

    type: str = "audio/pcm"
    rate: int = 24000

    @classmethod
    def of(cls, wire: Json) -> LiveFormat:
        return cls(wire["type"], wire["rate"])

    @property
    def wire(self) -> Json:
        return {"type": self.type, "rate": self.rate}

    @property
    def width(self) -> int:
        """Bytes per sample: 2 for PCM16, 1 for G.711."""
        return 2 if self.type == "audio/pcm" else 1

    def ms(self, nbytes: int) -> float:
        """Milliseconds of audio in ``nbytes``."""
        return nbytes * 1000 / (self.rate * self.width)

    def nbytes(self, ms: float) -> int:
        """Bytes (whole samples) of ``ms`` of audio."""
        return int(self.rate * ms / 1000) * self.width

    def decode(self, raw: bytes) -> Pcm:
        """PCM16 samples of raw audio in this format (a trailing odd byte is ignored)."""
        if self.type == "audio/pcm":
            return au.decode_pcm16(raw, "pcm16")
        codes = np.frombuffer(raw, dtype=np.uint8)
        if self.type == "audio/pcmu":
            return kernels.ulaw_to_pcm16(codes)
        return kernels.alaw_to_pcm16(codes)

    def encode(self, pcm: Pcm) -> bytes:
        """Raw bytes in this format of PCM16 samples at this rate."""
        fmt = {"audio/pcm": "pcm16", "audio/pcmu": "g711_ulaw", "audio/pcma": "g711_alaw"}
        return au.encode_pcm16(pcm, fmt[self.type])

    def from_fixture(self, raw: bytes) -> bytes:
        """A fixture (PCM16 at 24 kHz) in this format, as long as the fixture."""
        pcm = au.decode_pcm16(raw, "pcm16")
        out = au.resample(pcm, FIXTURE_RATE, self.rate)
        return self.encode(out[: pcm.size * self.rate // FIXTURE_RATE])


def _words(text: str) -> list[str]:
    parts = text.split(" ") if text else []
    return [p if i == 0 else " " + p for i, p in enumerate(parts)]


@dataclass(eq=False, slots=True)
class Speech:
    """Something the model says: ``audio`` in the session format and the ``text`` said (its
    transcript; empty for a fixture). ``done`` is called once its last chunk has left the
    mixer (not when it is cut). ``not_before`` is the earliest wall-clock time (the mixer's
    clock) its first chunk may start playing, for a speech that must lag behind its cause."""

    audio: bytes
    text: str
    fixture: bool = False
    done: Callable[[], None] | None = None
    not_before: float = 0.0
    #: Set by the mixer: wall-clock start, timeline start (ms), next chunk, cut moment.
    t0: float = 0.0
    start_ms: float = 0.0
    next_chunk: int = 0
    cut_at: float | None = None
    words: list[str] = field(default_factory=list)


class Mixer:
    """The session's output (see the module docstring). ``timeline()`` is the session time
    (ms) now; ``send_audio`` gets each chunk's bytes, ``send_words`` each transcript piece with
    its ``start_ms`` / ``end_ms`` on the session timeline."""

    def __init__(
        self,
        *,
        fmt: LiveFormat,
        chunk_ms: int,
        lead_ms: int,
        pacing: Callable[[], str],
        clock: Callable[[], float],
        timeline: Callable[[], float],
        send_audio: Callable[[bytes], None],
        send_words: Callable[[str, int, int], None],
    ) -> None:
        self.fmt = fmt
        self.chunk_bytes = max(fmt.width, fmt.nbytes(chunk_ms))
        self.chunk_ms = fmt.ms(self.chunk_bytes)
        self.lead_s = lead_ms / 1000
        self._pacing = pacing
        self._clock = clock
        self._timeline = timeline
        self._send_audio = send_audio
        self._send_words = send_words
        self.current: Speech | None = None
        self.queue: collections.deque[Speech] = collections.deque()
        #: Output audio sent and skipped (ms), over the session.
        self.sent_ms = 0.0
        self.skipped_ms = 0.0
        self._free_at = 0.0  # wall time the audio sent so far ends playing
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def speaking(self) -> bool:
        """True while the model's speech (not a fixture) plays or waits to."""
        current = self.current
        if current is not None and not current.fixture and current.cut_at is None:
            return True
        return any(not s.fixture for s in self.queue)

    def say(self, speech: Speech) -> None:
        """Queue ``speech`` after whatever plays."""
        self.queue.append(speech)
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())
        self._wake.set()

    def cut(self, at: float | None = None) -> None:
        """Stop the speech playing at wall time ``at`` (now by default) and drop what is
        queued: the audio already sent stays sent, nothing due after ``at`` leaves."""
        when = self._clock() if at is None else at
        if self.current is not None:
            self.current.cut_at = when
        self.queue.clear()
        self._wake.set()

    def hurry(self) -> None:
        """Look again now: after the pacing turned ``"fast"``, a chunk waiting for its time
        leaves at once."""
        self._wake.set()

    def close(self) -> None:
        if self._task is not None:
            self._task.cancel()

    async def _run(self) -> None:
        while True:
            speech = self.current
            if speech is None:
                if not self.queue:
                    self._wake.clear()
                    await self._wake.wait()
                    continue
                speech = self.current = self.queue.popleft()
                now = self._clock()
                speech.t0 = max(now, self._free_at, speech.not_before)
                speech.start_ms = self._timeline() + (speech.t0 - now) * 1000
                speech.words = _words(speech.text)
            if not await self._step(speech):
                self.current = None
                if speech.cut_at is None and speech.done is not None:
                    speech.done()

    async def _step(self, speech: Speech) -> bool:
        """Send (or skip) the next chunk of ``speech``; False once it is over."""
        n = max(1, math.ceil(len(speech.audio) / self.chunk_bytes))
        k = speech.next_chunk
        chunk_s = self.chunk_ms / 1000
        start = speech.t0 + k * chunk_s
        if k >= n or (speech.cut_at is not None and start >= speech.cut_at):
            return False
        fast = self._pacing() == "fast"
        if not fast:
            delay = start - self.lead_s - self._clock()
            if delay > 0:
                self._wake.clear()
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), delay)
                return True  # woken early (a cut) or on time: look again
        speech.next_chunk = k + 1
        piece = speech.audio[k * self.chunk_bytes : (k + 1) * self.chunk_bytes]
        ms = self.fmt.ms(len(piece))
        if not fast and self._clock() >= start + ms / 1000:
            self.skipped_ms += ms  # wholly past: skip it rather than burst
        else:
            self._send_audio(piece)
            self.sent_ms += ms
            if not fast:
                self._free_at = start + ms / 1000
        words = speech.words
        first, last = k * len(words) // n, (k + 1) * len(words) // n
        if last > first:
            at = speech.start_ms + k * self.chunk_ms
            self._send_words("".join(words[first:last]), round(at), round(at + ms))
        if fast:
            await asyncio.sleep(0)
        return True

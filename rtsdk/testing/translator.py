"""The "translator" of a Realtime translation session of the local server: an interpreter that is
plainly not a model.

It consumes the input in 200 ms engine frames (:data:`~.translation_options.FRAME_MS`) on the
session timeline and listens with the energy VAD of :mod:`.vad` (no prefix padding: an
utterance starts at its first voiced 10 ms block and ends ``silence_ms`` after its last). It
does not understand a word; what it "translates" is the speech itself:

- **Audio.** Every frame during an utterance (from the frame of its first voiced block to the
  frame where the silence ends it) is played back unchanged as one
  ``session.output_audio.delta`` (``format: "pcm16"``, ``sample_rate: 24000``,
  ``channels: 1``): continuous interpretation, ``lag_ms`` behind the frame it came from, not
  after the utterance. Silence between utterances is not played.
- **Target transcript.** ``session.output_transcript.delta`` events beside that audio, in the
  target language's tag: when an utterance starts, ``"[fr] French (local translator, not a
  model):"``; when it ends, ``" speech 1.2 s."`` (its voiced length). Later utterances start
  with a space: the deltas join without one being inserted.
- **Source transcript.** Only while ``audio.input.transcription`` is configured: when an
  utterance ends, ``session.input_transcript.delta`` ``"[source] speech 1.2 s"`` (no lag: the
  source is heard as it comes).

``elapsed_ms`` is the session timeline at the end of the engine frame concerned (200, 400,
...): a source transcript carries its frame's, an output delta its source frame's plus
``lag_ms``. Output leaves through the GPT-Live mixer (:class:`~.live_mixer.Mixer`, one 200 ms
chunk per frame): with real-time pacing no earlier than ``lag_ms`` after its frame came in and
never faster than it plays (a chunk whose time is wholly past is skipped, never burst);
``"fast"`` as soon as the frame is consumed. :meth:`Translator.flush` (``session.close``)
translates what is left at once: the partial frame, the utterance in progress (ended now),
and every output still waiting.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..kernels import b64encode
from . import audio as au
from .live_mixer import LiveFormat, Mixer, Speech
from .translation_options import FRAME_MS
from .vad import EnergyVad

__all__ = ["LANGUAGE_NAMES", "RATE", "OutputFrame", "Translator", "language_name"]

#: The only rate of WebSocket translation audio, in and out.
RATE = 24000

#: The names the translator gives the commonest target languages (else it says the code).
LANGUAGE_NAMES = {
    "ar": "Arabic", "de": "German", "en": "English", "es": "Spanish", "fr": "French",
    "hi": "Hindi", "id": "Indonesian", "it": "Italian", "ja": "Japanese", "ko": "Korean",
    "nl": "Dutch", "pl": "Polish", "pt": "Portuguese", "ru": "Russian", "sv": "Swedish",
    "th": "Thai", "tr": "Turkish", "uk": "Ukrainian", "vi": "Vietnamese", "zh": "Chinese",
}  # fmt: skip


def language_name(code: str) -> str:
    """``"French"`` for ``fr`` / ``fr-CA``; the code itself for a language not in the table."""
    return LANGUAGE_NAMES.get(code.replace("_", "-").split("-")[0].lower(), code)


@dataclass(eq=False, slots=True, kw_only=True)
class OutputFrame(Speech):
    """The translation of one engine frame: its audio (empty when only words are left at a
    flush), the target transcript said with it, and its ``elapsed_ms``."""

    elapsed_ms: int = 0


class Translator:
    """The translator of one session (see the module docstring). ``send(type, **fields)``
    sends a server event with a fresh ``event_id``; ``language()`` is the target language now;
    ``transcribing()`` says whether the source is transcribed now; ``pacing()`` is read per
    chunk."""

    def __init__(
        self,
        *,
        send: Callable[..., None],
        language: Callable[[], str],
        transcribing: Callable[[], bool],
        pacing: Callable[[], str],
        clock: Callable[[], float],
        lag_ms: int,
        silence_ms: int,
        threshold: float,
    ) -> None:
        self._send = send
        self._language = language
        self._transcribing = transcribing
        self._clock = clock
        self.lag_ms = lag_ms
        self.silence_ms = silence_ms
        self.vad = EnergyVad(
            RATE, threshold=threshold, prefix_padding_ms=0, silence_duration_ms=silence_ms
        )
        #: Engine frames consumed (the session timeline is ``frames * 200`` ms).
        self.frames = 0
        #: Utterances heard, and output frames made.
        self.utterances = 0
        self.outputs = 0
        self.flushing = False
        self._onset_ms = 0.0
        self.mixer = Mixer(
            fmt=LiveFormat(),
            chunk_ms=FRAME_MS,
            lead_ms=0,
            pacing=lambda: "fast" if self.flushing else pacing(),
            clock=clock,
            timeline=lambda: self.frames * FRAME_MS,
            send_audio=self._audio,
            send_words=self._words,
        )

    @property
    def elapsed_ms(self) -> int:
        """The session timeline: ms of input consumed, in whole engine frames."""
        return self.frames * FRAME_MS

    def frame(self, raw: bytes) -> None:
        """Consume one engine frame (200 ms of 24 kHz PCM16)."""
        self._consume(raw, au.decode_pcm16(raw, "pcm16"))

    def flush(self, raw: bytes, done: Callable[[], None]) -> None:
        """Translate what is left at once (``raw``: the partial frame, maybe empty), end the
        utterance in progress, send every waiting output; then ``done()``."""
        self.flushing = True
        if raw or self.vad.in_speech:
            pad = np.zeros(RATE * (self.silence_ms + FRAME_MS) // 1000, np.int16)
            self._consume(raw, np.concatenate((au.decode_pcm16(raw, "pcm16"), pad)))
        mixer = self.mixer
        last = mixer.queue[-1] if mixer.queue else mixer.current
        if last is None:
            done()
            return
        then = last.done

        def finished() -> None:
            if then is not None:
                then()
            done()

        last.done = finished
        mixer.hurry()

    def close(self) -> None:
        self.mixer.close()

    # -- one frame ----------------------------------------------------------------------------

    def _consume(self, raw: bytes, heard: Any) -> None:
        speaking = self.vad.in_speech
        transitions = self.vad.process(heard)
        if raw:
            self.frames += 1
        said = ""
        for kind, ms in transitions:
            if kind == "started":
                self.utterances += 1
                self._onset_ms = ms
                said += self._opening()
            else:
                said += self._closing(ms)
        if speaking or transitions:
            self.outputs += 1
            self.mixer.say(
                OutputFrame(
                    audio=raw,
                    text=said,
                    not_before=self._clock() + self.lag_ms / 1000,
                    elapsed_ms=self.elapsed_ms + self.lag_ms,
                )
            )

    def _opening(self) -> str:
        code = self._language()
        space = " " if self.utterances > 1 else ""
        return f"{space}[{code}] {language_name(code)} (local translator, not a model):"

    def _closing(self, end_ms: float) -> str:
        seconds = (end_ms - self._onset_ms) / 1000
        if self._transcribing():
            space = " " if self.utterances > 1 else ""
            self._send(
                "session.input_transcript.delta",
                delta=f"{space}[source] speech {seconds:.1f} s",
                elapsed_ms=self.elapsed_ms,
            )
        return f" speech {seconds:.1f} s."

    # -- the mixer's output ---------------------------------------------------------------------

    def _current(self) -> OutputFrame:
        frame = self.mixer.current  # the speech whose chunk the mixer is sending
        assert isinstance(frame, OutputFrame)
        return frame

    def _audio(self, piece: bytes) -> None:
        if piece:
            self._send(
                "session.output_audio.delta",
                delta=b64encode(piece).decode("ascii"),
                elapsed_ms=self._current().elapsed_ms,
                format="pcm16",
                sample_rate=RATE,
                channels=1,
            )

    def _words(self, text: str, start_ms: int, end_ms: int) -> None:
        self._send(
            "session.output_transcript.delta", delta=text, elapsed_ms=self._current().elapsed_ms
        )

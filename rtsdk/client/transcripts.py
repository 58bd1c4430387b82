"""Finished turns of input transcription, one object each: :class:`Transcript`.

:class:`TranscriptAssembler` reads server events in order (from any session: a transcription
session, or a conversation with input transcription on) and hands back a :class:`Transcript`
when a turn's transcription is over (``...input_audio_transcription.completed`` or
``.failed``). It keeps what it needs from the events before: where the turn starts and ends in
the audio stream (``speech_started`` / ``speech_stopped``), the deltas, the log probabilities,
the diarization segments. :func:`iter_transcripts` / :func:`iter_transcripts_sync` turn an
event iterator (``client.events()``) into a transcript iterator; ``client.transcripts()`` uses
them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

from rtsdk.protocol import ServerEvent
from rtsdk.protocol import events as ev

__all__ = ["Transcript", "TranscriptAssembler", "iter_transcripts", "iter_transcripts_sync"]

Json = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Transcript:
    """One finished turn of input transcription.

    ``item_id``: the user item the turn became. ``text``: the whole transcript (``""`` when
    it failed). ``start_ms`` / ``end_ms``: where the speech starts and ends in the audio
    stream sent in this connection (ms of audio, from the VAD's ``speech_started`` /
    ``speech_stopped``; ``None`` for a turn committed by the app, which has no such events).
    ``language``: the language the server reported, else the one configured, else ``None``.
    ``logprobs``: ``[{"token", "logprob", "bytes"}, ...]`` when the session asked for them,
    else ``None``. ``segments``: diarization segments (``{"id", "text", "start", "end",
    "speaker"}``), in order. ``usage``: as the server reported it. ``error``: the server's
    error object when the transcription failed (then ``text`` is ``""``).
    """

    item_id: str
    text: str
    start_ms: int | None = None
    end_ms: int | None = None
    language: str | None = None
    logprobs: list[Json] | None = None
    segments: list[Json] = field(default_factory=list)
    usage: Json | None = None
    error: Json | None = None

    @property
    def ok(self) -> bool:
        """True unless the transcription of this turn failed."""
        return self.error is None

    def to_dict(self) -> Json:
        """A JSON-ready dict (for a JSON Lines transcript, say)."""
        out: Json = {
            "item_id": self.item_id,
            "text": self.text,
            "start_ms": self.start_ms,
            "end_ms": self.end_ms,
            "language": self.language,
        }
        if self.logprobs is not None:
            out["logprobs"] = self.logprobs
        if self.segments:
            out["segments"] = self.segments
        if self.usage is not None:
            out["usage"] = self.usage
        if self.error is not None:
            out["error"] = self.error
        return out


@dataclass(slots=True)
class _Turn:
    start_ms: int | None = None
    end_ms: int | None = None
    partial: str = ""
    logprobs: list[Json] | None = None
    segments: list[Json] = field(default_factory=list)


class TranscriptAssembler:
    """Server events in, finished :class:`Transcript` objects out (see the module docstring).

    ``language``: what the session was configured with (reported when the server names
    none). Turns are keyed by item id; a turn is forgotten once its transcript is out.
    """

    def __init__(self, *, language: str | None = None) -> None:
        self.language = language
        self._turns: dict[str, _Turn] = {}

    def partial(self, item_id: str) -> str:
        """The text of ``item_id`` so far (deltas received; ``""`` when none)."""
        turn = self._turns.get(item_id)
        return turn.partial if turn is not None else ""

    def _turn(self, item_id: str) -> _Turn:
        turn = self._turns.get(item_id)
        if turn is None:
            turn = self._turns[item_id] = _Turn()
        return turn

    def feed(self, event: ServerEvent) -> Transcript | None:
        """Take one event; return the transcript it finished, if any."""
        if isinstance(event, ev.InputAudioBufferSpeechStartedEvent):
            self._turn(event.item_id).start_ms = event.audio_start_ms
        elif isinstance(event, ev.InputAudioBufferSpeechStoppedEvent):
            self._turn(event.item_id).end_ms = event.audio_end_ms
        elif isinstance(event, ev.InputAudioTranscriptionDeltaEvent):
            turn = self._turn(event.item_id)
            turn.partial += event.delta or ""
            if event.logprobs is not None:
                turn.logprobs = (turn.logprobs or []) + list(event.logprobs)
        elif isinstance(event, ev.InputAudioTranscriptionSegmentEvent):
            self._turn(event.item_id).segments.append(
                {
                    "id": event.id,
                    "text": event.text,
                    "start": event.start,
                    "end": event.end,
                    "speaker": event.speaker,
                }
            )
        elif isinstance(event, ev.InputAudioTranscriptionCompletedEvent):
            turn = self._turns.pop(event.item_id, _Turn())
            logprobs = list(event.logprobs) if event.logprobs is not None else turn.logprobs
            return Transcript(
                item_id=event.item_id,
                text=event.transcript,
                start_ms=turn.start_ms,
                end_ms=turn.end_ms,
                language=_language(event.languages) or self.language,
                logprobs=logprobs,
                segments=turn.segments,
                usage=event.usage if isinstance(event.usage, dict) else None,
            )
        elif isinstance(event, ev.InputAudioTranscriptionFailedEvent):
            turn = self._turns.pop(event.item_id, _Turn())
            return Transcript(
                item_id=event.item_id,
                text="",
                start_ms=turn.start_ms,
                end_ms=turn.end_ms,
                language=self.language,
                segments=turn.segments,
                error=dict(event.error) if isinstance(event.error, dict) else {},
            )
        elif isinstance(event, ev.ConversationItemDeletedEvent):
            self._turns.pop(event.item_id, None)
        return None


def _language(languages: Any) -> str | None:
    if isinstance(languages, list):
        for entry in languages:
            if isinstance(entry, dict) and isinstance(entry.get("code"), str):
                return str(entry["code"])
    return None


async def iter_transcripts(
    events: AsyncIterator[ServerEvent], *, language: str | None = None
) -> AsyncIterator[Transcript]:
    """The transcripts of the turns finished in ``events``, in order, until it ends."""
    assembler = TranscriptAssembler(language=language)
    async for event in events:
        transcript = assembler.feed(event)
        if transcript is not None:
            yield transcript


def iter_transcripts_sync(
    events: Iterator[ServerEvent], *, language: str | None = None
) -> Iterator[Transcript]:
    """:func:`iter_transcripts` for a synchronous event iterator."""
    assembler = TranscriptAssembler(language=language)
    for event in events:
        transcript = assembler.feed(event)
        if transcript is not None:
            yield transcript

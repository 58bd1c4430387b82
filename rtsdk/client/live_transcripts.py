"""GPT-Live's transcript as lines: :class:`TranscriptLine` and :class:`LiveTranscriptGrouper`.

GPT-Live sends transcript fragments on the session timeline (``session.input_transcript.delta``
for the user, ``session.output_transcript.delta`` for the model: text, ``start_ms``,
``end_ms``), with no item ids and no "done" event; fragments of both speakers interleave. The
grouper joins one speaker's fragments, exactly as received, into a line, and finishes the line
when that speaker pauses longer than ``gap_ms``, when the other speaker goes on after the
line's end (a turn of the conversation; not in a translation, whose two streams run side by
side), or when the session ends.

A translation session sends the same two event types, for the source speech and its
translation, stamped with ``elapsed_ms`` (200 ms steps of the input) instead of a span: a
fragment there covers ``elapsed_ms`` to ``elapsed_ms + 200``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

from rtsdk.protocol import ServerEvent

__all__ = ["LiveTranscriptGrouper", "TranscriptLine", "iter_live_lines", "iter_live_lines_sync"]

_KINDS = ("session.input_transcript.delta", "session.output_transcript.delta")
#: The span a translation transcript fragment covers (the service's engine frame).
_FRAME_MS = 200


@dataclass(frozen=True, slots=True)
class TranscriptLine:
    """One finished line of a GPT-Live transcript.

    ``speaker``: ``"user"`` or ``"assistant"`` (GPT-Live), ``"source"`` or ``"target"`` (a
    translation). ``text``: the fragments joined as received.
    ``start_ms`` / ``end_ms``: where the line lies on the session timeline (ms since the
    GPT-Live session started; a reconnect starts a new timeline). ``session_id``: the GPT-Live
    session it belongs to, when known.
    """

    speaker: str
    text: str
    start_ms: int
    end_ms: int
    session_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "speaker": self.speaker,
            "text": self.text,
            "start_ms": self.start_ms,
            "end_ms": self.end_ms,
            "session_id": self.session_id,
        }


class LiveTranscriptGrouper:
    """Transcript delta events in, finished :class:`TranscriptLine` objects out."""

    def __init__(
        self,
        *,
        gap_ms: int = 1500,
        speakers: tuple[str, str] = ("user", "assistant"),
        turns: bool = True,
    ) -> None:
        self.gap_ms = gap_ms
        self._speakers = dict(zip(_KINDS, speakers, strict=True))
        self._turns = turns
        self._open: dict[str, list[Any]] = {}  # speaker -> [text, start, end]
        self._session_id: str | None = None

    def feed(self, event: ServerEvent) -> list[TranscriptLine]:
        """The lines ``event`` finishes (often none)."""
        kind = event.type
        speaker = self._speakers.get(kind)
        if speaker is None:
            if kind in ("session.started", "session.created"):
                ended = self.flush()  # a new session: a new timeline
                session = getattr(event, "session", {})
                sid = session.get("id") if isinstance(session, dict) else None
                self._session_id = sid if isinstance(sid, str) else None
                return ended
            if kind in ("session.closed", "rtsdk.disconnected", "rtsdk.reconnecting"):
                return self.flush()
            return []
        delta = getattr(event, "delta", "")
        start = getattr(event, "start_ms", None)
        if start is None:  # a translation's fragment: its 200 ms frame
            elapsed = getattr(event, "elapsed_ms", None)
            mine = self._open.get(speaker)
            start = elapsed if isinstance(elapsed, int) else (mine[2] if mine else 0)
            end = start + _FRAME_MS
        else:
            end = getattr(event, "end_ms", start)
        done: list[TranscriptLine] = []
        if self._turns:
            other = next(s for s in self._speakers.values() if s != speaker)
            line = self._open.get(other)
            if line is not None and start >= line[2]:
                done.append(self._finish(other))
        mine = self._open.get(speaker)
        if mine is not None and start - mine[2] > self.gap_ms:
            done.append(self._finish(speaker))
            mine = None
        if mine is None:
            self._open[speaker] = [delta, start, end]
        else:
            mine[0] += delta
            mine[2] = max(mine[2], end)
        return done

    def _finish(self, speaker: str) -> TranscriptLine:
        text, start, end = self._open.pop(speaker)
        return TranscriptLine(speaker, text, start, end, self._session_id)

    def flush(self) -> list[TranscriptLine]:
        """Finish every open line (the session ended), in timeline order."""
        lines = [self._finish(s) for s in list(self._open)]
        return sorted(lines, key=lambda line: line.start_ms)


def grouper_for(session_type: str) -> LiveTranscriptGrouper:
    """The grouper of a session type: ``"live"`` or ``"translation"``."""
    if session_type == "translation":
        return LiveTranscriptGrouper(speakers=("source", "target"), turns=False)
    return LiveTranscriptGrouper()


async def iter_live_lines(
    events: AsyncIterator[ServerEvent], session_type: str = "live"
) -> AsyncIterator[TranscriptLine]:
    """The transcript lines finished in ``events``, in order, until it ends (then the rest)."""
    grouper = grouper_for(session_type)
    async for event in events:
        for line in grouper.feed(event):
            yield line
    for line in grouper.flush():
        yield line


def iter_live_lines_sync(
    events: Iterator[ServerEvent], session_type: str = "live"
) -> Iterator[TranscriptLine]:
    """:func:`iter_live_lines` for a synchronous event iterator."""
    grouper = grouper_for(session_type)
    for event in events:
        yield from grouper.feed(event)
    yield from grouper.flush()

"""GPT-Live's transcript as lines: :class:`TranscriptLine` and :class:`LiveTranscriptGrouper`.

GPT-Live sends transcript fragments on the session timeline (``session.input_transcript.delta``
for the user, ``session.output_transcript.delta`` for the model: text, ``start_ms``,
``end_ms``), with no item ids and no "done" event; fragments of both speakers interleave. The
grouper joins one speaker's fragments, exactly as received, into a line, and finishes the line
when that speaker pauses longer than ``gap_ms``, when the other speaker goes on after the
line's end (a turn of the conversation), or when the session ends.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

from rtsdk.protocol import ServerEvent

__all__ = ["LiveTranscriptGrouper", "TranscriptLine", "iter_live_lines", "iter_live_lines_sync"]

_KINDS = {"session.input_transcript.delta": "user", "session.output_transcript.delta": "assistant"}


@dataclass(frozen=True, slots=True)
class TranscriptLine:
    """One finished line of a GPT-Live transcript.

    ``speaker``: ``"user"`` or ``"assistant"``. ``text``: the fragments joined as received.
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

    def __init__(self, *, gap_ms: int = 1500) -> None:
        self.gap_ms = gap_ms
        self._open: dict[str, list[Any]] = {}  # speaker -> [text, start, end]
        self._session_id: str | None = None

    def feed(self, event: ServerEvent) -> list[TranscriptLine]:
        """The lines ``event`` finishes (often none)."""
        kind = event.type
        speaker = _KINDS.get(kind)
        if speaker is None:
            if kind == "session.started":
                ended = self.flush()  # a new session: a new timeline
                session = getattr(event, "session", {})
                sid = session.get("id") if isinstance(session, dict) else None
                self._session_id = sid if isinstance(sid, str) else None
                return ended
            if kind in ("session.closed", "rtsdk.disconnected", "rtsdk.reconnecting"):
                return self.flush()
            return []
        delta = getattr(event, "delta", "")
        start = getattr(event, "start_ms", 0)
        end = getattr(event, "end_ms", start)
        done: list[TranscriptLine] = []
        other = "assistant" if speaker == "user" else "user"
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


async def iter_live_lines(events: AsyncIterator[ServerEvent]) -> AsyncIterator[TranscriptLine]:
    """The transcript lines finished in ``events``, in order, until it ends (then the rest)."""
    grouper = LiveTranscriptGrouper()
    async for event in events:
        for line in grouper.feed(event):
            yield line
    for line in grouper.flush():
        yield line


def iter_live_lines_sync(events: Iterator[ServerEvent]) -> Iterator[TranscriptLine]:
    """:func:`iter_live_lines` for a synchronous event iterator."""
    grouper = LiveTranscriptGrouper()
    for event in events:
        yield from grouper.feed(event)
    yield from grouper.flush()

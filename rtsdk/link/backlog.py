"""What the link keeps of what was sent: the backlog while disconnected, and the control frames
written on the current connection that the server has not yet shown it received.

:class:`SendBacklog` holds frames sent while the link is down (control frames up to
``max_backlog``, audio no older than ``audio_window`` seconds), in order, for the next
connection.

:class:`Unacknowledged` holds, per connection, the *tags* (the control events as dicts) of the
frames written to the socket, oldest first. A frame written to a socket is not a frame
received: when a connection dies silently (a one-way outage, a reset), whatever it carried
since the server's last answer may be gone. The session layer, which reads the server's
events, calls :meth:`Unacknowledged.acknowledge` when one of them shows the server got a
frame (a server processes a connection's events in order, so every frame before it was got
too); at the next connection, :meth:`Unacknowledged.take` gives back the rest, to be sent
again or reported.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Any

from rtsdk.exceptions import ConnectionClosedError

__all__ = ["SendBacklog", "Unacknowledged"]

Json = dict[str, Any]


class SendBacklog:
    """Frames kept while disconnected (see the module docstring)."""

    def __init__(self, max_frames: int, audio_window: float, stats: Any) -> None:
        self.max_frames = max_frames
        self.audio_window = audio_window
        self.stats = stats  # audio_frames_dropped, backlog_high_water
        #: (kept at, frame, audio, tag)
        self.frames: deque[tuple[float, str | bytes, bool, Json | None]] = deque()

    def __len__(self) -> int:
        return len(self.frames)

    def __bool__(self) -> bool:
        return bool(self.frames)

    @property
    def has_audio(self) -> bool:
        """True when audio frames wait."""
        return any(entry[2] for entry in self.frames)

    def add(self, now: float, frame: str | bytes, audio: bool, tag: Json | None) -> None:
        """Keep one frame; a full backlog drops its oldest audio frame first, then refuses."""
        self.drop_stale_audio(now)
        frames = self.frames
        if len(frames) >= self.max_frames:
            for i, entry in enumerate(frames):
                if entry[2]:
                    del frames[i]
                    self.stats.audio_frames_dropped += 1
                    break
            else:
                if audio:
                    self.stats.audio_frames_dropped += 1
                    return
                raise ConnectionClosedError(
                    f"send backlog full ({self.max_frames} control frames) while disconnected"
                )
        frames.append((now, frame, audio, tag))
        self._note_high_water()

    def put_first(self, now: float, frames: list[tuple[str | bytes, Json]]) -> None:
        """Control frames (with their tags) to go before everything kept, in this order."""
        self.frames.extendleft((now, frame, False, tag) for frame, tag in reversed(frames))
        self._note_high_water()

    def _note_high_water(self) -> None:
        if len(self.frames) > self.stats.backlog_high_water:
            self.stats.backlog_high_water = len(self.frames)

    def drop_stale_audio(self, now: float) -> None:
        """Drop (and count) audio kept longer than ``audio_window``."""
        horizon = now - self.audio_window
        frames = self.frames
        if not any(audio and t < horizon for t, _, audio, _ in frames):
            return
        kept = [entry for entry in frames if not (entry[2] and entry[0] < horizon)]
        self.stats.audio_frames_dropped += len(frames) - len(kept)
        self.frames = deque(kept)


class Unacknowledged:
    """Tags of control frames written on the current connection, not yet acknowledged."""

    #: tags kept at most (the oldest let go first): a server that never answers cannot
    #: make the link hold every control event it was ever sent
    LIMIT = 4096

    def __init__(self) -> None:
        self.tags: deque[Json] = deque(maxlen=self.LIMIT)

    def __len__(self) -> int:
        return len(self.tags)

    def written(self, tag: Json) -> None:
        """A tagged frame went to the socket."""
        self.tags.append(tag)

    def acknowledge(self, acks: Callable[[Json], bool]) -> None:
        """Drop the oldest tag ``acks`` accepts and every tag before it."""
        tags = self.tags
        for i, tag in enumerate(tags):
            if acks(tag):
                for _ in range(i + 1):
                    tags.popleft()
                return

    def take(self) -> list[Json]:
        """The tags still unacknowledged (oldest first); forgets them."""
        tags = list(self.tags)
        self.tags.clear()
        return tags

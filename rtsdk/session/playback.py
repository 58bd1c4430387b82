"""Where the service hands the assistant's audio: a playback, or a sink that takes it undecoded.

:class:`~rtsdk.session.service.RealtimeAIServiceManager` sends each output audio delta to one of
these (``service.playback``, or ``service.raw_audio`` when a bridge passes the audio on as it came).
"""

from __future__ import annotations

from typing import Any, Protocol

__all__ = ["AudioPlayback", "RawAudioSink"]


class AudioPlayback(Protocol):
    """What the service needs from a playback path (``AudioStreamManager`` implements it)."""

    def play(self, item_id: str, data: bytes) -> None:
        """Queue ``data`` (session-format audio of assistant item ``item_id``) for playback."""

    def interrupt(self) -> list[tuple[str, int]]:
        """Stop playback now; the samples (session rate) played per item since last asked."""

    def take_played(self) -> list[tuple[str, int]]:
        """The samples (session rate) played per item since last asked."""

    def end_item(self, item_id: str | None = None) -> None:
        """All audio of ``item_id`` has arrived: play out its tail without waiting."""


class RawAudioSink(Protocol):
    """Takes output audio deltas as they came, undecoded (a phone bridge passes the base64 on).

    With a sink set, :meth:`splice` sees every received frame first (an ``audio_tap`` still
    gets each delta decoded, and the playback gets none); it returns ``None`` for
    any other event (then parsed as usual), raises :class:`ValueError` for a malformed delta,
    or returns ``(response_id, item_id, nbytes, spliced)``; ``spliced`` goes to
    :meth:`play_spliced` when the session keeps that audio (not dropped by a barge-in).
    """

    def splice(self, frame: bytes) -> tuple[str, str, int, Any] | None:
        """The delta in ``frame``, in the sink's own form, or ``None`` for other events."""

    def play_spliced(self, item_id: str, nbytes: int, spliced: Any) -> None:
        """Play what :meth:`splice` made of a delta of ``item_id`` (``nbytes`` of audio)."""

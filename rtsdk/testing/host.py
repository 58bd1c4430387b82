"""What the parts of one local-server session use of the session and of its responses.

The conversation handlers (:mod:`.items`), input transcription (:mod:`.transcribe`), the
response streamer (:mod:`.responses`) and the MCP steps (:mod:`.mcp`) all act on the session
that owns them, and the MCP steps and the item handlers on a response in progress. They see
those through the two protocols here, each naming what they call: :class:`SessionHost`
(a :class:`~rtsdk.testing.session.RealtimeSession` is one) and :class:`ResponseHost` (a
:class:`~rtsdk.testing.responses.ResponseRun` is one). So none of them imports the module
that imports them.
"""

from __future__ import annotations

from typing import Any, Protocol

from ..protocol import events as ev
from .buffer import InputAudioBuffer

__all__ = ["ResponseHost", "SessionHost"]

Json = dict[str, Any]


class ResponseHost(Protocol):
    """A response in progress, as its session and the MCP steps see it."""

    @property
    def session(self) -> SessionHost:
        """The session the response belongs to."""

    @property
    def id(self) -> str:
        """The response id (``resp_…``)."""

    @property
    def output(self) -> list[Json]:
        """The output items so far, the current one last."""

    @property
    def part_kind(self) -> str | None:
        """``"audio"`` or ``"text"`` once the current message's content part is open."""

    @property
    def audio_so_far(self) -> bytes:
        """Audio generated so far for the current item (output format)."""

    def item_so_far(self) -> Json | None:
        """The item being generated as it stands (None before the first)."""

    def open_item(self, item: Json) -> None:
        """Add an output item (and, in the conversation, announce it there)."""

    def playback_left_ms(self, now: float) -> float:
        """How much of the audio sent would still be playing at ``now`` (clock seconds)."""


class SessionHost(Protocol):
    """The session a handler, a transcription or a response acts on."""

    #: Set once the session has sent assistant audio (the voice is locked from then on).
    audio_produced: bool

    @property
    def session(self) -> Json:
        """The effective session config."""

    @property
    def items(self) -> list[Json]:
        """The conversation, in order."""

    @property
    def buffer(self) -> InputAudioBuffer:
        """The input audio buffer (format, VAD parameters)."""

    @property
    def chunk_ms(self) -> int:
        """Milliseconds of audio per output delta."""

    @property
    def pacing(self) -> str:
        """``"fast"`` or ``"realtime"``."""

    @property
    def transcription_failures(self) -> list[int]:
        """One entry per upcoming turn whose transcription fails."""

    def new_id(self, prefix: str) -> str:
        """A fresh id in the service's style (``prefix_…``)."""

    def now(self) -> float:
        """The session's clock (seconds)."""

    def send(self, cls: type[ev.ServerEvent], **fields: Any) -> None:
        """Build a typed server event with a fresh ``event_id`` and send it."""

    def fail(self, key: str, *, event_id: str | None = None, **fields: Any) -> None:
        """Send the ``error`` event of catalogue entry ``key`` (the session goes on)."""

    def snapshot(self, item: Json) -> Json:
        """A copy of an item as sent (no audio bytes)."""

    def find(self, item_id: str) -> int:
        """Index of an item in the conversation, -1 if absent."""

    def previous_of(self, item_id: str) -> str | None:
        """Id of the item before ``item_id`` in the conversation (None if first)."""

    def conversation_add(self, item: Json, after: str | None = None, root: bool = False) -> None:
        """Insert ``item`` (at the end, at the start, or after ``after``) and announce it."""

    def item_final(self, item: Json) -> None:
        """Announce that ``item`` is done."""

    def store_audio(self, item_id: str, raw: bytes, fmt: str) -> None:
        """Keep an item's audio."""

    def forget_audio(self, item_id: str) -> None:
        """Drop an item's audio."""

    def item_audio(self, item_id: str) -> tuple[bytes, str] | None:
        """An item's audio so far and its format."""

    def generating(self, item_id: str) -> ResponseHost | None:
        """The response still generating conversation item ``item_id``, if any."""

    def end_response_of(self, item_id: str) -> None:
        """End (``cancelled``) a response still generating ``item_id``."""

    def model_retired(self, model: Any) -> bool:
        """True when ``model`` is past its shutdown date."""

    def continue_after_approval(self) -> None:
        """An MCP approval was answered: the model goes on by itself."""

    def response_finished(self, run: ResponseHost) -> None:
        """Called by a response once its ``response.done`` is out."""

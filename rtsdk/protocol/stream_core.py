"""What the cores of the continuous protocols share: :class:`OneStreamCore`.

GPT-Live and Realtime translation sessions have no turns: one id-less output stream
(``session.output_audio.delta``, counted under the output id ``""``), nothing to truncate or
cancel, no response clock, and every send held behind the link's gate until the server confirms
the session. Each core (:class:`~rtsdk.protocol.live_core.LiveCore`,
:class:`~rtsdk.protocol.translation.TranslationCore`) adds its own handshake, events and
intents on top.
"""

from __future__ import annotations

from typing import Any

from .. import kernels
from .codec import encode_event
from .state import ItemAudio

__all__ = ["OneStreamCore"]

Json = dict[str, Any]


class OneStreamCore:
    """The seam members a continuous protocol's core shares (see the module docstring)."""

    decode_output_audio = staticmethod(kernels.decode_session_audio_delta)
    #: the event type of output audio (parsed only when someone listens to it)
    output_audio_event = "session.output_audio.delta"
    #: nothing (audio included) goes out before the server confirmed the session
    gate_sends = True
    #: no acknowledgements tracked unless a core says so (see :mod:`.acks`)
    tracks_acks = False
    resent: list[Json] = []  # noqa: RUF012 -- never mutated here; a tracking core sets its own
    unsent: list[Json] = []  # noqa: RUF012

    @staticmethod
    def acknowledges(event: Any, sent: Json) -> bool:
        """Whether server ``event`` shows the server got ``sent`` (untracked: never)."""
        return False

    def take_back(self, sent: list[Json]) -> None:
        """Client events a dead connection never confirmed (untracked: nothing to do)."""

    def _init_stream(self) -> None:
        self.audio: dict[str, ItemAudio] = {"": ItemAudio("")}
        self._received_before = 0
        #: output audio deltas dropped because they could not be played (odd PCM16 length)
        self.malformed_audio = 0

    @property
    def width(self) -> int:
        """Bytes per sample of the session's audio (PCM16 unless a core says otherwise)."""
        return 2

    def _new_stream(self) -> None:
        """A new connection: a new output stream (the bytes received so far stay counted)."""
        self._received_before += self.audio[""].received
        self.audio = {"": ItemAudio("")}

    @property
    def received_audio_bytes(self) -> int:
        return self._received_before + self.audio[""].received

    @staticmethod
    def encode(frame: Json) -> str:
        return encode_event(frame)

    @staticmethod
    def asks_response(frame: Json) -> bool:
        return False  # no turns: the latency clock is the audio's

    @staticmethod
    def input_intent(frame: Json) -> str | None:
        return None

    @staticmethod
    def interrupts_playback(event: Any) -> bool:
        return False  # no event announces that the output stopped: it just stops

    def barge_in(self, *, cancel: bool | None = None) -> list[Json]:
        return []

    def audio_received(self, item_id: str, nbytes: int, response_id: str = "") -> bool:
        if nbytes & 1 and self.width == 2:  # not whole PCM16 samples: dropped, counted
            self.malformed_audio += 1
            return False
        self.audio[""].received += nbytes
        return True

    def audio_played(self, item_id: str, samples: int) -> None:
        self.audio[""].played += samples * self.width

    @staticmethod
    def plays_audio(item_id: str, response_id: str) -> bool:
        return True

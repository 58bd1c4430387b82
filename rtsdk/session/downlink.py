"""The service's output-audio receive path: each delta from the frame to the playback.

A part of :class:`~rtsdk.session.service.RealtimeAIServiceManager` (it inherits
:class:`OutputAudio`): the service tries :meth:`OutputAudio._take_audio` on every received
frame before parsing it.

- An output audio delta is recognised and decoded by the core's compiled
  ``decode_output_audio`` (for Realtime :func:`~rtsdk.kernels.decode_audio_delta`; no JSON parse),
  counted by the protocol core, handed to the playback, and parsed as an event only when
  someone listens to audio deltas. With a raw sink (a phone bridge), the delta goes to the sink
  undecoded instead.
- The shortcut: once a delta of an item has been played, the next deltas of that item skip
  even that. The playback's :class:`~rtsdk.kernels.DeltaPlayer` is armed with the item's ids and
  installed as the link's ``frame_filter``, so each following delta goes from the link's read
  callback into the playback ring in one compiled call, with the core's byte count and the
  playback's accounting kept exact. It is armed only while nothing could change what happens to
  those deltas: no one listens to them or taps their response, the core still plays the item,
  and the playback can take them in order. Every other frame disarms it while it is handled
  (and re-arms it afterwards when nothing changed, e.g. a transcript delta between two audio
  deltas); so do the app's intents, a barge-in and the link's events.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from rtsdk.link.websocket import WebSocketManager
from rtsdk.protocol import ServerEvent
from rtsdk.protocol.core import ProtocolCore
from rtsdk.session.dispatch import EventDispatcher
from rtsdk.session.metrics import SessionMetrics
from rtsdk.session.playback import AudioPlayback, RawAudioSink

__all__ = ["OutputAudio"]

log = logging.getLogger("rtsdk.service")


class OutputAudio:
    """Output audio deltas to the playback (or a raw sink); see the module docstring."""

    # the service's (set in its __init__)
    metrics: SessionMetrics
    state: ProtocolCore
    dispatcher: EventDispatcher
    playback: AudioPlayback | None
    raw_audio: RawAudioSink | None
    _link: WebSocketManager | None

    def _init_output_audio(self) -> None:
        #: Called with ``(response_id, item_id, audio)`` for the decoded audio of every output
        #: audio delta of the responses it wants (``audio_tap_wants``; None: all of them),
        #: whether or not it is played.
        self.audio_tap: Callable[[str, str, bytes], None] | None = None
        self.audio_tap_wants: Callable[[str], bool] | None = None
        self._player: Any = None  # the playback's delta player, once armed
        self._player_of: object = None  # the playback it belongs to
        self._armed: tuple[str, str] | None = None  # (response, item) the player plays

    def _publish(self, event: ServerEvent) -> None:
        raise NotImplementedError

    def _tapped(self, response_id: str) -> bool:
        """Whether ``audio_tap`` takes this response's audio."""
        if self.audio_tap is None:
            return False
        wants = self.audio_tap_wants
        return wants is None or wants(response_id)

    def _take_audio(self, frame: bytes) -> bool:
        """Handle ``frame`` when it is an output audio delta; False for anything else (and for
        a malformed delta: the parser reports it)."""
        raw = self.raw_audio
        if raw is not None:  # a bridge takes the audio undecoded (telephony)
            return self._take_raw(raw, frame)
        try:
            delta = self.state.decode_output_audio(frame)
        except ValueError:
            return False
        if delta is None:
            return False
        response_id, item_id, audio = delta
        self.metrics.first_output(response_id)
        tap = self.audio_tap
        if tap is not None and self._tapped(response_id):
            tap(response_id, item_id, audio)
        if self.state.audio_received(item_id, len(audio), response_id):
            playback = self.playback
            if playback is not None:
                try:
                    playback.play(item_id, audio)
                except Exception:
                    log.exception("playback failed for item %s", item_id)
                else:
                    self._arm(response_id, item_id)  # (not while the tap takes this audio)
        if self.dispatcher.wants_audio:
            self._publish(self.state.parse(frame))
        return True

    def _take_raw(self, sink: RawAudioSink, frame: bytes) -> bool:
        try:
            spliced = sink.splice(frame)
        except ValueError:
            return False
        if spliced is None:
            return False
        response_id, item_id, nbytes, data = spliced
        self.metrics.first_output(response_id)
        tap = self.audio_tap
        if tap is not None and self._tapped(response_id):
            found = self.state.decode_output_audio(frame)  # the tap's contract: decoded audio
            if found is not None:
                tap(response_id, item_id, found[2])
        if self.state.audio_received(item_id, nbytes, response_id):
            try:
                sink.play_spliced(item_id, nbytes, data)
            except Exception:
                log.exception("raw audio sink failed for item %s", item_id)
        if self.dispatcher.wants_audio:
            self._publish(self.state.parse(frame))
        return True

    def _arm(self, response_id: str, item_id: str) -> None:
        """Let the next deltas of this item take the shortcut, if nothing stands in the way."""
        playback = self.playback
        if playback is None or self.dispatcher.wants_audio:
            return
        if self._tapped(response_id):
            return
        if not self.state.plays_audio(item_id, response_id):
            return
        if playback is not self._player_of:
            self._player_of = playback
            self._player = getattr(playback, "delta_player", None)
            if self._link is not None:
                self._link.frame_filter = None if self._player is None else self._player.play
        if self._player is not None and playback.arm_fast(  # type: ignore[attr-defined]
            response_id, item_id, self.state.audio[item_id]
        ):
            self._armed = (response_id, item_id)

    def _disarm(self) -> None:
        self._armed = None
        player = self._player
        if player is not None:
            player.disarm()

"""Output audio deltas straight into a playback ring (twin of ``rtsdk._kernels.delta_player``).

A :class:`DeltaPlayer` is the playback's shortcut for the common case of a streaming reply:
once the session has accepted one delta of an item for playback, it *arms* the player with
that item's ids, and the following deltas of the same item go from the frame's text to the
ring in one call (parse, base64 decode, PCM16 or G.711 to float32, the playback's own streaming
resampler, one ring write), then ``on_played(nbytes, session_samples, ring_samples)`` does the
bookkeeping. Everything else is *declined* (``-1``) before anything changes, and the caller
takes its ordinary path: a frame that is not an audio delta, a delta of other ids, one that is
malformed or empty, one larger than :data:`MAX_DELTA_SAMPLES`, or one whose resampled audio
does not fit in the ring (the ordinary path queues it behind the ring, in order).

Armed with two empty ids (``arm("", "", ...)``), the player takes the id-less
``session.output_audio.delta`` frames of GPT-Live and Realtime translation sessions instead (any
other key, such as a sideband copy's ``start_ms``/``end_ms``, is ignored) and declines Realtime
deltas; armed with ids, it declines ``session.output_audio.delta``.

The caller disarms the player whenever anything else happens (another event, a barge-in, a
backlog behind the ring), so a played delta always is exactly what the ordinary path would
have done with it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Final

import numpy as np

from rtsdk._reference.b64 import b64decode
from rtsdk._reference.framing import DELTA_TYPES, SESSION_DELTA_TYPE
from rtsdk._reference.g711 import alaw_to_pcm16, ulaw_to_pcm16
from rtsdk._reference.pcm import pcm16_to_float32

__all__ = ["DeltaPlayer"]

#: The session formats, in the compiled kernel's order.
FORMATS: Final = ("pcm16", "g711_ulaw", "g711_alaw")
#: Larger deltas (about 20 s at 24 kHz) are declined: the ordinary path takes them.
MAX_DELTA_SAMPLES: Final = 1 << 19


def _out_frames(rs: Any, frames: int) -> int:
    """What the twin resampler's next ``process`` returns for ``frames`` inputs."""
    d = rs._d
    return int(-(-(d.up * (rs._n_in + frames)) // d.down) - rs._n_out)


class DeltaPlayer:
    """Plays the output audio deltas of one armed item straight into a playback ring.

    ``DeltaPlayer(session_format, resampler, ring, on_played)``: ``session_format`` is
    ``"pcm16"``, ``"g711_ulaw"`` or ``"g711_alaw"``; ``resampler`` (session rate -> ring rate)
    and ``ring`` (float32 samples) are the playback's own; ``on_played(nbytes, session_samples,
    ring_samples)`` is called after each delta the player wrote.

    Armed with two empty ids (``arm("", "", ...)``) it plays the id-less
    ``session.output_audio.delta`` frames of a GPT-Live or translation session instead, and
    declines Realtime deltas; armed with ids it declines ``session.output_audio.delta``.
    """

    def __init__(
        self,
        session_format: str,
        resampler: Any,
        ring: Any,
        on_played: Callable[[int, int, int], object],
    ) -> None:
        if session_format not in FORMATS:
            raise ValueError(
                f"session_format must be one of {', '.join(FORMATS)}, got {session_format!r}"
            )
        if resampler is None or ring is None or on_played is None:
            raise TypeError("DeltaPlayer needs a resampler, a ring and an on_played callback")
        if resampler.channels != 1:
            raise ValueError(f"the resampler must be mono, got {resampler.channels} channels")
        self._fmt = session_format
        self._rs = resampler
        self._ring = ring
        self._on_played = on_played
        self._ids: tuple[str, str] | None = None
        self._counter: Any = None
        self._floor = 0
        #: most ring samples queued after a delta played here
        self.high_water = 0
        #: deltas played here
        self.played = 0
        #: frames declined while armed
        self.declined = 0

    @property
    def armed(self) -> bool:
        """True while deltas of the armed ids are played here."""
        return self._ids is not None

    def arm(self, response_id: str, item_id: str, counter: Any = None, floor: int = 0) -> None:
        """Play the following deltas of ``item_id`` in ``response_id`` here; each adds its
        byte count to ``counter.received`` (when a counter is given). ``floor``: a ring byte
        position (a discard in progress) before which audio does not count in
        :attr:`high_water`. Both ids empty: play the id-less ``session.output_audio.delta``
        frames (GPT-Live, translation) and nothing else."""
        if not isinstance(response_id, str) or not isinstance(item_id, str):
            raise TypeError("arm() takes the response id and the item id as str")
        self._ids = (response_id, item_id)
        self._counter = counter
        self._floor = int(floor)

    def disarm(self) -> None:
        """Decline every delta until armed again."""
        self._ids = None
        self._counter = None

    def play(self, frame: Any) -> int:
        """Play the delta in ``frame`` (the server event's UTF-8 text, any buffer).

        Returns the session samples played, or ``-1`` when the player declines (disarmed, not
        an audio delta of the armed ids, or not a ``session.output_audio.delta`` when armed
        with empty ids, a malformed or empty delta, or no room in the ring);
        a declined frame left the resampler, the ring and the counters as they were.
        """
        ids = self._ids
        if ids is None:
            return -1
        res = self._play(bytes(memoryview(frame).cast("B")), ids)
        if res < 0:
            self.declined += 1
        return res

    def _play(self, text: bytes, ids: tuple[str, str]) -> int:
        try:
            event = json.loads(text)
        except (ValueError, RecursionError):
            return -1
        if not isinstance(event, dict):
            return -1
        etype = event.get("type")
        if ids == ("", ""):  # GPT-Live, translation: the id-less session delta
            wanted = etype == SESSION_DELTA_TYPE
        else:
            wanted = (
                etype in DELTA_TYPES and (event.get("response_id"), event.get("item_id")) == ids
            )
        if not wanted:
            return -1
        delta = event.get("delta")
        if not isinstance(delta, str):
            return -1
        try:
            raw = b64decode(delta)
        except ValueError:
            return -1
        width = 2 if self._fmt == "pcm16" else 1
        nbytes = len(raw)
        if nbytes == 0 or nbytes % width:
            return -1
        ns = nbytes // width
        rs = self._rs
        if ns > MAX_DELTA_SAMPLES or rs._done:
            return -1
        if _out_frames(rs, ns) * 4 > self._ring.writable:
            return -1
        codes = np.frombuffer(raw, dtype=np.uint8)
        if self._fmt == "pcm16":
            x = pcm16_to_float32(raw)
        elif self._fmt == "g711_ulaw":
            x = pcm16_to_float32(ulaw_to_pcm16(codes))
        else:
            x = pcm16_to_float32(alaw_to_pcm16(codes))
        y = rs.process(x)
        ring = self._ring
        ring.write(y)
        queued = (ring.total_written - max(ring.total_read, self._floor)) >> 2
        if queued > self.high_water:
            self.high_water = queued
        self.played += 1
        counter = self._counter
        if counter is not None:
            counter.received = counter.received + nbytes
        self._on_played(nbytes, ns, int(y.size))
        return ns

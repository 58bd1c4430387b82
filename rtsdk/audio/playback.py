"""The downlink: assistant audio in on the loop, out of a lock-free ring on the sink's clock.

The loop side (:meth:`Playback.play`, :meth:`~Playback.take_played`, :meth:`~Playback.interrupt`)
decodes session-format bytes, resamples them to the sink rate and writes them into an
:class:`~rtsdk.kernels.SpscRing`; what does not fit waits in a loop-side backlog and refills the
ring when the consumer has drained half of it (one wake-up per half ring, armed only while a
backlog exists). The consumer side (:meth:`Playback.render` for a clocked sink such as a
PortAudio callback, :meth:`Playback.drain` for a file written as fast as audio arrives) only
reads the ring and bumps counters.

Played accounting is done on the loop: each item's session samples are mapped to ring
positions (the streaming resampler returns exactly ``ceil(n * out / in)`` samples after ``n``
inputs), and the ring's consumer count says how far playback got. The consumer never touches
the marks.

Adaptive prebuffer (``adaptive=True``; the stream engine sets it for every session: GPT-Live's
continuous stream, where no event marks the end of an utterance, and Realtime's replies, which
come in bursts or paced at real time): the prebuffer follows the arrival jitter measured on the
loop side (how late each delta comes against the audio already received), between
:data:`ADAPTIVE_MIN_MS` and the configured ``prebuffer_ms``, so the playout holds what the
network's jitter needs and no more. Waiting counts towards it: the consumer starts once the
audio queued plus the time it has waited reach the target (a delta paced at real time comes on
its own schedule, so a wait of a few ms shifts the playout as far as that much more audio
would), instead of waiting for a whole further delta.

Barge-in (:meth:`Playback.interrupt`) cannot clear an SPSC ring from the producer side, so it
publishes a byte position; the consumer drops everything before it at the start of its next
callback. Nothing written after the interrupt is lost.

Shared attributes are plain ints and bools written by one side only; under the GIL their loads
and stores are atomic and ordered (as in :mod:`rtsdk.audio.bridge`).
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, Literal, cast

import numpy as np
import numpy.typing as npt

from rtsdk.audio.bridge import call_soon_from_thread
from rtsdk.exceptions import AudioFormatError
from rtsdk.kernels import (
    DeltaPlayer,
    Resampler,
    SpscRing,
    alaw_to_pcm16,
    pcm16_to_float32,
    ulaw_to_pcm16,
)
from rtsdk.protocol.session import SAMPLE_RATES

if TYPE_CHECKING:
    from typing_extensions import Buffer

__all__ = ["ADAPTIVE_MIN_MS", "Playback", "SessionFormat", "session_rate"]

SessionFormat = Literal["pcm16", "g711_ulaw", "g711_alaw"]

_NO_END: Final = 1 << 62  # "more audio is expected" for _end_pos
_F32: Final = np.dtype(np.float32)
#: The adaptive prebuffer's floor (ms): a delta's own length covers the rest.
ADAPTIVE_MIN_MS: Final = 20
#: A pause in arrivals this long (s) starts a new run of audio (not counted as lateness).
_RUN_GAP: Final = 0.5
#: Per delta, how much of the measured lateness the adaptive estimate keeps (a slow decay:
#: a late delta raises the prebuffer at once, calm lowers it over a few seconds).
_JITTER_DECAY: Final = 0.99
_monotonic = time.monotonic


def _buf(a: npt.NDArray[np.float32]) -> Buffer:
    """An ndarray as the ring's buffer argument (numpy's stubs do not say it is one)."""
    return cast("Buffer", a)


def session_rate(fmt: str) -> int:
    """Sample rate of a Realtime session audio format (24 kHz PCM16, 8 kHz G.711)."""
    rate = SAMPLE_RATES.get(fmt) if isinstance(fmt, str) else None
    if rate is not None:
        return rate
    raise AudioFormatError(
        f"session_format must be 'pcm16', 'g711_ulaw' or 'g711_alaw', got {fmt!r}"
    )


@dataclass(slots=True)
class _Mark:
    """One item's audio in the ring: session samples [s0, s1) of the segment based at raw0."""

    item_id: str
    raw0: int  # ring position (sink samples) where the segment's session sample 0 starts
    s0: int
    s1: int
    reported: int = 0


class Playback:
    """Playback ring, resampler and per-item played accounting (see the module docstring)."""

    def __init__(
        self,
        *,
        session_format: SessionFormat,
        sink_rate: int,
        buffer_ms: int = 2000,
        prebuffer_ms: int = 60,
        loop: asyncio.AbstractEventLoop | None = None,
        adaptive: bool = False,
    ) -> None:
        self.session_rate = session_rate(session_format)
        self.format = session_format
        self.sink_rate = int(sink_rate)
        self._rs = Resampler(self.session_rate, self.sink_rate)
        cap = max(1, self.sink_rate * buffer_ms // 1000)
        self._ring = SpscRing(cap * 4)
        self._loop = loop
        # loop side
        self._backlog: deque[npt.NDArray[np.float32]] = deque()
        self._backlog_samples = 0
        self._marks: deque[_Mark] = deque()
        self._seg_raw0 = 0
        self._seg_sess = 0
        self._enq = 0  # sink samples ever enqueued (ring coordinates: ring + backlog)
        self._high_water = 0  # sink samples queued (ring + backlog), most ever seen here
        # written by the loop, read by the consumer
        self._discard_upto = 0  # bytes: the consumer drops what lies before this ring position
        self._end_pos = 0  # bytes: where the queued audio ends (_NO_END while an item is open)
        self._refill_armed = False
        self._refill_low = self._ring.capacity // 2
        self._prebuf_bytes = 4 * (self.sink_rate * prebuffer_ms // 1000)
        self._prebuf_samples = self.sink_rate * prebuffer_ms // 1000
        # adaptive prebuffer (loop side): the cap, when the next delta is due, the lateness
        self.adaptive = adaptive  # also read by the consumer (a plain bool, set once)
        self._prebuf_cap = self._prebuf_samples
        self._due = -1e18  # when the next delta is due (long ago: the first starts a run)
        self._late = 0.0  # the lateness estimate (s)
        self._sized = 0.0  # the estimate the prebuffer was last sized for
        self._sample_s = 1.0 / self.sink_rate
        #: the most lateness seen (s): what the adaptive prebuffer had to absorb
        self.jitter_high_water = 0.0
        if adaptive:
            self._set_prebuffer(min(self._prebuf_cap, self.sink_rate * ADAPTIVE_MIN_MS // 1000))
        # written by the consumer only
        self._playing = False
        self._waited = 0
        self.underruns = 0
        self.underrun_samples = 0
        #: silence played since an underrun, counted once the audio resumes within a second
        #: (longer, it was a pause, not a gap)
        self._gap = -1
        self.discarded = 0
        self.wakeups = 0
        self._player: DeltaPlayer | None = None  # made on the first arm_fast()
        self._fast_item = ""  # the item the delta player is armed for
        #: Optional: the ring position (samples) the listener has heard by now, or None when
        #: unknown; :meth:`take_played` then counts only that. :meth:`interrupt` counts all
        #: that was handed to the sink (a device plays out what its buffer holds).
        self.ear: Callable[[], int | None] | None = None

    # ---------------------------------------------------------------------------- loop side
    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        """Refill wake-ups go to ``loop`` (without one, the ring is refilled on each call)."""
        self._loop = loop

    def play(self, item_id: str, data: bytes) -> None:
        """Queue raw session-format audio (PCM16 LE or G.711 codes) of ``item_id``."""
        if self._player is not None:
            self._player.disarm()  # audio queued here may be another item's: re-armed by callers
        if not data:
            self._feed()
            return
        if self.format == "pcm16":
            x = pcm16_to_float32(data)
            n = len(data) >> 1
        else:
            codes = np.frombuffer(data, dtype=np.uint8)
            pcm = ulaw_to_pcm16(codes) if self.format == "g711_ulaw" else alaw_to_pcm16(codes)
            x = pcm16_to_float32(pcm)
            n = len(data)
        y = self._rs.process(x)
        if self.adaptive:
            self._arrived(int(y.size))
        self._mark(item_id, n)
        self._end_pos = _NO_END
        # the common case inline: no backlog and room in the ring (else _enqueue)
        ring = self._ring
        nbytes = y.nbytes
        if not self._backlog and nbytes and nbytes <= ring.writable:
            self._enq += nbytes >> 2
            ring.write(y)  # type: ignore[arg-type]  # an ndarray is a buffer
            q = (ring.total_written - max(ring.total_read, self._discard_upto)) >> 2
            if q > self._high_water:
                self._high_water = q
            return
        self._enqueue(y)

    def _mark(self, item_id: str, n: int) -> None:
        """Account ``n`` more session samples of ``item_id`` at the end of the queue."""
        marks = self._marks
        last = marks[-1] if marks else None
        if last is not None and last.item_id == item_id and last.raw0 == self._seg_raw0:
            last.s1 += n
        else:  # another item, a new segment, or the last mark was played out and let go
            marks.append(_Mark(item_id, self._seg_raw0, self._seg_sess, self._seg_sess + n))
        self._seg_sess += n

    def end_item(self, item_id: str | None = None) -> None:
        """No more audio follows for now: play out the tail without prebuffering or underrun.

        Flushes the resampler's tail (its delay, at most 2 ms). ``item_id`` is informational.
        The next delta starts a new run for the adaptive prebuffer (the pause between two
        replies is not arrival jitter), as it does after :meth:`interrupt`.
        """
        del item_id
        self._disarm()
        self._due = -1e18  # what comes next starts a new run: the pause is no lateness
        if self._seg_sess:
            tail = self._rs.process(np.zeros(0, dtype=_F32), last=True)
            self._rs.reset()
            self._enqueue(tail)
            self._seg_raw0 = self._enq
            self._seg_sess = 0
        self._end_pos = self._enq * 4

    def take_played(self) -> list[tuple[str, int]]:
        """``(item_id, session samples)`` newly played since the last call.

        Played means heard when :attr:`ear` is set (the sink reports what left its device
        buffer), else handed to the sink.
        """
        self._feed()
        ear = self.ear
        return self._collect(None if ear is None else ear())

    def interrupt(self) -> list[tuple[str, int]]:
        """Drop everything queued at once; return the final :meth:`take_played` accounting."""
        self._disarm()
        self._due = -1e18  # the next reply starts a new run
        self._backlog.clear()
        self._backlog_samples = 0
        self._refill_armed = False
        tw = self._ring.total_written
        self._discard_upto = tw  # the consumer drops it all before its next read
        self._end_pos = tw
        final = self._collect()
        self._marks.clear()
        self._rs.reset()
        self._enq = tw >> 2
        self._seg_raw0 = self._enq
        self._seg_sess = 0
        return final

    # ---------------------------------------------------------------------------- fast path
    def arm_fast(self, response_id: str, item_id: str, counter: object | None = None) -> bool:
        """Let the following deltas of ``item_id`` skip :meth:`play`: see :attr:`delta_player`.

        Right after :meth:`play` queued a delta of ``item_id`` (of ``response_id``) straight
        into the ring, arms the player for that item; False (not armed) when a backlog waits,
        the item has ended, or the last audio queued was another item's. ``counter``: an object
        whose ``received`` attribute each played delta increases by its byte count.
        """
        marks = self._marks
        if (
            self._backlog
            or self._end_pos != _NO_END
            or not marks
            or marks[-1].item_id != item_id
            or marks[-1].raw0 != self._seg_raw0
        ):
            return False
        self.delta_player.arm(response_id, item_id, counter, self._discard_upto)
        self._fast_item = item_id
        return True

    @property
    def delta_player(self) -> DeltaPlayer:
        """This playback's :class:`~rtsdk.kernels.DeltaPlayer`: once armed by :meth:`arm_fast`,
        ``delta_player.play(frame)`` does what decoding the frame and :meth:`play` would do, in
        one call, or declines (``-1``). It is disarmed here whenever the ring cannot take the
        next delta in order (a backlog, an interrupt, the item's end); callers disarm it when
        anything else happens between two deltas."""
        player = self._player
        if player is None:
            player = self._player = DeltaPlayer(self.format, self._rs, self._ring, self._played)
        return player

    def _played(self, nbytes: int, session_samples: int, ring_samples: int) -> None:
        # the delta player wrote one delta of the armed item: what play() would have counted
        # (the player keeps the high-water mark of what it queued)
        self._mark(self._fast_item, session_samples)
        self._enq += ring_samples
        if self.adaptive:
            if not self._late and _monotonic() <= self._due:  # calm and on time: inline
                self._due += ring_samples * self._sample_s
            else:
                self._arrived(ring_samples)

    # ---------------------------------------------------------------------------- adaptive
    def _set_prebuffer(self, samples: int) -> None:
        self._prebuf_samples = samples  # plain int stores: the consumer reads them as they come
        self._prebuf_bytes = 4 * samples

    def _arrived(self, ring_samples: int) -> None:
        """A delta of ``ring_samples`` arrived now: measure its lateness against the audio
        received before it (paced at real time, it is due when that audio has played).

        Runs for every delta (the fast path's callback inlines the calm, on-time case); the
        prebuffer is re-sized only when the estimate moved by 2 ms."""
        now = _monotonic()
        late = now - self._due
        if late <= 0.0:  # on time (or early): the common case
            self._due += ring_samples * self._sample_s
            estimate = self._late
            if estimate:
                estimate *= _JITTER_DECAY
                self._late = estimate = estimate if estimate > 0.0005 else 0.0
                if self._sized - estimate > 0.002:
                    self._size_prebuffer(estimate)
            return
        self._due = now + ring_samples * self._sample_s
        if late > _RUN_GAP:  # the first delta of a run (after a pause, or the first of all)
            return
        estimate = self._late * _JITTER_DECAY
        if late > estimate:
            estimate = late
            if late > self.jitter_high_water:
                self.jitter_high_water = late
        self._late = estimate
        if abs(estimate - self._sized) > 0.002:
            self._size_prebuffer(estimate)

    def _size_prebuffer(self, estimate: float) -> None:
        self._sized = estimate
        floor = self.sink_rate * ADAPTIVE_MIN_MS // 1000
        self._set_prebuffer(min(self._prebuf_cap, floor + int(estimate * self.sink_rate)))

    @property
    def prebuffer_ms(self) -> float:
        """The prebuffer now (ms); with ``adaptive``, what the measured jitter asks for."""
        return 1000 * self._prebuf_samples / self.sink_rate

    @property
    def queue_high_water(self) -> int:
        """Sink samples queued (ring and backlog): the most ever seen."""
        player = self._player
        hw = self._high_water
        return hw if player is None or player.high_water < hw else player.high_water

    def _disarm(self) -> None:
        player = self._player
        if player is not None:
            player.disarm()

    @property
    def queued_samples(self) -> int:
        """Sink samples queued and not yet handed to the sink (ring and backlog)."""
        r = self._ring
        ahead = r.total_written - max(r.total_read, self._discard_upto)
        return self._backlog_samples + max(0, ahead) // 4

    @property
    def audible(self) -> bool:
        """True while audio is queued or being handed to the sink."""
        return self.queued_samples > 0

    @property
    def read_position(self) -> int:
        """Sink samples the consumer took from the ring so far, discarded ones included."""
        return self._ring.total_read >> 2

    @property
    def played_samples(self) -> int:
        """Sink samples handed to the sink (discarded ones excluded)."""
        return (self._ring.total_read >> 2) - self.discarded

    def _collect(self, heard: int | None = None) -> list[tuple[str, int]]:
        marks = self._marks
        if not marks:
            return []
        c = self._ring.total_read >> 2
        if heard is not None and heard < c:
            c = max(heard, 0)
        sr, dr = self.session_rate, self.sink_rate
        out: list[tuple[str, int]] = []
        for m in marks:
            d = c - m.raw0
            if d <= 0:
                break
            played = min(max(d * sr // dr - m.s0, 0), m.s1 - m.s0)
            if played > m.reported:
                out.append((m.item_id, played - m.reported))
                m.reported = played
        while marks and marks[0].reported == marks[0].s1 - marks[0].s0:
            marks.popleft()
        return out

    def _enqueue(self, y: npt.NDArray[np.float32]) -> None:
        n = int(y.size)
        if n == 0:
            return
        self._enq += n
        ring = self._ring
        if not self._backlog:
            k = min(n, ring.writable >> 2)
            if k == n:
                ring.write(_buf(y))
                self._note_queue()
                return
            if k:
                ring.write(_buf(y[:k]))
            y = y[k:]
        self._disarm()  # what follows must queue behind the backlog
        self._backlog.append(y)
        self._backlog_samples += int(y.size)
        self._note_queue()
        self._arm_refill()

    def _note_queue(self) -> None:
        q = self.queued_samples
        if q > self._high_water:
            self._high_water = q

    def _feed(self) -> None:
        """Move backlog into the ring as far as it fits (loop side)."""
        backlog = self._backlog
        ring = self._ring
        while backlog:
            w = ring.writable >> 2
            if w == 0:
                break
            head = backlog[0]
            if head.size <= w:
                ring.write(_buf(head))
                backlog.popleft()
                self._backlog_samples -= int(head.size)
            else:
                ring.write(_buf(head[:w]))
                backlog[0] = head[w:]
                self._backlog_samples -= w
                break
        if backlog:
            self._arm_refill()

    def _arm_refill(self) -> None:
        if self._loop is None:
            return
        self._refill_armed = True
        if self._ring.readable <= self._refill_low:  # the consumer drained it meanwhile
            self._refill_armed = False
            self._loop.call_soon(self._feed)

    # ---------------------------------------------------------------------------- consumer side
    def _honour_discard(self) -> None:
        ring = self._ring
        d = self._discard_upto - ring.total_read
        if d > 0:
            k = min(d, ring.readable)
            ring.advance(k)
            self.discarded += k >> 2
            self._playing = False
            self._waited = 0
            self._gap = -1

    def _maybe_wake(self) -> None:
        if self._refill_armed and self._ring.readable <= self._refill_low:
            self._refill_armed = False
            self.wakeups += call_soon_from_thread(self._loop, self._feed)

    def render(self, out: npt.NDArray[np.float32]) -> None:
        """Fill ``out`` (float32, 1-D, C-contiguous) with the next samples; silence if none.

        For a clocked consumer (device callback, real-time file thread). Waits for the prebuffer
        target at the start of an item; a ring that runs dry while more audio is expected counts
        one underrun, and :attr:`underrun_samples` the silence it played until the audio went on
        (the prebuffer's wait included; silence of more than a second is a pause, not counted
        past that block).
        """
        ring = self._ring
        self._honour_discard()
        n = out.size
        if not self._playing:
            avail = ring.readable
            if avail == 0:
                self._waited = 0
                out.fill(0.0)
                if self._gap >= 0:
                    self._gap += n
                    if self._gap > self.sink_rate:
                        self._gap = -1  # a pause
                return
            if (
                avail < self._prebuf_bytes
                and self._waited < self._prebuf_samples
                and ring.total_written < self._end_pos
                # adaptive: waiting shifts the playout as much as queued audio would (the next
                # delta comes on its own schedule), so it starts once the two reach the target
                and not (self.adaptive and (avail >> 2) + self._waited >= self._prebuf_samples)
            ):
                self._waited += n
                out.fill(0.0)
                if self._gap >= 0:
                    self._gap += n
                return
            self._playing = True
            self._waited = 0
            if self._gap > 0:
                self.underrun_samples += self._gap
            self._gap = -1
        got = ring.read_into(_buf(out)) >> 2
        if got < n:
            out[got:] = 0.0
            self._playing = False
            if ring.total_read < self._end_pos:
                self.underruns += 1
                self.underrun_samples += n - got
                self._gap = 0
        self._maybe_wake()

    def drain(self, out: npt.NDArray[np.float32]) -> int:
        """Copy whatever is queued (up to ``out.size`` samples) into ``out``; return the count.

        For a consumer without a clock (a file written as fast as audio arrives): no prebuffer,
        no silence, no underruns.
        """
        self._honour_discard()
        got = self._ring.read_into(_buf(out)) >> 2
        self._maybe_wake()
        return got

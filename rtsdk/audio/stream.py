"""The audio engine of a session: capture → append frames, and deltas → playback, on one loop.

Uplink: the source (microphone callback, WAV file, app pushes) → lock-free bridge → one loop
task reads ``frame_ms`` frames → downmix → :class:`~rtsdk.kernels.Resampler` to the session rate
(24 kHz PCM16, 8 kHz G.711) → PCM16 (→ G.711) into preallocated buffers →
:func:`~rtsdk.kernels.encode_append` → ``send_frame``. The outgoing frame is the only per-frame
allocation besides the resampler's output.

Downlink: :meth:`AudioStreamManager.play` takes the decoded bytes of each delta; the
:class:`~rtsdk.audio.playback.Playback` resamples them to the sink rate and queues them for the
sink's clock. :meth:`~AudioStreamManager.take_played` turns what the sink consumed into
``(item_id, session samples)`` for ``ClientSessionState.audio_played``;
:meth:`~AudioStreamManager.interrupt` drops everything queued at once (barge-in).
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from rtsdk.audio.align import LEAD_MS, EchoStage, ReferenceAligner, echo_plan
from rtsdk.audio.base import AudioSink, AudioSource
from rtsdk.audio.devices import DeviceSink, DeviceSource
from rtsdk.audio.echo import ECHO_RATES, WebRtcEchoCanceller
from rtsdk.audio.encode import AppendEncoder, Gatherer, downmix
from rtsdk.audio.options import AudioStreamOptions
from rtsdk.audio.playback import Playback, SessionFormat, session_rate
from rtsdk.audio.tap import RenderTap
from rtsdk.exceptions import AudioFormatError, ConfigurationError
from rtsdk.kernels import DeltaPlayer, Resampler

__all__ = ["AudioStats", "AudioStreamManager"]

_SILENT_DBFS = -120.0

log = logging.getLogger("rtsdk.audio")


@dataclass(frozen=True, slots=True)
class AudioStats:
    """Counters of an :class:`AudioStreamManager` (a snapshot).

    Sample counts are per channel at the rate of where they were counted: the source's rate for
    the uplink, the sink's for playback.
    """

    frames_sent: int  #: append frames handed to ``send_frame``
    send_errors: int  #: frames ``send_frame`` raised on (dropped)
    uplink_dropped_samples: int  #: captured samples dropped because the loop fell behind
    uplink_high_water_ms: float  #: most captured audio seen waiting for the loop
    #: playback ran dry while more audio was expected (silence played); an item's end counts
    #: unless it was declared with ``end_item``
    underruns: int
    underrun_samples: int  #: silence samples played in those blocks
    playback_high_water_ms: float  #: most assistant audio queued for playback
    played_samples: int  #: assistant samples handed to the sink
    discarded_samples: int  #: assistant samples dropped by barge-in
    input_xruns: int  #: input callbacks with a status flag (overflow)
    output_xruns: int  #: output callbacks with a status flag (underflow)
    device_errors: int  #: exceptions caught in callbacks, streams that died

    @property
    def xruns(self) -> int:
        """Input and output status flags together."""
        return self.input_xruns + self.output_xruns


class AudioStreamManager:
    """Full-duplex audio for one Realtime session, driven on one asyncio loop.

    ``session_format`` is the session's input audio format (what the uplink sends) and
    ``output_format`` its output format (what :meth:`play` gets; default: the same).
    ``send_frame`` receives each prebuilt ``input_audio_buffer.append`` text frame (UTF-8
    ``bytes``; ``input_event`` names another event type, such as GPT-Live's
    ``session.input_audio.append``); it may return an awaitable, which is awaited
    (back-pressure). ``continuous=True`` (GPT-Live) keeps the input flowing after the source
    ends: silence, paced at real time, until :meth:`stop` (the service's timeline needs
    continuous input; :meth:`wait_input_ended` still returns when the source ended).
    ``append_ms`` gathers the device frames into appends of that length (a translation
    session's 200 ms engine frames) instead of one append per frame. ``source`` and
    ``sink`` default to the devices named in ``options`` (``None`` there: no capture or no
    playback); pass a :class:`~rtsdk.audio.files.WavSource`,
    :class:`~rtsdk.audio.push.PushSource` or :class:`~rtsdk.audio.files.WavSink` instead.

    All methods are for the loop's thread.
    """

    def __init__(
        self,
        options: AudioStreamOptions,
        *,
        session_format: SessionFormat = "pcm16",
        output_format: SessionFormat | None = None,
        send_frame: Callable[[bytes], object],
        source: AudioSource | None = None,
        sink: AudioSink | None = None,
        input_event: str | None = None,
        continuous: bool = False,
        append_ms: int | None = None,
    ) -> None:
        if not isinstance(options, AudioStreamOptions):
            raise ConfigurationError(
                f"options must be an AudioStreamOptions, got {type(options).__name__}"
            )
        if not callable(send_frame):
            raise ConfigurationError("send_frame must be callable")
        self.options = options
        self.session_format: SessionFormat = session_format
        self.session_rate = session_rate(session_format)
        self.output_format: SessionFormat = output_format or session_format
        self.output_rate = session_rate(self.output_format)
        self._send = send_frame
        self._input_event = input_event
        if append_ms is not None and not 10 <= append_ms <= 1000:
            raise ConfigurationError(f"append_ms must be in [10, 1000] ms, got {append_ms}")
        self._append_ms = append_ms
        self._input_stopped = False
        self._continuous = continuous
        if source is None and options.input_device is not None:
            source = DeviceSource(options.input_device)
        if sink is None and options.output_device is not None:
            sink = DeviceSink(options.output_device)
        self.source = source
        self.sink = sink
        self._playback: Playback | None = None
        self._task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._started = False
        self._stopped = False
        self._input_ended = asyncio.Event() if source is None else None
        self._frames_sent = 0
        self._send_errors = 0
        self._up_high = 0
        self._level = _SILENT_DBFS
        self._mute_until = 0.0
        #: The last exception ``send_frame`` raised (its type and message), if any.
        self.last_send_error: str | None = None
        self._echo_on, fallback, self.echo_reason = echo_plan(
            options.echo_cancellation, source, sink
        )
        self._half_duplex = options.half_duplex or fallback
        if fallback:
            log.warning("echo cancellation %s", self.echo_reason)
        self._tap: RenderTap | None = None
        self._echo: EchoStage | None = None
        self._captured = 0

    # ------------------------------------------------------------------ lifecycle
    async def start(self) -> None:
        """Open the source and sink, start their streams/threads and the uplink task.

        Raises :class:`~rtsdk.exceptions.AudioDeviceError` when a device cannot be opened
        (nothing is left running then).
        """
        if self._started:
            raise RuntimeError("AudioStreamManager.start() called twice")
        self._started = True
        loop = self._loop = asyncio.get_running_loop()
        if self._input_ended is None:
            self._input_ended = asyncio.Event()
        opt = self.options
        try:
            if self.sink is not None:
                self.sink.open(opt, self.output_rate)
                self._playback = Playback(
                    session_format=self.output_format,
                    sink_rate=self.sink.sample_rate,
                    buffer_ms=opt.playback_buffer_ms,
                    # jitter-sized (a burst needs no cushion, a paced stream its measured
                    # lateness), at most this
                    prebuffer_ms=opt.playback_prebuffer_ms,
                    loop=loop,
                    adaptive=True,
                )
                # each delta straight to the Playback, without this object's call in between
                self.play = self._playback.play  # type: ignore[method-assign]
            if self.source is not None:
                self.source.open(opt)
            self._setup_echo()
            if self.sink is not None and self._playback is not None:
                self.sink.start(self._playback)
            if self.source is not None:
                self.source.start(loop)
                self._task = loop.create_task(self._uplink(), name="rtsdk-audio-uplink")
            else:
                self._input_ended.set()
        except BaseException:
            await self.stop()
            raise

    def _setup_echo(self) -> None:
        """The render tap of a device sink (played accounting at the ear) and, with echo
        cancellation on, the canceller on the capture side."""
        sink, src, pb = self.sink, self.source, self._playback
        attach = getattr(sink, "attach_tap", None)
        if sink is None or pb is None or attach is None:
            return
        tap = self._tap = RenderTap(sink.sample_rate, with_samples=self._echo_on)
        attach(tap)
        pb.ear = self._heard
        if not self._echo_on or src is None:
            return
        if src.sample_rate not in ECHO_RATES:
            if self.options.echo_cancellation is True:
                rates = ", ".join(str(r) for r in ECHO_RATES)
                raise AudioFormatError(
                    f"echo cancellation needs an input rate of {rates} Hz, the input device "
                    f"runs at {src.sample_rate} Hz (set AudioStreamOptions.sample_rate)"
                )
            self._echo_on = False
            self.echo_reason = f"off (input at {src.sample_rate} Hz)"
            return
        canceller = WebRtcEchoCanceller(
            src.sample_rate,
            noise_suppression=self.options.noise_suppression,
            delay_hint_ms=LEAD_MS,
        )
        aligner = ReferenceAligner(sink.sample_rate, src.sample_rate, margin_ms=LEAD_MS)
        delay = float(getattr(sink, "latency", 0.0)) + float(getattr(src, "latency", 0.0))
        self._echo = EchoStage(
            canceller,
            tap,
            aligner,
            lambda: getattr(src, "capture_mark", None),
            device_delay_ms=delay * 1000,
        )

    def _pull_tap(self) -> None:
        if self._echo is not None:
            self._echo.pull()
        elif self._tap is not None:
            self._tap.pull()

    def _heard(self) -> int | None:
        """The playback ring position the listener has heard by now (from the DAC times)."""
        tap = self._tap
        if tap is None:
            return None
        self._pull_tap()
        last = tap.last
        if last is None:
            return None
        now = 0.0
        if last[2]:
            now = float(getattr(self.sink, "stream_time", lambda: 0.0)())
        if now:
            pos = tap.heard_position(now)
            tap.forget_before(now)
        else:
            mono = time.monotonic()
            pos = tap.heard_position(mono, mono=True)
            tap.forget_before(mono, mono=True)
        return pos

    @property
    def echo_stats(self) -> dict[str, Any]:
        """Echo cancellation: ``enabled``, ``backend``, ``erle_db``, ``delay_ms``,
        ``reference_overruns``... (``reason`` says why it is off)."""
        if self._echo is not None:
            st = self._echo.stats
            st["reason"] = "on" if st["active"] else f"failed: {st['last_error']}"
            return st
        return {
            "enabled": False,
            "active": False,
            "reason": self.echo_reason,
            "backend": None,
            "erle_db": None,
            "reference_overruns": self._tap.overruns if self._tap is not None else 0,
        }

    async def stop_input(self) -> None:
        """Stop capture and the uplink only; playback goes on (for a session whose server
        still sends output after the input ended: a translation being flushed). Idempotent."""
        if self._input_stopped:
            return
        self._input_stopped = True
        if self.source is not None:
            self.source.stop()
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def stop(self) -> None:
        """Stop capture and playback, join threads, close streams and files. Idempotent."""
        if self._stopped:
            return
        self._stopped = True
        await self.stop_input()
        if self.sink is not None:
            self.sink.stop()
        if self._input_ended is not None:
            self._input_ended.set()

    async def wait_input_ended(self) -> None:
        """Return once the source ended (a file or push source ran out) or :meth:`stop`."""
        if self._input_ended is None:
            self._input_ended = asyncio.Event()
        await self._input_ended.wait()

    async def drain(self, timeout: float | None = None) -> bool:
        """Wait until every queued assistant sample was handed to the sink; False on timeout."""
        pb = self._playback
        if pb is None:
            return True
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        step = self.options.frame_ms / 1000
        while pb.audible:
            if deadline is not None and loop.time() >= deadline:
                return False
            await asyncio.sleep(step)
        return True

    # ------------------------------------------------------------------ downlink
    def play(self, item_id: str, data: bytes) -> None:
        """Queue assistant audio: raw session-format bytes of one delta of ``item_id``.

        PCM16 24 kHz little-endian or G.711 8 kHz codes, as ``decode_audio_delta`` returns them.
        Without a sink the audio is dropped (and never counted as played).
        """
        if self._playback is not None:
            self._playback.play(item_id, data)

    @property
    def delta_player(self) -> DeltaPlayer | None:
        """The playback's delta player (see ``Playback.arm_fast``); None without a sink."""
        return None if self._playback is None else self._playback.delta_player

    def arm_fast(self, response_id: str, item_id: str, counter: object | None = None) -> bool:
        """Let the following deltas of ``item_id`` take the delta player's one-call path
        (``Playback.arm_fast``); False without a sink or when the playback cannot."""
        pb = self._playback
        return pb is not None and pb.arm_fast(response_id, item_id, counter)

    def end_item(self, item_id: str | None = None) -> None:
        """The item's audio is complete (``response.output_audio.done``): play out its tail
        now, without waiting for the prebuffer target, and do not count its end as an underrun.
        """
        if self._playback is not None:
            self._playback.end_item(item_id)

    def take_played(self) -> list[tuple[str, int]]:
        """``(item_id, samples at the output format's rate)`` handed to the sink since last asked.

        Feed each to ``ClientSessionState.audio_played``. "Played" means handed to the device
        (or file); the device's own output latency (:attr:`output_latency`) comes on top.
        """
        return [] if self._playback is None else self._playback.take_played()

    def interrupt(self) -> list[tuple[str, int]]:
        """Barge-in: stop playback at once and return the final :meth:`take_played`.

        The sink drops everything queued at the start of its next block; audio played after
        this call is at most the one block the sink was rendering when it was made.
        """
        return [] if self._playback is None else self._playback.interrupt()

    @property
    def audible(self) -> bool:
        """True while assistant audio is queued or being handed to the sink."""
        return self._playback is not None and self._playback.audible

    @property
    def output_latency(self) -> float:
        """Seconds between handing audio to the device and hearing it (0 for files)."""
        lat = getattr(self.sink, "latency", 0.0)
        return float(lat) if isinstance(lat, (int, float)) else 0.0

    # ------------------------------------------------------------------ state
    @property
    def input_level_dbfs(self) -> float:
        """RMS level of the last captured frame in dB full scale (-120 for silence)."""
        return self._level

    @property
    def stats(self) -> AudioStats:
        """A snapshot of the counters."""
        src, sink, pb = self.source, self.sink, self._playback
        ch = src.channels if src is not None else 1
        src_rate = src.sample_rate if src is not None and src.sample_rate else 1
        sink_rate = pb.sink_rate if pb is not None else 1
        return AudioStats(
            frames_sent=self._frames_sent,
            send_errors=self._send_errors,
            uplink_dropped_samples=(src.overruns // ch) if src is not None else 0,
            uplink_high_water_ms=self._up_high * 1000 / src_rate,
            underruns=pb.underruns if pb is not None else 0,
            underrun_samples=pb.underrun_samples if pb is not None else 0,
            playback_high_water_ms=(pb.queue_high_water * 1000 / sink_rate) if pb else 0.0,
            played_samples=pb.played_samples if pb is not None else 0,
            discarded_samples=pb.discarded if pb is not None else 0,
            input_xruns=src.xruns if src is not None else 0,
            output_xruns=sink.xruns if sink is not None else 0,
            device_errors=(src.errors if src is not None else 0)
            + (sink.errors if sink is not None else 0),
        )

    def _muted(self, now: float) -> bool:
        if not self._half_duplex:
            return False
        if self._playback is not None and self._playback.audible:
            self._mute_until = now + self.options.half_duplex_tail_ms / 1000
            return True
        return now < self._mute_until

    async def _silence_tail(self, encoder: AppendEncoder, gatherer: Gatherer | None) -> None:
        """After the source ended (``continuous``): silence frames at real-time pace until
        the stream stops (a gathered append in progress is completed with silence first)."""
        if self._input_ended is not None:
            self._input_ended.set()
        if gatherer is not None and gatherer.pending:
            pad = np.zeros(gatherer.size - gatherer.pending, dtype=np.float32)
            for frame in gatherer.frames(pad):
                await self._send_frame(frame)
        loop = asyncio.get_running_loop()
        ms = self._append_ms or self.options.frame_ms
        step = ms / 1000
        silence = np.zeros(self.session_rate * ms // 1000, dtype=np.float32)
        frame = encoder.frame(silence)
        due = loop.time()
        while True:
            due += step
            await asyncio.sleep(max(0.0, due - loop.time()))
            await self._send_frame(frame)

    async def _send_frame(self, frame: bytes) -> bool:
        """Hand one append frame to ``send_frame`` (awaiting what it returns); a failure is
        counted and kept in :attr:`last_send_error`, never raised. True when it awaited."""
        awaited = False
        try:
            r = self._send(frame)
            if inspect.isawaitable(r):
                awaited = True
                await r
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self._send_errors += 1
            self.last_send_error = f"{type(exc).__name__}: {exc}"[:200]
        else:
            self._frames_sent += 1
        return awaited

    # ------------------------------------------------------------------ uplink
    async def _uplink(self) -> None:
        src = self.source
        assert src is not None and self._loop is not None
        loop = self._loop
        try:
            await self._uplink_frames(src, loop)
        finally:
            if self._input_ended is not None:
                self._input_ended.set()

    async def _uplink_frames(self, src: AudioSource, loop: asyncio.AbstractEventLoop) -> None:
        ch = src.channels
        n = max(1, src.sample_rate * self.options.frame_ms // 1000)
        buf = np.zeros(n * ch, dtype=np.float32)
        mono = buf if ch == 1 else np.zeros(n, dtype=np.float32)
        rs = Resampler(src.sample_rate, self.session_rate)
        encoder = AppendEncoder(
            self.session_format,
            -(-n * self.session_rate // src.sample_rate) + 2,
            event_type=self._input_event,
        )
        sink = self.sink
        feed = sink is not None and sink.wants_input
        feed_rs = (
            Resampler(self.session_rate, sink.sample_rate)
            if feed and sink is not None and sink.sample_rate != self.session_rate
            else None
        )
        send_frame = self._send_frame
        gatherer = None
        if self._append_ms is not None:
            gatherer = Gatherer(encoder, self.session_rate * self._append_ms // 1000)
        while True:
            try:
                got = await src.read_into(buf)
            except EOFError:
                got, last = 0, True
            else:
                last = got < buf.size
            frames = got // ch
            x = buf[:frames] if ch == 1 else downmix(buf[: frames * ch], ch, out=mono)
            waiting = src.readable
            if waiting > self._up_high * ch:
                self._up_high = waiting // ch
            frames_before = self._captured + src.overruns // ch
            self._captured += frames
            if frames:
                # einsum, not dot: dot goes to BLAS, whose worker threads can spin for
                # milliseconds on a busy machine and stall the loop
                e = float(np.einsum("i,i->", x, x)) / frames
                self._level = 10.0 * math.log10(e) if e > 1e-12 else _SILENT_DBFS
            echo = self._echo
            if echo is not None and frames:
                x = echo.process(x, frames_before)
            elif self._tap is not None:
                self._tap.pull()
            y = rs.process(x, last=last)
            if self._muted(loop.time()):
                y.fill(0.0)  # the resampler's fresh output: silenced in place
            if gatherer is not None:
                awaited = False
                # the end of a continuous source is not the end of the input: silence follows
                for frame in gatherer.frames(y, last=last and not self._continuous):
                    awaited = await send_frame(frame) or awaited
                if feed and sink is not None and y.size:
                    sink.feed_input(feed_rs.process(y) if feed_rs is not None else y)
                if not awaited:
                    await asyncio.sleep(0)
            elif y.size:
                awaited = await send_frame(encoder.frame(y))
                if feed and sink is not None:
                    sink.feed_input(feed_rs.process(y) if feed_rs is not None else y)
                if not awaited:
                    await asyncio.sleep(0)  # never starve the loop on a fast source
            if last:
                if self._continuous:
                    await self._silence_tail(encoder, gatherer)
                return

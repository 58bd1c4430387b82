"""Echo cancellation in the stream engine: reference alignment and the capture-side stage.

:class:`ReferenceAligner` turns the rendered blocks of a :class:`~rtsdk.audio.tap.RenderTap`
into a continuous reference timeline at the capture rate (resampled with our
:class:`~rtsdk.kernels.Resampler` when the output rate differs) and, for each capture frame,
returns the reference that reached the speaker ``margin_ms`` *after* the frame's first sample
reached the ADC. The echo of that reference arrives in the microphone ``margin_ms`` plus the
acoustic path later, so the reference always leads its echo (timestamp jitter of a few ms
cannot make it lag), and the canceller's delay hint is the margin. Both times come from
PortAudio's ``time_info`` (DAC time of each output block, ADC time of each input block); when a
host reports none, from ``time.monotonic()`` and the streams' latencies.

The reference is read with a cursor that advances by exactly the frame length; only when the
timestamps say it drifted more than ``resync_ms`` away (clock drift between the devices, a
stall) is it moved, counted in ``resyncs``.

:class:`EchoStage` is what the uplink calls per frame: it pulls the tap, asks the aligner for the
reference and runs the :class:`~rtsdk.audio.echo.EchoCanceller`. A backend exception is logged
once and the uplink continues with the microphone as it is (never a dead session).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from rtsdk.audio.echo import EchoCanceller
from rtsdk.audio.tap import RenderRecord, RenderTap
from rtsdk.kernels import Resampler

__all__ = ["CaptureMark", "EchoStage", "ReferenceAligner"]

log = logging.getLogger("rtsdk.audio.echo")

_F32: Final = np.dtype(np.float32)

#: ``(frame_index, adc_time, mono_time)`` of one captured block: the index of its first frame
#: among everything the source captured, its ADC time on PortAudio's clock (0 when unknown) and
#: on ``time.monotonic()``'s clock.
CaptureMark = tuple[int, float, float]


class ReferenceAligner:
    """The reference for each capture frame (see the module docstring)."""

    def __init__(
        self,
        out_rate: int,
        in_rate: int,
        *,
        margin_ms: int = 30,
        history_ms: int = 4000,
        resync_ms: int = 12,
    ) -> None:
        self.out_rate = int(out_rate)
        self.in_rate = int(in_rate)
        self.margin = margin_ms / 1000
        self._rs = Resampler(self.out_rate, self.in_rate) if out_rate != in_rate else None
        self._d_in = (self._rs.delay if self._rs is not None else 0.0) * self.in_rate
        self._size = max(self.in_rate * history_ms // 1000, 1)
        self._tl = np.zeros(self._size, dtype=_F32)
        self._t_end: int | None = None  # timeline index after the newest reference sample
        self._next_out: int | None = None  # the out index expected next from the tap
        self._anchor: tuple[int, float, float] | None = None  # (out index, dac, mono)
        self._cursor: int | None = None
        self._resync = resync_ms * self.in_rate // 1000
        self._err = 0.0
        self.resyncs = 0  #: times the cursor was moved to where the timestamps say
        self.missing_samples = 0  #: reference samples asked for that were not (yet) there
        self.lead_error_ms = 0.0  #: smoothed distance between the cursor and its target

    # ------------------------------------------------------------------ reference in
    def add(self, out_index: int, x: npt.NDArray[np.float32], dac: float, mono: float) -> None:
        """Append one rendered block (out-rate samples starting at ``out_index``)."""
        if self._next_out is None or out_index != self._next_out:
            # first block, or records were lost: restart the timeline at the block's place
            if self._rs is not None:
                self._rs.reset()
            base = round(out_index * self.in_rate / self.out_rate)
            if self._t_end is not None and 0 < base - self._t_end < self._size:
                self._write(self._t_end, np.zeros(base - self._t_end, dtype=_F32))
            self._t_end = base
        self._next_out = out_index + int(x.size)
        self._anchor = (out_index, dac, mono)
        y = self._rs.process(x) if self._rs is not None else x
        assert self._t_end is not None
        self._write(self._t_end, y)
        self._t_end += int(y.size)

    def _write(self, start: int, y: npt.NDArray[np.float32]) -> None:
        n: int = y.size
        size = self._size
        if n >= size:
            y = y[n - size :]
            start += n - size
            n = size
        i = start % size
        if i + n <= size:  # no wrap (most blocks)
            self._tl[i : i + n] = y
            return
        k = size - i
        self._tl[i:] = y[:k]
        self._tl[: n - k] = y[k:]

    def index_at(self, t: float, *, mono: bool = False) -> float | None:
        """The timeline index of the reference that reaches the speaker at time ``t``."""
        a = self._anchor
        if a is None:
            return None
        t0 = a[2] if mono else a[1]
        return (a[0] / self.out_rate + (t - t0)) * self.in_rate + self._d_in

    # ------------------------------------------------------------------ reference out
    def reference(
        self,
        n: int,
        adc_time: float | None,
        *,
        mono: bool = False,
        out: npt.NDArray[np.float32] | None = None,
    ) -> npt.NDArray[np.float32]:
        """``n`` reference samples for the capture frame whose first sample hit the ADC at
        ``adc_time`` (None: continue where the last frame ended)."""
        ref = np.zeros(n, dtype=_F32) if out is None else out[:n]
        target = None if adc_time is None else self.index_at(adc_time + self.margin, mono=mono)
        if target is not None:
            if self._cursor is None:
                self._cursor = round(target)
            else:
                err = target - self._cursor
                self._err += 0.1 * (err - self._err)
                self.lead_error_ms = self._err * 1000 / self.in_rate
                if abs(err) > self._resync and abs(self._err) > self._resync / 2:
                    self._cursor = round(target)
                    self._err = 0.0
                    self.resyncs += 1
        c = self._cursor
        if c is None or self._t_end is None:
            ref.fill(0.0)
            self.missing_samples += n
            if c is not None:
                self._cursor = c + n
            return ref
        size = self._size
        t_end = self._t_end
        lo = t_end - size
        if lo < c:
            lo = c
        hi = c + n
        if hi > t_end:
            hi = t_end
        if hi > lo:  # what the timeline holds; silence around it
            a, b = lo - c, hi - c
            if a:
                ref[:a] = 0.0
            if b < n:
                ref[b:] = 0.0
                self.missing_samples += n - b + a
            else:
                self.missing_samples += a
            i = lo % size
            first = size - i
            if first >= b - a:
                ref[a:b] = self._tl[i : i + b - a]
            else:
                ref[a : a + first] = self._tl[i:]
                ref[a + first : b] = self._tl[: b - a - first]
        else:
            ref.fill(0.0)
            self.missing_samples += n
        self._cursor = c + n
        return ref


class EchoStage:
    """Echo cancellation of the uplink, one call per capture frame, on the loop.

    ``capture_mark()`` returns the source's newest :data:`CaptureMark` (or None);
    ``frames_before`` given to :meth:`process` is how many frames the source captured before
    the frame passed (read plus dropped).
    """

    def __init__(
        self,
        canceller: EchoCanceller,
        tap: RenderTap,
        aligner: ReferenceAligner,
        capture_mark: Callable[[], CaptureMark | None],
        *,
        device_delay_ms: float = 0.0,
    ) -> None:
        self.canceller = canceller
        self.tap = tap
        self.aligner = aligner
        self._mark = capture_mark
        self.device_delay_ms = device_delay_ms
        self._ref = np.zeros(0, dtype=_F32)
        self.failed = False
        self.errors = 0
        self.last_error: str | None = None
        self.frames = 0

    def _on_samples(self, rec: RenderRecord, x: npt.NDArray[np.float32]) -> None:
        self.aligner.add(rec[0], x, rec[2], rec[3])

    def pull(self) -> None:
        """Move what the speaker rendered into the reference timeline."""
        self.tap.pull(self._on_samples)

    def process(self, x: npt.NDArray[np.float32], frames_before: int) -> npt.NDArray[np.float32]:
        """The cleaned frame (a new array), or ``x`` itself once the backend failed."""
        self.pull()
        if self.failed:
            return x
        n: int = x.size
        if self._ref.size < n:
            self._ref = np.zeros(n, dtype=_F32)
        mark = self._mark()
        adc: float | None = None
        mono = True
        if mark is not None:
            last = self.tap.last if mark[1] else None
            mono = last is None or not last[2]
            t = mark[2] if mono else mark[1]
            adc = t + (frames_before - mark[0]) / self.canceller.sample_rate
        ref = self.aligner.reference(n, adc, mono=mono, out=self._ref)
        try:
            y = self.canceller.process(x, ref)
        except Exception as exc:
            self.failed = True
            self.errors += 1
            self.last_error = f"{type(exc).__name__}: {exc}"[:200]
            log.warning(
                "echo cancellation failed and is off for the rest of this session "
                "(the uplink continues without it): %s",
                self.last_error,
            )
            return x
        self.frames += 1
        return y

    @property
    def stats(self) -> dict[str, Any]:
        """The ``client.stats()["audio"]["echo"]`` dictionary."""
        st = self.canceller.stats
        al = self.aligner
        erle, own = st["erle_db"], st["canceller_erle_db"]
        return {
            "enabled": True,
            "active": not self.failed,
            "backend": st["backend"],
            "sample_rate": st["sample_rate"],
            "noise_suppression": st["noise_suppression"],
            "erle_db": erle if erle is None or math.isfinite(erle) else None,
            "canceller_erle_db": own if own is None or math.isfinite(own) else None,
            "delay_ms": round(self.device_delay_ms + al.margin * 1000),
            "device_delay_ms": round(self.device_delay_ms, 1),
            "delay_hint_ms": st["delay_hint_ms"],
            "lead_error_ms": round(al.lead_error_ms, 1),
            "resyncs": al.resyncs,
            "reference_missing_samples": al.missing_samples,
            "reference_overruns": self.tap.overruns,
            "reference_lost_samples": self.tap.lost_samples,
            "frames": self.frames,
            "user_blocks": st["user_blocks"],  # the guard let through as the user
            "mic_blocks": st["mic_blocks"],  # of those, sent from the microphone
            "errors": self.errors,
            "last_error": self.last_error,
        }


#: How far the reference leads its echo on purpose (the canceller's delay hint), in ms.
LEAD_MS: Final = 30


def echo_plan(mode: object, source: object, sink: object) -> tuple[bool, bool, str]:
    """``(on, fall_back_to_half_duplex, why)`` for ``AudioStreamOptions.echo_cancellation``.

    Raises :class:`~rtsdk.exceptions.ConfigurationError` for ``True`` when it cannot be done.
    """
    from rtsdk.audio.echo import INSTALL_HINT, echo_backend_available
    from rtsdk.exceptions import ConfigurationError

    if mode is False:
        return False, False, "off (echo_cancellation=False)"
    devices = bool(getattr(source, "timestamps", False)) and hasattr(sink, "attach_tap")
    if not devices:
        if mode is True:
            raise ConfigurationError(
                "AudioStreamOptions.echo_cancellation=True needs a device source and a device "
                "sink (the canceller aligns the microphone with what the speaker rendered); "
                "got source "
                f"{type(source).__name__} and sink {type(sink).__name__}"
            )
        return False, False, "off (not a device microphone and speaker)"
    ok, why = echo_backend_available()
    if not ok:
        if mode is True:
            raise ConfigurationError(
                f"AudioStreamOptions.echo_cancellation=True needs {INSTALL_HINT}: {why}"
            )
        return False, True, f"off, half duplex instead: {why}; {INSTALL_HINT}"
    return True, False, "on"

"""The round trip of a speaker and a microphone, measured: ``python -m rtsdk devices --latency``.

:func:`measure_round_trip` opens the output and the input device as the stream engine does (two
PortAudio streams, float32 mono, at a given rate, PortAudio latency and blocksize), plays a short
chirp every :data:`PERIOD_S` on the output while recording the input, and finds each chirp again
in the recording with a matched filter. Each found chirp gives two figures, both on PortAudio's
clock:

- the **round trip**: from the output callback that handed the chirp's first sample to PortAudio
  to the input callback that delivered it back to the app (what an app pays, both ways, for its
  devices: buffers, the sound server, the air);
- the **echo path**: from that sample's DAC time to its ADC time. The echo canceller aligns the
  speaker's reference on these timestamps, so this is the part of the echo's delay they do not
  see; the echo stage's delay hint is its lead (:data:`~rtsdk.audio.align.LEAD_MS`) plus it.

A chirp is heard when its matched-filter peak stands well above the recording's noise and all
the heard chirps agree on one echo path; none heard (a headset, a muted microphone) gives
``heard == 0`` and no numbers. :func:`check_latency` measures a few settings in turn and picks
the lowest round trip among the stable ones (every chirp heard, no over- or underflow, a steady
round trip).

Diagnostics, not the hot path: the callbacks copy into preallocated arrays and record
timestamps, nothing else; the analysis runs after the streams are closed.
"""

from __future__ import annotations

import statistics
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from rtsdk.audio.align import LEAD_MS
from rtsdk.audio.devices import DeviceInfo, _adc, _dac, _sd, native_rate, resolve_device
from rtsdk.audio.options import SUPPORTED_RATES, DeviceSpec, _int_field, check_device_latency
from rtsdk.exceptions import ConfigurationError

__all__ = [
    "LatencyReport",
    "RoundTrip",
    "check_latency",
    "chirp",
    "measure_round_trip",
]

#: Seconds between two chirps (longer than any echo path the check can attribute).
PERIOD_S: Final = 0.25
#: Seconds of output before the first chirp (the streams settle).
LEAD_S: Final = 0.3
#: A heard chirp's matched-filter peak is at least this many times the recording's noise floor.
_PEAK_OVER_NOISE: Final = 12.0
#: ...and its echo at least this loud against the chirp played (-50 dB).
_MIN_GAIN: Final = 0.003
#: The longest round trip the check looks for (s).
_MAX_PATH_S: Final = 1.0
#: Heard chirps agree on one echo path within this many seconds.
_AGREE_S: Final = 0.003
#: A setting is stable when its round trips spread over no more than this (s) besides blocks.
_STEADY_S: Final = 0.004


def chirp(
    rate: int, ms: float = 5.0, f0: float = 1000.0, f1: float = 7000.0
) -> npt.NDArray[np.float32]:
    """A linear chirp from ``f0`` to ``f1`` Hz, ``ms`` long at ``rate``, Hann-windowed, peak 0.5
    (float32). Sharp in time after a matched filter, inside the band of a 16 kHz path."""
    n = max(8, round(rate * ms / 1000))
    t = np.arange(n) / rate
    dur = n / rate
    phase = 2 * np.pi * (f0 * t + (f1 - f0) * t * t / (2 * dur))
    return (0.5 * np.sin(phase) * np.hanning(n)).astype(np.float32)


@dataclass(frozen=True, slots=True)
class RoundTrip:
    """One setting, measured (times in ms; lists per heard chirp)."""

    sample_rate: int
    latency: str | float  #: the PortAudio latency asked for
    blocksize: int  #: frames per callback asked for (0: PortAudio's choice)
    reported_input_ms: float  #: the input stream's latency as PortAudio reports it
    reported_output_ms: float
    round_trip_ms: list[float] = field(default_factory=list)  #: output callback → input callback
    echo_path_ms: list[float] = field(default_factory=list)  #: DAC time → ADC time
    sent: int = 0  #: chirps played
    heard: int = 0  #: chirps found in the recording
    xruns: int = 0  #: callbacks with a status flag (input overflow, output underflow)
    input_block: int = 0  #: frames per input callback seen (the most)
    output_block: int = 0
    error: str | None = None  #: why the setting could not be measured (device refused it)

    @property
    def reported_ms(self) -> float:
        """Input plus output latency as PortAudio reports them."""
        return self.reported_input_ms + self.reported_output_ms

    @property
    def p50_ms(self) -> float | None:
        """Median round trip, None when nothing was heard."""
        return statistics.median(self.round_trip_ms) if self.round_trip_ms else None

    @property
    def echo_path_p50_ms(self) -> float | None:
        """Median echo path (DAC → ADC), None when nothing was heard or no timestamps."""
        return statistics.median(self.echo_path_ms) if self.echo_path_ms else None

    @property
    def stable(self) -> bool:
        """Every chirp heard, no over- or underflow, round trips within two blocks and 4 ms."""
        if self.error or not self.sent or self.heard < self.sent or self.xruns:
            return False
        rt = self.round_trip_ms
        # where a chirp falls in its output block and its echo in the input block moves the
        # round trip by up to a block each; more than that (and 4 ms) is an unsteady path
        blocks_s = (self.input_block + self.output_block) / self.sample_rate
        return (max(rt) - min(rt)) / 1000 <= blocks_s + _STEADY_S

    def describe(self) -> str:
        """One line: the setting and what it gave."""
        lat = self.latency if isinstance(self.latency, str) else f"{self.latency * 1000:g} ms"
        head = f"{self.sample_rate} Hz, latency {lat}, blocksize {self.blocksize or 'auto'}"
        if self.error:
            return f"{head}: cannot open ({self.error})"
        if not self.heard:
            return f"{head}: no echo heard"
        rt = self.round_trip_ms
        p50 = self.p50_ms or 0.0
        return (
            f"{head}: round trip {p50:.1f} ms ({min(rt):.1f}-{max(rt):.1f}), devices report "
            f"{self.reported_ms:.1f} ms ({self.reported_output_ms:.1f} out + "
            f"{self.reported_input_ms:.1f} in); heard {self.heard}/{self.sent}, "
            f"{self.xruns} xruns{'' if self.stable else ' (not stable)'}"
        )


class _Probe:
    """The two streams' callbacks: the output plays the chirps, the input records."""

    def __init__(self, rate: int, count: int) -> None:
        self.rate = rate
        self.chirp = chirp(rate)
        self.count = count
        period = round(PERIOD_S * rate)
        self.starts = [round(LEAD_S * rate) + i * period for i in range(count)]
        self.total = self.starts[-1] + period + round(0.35 * rate)  # the last one's echo too
        self.rec = np.zeros(self.total + 2 * rate, dtype=np.float32)
        self.rec_n = 0
        nblocks = self.rec.size // 16 + 16
        self.blocks = np.zeros((nblocks, 3), dtype=np.float64)  # first index, ADC, callback time
        self.nblocks = 0
        self.out_pos = 0
        self.sent = np.zeros(count, dtype=np.float64)  # callback time of each chirp's start
        self.out_blocks = np.zeros((nblocks, 2), dtype=np.float64)  # first index, DAC time
        self.nout = 0
        self.nsent = 0  # chirps whose first sample was handed over
        self.playing = 0
        self.xruns = 0
        self.in_block = 0
        self.out_block = 0
        self.done = threading.Event()

    def out_cb(self, outdata: npt.NDArray[np.float32], frames: int, t: Any, status: Any) -> None:
        if status:
            self.xruns += 1
        outdata.fill(0.0)
        if frames > self.out_block:
            self.out_block = frames
        pos, end = self.out_pos, self.out_pos + frames
        dac = _dac(t)
        if self.nout < self.out_blocks.shape[0]:
            self.out_blocks[self.nout] = (pos, dac)
            self.nout += 1
        c = self.chirp
        i = self.playing  # the first chirp that may still sound in this block
        while i < self.count and self.starts[i] < end:
            s = self.starts[i]
            a, b = max(s, pos), min(s + c.size, end)
            if a < b:
                outdata[a - pos : b - pos, 0] = c[a - s : b - s]
            if s >= pos:  # its first sample is in this block: when it reaches the DAC
                self.sent[i] = t.currentTime
                self.nsent = i + 1
            i += 1
        while self.playing < self.count and self.starts[self.playing] + c.size <= end:
            self.playing += 1
        self.out_pos = end

    def in_cb(self, indata: npt.NDArray[np.float32], frames: int, t: Any, status: Any) -> None:
        if status:
            self.xruns += 1
        if frames > self.in_block:
            self.in_block = frames
        n = self.rec_n
        k = min(frames, self.rec.size - n)
        if k > 0:
            self.rec[n : n + k] = indata[:k, 0]
            if self.nblocks < self.blocks.shape[0]:
                self.blocks[self.nblocks] = (n, _adc(t), t.currentTime)
                self.nblocks += 1
            self.rec_n = n + k
        if self.rec_n >= self.rec.size or self.out_pos >= self.total + self.rate // 2:
            self.done.set()

    def analyse(self) -> tuple[list[float], list[float]]:
        """Round trips and echo paths (ms) of the heard chirps (empty: none heard)."""
        rec = self.rec[: self.rec_n].astype(np.float64)
        c = self.chirp.astype(np.float64)
        if rec.size < c.size or self.nblocks == 0:
            return [], []
        nfft = 1 << (rec.size + c.size).bit_length()
        corr = np.fft.irfft(np.fft.rfft(rec, nfft) * np.conj(np.fft.rfft(c, nfft)), nfft)
        corr = np.abs(corr[: rec.size - c.size + 1])
        energy = float(np.dot(c, c))
        floor = float(np.median(corr)) + 1e-12
        blocks = self.blocks[: self.nblocks]
        # the sample clocks are steady, single timestamps are not: each stream's clock is the
        # median of (timestamp - index / rate) over its blocks
        adc0 = self._clock(blocks[:, 0], blocks[:, 1])
        outs = self.out_blocks[: self.nout]
        dac0 = self._clock(outs[:, 0], outs[:, 1])
        # peaks: local maxima well above the noise and loud enough, at least half a period apart
        thr = max(_PEAK_OVER_NOISE * floor, _MIN_GAIN * energy, 0.25 * float(corr.max()))
        half = round(PERIOD_S * self.rate / 2)
        peaks: list[int] = []
        for idx in np.flatnonzero(corr >= thr).tolist():
            if corr[idx] >= corr[max(0, idx - half) : idx + half].max():
                peaks.append(idx)
        if not peaks:
            return [], []
        # one echo path: the lag (in samples) that most chirps agree on, the shortest on a tie
        starts = self.starts[: self.nsent]
        tol = round(_AGREE_S * self.rate)
        longest = round(_MAX_PATH_S * self.rate)
        pk = np.array(peaks)
        best: tuple[int, int] = (0, 0)  # (chirps matched, -lag)
        for s0 in starts:
            for p in peaks:
                lag = p - s0
                if 0 <= lag <= longest:
                    n = sum(bool(np.any(np.abs(pk - (s + lag)) <= tol)) for s in starts)
                    best = max(best, (n, -lag))
        n, lag = best[0], -best[1]
        if n * 2 <= len(starts) or n < 2:
            return [], []
        found: list[tuple[int, int, float]] = []  # chirp, recording index, delivered time
        for i, s0 in enumerate(starts):
            near = pk[np.abs(pk - (s0 + lag)) <= tol]
            if near.size:
                at = int(near[0])
                b = int(np.searchsorted(blocks[:, 0], at, side="right")) - 1
                found.append((i, at, float(blocks[b, 2])))
        rts = [(got - self.sent[i]) * 1000 for i, _, got in found]
        paths: list[float] = []
        if adc0 is not None and dac0 is not None:
            paths = [
                ((adc0 + k / self.rate) - (dac0 + self.starts[i] / self.rate)) * 1000
                for i, k, _ in found
            ]
        return rts, paths

    def _clock(
        self, index: npt.NDArray[np.float64], stamp: npt.NDArray[np.float64]
    ) -> float | None:
        """The stream's time at its index 0; None when the host gave no timestamps."""
        ok = stamp > 0
        return float(np.median(stamp[ok] - index[ok] / self.rate)) if ok.any() else None


def measure_round_trip(
    input_device: DeviceSpec = "default",
    output_device: DeviceSpec = "default",
    *,
    sample_rate: int | None = None,
    latency: str | float = "low",
    blocksize: int = 0,
    chirps: int = 6,
) -> RoundTrip:
    """Play ``chirps`` chirps on ``output_device`` and find them on ``input_device``.

    ``sample_rate`` None: the rate the stream engine would choose
    (:func:`~rtsdk.audio.devices.native_rate`). A setting the device refuses gives a
    :class:`RoundTrip` with ``error`` set; a device that does not exist raises
    :class:`~rtsdk.exceptions.AudioDeviceError`. Takes about ``0.6 + chirps / 4`` seconds.
    """
    lat = check_device_latency(latency, "measure_round_trip: ")
    _int_field("blocksize", blocksize, 0, 16384, "measure_round_trip: ")
    if isinstance(chirps, bool) or not isinstance(chirps, int) or not 2 <= chirps <= 100:
        raise ConfigurationError(f"chirps must be an int in [2, 100], got {chirps!r}")
    sd = _sd()
    out_info = resolve_device(output_device, "output")
    in_info = resolve_device(input_device, "input")
    rate = sample_rate or native_rate(out_info)
    probe = _Probe(rate, chirps)
    streams: list[Any] = []
    try:
        try:
            for factory, info, cb in (
                (sd.InputStream, in_info, probe.in_cb),
                (sd.OutputStream, out_info, probe.out_cb),
            ):
                streams.append(
                    factory(
                        device=info.index,
                        samplerate=rate,
                        channels=1,
                        dtype="float32",
                        latency=lat,
                        blocksize=blocksize,
                        callback=cb,
                    )
                )
            istream, ostream = streams
        except Exception as exc:
            return RoundTrip(rate, lat, blocksize, 0.0, 0.0, error=str(exc)[:200])
        try:
            istream.start()
            deadline = time.monotonic() + 2.0
            while not probe.nblocks and time.monotonic() < deadline:
                time.sleep(0.005)  # the input runs before the first chirp is played
            ostream.start()
        except Exception as exc:  # a device that opens but will not run
            return RoundTrip(rate, lat, blocksize, 0.0, 0.0, error=f"cannot start: {exc}"[:200])
        probe.done.wait(probe.total / rate + 3.0)
        reported = (float(istream.latency) * 1000, float(ostream.latency) * 1000)
    finally:
        for s in streams:
            try:
                s.stop()
                s.close()
            except Exception:
                pass
    rts, paths = probe.analyse()
    return RoundTrip(
        rate,
        lat,
        blocksize,
        reported[0],
        reported[1],
        rts,
        paths,
        sent=probe.nsent,
        heard=len(rts),
        xruns=probe.xruns,
        input_block=probe.in_block,
        output_block=probe.out_block,
    )


@dataclass(frozen=True, slots=True)
class LatencyReport:
    """What :func:`check_latency` found: every setting tried, and the best stable one."""

    input_device: DeviceInfo
    output_device: DeviceInfo
    trials: list[RoundTrip]

    @property
    def heard(self) -> bool:
        """True when any setting heard its chirps (False: no echo path between the two)."""
        return any(t.heard for t in self.trials)

    @property
    def best(self) -> RoundTrip | None:
        """The stable setting with the lowest median round trip (None: none was stable)."""
        stable = [t for t in self.trials if t.stable]
        return min(stable, key=lambda t: t.p50_ms or 0.0) if stable else None

    @property
    def echo_delay_hint_ms(self) -> int | None:
        """The echo stage's delay hint on this pair: its lead plus the measured echo path."""
        t = self.best or next((t for t in self.trials if t.echo_path_ms), None)
        path = t.echo_path_p50_ms if t is not None else None
        return None if path is None else round(LEAD_MS + max(0.0, path))

    def describe(self) -> str:
        """The report as text, for ``python -m rtsdk devices --latency``."""
        i, o = self.input_device, self.output_device
        lines = [
            f"output {o.index} {o.name!r} (advertises {o.default_samplerate:.0f} Hz) -> "
            f"input {i.index} {i.name!r} (advertises {i.default_samplerate:.0f} Hz)",
        ]
        lines += [f"  {t.describe()}" for t in self.trials]
        if not self.heard:
            lines.append(
                "no echo heard: the input did not pick up the chirps played on the output, so "
                "there is no round trip to measure (a headset, a muted or unplugged microphone, "
                "the output muted or at zero volume, or two devices in different places). "
                "Unmute, turn the speaker up, or hold the microphone near the speaker, and run "
                "it again."
            )
            return "\n".join(lines)
        best = self.best
        if best is None:
            lines.append(
                "no setting was stable (chirps lost, xruns or an unsteady round trip): "
                "keep the defaults, or try --latency with more seconds"
            )
        else:
            lines.append(
                f"lowest stable: sample_rate={best.sample_rate}, latency={best.latency!r}, "
                f"blocksize={best.blocksize or 'auto'}: round trip {best.p50_ms:.1f} ms "
                f"(the devices report {best.reported_ms:.1f} ms)"
            )
            if best.latency != "high":
                lines.append(
                    "  (stable here and now; a shorter buffer can underrun when the CPU gets "
                    "busy: rtsdk's default is latency='high')"
                )
            lines.append(
                "  AudioStreamOptions(sample_rate="
                f"{best.sample_rate}, latency={best.latency!r}"
                + (f", blocksize={best.blocksize}" if best.blocksize else "")
                + ")"
            )
        hint = self.echo_delay_hint_ms
        src = best or next((t for t in self.trials if t.echo_path_ms), None)
        if hint is not None and src is not None and src.echo_path_p50_ms is not None:
            lines.append(
                f"echo path (DAC -> ADC) {round(src.echo_path_p50_ms, 1) + 0.0:.1f} ms: echo delay "
                f"hint {hint} ms ({LEAD_MS} ms lead + the path; "
                "WebRtcEchoCanceller(delay_hint_ms=...))"
            )
        return "\n".join(lines)


def _candidate_rates(info_out: DeviceInfo) -> list[int]:
    rates = [native_rate(info_out)]
    advertised = round(info_out.default_samplerate)
    if advertised not in rates and advertised in SUPPORTED_RATES:
        rates.append(advertised)
    return rates


def check_latency(
    input_device: DeviceSpec = "default",
    output_device: DeviceSpec = "default",
    *,
    sample_rates: list[int] | None = None,
    latencies: list[str | float] | None = None,
    blocksizes: list[int] | None = None,
    chirps: int = 6,
) -> LatencyReport:
    """Measure the round trip at each setting (rates × latencies × blocksizes, in that order).

    Defaults: the rate the stream engine opens the devices at and, when it differs, the one the
    output advertises; PortAudio latency ``"low"`` and ``"high"``; blocksize 0 (PortAudio's
    choice). Stops early when the first setting hears nothing (no echo path: more settings
    would not hear either). Raises :class:`~rtsdk.exceptions.AudioDeviceError` when a device
    does not exist.
    """
    in_info = resolve_device(input_device, "input")
    out_info = resolve_device(output_device, "output")
    rates = sample_rates or _candidate_rates(out_info)
    for r in rates:
        if r not in SUPPORTED_RATES:
            supported = ", ".join(str(x) for x in SUPPORTED_RATES)
            raise ConfigurationError(f"sample rate {r} Hz is not one of {supported}")
    lats = latencies or ["low", "high"]
    blocks = blocksizes or [0]
    trials: list[RoundTrip] = []
    for rate in rates:
        for lat in lats:
            for block in blocks:
                t = measure_round_trip(
                    in_info.index,
                    out_info.index,
                    sample_rate=rate,
                    latency=lat,
                    blocksize=block,
                    chirps=chirps,
                )
                trials.append(t)
                if len(trials) == 1 and not t.heard and not t.error:
                    return LatencyReport(in_info, out_info, trials)
    return LatencyReport(in_info, out_info, trials)

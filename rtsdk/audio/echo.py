"""Acoustic echo cancellation: the :class:`EchoCanceller` interface and its WebRTC backend.

An echo canceller takes what the microphone captured (``mic``) and what the speaker played at
about the same time (``ref``, the *reference*, already aligned so that it leads its echo by a few
tens of milliseconds) and returns the microphone signal with the speaker's echo removed.

- :class:`EchoCanceller` is the interface the stream engine uses: :meth:`~EchoCanceller.process`
  takes any number of samples (the same count of ``mic`` and ``ref``) and returns as many,
  carrying the remainder of a 10 ms block to the next call, so any uplink ``frame_ms`` works;
  :meth:`~EchoCanceller.reset`, :attr:`~EchoCanceller.settings` and
  :attr:`~EchoCanceller.stats`. A new backend implements ``_process_blocks`` (whole 10 ms
  blocks) and ``_reset`` only.
- :class:`WebRtcEchoCanceller` runs WebRTC's AEC3 (and, optionally, its noise suppressor)
  through the ``pywebrtc-audio`` package, imported when first used.
- :func:`echo_backend_available` says whether that package can be imported (and why not).

All of it runs on one thread (the asyncio loop's); nothing here touches the device callbacks.
"""

from __future__ import annotations

import abc
import math
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from rtsdk.exceptions import AudioFormatError, ConfigurationError
from rtsdk.kernels import EchoMeter, TailGuard

__all__ = [
    "ECHO_RATES",
    "INSTALL_HINT",
    "EchoCanceller",
    "EchoSettings",
    "WebRtcEchoCanceller",
    "echo_backend_available",
]

#: Sample rates an :class:`EchoCanceller` accepts (each has a whole number of samples in 10 ms).
ECHO_RATES: Final = (8000, 16000, 24000, 32000, 44100, 48000)

#: What to install for the WebRTC backend.
INSTALL_HINT: Final = "pip install 'pywebrtc-audio>=0.2,<0.3'"

_F32: Final = np.dtype(np.float32)
#: Reference blocks quieter than this (mean square, about -60 dBFS) do not count towards ERLE.
_REF_ACTIVE: Final = 1e-6
#: ERLE smoothing: the weight of the newest call (about one second of memory at 20 ms frames).
_ERLE_ALPHA: Final = 0.02


@dataclass(frozen=True, slots=True)
class EchoSettings:
    """How an :class:`EchoCanceller` was set up."""

    backend: str  #: backend name, e.g. ``"webrtc-aec3"``
    sample_rate: int  #: Hz, of both ``mic`` and ``ref``
    noise_suppression: bool  #: the backend's noise suppressor runs after the canceller
    delay_hint_ms: int  #: how far the reference is expected to lead its echo


def echo_backend_available() -> tuple[bool, str]:
    """``(True, "")`` when the WebRTC backend can be imported, else ``(False, why)``."""
    try:
        import pywebrtc_audio  # noqa: F401
    except Exception as exc:  # ImportError, or an OSError from a broken shared library
        return False, f"pywebrtc-audio cannot be imported ({type(exc).__name__}: {exc})"
    return True, ""


def _ratio_db(mic_e: float, out_e: float) -> float | None:
    """``10 log10(mic_e / out_e)``; None before anything was measured, 99 for silence out."""
    if out_e <= 0.0 or mic_e <= 0.0:
        return None if mic_e <= 0.0 else 99.0
    return 10.0 * math.log10(mic_e / out_e)


def _check_rate(rate: object) -> int:
    if isinstance(rate, bool) or not isinstance(rate, int) or rate not in ECHO_RATES:
        rates = ", ".join(str(r) for r in ECHO_RATES)
        raise AudioFormatError(f"echo cancellation needs a sample rate of {rates} Hz, got {rate!r}")
    return rate


def _as_mono(x: object, what: str) -> npt.NDArray[np.float32]:
    if type(x) is np.ndarray and x.ndim == 1 and x.dtype is _F32 and x.flags.c_contiguous:
        return x  # the usual case, at once
    if not isinstance(x, np.ndarray):
        raise AudioFormatError(
            f"echo canceller {what}: expected a float32 numpy array, got {type(x).__name__}"
        )
    if x.ndim == 2 and x.shape[1] == 1:
        x = x.reshape(-1)
    if x.ndim != 1:
        raise AudioFormatError(
            f"echo canceller {what}: expected mono samples (1-D), got shape {x.shape}"
        )
    if x.dtype != _F32:
        raise AudioFormatError(
            f"echo canceller {what}: expected float32 samples, got dtype {x.dtype}"
        )
    return np.ascontiguousarray(x)


class EchoCanceller(abc.ABC):
    """Removes the speaker's echo from microphone audio (see the module docstring).

    ``process(mic, ref)`` returns the cleaned microphone samples, as many as given, delayed by
    :attr:`latency` samples (0 when every call is a whole number of 10 ms blocks, as with the
    default 20 ms frames; up to 10 ms otherwise, fixed by the first call's length).

    Counters (:attr:`stats`): ``erle_db`` is the echo return loss enhancement of the whole
    stage, what the uplink gets: the smoothed ratio of microphone power to the power that
    leaves the stage (after the residual echo guard) over blocks in which the reference is
    audible (the user talking over the speaker lowers it, as it should);
    ``canceller_erle_db`` is the same measured on the canceller's own output, before the guard.
    """

    backend: str = ""

    def __init__(
        self,
        sample_rate: int,
        *,
        noise_suppression: bool = False,
        delay_hint_ms: int = 0,
        tail_guard: bool = True,
    ) -> None:
        self.sample_rate = _check_rate(sample_rate)
        if not isinstance(noise_suppression, bool):
            raise ConfigurationError(f"noise_suppression must be a bool, got {noise_suppression!r}")
        if (
            isinstance(delay_hint_ms, bool)
            or not isinstance(delay_hint_ms, int)
            or not (0 <= delay_hint_ms <= 1000)
        ):
            raise ConfigurationError(
                f"delay_hint_ms must be an int between 0 and 1000, got {delay_hint_ms!r}"
            )
        self.noise_suppression = noise_suppression
        self._hint = delay_hint_ms
        self.block = self.sample_rate // 100  # one 10 ms block
        self._guard = TailGuard(self.block, rate=self.sample_rate) if tail_guard else None
        # block energies, ERLE powers and the guard: one kernel call per frame
        self._meter = EchoMeter(self.block, self._guard, active=_REF_ACTIVE, alpha=_ERLE_ALPHA)
        b = self.block
        # carry buffers: input blocks in progress, output waiting to be handed back
        self._mic_in = np.zeros(b, dtype=_F32)
        self._ref_in = np.zeros(b, dtype=_F32)
        self._fill = 0
        self._out = np.zeros(2 * b, dtype=_F32)
        self._out_len = 0
        self._latency: int | None = None
        self.samples = 0  #: samples processed
        self.latency_growths = 0  #: calls whose length forced :attr:`latency` up

    # ------------------------------------------------------------------ backend hooks
    @abc.abstractmethod
    def _process_blocks(
        self, mic: npt.NDArray[np.float32], ref: npt.NDArray[np.float32]
    ) -> npt.NDArray[np.float32]:
        """Cancel whole 10 ms blocks (``mic.size`` a multiple of :attr:`block`); same length."""

    @abc.abstractmethod
    def _reset(self) -> None:
        """Forget the adapted state (filters, noise estimates); keep the configuration."""

    def _set_delay_hint(self, ms: int) -> None:  # noqa: B027 - optional hook
        """Tell the backend how far the reference leads its echo."""

    # ------------------------------------------------------------------ public
    @property
    def settings(self) -> EchoSettings:
        """The configuration (backend, rate, noise suppression, delay hint)."""
        return EchoSettings(self.backend, self.sample_rate, self.noise_suppression, self._hint)

    @property
    def delay_hint_ms(self) -> int:
        """How far the reference is expected to lead its echo, in ms (settable)."""
        return self._hint

    @delay_hint_ms.setter
    def delay_hint_ms(self, ms: int) -> None:
        ms = max(0, min(1000, int(ms)))
        if ms != self._hint:
            self._hint = ms
            self._set_delay_hint(ms)

    @property
    def latency(self) -> int:
        """Samples by which the cleaned output lags the input (carry framing)."""
        return self._latency or 0

    @property
    def active_samples(self) -> int:
        """Samples processed while the reference was audible."""
        return self._meter.active_blocks * self.block

    @property
    def erle_db(self) -> float | None:
        """Smoothed echo return loss enhancement of the whole stage (canceller and guard: what
        the uplink gets) in dB; None before the reference was heard."""
        return _ratio_db(self._meter.mic_power, self._meter.stage_power)

    @property
    def canceller_erle_db(self) -> float | None:
        """The same on the canceller's own output, before the residual echo guard."""
        return _ratio_db(self._meter.mic_power, self._meter.out_power)

    @property
    def stats(self) -> dict[str, Any]:
        """Counters: backend, sample_rate, erle_db (the whole stage), canceller_erle_db,
        delay_hint_ms, samples, latency_samples, the guard's blocks (held down, let through on
        the user's evidence, and of those sent from the microphone: ``mic_blocks``)."""
        erle, own = self.erle_db, self.canceller_erle_db
        return {
            "backend": self.backend,
            "sample_rate": self.sample_rate,
            "noise_suppression": self.noise_suppression,
            "erle_db": None if erle is None else round(erle, 1),
            "canceller_erle_db": None if own is None else round(own, 1),
            "delay_hint_ms": self._hint,
            "samples": self.samples,
            "active_samples": self.active_samples,
            "latency_samples": self.latency,
            "tail_guard": self._guard is not None,
            "tail_guarded_blocks": 0 if self._guard is None else self._guard.guarded_blocks,
            "user_blocks": 0 if self._guard is None else self._guard.user_blocks,
            "mic_blocks": 0 if self._guard is None else self._guard.mic_blocks,
            "echo_lead_ms": None if self._guard is None else self._guard.lead_ms,
        }

    def reset(self) -> None:
        """Forget what was learnt about the echo path (a device changed); keep the settings."""
        self._reset()
        self._meter.reset()  # and the guard
        self._fill = 0
        self._out_len = 0
        self._latency = None

    def process(
        self, mic: npt.NDArray[np.float32], ref: npt.NDArray[np.float32]
    ) -> npt.NDArray[np.float32]:
        """Cancel the echo of ``ref`` in ``mic`` (float32 mono, the same length); a new array.

        Raises :class:`~rtsdk.exceptions.AudioFormatError` for anything but two 1-D float32
        arrays of equal length. Exceptions of the backend itself propagate.
        """
        mic = _as_mono(mic, "mic")
        ref = _as_mono(ref, "ref")
        n: int = mic.size
        if ref.size != n:
            raise AudioFormatError(
                f"echo canceller: mic has {n} samples but ref has {ref.size}; pass equal lengths"
            )
        b = self.block
        if n == 0:
            return np.empty(0, dtype=_F32)
        if self._latency is None:  # fixed by the first call: silence ahead of the first output
            self._latency = (b - math.gcd(n, b)) % b
            self._push_out(np.zeros(self._latency, dtype=_F32))
        if not self._fill and not self._out_len and n % b == 0:
            # whole blocks and nothing carried (20 ms frames): straight through, no copies
            self.samples += n
            return self._run(mic, ref)
        out = np.empty(n, dtype=_F32)
        # 1. complete the block in progress
        pos = 0
        if self._fill:
            k = min(b - self._fill, n)
            self._mic_in[self._fill : self._fill + k] = mic[:k]
            self._ref_in[self._fill : self._fill + k] = ref[:k]
            self._fill += k
            pos = k
            if self._fill == b:
                self._emit(self._mic_in, self._ref_in)
                self._fill = 0
        # 2. whole blocks straight from the caller's arrays
        whole = (n - pos) // b * b
        if whole:
            self._emit(mic[pos : pos + whole], ref[pos : pos + whole])
            pos += whole
        # 3. keep the rest
        rest = n - pos
        if rest:
            self._mic_in[:rest] = mic[pos:]
            self._ref_in[:rest] = ref[pos:]
            self._fill = rest
        # hand back n samples: what is due now, after the fixed latency
        due = self._out_len
        if due < n:  # a call of another length than the first: grow the latency (silence)
            grow = n - due
            self._latency = (self._latency or 0) + grow
            self._push_out(np.zeros(grow, dtype=_F32), front=True)
            self.latency_growths += 1
        out[:] = self._out[:n]
        left = self._out_len - n
        self._out[:left] = self._out[n : self._out_len]
        self._out_len = left
        self.samples += n
        return out

    # ------------------------------------------------------------------ internals
    def _emit(self, mic: npt.NDArray[np.float32], ref: npt.NDArray[np.float32]) -> None:
        self._push_out(self._run(mic, ref))

    def _run(
        self, mic: npt.NDArray[np.float32], ref: npt.NDArray[np.float32]
    ) -> npt.NDArray[np.float32]:
        """Whole blocks through the backend, the ERLE estimate and the guard; a new array."""
        y = self._process_blocks(mic, ref)
        f = y.flags
        if y.dtype != _F32 or y.shape != mic.shape or not f.writeable or not f.c_contiguous:
            y = np.array(y, dtype=_F32).reshape(mic.shape)
        # the canceller's own ERLE (before the guard), over blocks the speaker played; the guard
        self._meter.measure(mic, ref, y)
        return y

    def _push_out(self, y: npt.NDArray[np.float32], *, front: bool = False) -> None:
        need = self._out_len + y.size
        if need > self._out.size:
            grown = np.zeros(max(need, 2 * self._out.size), dtype=_F32)
            grown[: self._out_len] = self._out[: self._out_len]
            self._out = grown
        if front:
            self._out[y.size : need] = self._out[: self._out_len].copy()
            self._out[: y.size] = y
        else:
            self._out[self._out_len : need] = y
        self._out_len = need


class WebRtcEchoCanceller(EchoCanceller):
    """WebRTC's AEC3 (Chrome's echo canceller) through ``pywebrtc-audio``.

    Raises :class:`~rtsdk.exceptions.ConfigurationError` naming what to install when the package
    cannot be imported. ``noise_suppression`` adds WebRTC's noise suppressor (moderate level)
    after the canceller. AEC3 also high-passes the microphone (below about 80 Hz), as Chrome does.
    """

    backend = "webrtc-aec3"

    def __init__(
        self,
        sample_rate: int,
        *,
        noise_suppression: bool = False,
        delay_hint_ms: int = 0,
        tail_guard: bool = True,
    ) -> None:
        super().__init__(
            sample_rate,
            noise_suppression=noise_suppression,
            delay_hint_ms=delay_hint_ms,
            tail_guard=tail_guard,
        )
        ok, why = echo_backend_available()
        if not ok:
            raise ConfigurationError(f"echo cancellation needs {INSTALL_HINT}: {why}")
        self._make()

    def _make(self) -> None:
        from pywebrtc_audio import AudioProcessor

        self._ap: Any = AudioProcessor(
            sample_rate=self.sample_rate,
            num_channels=1,
            echo_cancellation=True,
            noise_suppression=self.noise_suppression,
            ns_level=1,
            stream_delay_ms=self._hint,
        )

    def _process_blocks(
        self, mic: npt.NDArray[np.float32], ref: npt.NDArray[np.float32]
    ) -> npt.NDArray[np.float32]:
        y: npt.NDArray[np.float32] = self._ap.process(mic, ref)
        return y

    def _reset(self) -> None:
        self._ap.reset()

    def _set_delay_hint(self, ms: int) -> None:
        self._ap.stream_delay_ms = ms

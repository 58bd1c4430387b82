"""A synthetic room for echo-cancellation tests: speech-like audio, an impulse response, noise.

Used offline (numpy convolution) and by the device tests (the impulse response PipeWire's
convolver runs in the CI echo room, see ``.ci/audio.sh room``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.signal import butter, fftconvolve, lfilter, resample_poly


def speechlike(
    rate: int, seconds: float, seed: int = 1, level: float = 0.5, floor: float = 0.05
) -> npt.NDArray[np.float32]:
    """Band-limited noise (200-3500 Hz) with a syllable-rate envelope: about the spectrum and
    rhythm of speech, peak ``level``."""
    rng = np.random.default_rng(seed)
    n = int(rate * seconds)
    x = rng.standard_normal(n)
    b, a = butter(2, [200 / (rate / 2), min(3500, 0.45 * rate) / (rate / 2)], "band")
    x = lfilter(b, a, x)
    t = np.arange(n) / rate
    x *= np.abs(np.sin(2 * np.pi * 2.0 * t + rng.uniform(0, np.pi))) + floor
    return (level * x / np.max(np.abs(x))).astype(np.float32)


def room_ir(
    rate: int,
    *,
    delay_ms: float = 60.0,
    rt60: float = 0.25,
    gain: float = 1.0,
    highpass_hz: float = 200.0,
    seed: int = 2,
) -> npt.NDArray[np.float32]:
    """An impulse response: ``delay_ms`` of travel, a direct path, then an exponentially
    decaying diffuse tail (``rt60`` seconds to -60 dB), high-passed like a small speaker.
    Energy ``gain`` squared."""
    rng = np.random.default_rng(seed)
    n = int(rate * min(0.6, 1.5 * rt60))
    t = np.arange(n) / rate
    h = 0.1 * rng.standard_normal(n) * np.exp(-6.9 * t / rt60)
    h[0] += 1.0
    b, a = butter(2, highpass_hz / (rate / 2), "high")
    h = lfilter(b, a, h)
    h *= gain / np.sqrt(np.sum(h**2))
    return np.concatenate([np.zeros(int(rate * delay_ms / 1000)), h]).astype(np.float32)


@dataclass(frozen=True)
class Room:
    """One echo room of the class the echo stage is tested on: the path, its reverberation, the
    small speaker (high-pass, how hard it clips) and how loud its echo is at the microphone.

    ``gain`` is the impulse response's energy gain and ``drive`` the soft clip's in the numpy
    rooms; ``device_gain``, ``clip_in_db`` and ``clip_out_db`` the same in the CI room
    (``.ci/audio.sh room-up``: PipeWire's path and its clip are louder, so its response is
    quieter for the same echo at the microphone, measured by the device test).
    """

    name: str
    delay_ms: float
    rt60: float
    gain: float
    highpass_hz: float
    drive: float
    clip_in_db: float
    clip_out_db: float
    device_gain: float
    seed: int = 2

    def ir(
        self, rate: int, extra_delay_ms: float = 0.0, *, device: bool = False
    ) -> npt.NDArray[np.float32]:
        """The impulse response at ``rate`` (``extra_delay_ms`` more travel; ``device``: the
        CI room's gain)."""
        return room_ir(
            rate,
            delay_ms=self.delay_ms + extra_delay_ms,
            rt60=self.rt60,
            gain=self.device_gain if device else self.gain,
            highpass_hz=self.highpass_hz,
            seed=self.seed,
        )

    def echo(
        self, far: npt.NDArray[np.float32], rate: int, extra_delay_ms: float = 0.0
    ) -> npt.NDArray[np.float32]:
        """What the microphone hears of ``far`` (numpy room: clip, then the response)."""
        y = fftconvolve(soft_clip(far, self.drive), self.ir(rate, extra_delay_ms))[: far.size]
        return y.astype(np.float32)


#: The CI room of issue 9: echo about 10 dB under the output, RT60 250 ms, a mild clip.
CI_ROOM = Room("ci", 60, 0.25, 0.25, 200, 1.5, -7.3, -0.5, 0.25)
#: Loud rooms (a laptop's speaker next to its microphone): the echo at the microphone within
#: 3 dB of the output, RT60 0.5-0.6 s, a small speaker clipping, -50 dBFS of noise.
HARD_ROOMS = (
    Room("laptop", 80, 0.5, 1.2, 300, 3.0, 0.0, -3.0, 0.34, seed=4),
    Room("laptop-boomy", 60, 0.6, 1.4, 400, 2.0, -3.0, -2.0, 0.28, seed=5),
)


def soft_clip(x: npt.NDArray[np.float32], drive: float = 1.5) -> npt.NDArray[np.float32]:
    """A small speaker driven hard: tanh saturation (mild at speech levels)."""
    return (np.tanh(drive * x) / drive).astype(np.float32)


def echo_of(
    far: npt.NDArray[np.float32],
    rate: int,
    *,
    delay_ms: float = 60.0,
    noise_dbfs: float = -50.0,
    drift_ppm: float = 0.0,
    gain: float = 1.0,
    seed: int = 3,
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    """``(echo, noise)``: what a microphone hears of ``far`` played in the room (soft clip,
    impulse response, a capture clock ``drift_ppm`` off), and the room's noise."""
    y = fftconvolve(soft_clip(far), room_ir(rate, delay_ms=delay_ms, gain=gain))[: far.size]
    if drift_ppm:
        up = 100_000
        y = resample_poly(y, up, round(up * (1 + drift_ppm * 1e-6)))[: far.size]
        y = np.pad(y, (0, far.size - y.size))
    rng = np.random.default_rng(seed)
    noise = (10 ** (noise_dbfs / 20) * rng.standard_normal(far.size)).astype(np.float32)
    return y.astype(np.float32), noise


def db(x: npt.NDArray[np.floating], y: npt.NDArray[np.floating]) -> float:
    """Power ratio of ``x`` to ``y`` in dB."""
    return float(
        10
        * np.log10(
            np.mean(np.square(x, dtype=np.float64)) / np.mean(np.square(y, dtype=np.float64))
        )
    )


def user_voice(rate: int, n: int, level: float = 0.3) -> npt.NDArray[np.float32]:
    """``n`` samples of a real voice (``samples/assets/hello.wav``, looped), peak ``level``."""
    from pathlib import Path

    from rtsdk.audio.files import read_wav

    x, r = read_wav(Path(__file__).parent.parent / "samples" / "assets" / "hello.wav")
    if r != rate:
        x = resample_poly(x, rate, r).astype(np.float32)
    x = np.tile(x, -(-n // x.size))[:n]
    return (level * x / np.max(np.abs(x))).astype(np.float32)

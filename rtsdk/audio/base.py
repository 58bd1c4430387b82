"""What the :class:`~rtsdk.audio.stream.AudioStreamManager` needs from a source and a sink.

A **source** delivers float32 samples (interleaved when ``channels`` > 1) at its
``sample_rate`` through ``await source.read_into(out)``. Clocked sources (a microphone, a WAV
file paced in real time) produce on their own thread into an
:class:`~rtsdk.audio.bridge.AudioBridge`; others (a WAV file read as fast as possible, audio
pushed by the app) hand over what they have when asked.

A **sink** consumes the :class:`~rtsdk.audio.playback.Playback` ring on its own clock: a clocked
sink (``clocked = True``: a speaker, a WAV file written in real time) calls
``playback.render(block)`` once per block and always gets a full block (silence when nothing is
queued); an unclocked sink calls ``playback.drain(block)`` and writes only real audio.
"""

from __future__ import annotations

import abc
import asyncio
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import numpy.typing as npt

from rtsdk.audio.bridge import AudioBridge
from rtsdk.exceptions import AudioFormatError
from rtsdk.kernels import pcm16_to_float32

if TYPE_CHECKING:
    from typing_extensions import Buffer

    from rtsdk.audio.options import AudioStreamOptions
    from rtsdk.audio.playback import Playback

__all__ = ["AudioSink", "AudioSource", "EndOfStream", "as_buffer", "to_float32"]

#: Raised by :meth:`AudioSource.read_into` once the stream ended and everything was read.
EndOfStream = EOFError

F32 = np.dtype(np.float32)


def as_buffer(a: npt.NDArray[Any]) -> Buffer:
    """An ndarray typed as a buffer (numpy's stubs do not say that it is one)."""
    return cast("Buffer", a)


def to_float32(data: object, channels: int, what: str) -> npt.NDArray[np.float32]:
    """App audio as a flat interleaved float32 array: float32/int16 ndarray or PCM16 LE bytes.

    A 1-D array is interleaved samples (mono when ``channels`` is 1); a 2-D one must be
    ``(frames, channels)``. Raises :class:`AudioFormatError` naming what is wrong.
    """
    if isinstance(data, np.ndarray):
        a = data
        if a.ndim == 2:
            if a.shape[1] != channels:
                raise AudioFormatError(
                    f"{what}: got {a.shape[1]} channels (shape {a.shape}), expected {channels}"
                )
        elif a.ndim != 1:
            raise AudioFormatError(
                f"{what}: expected a 1-D or (frames, {channels}) array, got {a.ndim}-D "
                f"shape {a.shape}"
            )
        if a.dtype == np.float32:
            out = np.ascontiguousarray(a).reshape(-1)
        elif a.dtype == np.int16:
            out = pcm16_to_float32(np.ascontiguousarray(a).reshape(-1))
        else:
            raise AudioFormatError(
                f"{what}: expected float32 or int16 samples, got dtype {a.dtype} "
                "(convert with .astype(numpy.float32), full scale 1.0)"
            )
    elif isinstance(data, (bytes, bytearray, memoryview)):
        raw = memoryview(data).cast("B")
        if raw.nbytes % 2:
            raise AudioFormatError(
                f"{what}: PCM16 bytes need an even byte count, got an odd {raw.nbytes}"
            )
        out = pcm16_to_float32(np.frombuffer(raw, dtype="<i2"))
    else:
        raise AudioFormatError(
            f"{what}: expected a numpy float32/int16 array or PCM16 bytes, "
            f"got {type(data).__name__}"
        )
    if out.size % channels:
        raise AudioFormatError(
            f"{what}: {out.size} samples is not a whole number of {channels}-channel frames"
        )
    return out


class AudioSource(abc.ABC):
    """Where uplink audio comes from (see the module docstring)."""

    #: Samples per second per channel, known after :meth:`open`.
    sample_rate: int = 0
    #: Interleaved channels delivered by :meth:`read_into`, known after :meth:`open`.
    channels: int = 1

    def open(self, options: AudioStreamOptions) -> None:  # noqa: B027 - optional hook
        """Resolve the rate and channels (and open devices or files); called before start."""

    @abc.abstractmethod
    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        """Begin producing (start threads or streams). Called on the loop's thread."""

    @abc.abstractmethod
    def stop(self) -> None:
        """Stop producing, join threads, close streams and files. Idempotent."""

    @abc.abstractmethod
    async def read_into(self, out: npt.NDArray[np.float32]) -> int:
        """Fill ``out`` (float32, C-contiguous) with the next samples; return how many.

        Returns fewer only at the end of the stream; raises :class:`EndOfStream` (an
        ``EOFError``) once nothing is left.
        """

    @property
    def readable(self) -> int:
        """Samples waiting to be read now."""
        return 0

    @property
    def overruns(self) -> int:
        """Samples dropped because the reader fell behind."""
        return 0

    @property
    def xruns(self) -> int:
        """Device status flags reported (input overflows), in callbacks."""
        return 0

    @property
    def errors(self) -> int:
        """Device errors caught (never raised into the audio thread)."""
        return 0


class BridgedSource(AudioSource):
    """A source whose own thread writes into an :class:`AudioBridge` the loop reads."""

    _bridge: AudioBridge | None = None

    def _make_bridge(self, options: AudioStreamOptions) -> AudioBridge:
        frames = max(1, self.sample_rate * options.uplink_window_ms // 1000)
        self._bridge = AudioBridge(frames * self.channels, channels=self.channels)
        return self._bridge

    async def read_into(self, out: npt.NDArray[np.float32]) -> int:
        """See :meth:`AudioSource.read_into`."""
        if self._bridge is None:
            raise RuntimeError(f"{type(self).__name__}.read_into() before open()")
        return await self._bridge.read_into(out)

    @property
    def readable(self) -> int:
        """Samples waiting in the bridge."""
        return 0 if self._bridge is None else self._bridge.readable

    @property
    def overruns(self) -> int:
        """Samples the bridge dropped (the loop fell behind by more than the window)."""
        return 0 if self._bridge is None else self._bridge.overruns


class AudioSink(abc.ABC):
    """Where assistant audio goes (see the module docstring)."""

    #: Samples per second, known after :meth:`open`.
    sample_rate: int = 0
    #: True: calls ``playback.render`` on a real-time clock; False: ``playback.drain``.
    clocked: bool = True
    #: True: wants the uplink audio too (:meth:`feed_input`, at :attr:`sample_rate`).
    wants_input: bool = False

    def open(self, options: AudioStreamOptions, session_rate: int) -> None:  # noqa: B027
        """Resolve the rate (and open devices or files); called before start."""

    @abc.abstractmethod
    def start(self, playback: Playback) -> None:
        """Begin consuming ``playback`` on the sink's own clock."""

    @abc.abstractmethod
    def stop(self) -> None:
        """Stop consuming, join threads, close streams and files. Idempotent."""

    def feed_input(self, samples: npt.NDArray[np.float32]) -> None:  # noqa: B027
        """The uplink audio as sent (mono, at :attr:`sample_rate`), for sinks that record it."""

    @property
    def xruns(self) -> int:
        """Device status flags reported (output underflows), in callbacks."""
        return 0

    @property
    def errors(self) -> int:
        """Device errors caught (never raised into the audio thread)."""
        return 0

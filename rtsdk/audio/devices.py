"""Microphones and speakers through PortAudio (``sounddevice``), imported only when used.

Without the PortAudio library the SDK still imports; opening or listing a device then raises
:class:`~rtsdk.exceptions.AudioDeviceError` saying what to install. Device callbacks follow the
real-time contract: they copy into or out of a ring and bump counters; status flags (xruns) and
exceptions are counted, never raised into PortAudio's thread.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from rtsdk._reference.resample import SUPPORTED_RATES
from rtsdk.audio.base import AudioSink, BridgedSource, as_buffer
from rtsdk.exceptions import AudioDeviceError

if TYPE_CHECKING:
    from rtsdk.audio.align import CaptureMark
    from rtsdk.audio.options import AudioStreamOptions, DeviceSpec
    from rtsdk.audio.playback import Playback
    from rtsdk.audio.tap import RenderTap

__all__ = [
    "DeviceInfo",
    "DeviceSink",
    "DeviceSource",
    "describe_devices",
    "list_devices",
    "native_rate",
    "resolve_device",
]

_INSTALL_HINT = (
    "install the PortAudio library (Debian/Ubuntu: apt-get install libportaudio2; "
    "Fedora: dnf install portaudio; macOS: brew install portaudio)"
)


def _sd() -> ModuleType:
    """The ``sounddevice`` module, or :class:`AudioDeviceError` saying what is missing."""
    try:
        import sounddevice as sd
    except OSError as exc:  # sounddevice raises OSError when libportaudio is not found
        raise AudioDeviceError(f"PortAudio is not available ({exc}): {_INSTALL_HINT}") from None
    except ImportError as exc:
        raise AudioDeviceError(
            f"the sounddevice package is missing ({exc}): pip install sounddevice"
        ) from None
    mod: ModuleType = sd
    return mod


@dataclass(frozen=True, slots=True)
class DeviceInfo:
    """One PortAudio device."""

    index: int
    name: str
    hostapi: str
    max_input_channels: int
    max_output_channels: int
    default_samplerate: float
    is_default_input: bool
    is_default_output: bool


def _defaults(sd: Any) -> tuple[int, int]:
    dev = sd.default.device
    try:
        return int(dev[0]), int(dev[1])
    except (TypeError, ValueError):  # names instead of indices
        return -1, -1


def list_devices() -> list[DeviceInfo]:
    """Every device PortAudio sees. Raises :class:`AudioDeviceError` without PortAudio."""
    sd = _sd()
    try:
        devs = sd.query_devices()
        apis = sd.query_hostapis()
    except Exception as exc:
        raise AudioDeviceError(f"PortAudio could not list the audio devices: {exc}") from None
    din, dout = _defaults(sd)
    out = []
    for i, d in enumerate(devs):
        out.append(
            DeviceInfo(
                index=i,
                name=str(d["name"]),
                hostapi=str(apis[d["hostapi"]]["name"]),
                max_input_channels=int(d["max_input_channels"]),
                max_output_channels=int(d["max_output_channels"]),
                default_samplerate=float(d["default_samplerate"]),
                is_default_input=i == din,
                is_default_output=i == dout,
            )
        )
    return out


def describe_devices() -> str:
    """The devices as text, for ``python -m rtsdk devices``; never raises.

    ``>`` marks the default input, ``<`` the default output.
    """
    try:
        devs = list_devices()
        version = _sd().get_portaudio_version()[1]
    except AudioDeviceError as exc:
        return f"audio devices: unavailable ({exc})"
    if not devs:
        return (
            f"audio devices: none ({version} sees no device; without a sound card, a sound "
            "server such as PipeWire or PulseAudio provides virtual ones)"
        )
    width = max(len(d.name) for d in devs)
    lines = [f"audio devices ({version}; > default input, < default output):"]
    for d in devs:
        mark = (">" if d.is_default_input else " ") + ("<" if d.is_default_output else " ")
        lines.append(
            f"  {mark} {d.index:3d}  {d.name:<{width}}  {d.hostapi:<6}  "
            f"in {d.max_input_channels:2d}  out {d.max_output_channels:2d}  "
            f"{d.default_samplerate:.0f} Hz"
        )
    return "\n".join(lines)


def resolve_device(spec: DeviceSpec, kind: str) -> DeviceInfo:
    """The device ``spec`` names (index, unique part of a name, ``"default"``) for ``kind``.

    ``kind`` is ``"input"`` or ``"output"``. Raises :class:`AudioDeviceError` naming the
    devices there are when none (or more than one) matches.
    """
    devs = list_devices()
    usable = [
        d for d in devs if (d.max_input_channels if kind == "input" else d.max_output_channels) > 0
    ]
    listing = ", ".join(f"{d.index}: {d.name!r}" for d in usable) or "none"
    if spec is None:
        raise AudioDeviceError(f"no {kind} device configured")
    if spec == "default":
        found = [
            d for d in usable if (d.is_default_input if kind == "input" else d.is_default_output)
        ]
        if not found and usable:
            found = usable[:1]
        if not found:
            raise AudioDeviceError(f"no {kind} audio device found ({kind} devices: {listing})")
        return found[0]
    if isinstance(spec, int):
        for d in usable:
            if d.index == spec:
                return d
        raise AudioDeviceError(f"{kind} device {spec} does not exist ({kind} devices: {listing})")
    exact = [d for d in usable if d.name.lower() == spec.lower()]
    part = exact or [d for d in usable if spec.lower() in d.name.lower()]
    if len(part) == 1:
        return part[0]
    if not part:
        raise AudioDeviceError(f"no {kind} device matches {spec!r} ({kind} devices: {listing})")
    names = ", ".join(f"{d.index}: {d.name!r}" for d in part)
    raise AudioDeviceError(f"{kind} device {spec!r} is ambiguous: {names}")


def _dac(t: Any) -> float:
    """The DAC time of an output callback's ``time_info`` (0 when the host gives none)."""
    return float(getattr(t, "outputBufferDacTime", 0.0) or 0.0)


def _adc(t: Any) -> float:
    """The ADC time of an input callback's ``time_info`` (0 when the host gives none)."""
    return float(getattr(t, "inputBufferAdcTime", 0.0) or 0.0)


#: The rate of PipeWire's graph and of PulseAudio's usual sinks: a device that converts any rate
#: (a sound server's ALSA plugin) is opened at this one.
SERVER_RATE = 48_000
#: No sound card runs at this rate; a device that accepts it converts whatever it is given.
_ODD_RATE = 47_999
_converting: dict[tuple[int, str], bool] = {}


def _accepts_any_rate(info: DeviceInfo) -> bool:
    """True for a device that converts any rate (a sound server's ALSA plugin: ``pipewire``,
    ``pulse``, ``default`` routed to either); asked once per device and direction."""
    kind = "input" if info.max_input_channels else "output"
    key = (info.index, info.name)
    if key not in _converting:
        sd = _sd()
        check = sd.check_input_settings if kind == "input" else sd.check_output_settings
        try:
            check(device=info.index, samplerate=_ODD_RATE, channels=1, dtype="float32")
        except Exception:
            _converting[key] = False
        else:
            _converting[key] = True
    return _converting[key]


def native_rate(info: DeviceInfo) -> int:
    """The rate to open ``info`` at when none is asked for: the one it runs at without a
    resampler of the sound server in the way.

    PortAudio's ALSA host API advertises 44.1 kHz for any device that can take it, including a
    sound server's plugin device, which converts to the server's own rate (48 kHz on PipeWire and
    usually on PulseAudio): such a device (one that accepts a rate no hardware has) is opened at
    :data:`SERVER_RATE`. A hardware device keeps the rate it advertises; one outside
    :data:`~rtsdk.audio.options.SUPPORTED_RATES` gets 48 kHz.
    """
    advertised = round(info.default_samplerate)
    if advertised != SERVER_RATE and info.hostapi == "ALSA" and _accepts_any_rate(info):
        return SERVER_RATE
    return advertised if advertised in SUPPORTED_RATES else SERVER_RATE


def _device_rate(info: DeviceInfo, wanted: int | None) -> int:
    return wanted if wanted is not None else native_rate(info)


class _PortAudioStream:
    """Start, stop and the counters the input and output stream wrappers share."""

    _direction = ""
    device: DeviceSpec
    info: DeviceInfo | None
    sample_rate: int
    channels: int

    def _resolve(
        self, options: AudioStreamOptions, channels: int | None, option: str
    ) -> DeviceInfo:
        """Find the device, settle the rate and check the channel count asked for."""
        info = self.info = resolve_device(self.device, self._direction)
        self.sample_rate = _device_rate(info, options.sample_rate)
        self.channels = channels or 1
        have = info.max_input_channels if self._direction == "input" else info.max_output_channels
        if self.channels > have:
            raise AudioDeviceError(
                f"{self._direction} device {info.index} {info.name!r} has {have} "
                f"channels, AudioStreamOptions.{option} asks for {self.channels}"
            )
        return info

    def _init_stream(self) -> None:
        self._stream: Any = None
        self._stopping = False
        self._xruns = 0
        self._errors = 0
        #: Callbacks so far (a device that delivers nothing shows here).
        self.callbacks = 0

    def _open_stream(
        self,
        factory: Any,
        info: DeviceInfo,
        rate: int,
        channels: int,
        latency: Any,
        blocksize: int,
        callback: Any,
        finished: Any,
    ) -> None:
        try:
            self._stream = factory(
                device=info.index,
                samplerate=rate,
                channels=channels,
                dtype="float32",
                latency=latency,
                blocksize=blocksize,
                callback=callback,
                finished_callback=finished,
            )
        except Exception as exc:
            raise AudioDeviceError(
                f"cannot open {self._direction} device {info.index} {info.name!r} at {rate} Hz, "
                f"{channels} channel(s): {exc}"
            ) from None

    def _start_stream(self) -> None:
        try:
            self._stream.start()
        except Exception as exc:
            raise AudioDeviceError(f"cannot start the {self._direction} stream: {exc}") from None

    def _close_stream(self) -> None:
        """Stop and close the stream (PortAudio joins its callback thread); never raises."""
        self._stopping = True
        stream, self._stream = self._stream, None
        if stream is not None:
            try:
                stream.stop()
                stream.close()
            except Exception:
                self._errors += 1

    @property
    def xruns(self) -> int:
        """Callbacks that reported a status flag (input overflow, output underflow)."""
        return self._xruns

    @property
    def errors(self) -> int:
        """Exceptions caught in the callback, plus an unexpected end of the stream."""
        return self._errors


class DeviceSource(_PortAudioStream, BridgedSource):
    """A microphone: a PortAudio input stream whose callback only writes into the bridge."""

    _direction = "input"

    #: Capture blocks carry ADC times (:attr:`capture_mark`): echo cancellation can align.
    timestamps = True

    def __init__(self, device: DeviceSpec = "default") -> None:
        self.device = device
        self.info: DeviceInfo | None = None
        self._init_stream()
        self._captured = 0
        self._latency = 0.0
        #: ``(frame index, ADC time, monotonic time)`` of the newest captured block's first
        #: frame (see :data:`rtsdk.audio.align.CaptureMark`); None before the first callback.
        self.capture_mark: CaptureMark | None = None

    @property
    def latency(self) -> float:
        """The input stream's latency in seconds as PortAudio reported it when opened."""
        return self._latency

    def open(self, options: AudioStreamOptions) -> None:
        """Find the device and open its input stream (not started yet)."""
        sd = _sd()
        info = self._resolve(options, options.channels, "channels")
        self._make_bridge(options)
        self._open_stream(
            sd.InputStream,
            info,
            self.sample_rate,
            self.channels,
            options.latency,
            options.blocksize,
            self._callback,
            self._finished,
        )
        self._latency = float(self._stream.latency)

    def _callback(self, indata: npt.NDArray[np.float32], frames: int, t: Any, status: Any) -> None:
        try:
            self.callbacks += 1
            if status:
                self._xruns += 1
            # one tuple store: the loop reads a consistent mark without a lock
            self.capture_mark = (
                self._captured,
                _adc(t),
                time.monotonic() - self._latency,
            )
            self._captured += frames
            bridge = self._bridge
            if bridge is not None:
                bridge.write(as_buffer(indata))
        except Exception:
            self._errors += 1

    def _finished(self) -> None:
        if not self._stopping:  # the device went away under us
            self._errors += 1
            if self._bridge is not None:
                self._bridge.close_threadsafe()

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        """Start capturing."""
        del loop
        self._start_stream()

    def stop(self) -> None:
        """Stop and close the stream (PortAudio joins its callback thread)."""
        self._close_stream()
        if self._bridge is not None:
            self._bridge.close_threadsafe()


class DeviceSink(_PortAudioStream, AudioSink):
    """A speaker: a PortAudio output stream whose callback only reads the playback ring."""

    _direction = "output"

    def __init__(self, device: DeviceSpec = "default") -> None:
        self.device = device
        self.info: DeviceInfo | None = None
        self.channels = 1
        self._init_stream()
        self._pb: Playback | None = None
        self._scratch = np.zeros(0, dtype=np.float32)
        self._latency = 0.0
        self._tap: RenderTap | None = None

    def attach_tap(self, tap: RenderTap | None) -> None:
        """Record every rendered block into ``tap`` (before :meth:`start`)."""
        self._tap = tap

    def stream_time(self) -> float:
        """PortAudio's clock for this stream (the clock of the DAC times); 0 when unknown."""
        stream = self._stream
        try:
            return float(stream.time) if stream is not None else 0.0
        except Exception:
            return 0.0

    def open(self, options: AudioStreamOptions, session_rate: int) -> None:
        """Find the device and open its output stream (not started yet)."""
        del session_rate
        sd = _sd()
        info = self._resolve(options, options.output_channels, "output_channels")
        self._scratch = np.zeros(self.sample_rate // 2, dtype=np.float32)  # 500 ms
        self._open_stream(
            sd.OutputStream,
            info,
            self.sample_rate,
            self.channels,
            options.latency,
            options.blocksize,
            self._callback,
            self._finished,
        )
        self._latency = float(self._stream.latency)

    @property
    def latency(self) -> float:
        """The output stream's latency in seconds as PortAudio reported it when opened."""
        return self._latency

    def _callback(self, outdata: npt.NDArray[np.float32], frames: int, t: Any, status: Any) -> None:
        try:
            self.callbacks += 1
            if status:
                self._xruns += 1
            pb = self._pb
            tap = self._tap
            if pb is None:
                outdata.fill(0.0)
            elif self.channels == 1:
                block = outdata.reshape(-1)
                if tap is None:
                    pb.render(block)
                else:
                    self._render_tapped(pb, tap, block, _dac(t), 0)
            else:
                sc = self._scratch
                for i in range(0, frames, sc.size):
                    k = min(sc.size, frames - i)
                    if tap is None:
                        pb.render(sc[:k])
                    else:
                        self._render_tapped(pb, tap, sc[:k], _dac(t), i)
                    outdata[i : i + k] = sc[:k, None]
        except Exception:
            self._errors += 1
            outdata.fill(0.0)

    def _render_tapped(
        self,
        pb: Playback,
        tap: RenderTap,
        block: npt.NDArray[np.float32],
        dac: float,
        offset: int,
    ) -> None:
        """Render ``block`` and record it with its DAC time (``offset`` frames into the
        callback's buffer) and the playback ring's read positions."""
        r0, d0 = pb.read_position, pb.discarded
        pb.render(block)
        shift = offset / self.sample_rate
        tap.push(
            block,
            dac + shift if dac else 0.0,
            time.monotonic() + self._latency + shift,
            r0 + (pb.discarded - d0),
            pb.read_position,
        )

    def _finished(self) -> None:
        if not self._stopping:
            self._errors += 1

    def start(self, playback: Playback) -> None:
        """Start playing from ``playback``."""
        self._pb = playback
        self._start_stream()

    def stop(self) -> None:
        """Stop and close the stream."""
        self._close_stream()

"""How the audio layer captures, plays and paces: :class:`AudioStreamOptions`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, TypeAlias

from rtsdk._reference.resample import SUPPORTED_RATES
from rtsdk.exceptions import ConfigurationError

__all__ = ["SUPPORTED_RATES", "AudioStreamOptions", "DeviceSpec"]

#: A device: its PortAudio index, a (case-insensitive, unique) part of its name, ``"default"``
#: for the system default, or ``None`` for no device in that direction.
DeviceSpec: TypeAlias = int | str | None


def _int_field(
    name: str, value: object, lo: int, hi: int, who: str = "AudioStreamOptions."
) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigurationError(
            f"{who}{name} must be an int, got {type(value).__name__} {value!r}"
        )
    if not lo <= value <= hi:
        raise ConfigurationError(f"{who}{name} must be between {lo} and {hi}, got {value}")


def check_device_latency(latency: object, who: str = "AudioStreamOptions.") -> str | float:
    """A PortAudio latency: ``'low'``, ``'high'`` or seconds in (0, 2]; raises
    :class:`~rtsdk.exceptions.ConfigurationError` naming ``who`` for anything else."""
    if latency in ("low", "high"):
        return str(latency)
    if isinstance(latency, bool) or not isinstance(latency, (int, float)) or not 0 < latency <= 2:
        raise ConfigurationError(
            f"{who}latency must be 'low', 'high' or seconds in (0, 2], got {latency!r}"
        )
    return float(latency)


def _device_field(name: str, value: object) -> None:
    if value is None:
        return
    if isinstance(value, bool):
        raise ConfigurationError(f"AudioStreamOptions.{name} must be an int, a str or None")
    if isinstance(value, int):
        if value < 0:
            raise ConfigurationError(
                f"AudioStreamOptions.{name} must be a device index >= 0, got {value}"
            )
        return
    if isinstance(value, str):
        if not value.strip():
            raise ConfigurationError(
                f"AudioStreamOptions.{name} must not be an empty name "
                "(use 'default', or None for no device)"
            )
        return
    raise ConfigurationError(
        f"AudioStreamOptions.{name} must be a device index (int), a name (str), 'default' "
        f"or None, got {type(value).__name__}"
    )


@dataclass(frozen=True, slots=True)
class AudioStreamOptions:
    """Audio I/O settings, checked when constructed (errors name the field).

    Devices: ``input_device`` / ``output_device`` take a PortAudio index, a unique part of the
    device's name (case-insensitive), ``"default"``, or ``None`` for no device in that direction
    (no capture / no playback). Everything is resampled in-process between the device rate and the
    session format (24 kHz PCM16 or 8 kHz G.711).

    - ``sample_rate``: the device rate in Hz (one of :data:`SUPPORTED_RATES`); ``None`` opens each
      device at its native rate (48 kHz on PipeWire and PulseAudio, whose ALSA devices advertise
      PortAudio's 44.1 kHz guess: see :func:`~rtsdk.audio.devices.native_rate`), which avoids
      the sound server's own resampler.
    - ``channels``: input channels to open (``None``: 1); more are downmixed to mono.
    - ``output_channels``: output channels to open (``None``: 1); the mono voice goes to each.
    - ``frame_ms``: uplink frame length, one ``input_audio_buffer.append`` per frame (10-100 ms).
    - ``playback_prebuffer_ms``: the most audio buffered before an item starts playing (and
      after an underrun). The prebuffer adapts to how the audio arrives: 20 ms while deltas come
      on time (a burst, or a stream paced at real time), plus the arrival jitter measured on the
      way, up to this cap; a shorter item, or one ended with ``end_item``, starts at once. An item
      that does not reach the target starts anyway once it has waited that long.
    - ``playback_buffer_ms``: size of the lock-free playback ring the output callback reads; what
      the server sends ahead of real time waits on the loop side and refills the ring.
    - ``uplink_window_ms``: how much captured audio may wait for the loop before the oldest-first
      policy drops the newest (counted as an overrun).
    - ``half_duplex``: while assistant audio is audible (and ``half_duplex_tail_ms`` after), the
      uplink sends digital silence instead of the microphone, for setups without echo
      cancellation. Silence, not nothing: the server's audio clock and VAD keep running.
    - ``latency``: PortAudio's suggested latency, ``"low"``, ``"high"`` or seconds.
    - ``blocksize``: frames per device callback, ``0`` for PortAudio's choice (the lowest
      delay); ``python -m rtsdk devices --latency`` measures what each setting costs.
    - ``echo_cancellation``: remove the speaker's echo from the microphone (WebRTC AEC3, from the
      ``pywebrtc-audio`` package), so the assistant never hears itself on open speakers and
      the user can still talk over it. ``"auto"`` (default): on when both the source and the
      sink are devices; when the backend cannot be imported there, the stream falls back to
      ``half_duplex`` and logs why. ``True``: on, or :class:`ConfigurationError` naming what
      is missing. ``False``: off.
    - ``noise_suppression``: WebRTC's noise suppressor after the canceller (with echo
      cancellation only).
    """

    input_device: DeviceSpec = "default"
    output_device: DeviceSpec = "default"
    sample_rate: int | None = None
    channels: int | None = None
    output_channels: int | None = None
    frame_ms: int = 20
    playback_prebuffer_ms: int = 60
    playback_buffer_ms: int = 2000
    uplink_window_ms: int = 2000
    half_duplex: bool = False
    half_duplex_tail_ms: int = 300
    latency: str | float = "high"
    blocksize: int = 0
    echo_cancellation: bool | Literal["auto"] = "auto"
    noise_suppression: bool = False

    def __post_init__(self) -> None:
        _device_field("input_device", self.input_device)
        _device_field("output_device", self.output_device)
        if self.sample_rate is not None:
            _int_field("sample_rate", self.sample_rate, 1, 1_000_000)
            if self.sample_rate not in SUPPORTED_RATES:
                rates = ", ".join(str(r) for r in SUPPORTED_RATES)
                raise ConfigurationError(
                    f"AudioStreamOptions.sample_rate {self.sample_rate} Hz is not supported; "
                    f"use one of {rates} or None for the device's native rate"
                )
        if self.channels is not None:
            _int_field("channels", self.channels, 1, 64)
        if self.output_channels is not None:
            _int_field("output_channels", self.output_channels, 1, 64)
        _int_field("frame_ms", self.frame_ms, 10, 100)
        _int_field("playback_prebuffer_ms", self.playback_prebuffer_ms, 0, 2000)
        _int_field("playback_buffer_ms", self.playback_buffer_ms, 100, 60_000)
        if self.playback_buffer_ms < 2 * self.playback_prebuffer_ms:
            raise ConfigurationError(
                "AudioStreamOptions.playback_buffer_ms must be at least twice "
                f"playback_prebuffer_ms ({self.playback_prebuffer_ms}), "
                f"got {self.playback_buffer_ms}"
            )
        _int_field("uplink_window_ms", self.uplink_window_ms, 2 * self.frame_ms, 60_000)
        if not isinstance(self.half_duplex, bool):
            raise ConfigurationError(
                f"AudioStreamOptions.half_duplex must be a bool, got {self.half_duplex!r}"
            )
        _int_field("half_duplex_tail_ms", self.half_duplex_tail_ms, 0, 5000)
        if self.echo_cancellation != "auto" and not isinstance(self.echo_cancellation, bool):
            raise ConfigurationError(
                "AudioStreamOptions.echo_cancellation must be 'auto', True or False, "
                f"got {self.echo_cancellation!r}"
            )
        if not isinstance(self.noise_suppression, bool):
            raise ConfigurationError(
                "AudioStreamOptions.noise_suppression must be a bool, "
                f"got {self.noise_suppression!r}"
            )
        _int_field("blocksize", self.blocksize, 0, 16384)
        check_device_latency(self.latency)

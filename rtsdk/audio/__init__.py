"""Audio I/O for Realtime sessions: devices, WAV files, app-pushed audio, and the stream engine.

- :class:`AudioStreamOptions`: devices, rates, frame size, buffering, half-duplex.
- :class:`AudioStreamManager`: capture → append frames, and deltas → playback, with played
  accounting and barge-in; :class:`AudioStats` its counters.
- Sources: :class:`DeviceSource` (microphone), :class:`WavSource`, :class:`PushSource`.
  Sinks: :class:`DeviceSink` (speaker), :class:`WavSink`.
- :func:`list_devices`, :func:`describe_devices`: what PortAudio sees (``sounddevice`` is
  imported only when a device is used or listed).
- :class:`AudioBridge`: the lock-free callback-thread → asyncio handoff underneath.
"""

from __future__ import annotations

from rtsdk.audio.base import AudioSink, AudioSource, EndOfStream
from rtsdk.audio.bridge import AudioBridge, BridgeClosed
from rtsdk.audio.devices import (
    DeviceInfo,
    DeviceSink,
    DeviceSource,
    describe_devices,
    list_devices,
)
from rtsdk.audio.files import WavSink, WavSource, read_wav
from rtsdk.audio.options import SUPPORTED_RATES, AudioStreamOptions
from rtsdk.audio.playback import Playback
from rtsdk.audio.push import PushSource
from rtsdk.audio.stream import AudioStats, AudioStreamManager

__all__ = [
    "SUPPORTED_RATES",
    "AudioBridge",
    "AudioSink",
    "AudioSource",
    "AudioStats",
    "AudioStreamManager",
    "AudioStreamOptions",
    "BridgeClosed",
    "DeviceInfo",
    "DeviceSink",
    "DeviceSource",
    "EndOfStream",
    "Playback",
    "PushSource",
    "WavSink",
    "WavSource",
    "describe_devices",
    "list_devices",
    "read_wav",
]

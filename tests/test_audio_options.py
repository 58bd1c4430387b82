"""AudioStreamOptions: checked at construction, every message names the bad field."""

from __future__ import annotations

import dataclasses

import pytest

from rtsdk.audio import AudioStreamOptions
from rtsdk.exceptions import ConfigurationError


def test_defaults() -> None:
    o = AudioStreamOptions()
    assert o.input_device == "default"
    assert o.output_device == "default"
    assert o.sample_rate is None
    assert o.frame_ms == 20
    assert not o.half_duplex
    with pytest.raises(dataclasses.FrozenInstanceError):
        o.frame_ms = 10  # type: ignore[misc]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"input_device": -1}, "input_device"),
        ({"output_device": ""}, "output_device"),
        ({"output_device": 1.5}, "output_device"),
        ({"input_device": True}, "input_device"),
        ({"sample_rate": 12_345}, "sample_rate"),
        ({"sample_rate": "48000"}, "sample_rate"),
        ({"channels": 0}, "channels"),
        ({"output_channels": 99}, "output_channels"),
        ({"frame_ms": 5}, "frame_ms"),
        ({"frame_ms": 20.0}, "frame_ms"),
        ({"playback_prebuffer_ms": -1}, "playback_prebuffer_ms"),
        ({"playback_buffer_ms": 100, "playback_prebuffer_ms": 80}, "playback_buffer_ms"),
        ({"uplink_window_ms": 30}, "uplink_window_ms"),
        ({"half_duplex": 1}, "half_duplex"),
        ({"half_duplex_tail_ms": -5}, "half_duplex_tail_ms"),
        ({"latency": "medium"}, "latency"),
        ({"latency": 0}, "latency"),
    ],
)
def test_bad_values_name_the_field(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(ConfigurationError, match=rf"AudioStreamOptions\.{field}\b"):
        AudioStreamOptions(**kwargs)  # type: ignore[arg-type]


def test_good_values() -> None:
    o = AudioStreamOptions(
        input_device=3,
        output_device="pipewire",
        sample_rate=44_100,
        channels=2,
        frame_ms=10,
        latency=0.05,
        half_duplex=True,
    )
    assert o.sample_rate == 44_100
    assert AudioStreamOptions(input_device=None, output_device=None).input_device is None

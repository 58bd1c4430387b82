"""What a phone call tells the app: its start details, key presses, problems and counters.

The per-call hooks that receive them, :class:`~rtsdk.telephony.PhoneCallHandler`, live with
:class:`~rtsdk.telephony.PhoneCall` in :mod:`rtsdk.telephony.call` (their methods take the
call)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["CallError", "CallInfo", "CallStats", "DtmfEvent"]


@dataclass(frozen=True, slots=True)
class CallInfo:
    """What the carrier's ``start`` message said about the call."""

    stream_sid: str
    call_sid: str
    account_sid: str
    custom_parameters: dict[str, str]
    tracks: tuple[str, ...]
    media_format: dict[str, Any]


@dataclass(frozen=True, slots=True)
class DtmfEvent:
    """The caller pressed a key."""

    digit: str
    call: CallInfo


@dataclass(frozen=True, slots=True)
class CallError:
    """Something wrong on the call. ``kind``: ``malformed``, ``out_of_order``,
    ``unknown_event``, ``media_format``, ``no_start``, ``no_stop``, ``session``."""

    kind: str
    message: str


@dataclass(slots=True)
class CallStats:
    """Counters of one call (see :attr:`PhoneCall.stats`)."""

    media_in: int = 0
    media_out: int = 0
    audio_out_ms: float = 0.0
    carrier_rtt_ms: float = 0.0  # the round trip to the carrier, as measured by the marks
    marks_echoed: int = 0
    clears: int = 0
    truncates: int = 0
    dtmf: list[str] = field(default_factory=list)
    out_of_order: int = 0
    lost_ms: int = 0
    malformed: int = 0
    unknown_events: int = 0
    errors: list[CallError] = field(default_factory=list)
    ended_by: str = ""

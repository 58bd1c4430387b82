"""``client.stats()``: one nested snapshot of a session's public counters.

Sections: ``latency`` (turns and their first-audio / done times), ``link`` (connects,
reconnects, recycles, frames, the send backlog's high water), ``errors`` (handler, protocol,
server), ``dispatch`` (the event queue's high water) and ``audio`` (input audio sent and output
audio received, in bytes and ms of audio, frames dropped; with audio streaming also ``stream``,
the :class:`~rtsdk.audio.stream.AudioStats` counters, and ``echo``, the echo stage); a GPT-Live
session adds ``live`` (its session id, how many GPT-Live sessions it took, the service's latest
``usage`` snapshot, the context window's usage ratio, whether input is muted). Load and
monitoring tools read these instead of private attributes.

The flat keys of earlier releases (``"reconnects"``, ``"audio_frames_sent"``, ...) still read,
with ``[]``, ``get`` and ``in``, but are not listed when the dict is iterated; they go in a later
release.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from rtsdk.protocol.session import BYTES_PER_MS

if TYPE_CHECKING:
    from rtsdk.audio.stream import AudioStreamManager
    from rtsdk.session.service import RealtimeAIServiceManager

__all__ = ["SessionStats", "session_stats"]

# earlier flat key -> where it lives now
_FLAT: dict[str, tuple[str, ...]] = {
    "turns": ("latency", "turns"),
    "first_audio_p50_s": ("latency", "first_audio_p50_s"),
    "first_audio_p95_s": ("latency", "first_audio_p95_s"),
    "done_p50_s": ("latency", "done_p50_s"),
    "connects": ("link", "connects"),
    "reconnects": ("link", "reconnects"),
    "recycles": ("link", "recycles"),
    "frames_sent": ("link", "frames_sent"),
    "frames_received": ("link", "frames_received"),
    "send_backlog_high_water": ("link", "send_backlog_high_water"),
    "handler_errors": ("errors", "handler"),
    "protocol_errors": ("errors", "protocol"),
    "server_errors": ("errors", "server"),
    "dispatch_queue_high_water": ("dispatch", "queue_high_water"),
    "audio_frames_dropped": ("audio", "frames_dropped"),
    "audio_sent_bytes": ("audio", "sent_bytes"),
    "audio_received_bytes": ("audio", "received_bytes"),
}


class SessionStats(dict[str, Any]):
    """A nested ``dict`` (see the module docstring) that still answers the flat keys of earlier
    releases."""

    def _flat(self, key: object) -> tuple[bool, Any]:
        path = _FLAT.get(key) if isinstance(key, str) else None
        if path is None and isinstance(key, str) and key.startswith("audio_"):
            stream = dict.get(self, "audio", {}).get("stream")
            if isinstance(stream, dict) and key[6:] in stream:
                return True, stream[key[6:]]
            return False, None
        if path is None:
            return False, None
        node: Any = self
        for part in path:
            if not isinstance(node, dict) or part not in node:
                return False, None
            node = dict.__getitem__(node, part)
        return True, node

    def __missing__(self, key: str) -> Any:
        found, value = self._flat(key)
        if not found:
            raise KeyError(key)
        return value

    def __contains__(self, key: object) -> bool:
        return dict.__contains__(self, key) or self._flat(key)[0]

    def get(self, key: str, default: Any = None) -> Any:
        """The value of ``key`` (a section, or a flat key of earlier releases), else
        ``default``."""
        if dict.__contains__(self, key):
            return dict.__getitem__(self, key)
        found, value = self._flat(key)
        return value if found else default


def session_stats(
    service: RealtimeAIServiceManager, audio: AudioStreamManager | None
) -> SessionStats:
    """The snapshot of one client's session (``audio``: its stream manager, when streaming)."""
    m = service.metrics
    first = m.first_audio_latency()
    done = m.done_latency()
    options = service.options
    sent = service.audio_sent_bytes
    received = service.state.received_audio_bytes
    audio_section: dict[str, Any] = {
        "sent_bytes": sent,
        "sent_ms": sent / BYTES_PER_MS[options.input_format],
        "received_bytes": received,
        "received_ms": received / BYTES_PER_MS[options.output_format],
        "frames_dropped": m.audio_frames_dropped,
    }
    if audio is not None:
        audio_section["stream"] = dataclasses.asdict(audio.stats)
        audio_section["echo"] = audio.echo_stats
    extra: dict[str, Any] = {}
    state = service.state
    if options.session_type == "live":
        extra["live"] = {
            "session_id": getattr(state, "session_id", None),
            "sessions": len(getattr(state, "session_ids", ())),
            "usage": dict(getattr(state, "usage", {})),
            "context_ratio": getattr(state, "context_ratio", None),
            "muted": getattr(state, "muted", False),
            "malformed_audio": getattr(state, "malformed_audio", 0),
        }
    return SessionStats(
        **extra,
        latency={
            "turns": len(m.turns),
            "first_audio_p50_s": first.p50,
            "first_audio_p95_s": first.p95,
            "done_p50_s": done.p50,
        },
        link={
            "connects": m.connects,
            "reconnects": m.reconnects,
            "recycles": m.recycles,
            "frames_sent": m.frames_sent,
            "frames_received": m.frames_received,
            "send_backlog_high_water": m.send_backlog_high_water,
            "uplink": service.outbox.uplink_stats(),
        },
        errors={
            "handler": m.handler_errors,
            "protocol": m.protocol_errors,
            "server": m.server_errors,
        },
        dispatch={"queue_high_water": m.dispatch_queue_high_water},
        audio=audio_section,
    )

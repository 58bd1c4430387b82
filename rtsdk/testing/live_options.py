"""How the local server's GPT-Live sessions behave: :class:`LiveOptions`, and the models."""

from __future__ import annotations

from dataclasses import dataclass

from ..exceptions import ConfigurationError

__all__ = ["LIVE_MODELS", "LiveOptions"]

#: The GPT-Live models (``types/live/session_config.py``).
LIVE_MODELS = ("gpt-live-1", "gpt-live-1.1")


@dataclass(frozen=True, slots=True, kw_only=True)
class LiveOptions:
    """How the local server's GPT-Live sessions behave (``LocalRealtimeServer(live=...)``).

    ``pacing`` ``"realtime"`` sends output audio at the rate it plays, ``chunk_ms`` per
    ``session.output_audio.delta``, ``lead_ms`` ahead (skipping, never bursting, when late);
    ``"fast"`` as fast as the socket takes it. The model answers after ``silence_ms`` of
    silence, echoing from ``prefix_ms`` before the speech; it stops ``barge_in_ms`` (session
    time) after the user starts speaking over it. ``vad_threshold`` as for Realtime's
    server VAD (0.5: -40 dBFS). ``usage_interval_s`` spaces ``session.usage.updated``;
    ``session_seconds`` sets ``expires_at`` (the session then ends ``expired``).
    """

    pacing: str = "realtime"
    chunk_ms: int = 40
    lead_ms: int = 80
    barge_in_ms: int = 50
    silence_ms: int = 500
    prefix_ms: int = 300
    vad_threshold: float = 0.5
    usage_interval_s: float = 5.0
    session_seconds: float = 7200.0

    def __post_init__(self) -> None:
        if self.pacing not in ("realtime", "fast"):
            raise ConfigurationError(
                f"LiveOptions.pacing must be 'realtime' or 'fast': {self.pacing!r}"
            )
        for name, low, high in (
            ("chunk_ms", 10, 1000),
            ("lead_ms", 0, 5000),
            ("barge_in_ms", 0, 5000),
            ("silence_ms", 10, 60000),
            ("prefix_ms", 0, 5000),
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise ConfigurationError(f"LiveOptions.{name} must be an int in [{low}, {high}]")
        for key, most in (
            ("vad_threshold", 1.0),
            ("usage_interval_s", 86400.0),
            ("session_seconds", 10.0**9),
        ):
            value = getattr(self, key)
            if (
                isinstance(value, bool)
                or not isinstance(value, (int, float))
                or not 0 < value <= most
            ):
                raise ConfigurationError(f"LiveOptions.{key} must be a number in (0, {most:g}]")

"""How the local server's Realtime translation sessions behave: :class:`TranslationOptions`."""

from __future__ import annotations

from dataclasses import dataclass

from ..exceptions import ConfigurationError
from .translation_schema import is_language

__all__ = ["FRAME_MS", "TranslationOptions"]

#: The translation engine's frame: input is consumed, and ``elapsed_ms`` advances, in steps of
#: this many milliseconds.
FRAME_MS = 200


@dataclass(frozen=True, slots=True, kw_only=True)
class TranslationOptions:
    """How the local server's translation sessions behave
    (``LocalRealtimeServer(translation=...)``).

    ``lag_ms`` (a multiple of 200) is how far the translation of an engine frame trails the
    frame: its output carries ``elapsed_ms`` that much later and, with ``pacing`` ``"realtime"``,
    leaves that long after the frame came in (and never faster than it plays); ``"fast"``
    sends it as soon as the frame is consumed (for tests where time is not the point).
    ``silence_ms`` of silence after the last voiced block ends an utterance (its transcripts
    then close); ``vad_threshold`` as for Realtime's server VAD (0.5: -40 dBFS).
    ``language`` is the target language a session starts with (``audio.output.language`` of
    ``session.created``); ``session_seconds`` sets ``expires_at`` (the session then ends).
    """

    pacing: str = "realtime"
    lag_ms: int = 400
    silence_ms: int = 500
    vad_threshold: float = 0.5
    language: str = "en"
    session_seconds: float = 3600.0

    def __post_init__(self) -> None:
        if self.pacing not in ("realtime", "fast"):
            raise ConfigurationError(
                f"TranslationOptions.pacing must be 'realtime' or 'fast': {self.pacing!r}"
            )
        for name, high in (("lag_ms", 10000), ("silence_ms", 60000)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= high:
                raise ConfigurationError(f"TranslationOptions.{name} must be an int in [0, {high}]")
        if self.lag_ms % FRAME_MS:
            raise ConfigurationError(
                f"TranslationOptions.lag_ms must be a multiple of {FRAME_MS} (the engine frame)"
            )
        if self.silence_ms < 10:
            raise ConfigurationError("TranslationOptions.silence_ms must be at least 10")
        if not is_language(self.language):
            raise ConfigurationError(
                f"TranslationOptions.language must be a language code such as 'fr': "
                f"{self.language!r}"
            )
        for key, most in (("vad_threshold", 1.0), ("session_seconds", 10.0**9)):
            value = getattr(self, key)
            if (
                isinstance(value, bool)
                or not isinstance(value, (int, float))
                or not 0 < value <= most
            ):
                raise ConfigurationError(
                    f"TranslationOptions.{key} must be a number in (0, {most:g}]"
                )

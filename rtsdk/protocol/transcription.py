"""Transcription sessions: :class:`TranscriptionSettings` in, the GA ``session`` object out.

A transcription session (``?intent=transcription`` on the URL, then ``session.update`` with
``session.type = "transcription"``) has no responses: per turn the server sends
``conversation.item.input_audio_transcription.delta`` / ``.completed`` (``.segment`` with a
diarizing model, ``.failed`` when a turn cannot be transcribed). Its session object has only
``type``, ``include`` and ``audio.input.{format, transcription, noise_reduction,
turn_detection}``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from ..exceptions import ConfigurationError
from ..models import DEFAULT_TRANSCRIPTION_MODEL, MODELS
from .session import AUDIO_FORMATS, LOGPROBS_INCLUDE, AudioFormat, format_object, language_field

__all__ = ["LOGPROBS_INCLUDE", "TRANSCRIPTION_MODELS", "TranscriptionSettings"]

#: Transcription models of the catalogue, current ones first (any other string is sent as given).
TRANSCRIPTION_MODELS = tuple(
    sorted(
        (m.name for m in MODELS.values() if m.api == "transcription"),
        key=lambda name: MODELS[name].deprecated,
    )
)
_VAD_PARAMS = ("threshold", "prefix_padding_ms", "silence_duration_ms")


def _bad(name: str, why: str, value: object) -> ConfigurationError:
    return ConfigurationError(f"TranscriptionSettings.{name} {why}, got {value!r}")


@dataclass(frozen=True, slots=True, kw_only=True)
class TranscriptionSettings:
    """What an app sets for a transcription session (validated at construction).

    ``model``: the transcription model (default ``"gpt-transcribe"``); ``language``: an
    ISO-639-1 hint (sent as ``languages: [language]`` to the models that take a list);
    ``prompt``: guidance text (keywords for ``whisper-1``); ``noise_reduction``:
    ``"near_field"`` / ``"far_field"``; ``turn_detection``: ``"server_vad"``,
    ``"semantic_vad"`` or ``"none"`` (the app commits each turn) with ``threshold``,
    ``prefix_padding_ms``, ``silence_duration_ms`` (server_vad) or ``eagerness``
    (semantic_vad); ``include_logprobs``: log probabilities on every delta and completed
    event; ``input_format``: the audio sent.
    """

    model: str = DEFAULT_TRANSCRIPTION_MODEL
    language: str | None = None
    prompt: str | None = None
    noise_reduction: Literal["near_field", "far_field"] | None = None
    turn_detection: Literal["server_vad", "semantic_vad", "none"] = "server_vad"
    threshold: float | None = None
    prefix_padding_ms: int | None = None
    silence_duration_ms: int | None = None
    eagerness: Literal["low", "medium", "high", "auto"] | None = None
    include_logprobs: bool = False
    input_format: AudioFormat = "pcm16"

    def __post_init__(self) -> None:
        if not isinstance(self.model, str) or not self.model:
            raise _bad(
                "model",
                f"must be a non-empty string such as {TRANSCRIPTION_MODELS[0]!r}",
                self.model,
            )
        for name in ("language", "prompt"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, str):
                raise _bad(name, "must be a string or None", value)
        if self.noise_reduction not in (None, "near_field", "far_field"):
            raise _bad(
                "noise_reduction", "must be 'near_field', 'far_field' or None", self.noise_reduction
            )
        if self.turn_detection not in ("server_vad", "semantic_vad", "none"):
            raise _bad(
                "turn_detection",
                "must be 'server_vad', 'semantic_vad' or 'none'",
                self.turn_detection,
            )
        if self.input_format not in AUDIO_FORMATS:
            raise _bad("input_format", f"must be one of {sorted(AUDIO_FORMATS)}", self.input_format)
        if not isinstance(self.include_logprobs, bool):
            raise _bad("include_logprobs", "must be a bool", self.include_logprobs)
        for name in _VAD_PARAMS:
            value = getattr(self, name)
            if value is None:
                continue
            if self.turn_detection != "server_vad":
                raise _bad(name, "applies to turn_detection='server_vad' only", value)
            if name == "threshold":
                if (
                    isinstance(value, bool)
                    or not isinstance(value, (int, float))
                    or not 0.0 <= value <= 1.0
                ):
                    raise _bad(name, "must be a number in [0.0, 1.0]", value)
            elif isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise _bad(name, "must be an int >= 0", value)
        if self.eagerness is not None:
            if self.turn_detection != "semantic_vad":
                raise _bad(
                    "eagerness", "applies to turn_detection='semantic_vad' only", self.eagerness
                )
            if self.eagerness not in ("low", "medium", "high", "auto"):
                raise _bad("eagerness", "must be 'low', 'medium', 'high' or 'auto'", self.eagerness)
        if self.model == "gpt-realtime-whisper" and self.turn_detection != "none":
            raise _bad(
                "turn_detection",
                "must be 'none' with gpt-realtime-whisper (it does its own turn handling)",
                self.turn_detection,
            )

    # what ClientSessionState reads from any settings object
    @property
    def output_format(self) -> str:
        """Transcription sessions send no audio; kept for the session state's accounting."""
        return "pcm16"

    @property
    def interrupt_response(self) -> bool | None:
        """There are no responses to interrupt."""
        return False

    @property
    def session_type(self) -> str:
        return "transcription"

    def to_session(self) -> dict[str, Any]:
        """The GA ``session`` object for ``session.update``."""
        transcription: dict[str, Any] = {"model": self.model}
        if self.language is not None:
            transcription.update(language_field(self.model, self.language))
        if self.prompt is not None:
            transcription["prompt"] = self.prompt
        audio_in: dict[str, Any] = {
            "format": format_object(self.input_format),
            "transcription": transcription,
            "noise_reduction": (
                {"type": self.noise_reduction} if self.noise_reduction is not None else None
            ),
        }
        if self.turn_detection == "none":
            audio_in["turn_detection"] = None
        else:
            turn: dict[str, Any] = {"type": self.turn_detection}
            for name in (*_VAD_PARAMS, "eagerness"):
                value = getattr(self, name)
                if value is not None:
                    turn[name] = value
            audio_in["turn_detection"] = turn
        session: dict[str, Any] = {"type": "transcription", "audio": {"input": audio_in}}
        if self.include_logprobs:
            session["include"] = [LOGPROBS_INCLUDE]
        return session

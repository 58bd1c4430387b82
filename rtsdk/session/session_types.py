"""What ``RealtimeAIOptions(session_type="transcription", ...)`` means and may not say.

A transcription session takes the transcription fields (``transcription_model``,
``language``, ``prompt``, ``noise_reduction``, ``turn_detection`` with its VAD parameters,
``include_logprobs``, ``input_format``); a field that only a conversation (responses, an
assistant voice, tools, reasoning, truncation, tracing, a stored prompt) has is refused with
its name, as is ``language`` / ``prompt`` in a conversation (whose transcription fields are
``transcription_language`` / ``transcription_prompt``).
"""

from __future__ import annotations

from typing import Any

from rtsdk.exceptions import ConfigurationError
from rtsdk.models import DEFAULT_TRANSCRIPTION_MODEL
from rtsdk.protocol.transcription import TranscriptionSettings

__all__ = ["RESPONSE_ONLY_FIELDS", "check_session_type", "transcription_settings"]

#: Options fields a transcription session has no use for, with their defaults.
RESPONSE_ONLY_FIELDS: dict[str, Any] = {
    "instructions": None,
    "voice": None,
    "output_modality": "audio",
    "output_format": "pcm16",
    "idle_timeout_ms": None,
    "create_response": None,
    "interrupt_response": None,
    "tools": (),
    "tool_choice": None,
    "max_output_tokens": None,
    "speed": None,
    "reasoning_effort": None,
    "parallel_tool_calls": None,
    "truncation": None,
    "retention_ratio": None,
    "truncation_token_limit": None,
    "tracing": None,
    "prompt_template": None,
}
_RENAMED = {"transcription_language": "language", "transcription_prompt": "prompt"}
_TRANSCRIPTION_ONLY = {"language": None, "prompt": None}


def check_session_type(options: Any) -> None:
    """Raise :class:`ConfigurationError` naming every field that does not belong to the
    options' ``session_type``."""
    kind = options.session_type
    if kind not in ("realtime", "transcription"):
        raise ConfigurationError(
            f"RealtimeAIOptions.session_type must be 'realtime' or 'transcription', got {kind!r}"
        )
    if kind == "realtime":
        wrong = [n for n, d in _TRANSCRIPTION_ONLY.items() if getattr(options, n) != d]
        if wrong:
            raise ConfigurationError(
                f"RealtimeAIOptions: {', '.join(wrong)} apply to session_type='transcription' "
                "only (a conversation's input transcription takes transcription_language / "
                "transcription_prompt)"
            )
        return
    wrong = [n for n, d in RESPONSE_ONLY_FIELDS.items() if _set(getattr(options, n), d)]
    if wrong:
        raise ConfigurationError(
            f"RealtimeAIOptions: {', '.join(wrong)} cannot be used with "
            "session_type='transcription' (a transcription session has no responses)"
        )
    renamed = [n for n in _RENAMED if getattr(options, n) is not None]
    if renamed:
        raise ConfigurationError(
            "RealtimeAIOptions: in a transcription session use "
            + ", ".join(f"{_RENAMED[n]}= (not {n}=)" for n in renamed)
        )
    if options.azure_endpoint is not None and options.api_version is not None:
        raise ConfigurationError(
            "RealtimeAIOptions: transcription sessions need the GA endpoint; drop api_version "
            "(the preview path speaks the beta protocol)"
        )
    try:
        transcription_settings(options)
    except ConfigurationError as exc:
        raise ConfigurationError(f"RealtimeAIOptions: {exc}") from None


def _set(value: Any, default: Any) -> bool:
    if isinstance(default, tuple):
        return bool(value)
    return bool(value != default)


def transcription_settings(options: Any) -> TranscriptionSettings:
    """The :class:`~rtsdk.protocol.TranscriptionSettings` of transcription-session options."""
    return TranscriptionSettings(
        model=options.transcription_model or DEFAULT_TRANSCRIPTION_MODEL,
        language=options.language,
        prompt=options.prompt,
        noise_reduction=options.noise_reduction,
        turn_detection=options.turn_detection,
        threshold=options.threshold,
        prefix_padding_ms=options.prefix_padding_ms,
        silence_duration_ms=options.silence_duration_ms,
        eagerness=options.eagerness,
        include_logprobs=options.include_logprobs,
        input_format=options.input_format,
    )

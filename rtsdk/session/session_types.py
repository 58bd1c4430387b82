"""What each ``RealtimeAIOptions(session_type=...)`` means and may not say.

``"realtime"`` is a Realtime conversation, ``"transcription"`` a Realtime transcription
session, ``"live"`` a GPT-Live session (chosen by any ``gpt-live-`` model too),
``"translation"`` a Realtime translation session (chosen by a translation model too).

A transcription session takes the transcription fields (``transcription_model``,
``language``, ``prompt``, ``noise_reduction``, ``turn_detection`` with its VAD parameters,
``include_logprobs``, ``input_format``); a field that only a conversation (responses, an
assistant voice, tools, reasoning, truncation, tracing, a stored prompt) has is refused with
its name, as is ``language`` / ``prompt`` in a conversation (whose transcription fields are
``transcription_language`` / ``transcription_prompt``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rtsdk.exceptions import ConfigurationError
from rtsdk.models import DEFAULT_DELEGATION_MODEL, DEFAULT_TRANSCRIPTION_MODEL
from rtsdk.protocol.live import LiveSettings
from rtsdk.protocol.transcription import TranscriptionSettings
from rtsdk.protocol.translation import TranslationSettings

__all__ = [
    "LIVE_ONLY_FIELDS",
    "REALTIME_ONLY_FIELDS",
    "RESPONSE_ONLY_FIELDS",
    "SESSION_TYPES",
    "check_session_type",
    "live_settings",
    "models_in_use",
    "transcription_settings",
    "translation_settings",
]

SESSION_TYPES = ("realtime", "transcription", "live", "translation")

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
#: Options fields only a GPT-Live session takes, with their defaults.
LIVE_ONLY_FIELDS: dict[str, Any] = {
    "history": (),
    "store": None,
    "safety_identifier": None,
    "delegation": None,
    "delegation_model": None,
    "delegation_options": None,
    "acknowledgement_delay_ms": None,
    "triggers": None,
}
#: Options fields only a translation session takes, with their defaults.
TRANSLATION_ONLY_FIELDS: dict[str, Any] = {
    "target_language": None,
    "source_transcription_model": None,
}
#: Options fields GPT-Live has no such thing for (turns, VAD, modalities, transcription
#: settings, truncation...), with their defaults: set, they are refused, naming them.
REALTIME_ONLY_FIELDS: dict[str, Any] = {
    "output_modality": "audio",
    "turn_detection": "server_vad",
    "threshold": None,
    "prefix_padding_ms": None,
    "silence_duration_ms": None,
    "idle_timeout_ms": None,
    "eagerness": None,
    "create_response": None,
    "interrupt_response": None,
    "transcription_model": None,
    "transcription_language": None,
    "transcription_prompt": None,
    "noise_reduction": None,
    "speed": None,
    "include_logprobs": False,
    "truncation": None,
    "retention_ratio": None,
    "truncation_token_limit": None,
    "tracing": None,
    "prompt_template": None,
    "language": None,
    "prompt": None,
}


def check_session_type(options: Any) -> None:
    """Raise :class:`ConfigurationError` naming every field that does not belong to the
    options' ``session_type``."""
    kind = options.session_type
    if kind not in SESSION_TYPES:
        raise ConfigurationError(
            f"RealtimeAIOptions.session_type must be one of {', '.join(SESSION_TYPES)}, "
            f"got {kind!r}"
        )
    if kind != "translation":
        wrong = [n for n, d in TRANSLATION_ONLY_FIELDS.items() if _set(getattr(options, n), d)]
        if wrong:
            raise ConfigurationError(
                f"RealtimeAIOptions: {', '.join(wrong)} apply to translation sessions only "
                "(a translation model, or session_type='translation')"
            )
    if kind == "translation":
        _check_translation(options)
        return
    if kind == "live":
        _check_live(options)
        return
    live_only = [n for n, d in LIVE_ONLY_FIELDS.items() if _set(getattr(options, n), d)]
    if live_only:
        raise ConfigurationError(
            f"RealtimeAIOptions: {', '.join(live_only)} apply to GPT-Live sessions only "
            "(a gpt-live- model, or session_type='live')"
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


def _check_live(options: Any) -> None:
    wrong = [n for n, d in REALTIME_ONLY_FIELDS.items() if _set(getattr(options, n), d)]
    if wrong:
        raise ConfigurationError(
            f"RealtimeAIOptions: {', '.join(wrong)} cannot be used with GPT-Live (it has no "
            "turns, turn detection, text-only replies or transcription settings: the model "
            "listens and speaks continuously)"
        )
    if options.input_format != options.output_format:
        raise ConfigurationError(
            "RealtimeAIOptions: GPT-Live takes one audio format both ways; input_format "
            f"({options.input_format!r}) and output_format ({options.output_format!r}) differ"
        )
    if options.azure_endpoint is not None and options.api_version is not None:
        raise ConfigurationError(
            "RealtimeAIOptions: GPT-Live on Azure uses the v1 path; drop api_version"
        )
    try:
        live_settings(options, options.tools)
    except ConfigurationError as exc:
        raise ConfigurationError(f"RealtimeAIOptions: {exc}") from None


def live_settings(options: Any, tools: Sequence[Mapping[str, Any]]) -> LiveSettings:
    """The :class:`~rtsdk.protocol.live.LiveSettings` of GPT-Live options; ``tools`` are the
    function tools (and hosted ones) for the Responses backend."""
    responses: dict[str, Any] = {}
    if options.tool_choice is not None:
        responses["tool_choice"] = options.tool_choice
    if options.parallel_tool_calls is not None:
        responses["parallel_tool_calls"] = options.parallel_tool_calls
    if options.max_output_tokens is not None and options.max_output_tokens != "inf":
        responses["max_output_tokens"] = options.max_output_tokens
    if options.reasoning_effort is not None:
        responses["reasoning"] = {"effort": options.reasoning_effort}
    if options.delegation_options:
        responses.update(options.delegation_options)
    delegation = options.delegation
    model = options.delegation_model
    if model is None and (tools or delegation == "responses"):
        model = DEFAULT_DELEGATION_MODEL
    return LiveSettings(
        model=options.azure_deployment if options.azure_endpoint is not None else options.model,
        instructions=options.instructions,
        voice=options.voice,
        audio_format=options.input_format,
        input=options.history,
        store=options.store,
        safety_identifier=options.safety_identifier,
        delegation=delegation,
        delegation_model=model,
        tools=tuple(dict(t) for t in tools),
        responses=responses if delegation != "client" and (tools or delegation) else {},
        acknowledgement_delay_ms=options.acknowledgement_delay_ms,
        triggers=options.triggers,
    )


def _check_translation(options: Any) -> None:
    if options.input_format != "pcm16" or options.output_format != "pcm16":
        raise ConfigurationError(
            "RealtimeAIOptions: a translation session takes 24 kHz PCM16 only "
            "(input_format / output_format 'pcm16'; rtsdk resamples any source to it)"
        )
    refused = {**RESPONSE_ONLY_FIELDS, **REALTIME_ONLY_FIELDS, **LIVE_ONLY_FIELDS}
    refused.pop("noise_reduction")  # a translation session takes it
    wrong = [n for n, d in refused.items() if _set(getattr(options, n), d)]
    if wrong:
        raise ConfigurationError(
            f"RealtimeAIOptions: {', '.join(wrong)} cannot be used with a translation session "
            "(speech in, translated speech out: no instructions, voice, tools or turns; "
            "source_transcription_model / noise_reduction / target_language configure it)"
        )
    if options.target_language is None:
        raise ConfigurationError(
            "RealtimeAIOptions.target_language is required for a translation session (e.g. 'fr')"
        )
    if options.azure_endpoint is not None and options.api_version is not None:
        raise ConfigurationError(
            "RealtimeAIOptions: translation sessions on Azure use the v1 path; drop api_version"
        )
    try:
        translation_settings(options)
    except ConfigurationError as exc:
        raise ConfigurationError(f"RealtimeAIOptions: {exc}") from None


def translation_settings(options: Any) -> TranslationSettings:
    """The :class:`~rtsdk.protocol.translation.TranslationSettings` of translation options."""
    return TranslationSettings(
        target_language=options.target_language,
        model=options.azure_deployment if options.azure_endpoint is not None else options.model,
        source_transcription_model=options.source_transcription_model,
        noise_reduction=options.noise_reduction,
    )


def models_in_use(options: Any, settings: Any) -> tuple[str, ...]:
    """The catalogue names a session uses: its model and its transcription model."""
    names = [options.catalogue_model]
    if options.session_type == "transcription":
        names.append(getattr(settings, "model", None))
    else:
        names.append(options.transcription_model)
    return tuple(n for n in names if n)

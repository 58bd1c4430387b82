"""Session settings: plain options in, the nested GA ``session`` object out.

:class:`SessionSettings` validates once at construction (``ConfigurationError`` naming the bad
field); :meth:`SessionSettings.to_session` builds exactly the GA shape ``session.update`` takes.
:func:`normalize_session` turns the flat beta session (``session.created``/``updated`` from a beta
or preview-Azure endpoint) into the nested GA shape.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from ..exceptions import ConfigurationError
from ..models import REASONING_EFFORTS, model_info, not_reasoning

__all__ = [
    "AUDIO_FORMATS",
    "BYTES_PER_MS",
    "LOGPROBS_INCLUDE",
    "SAMPLE_RATES",
    "AudioFormat",
    "SessionFields",
    "SessionSettings",
    "bytes_per_ms",
    "format_name",
    "format_object",
    "language_field",
    "normalize_item",
    "normalize_session",
]

AudioFormat = Literal["pcm16", "g711_ulaw", "g711_alaw"]

#: Format name -> the GA audio format object.
AUDIO_FORMATS: dict[str, dict[str, Any]] = {
    "pcm16": {"type": "audio/pcm", "rate": 24000},
    "g711_ulaw": {"type": "audio/pcmu"},
    "g711_alaw": {"type": "audio/pcma"},
}
#: Format name -> bytes of audio per millisecond.
BYTES_PER_MS: dict[str, int] = {"pcm16": 48, "g711_ulaw": 8, "g711_alaw": 8}
#: Format name -> sample rate in Hz.
SAMPLE_RATES: dict[str, int] = {"pcm16": 24000, "g711_ulaw": 8000, "g711_alaw": 8000}

_TYPE_TO_NAME = {"audio/pcm": "pcm16", "audio/pcmu": "g711_ulaw", "audio/pcma": "g711_alaw"}
_VOICES = ("alloy", "ash", "ballad", "coral", "echo", "sage", "shimmer", "verse", "marin", "cedar")
_TURN_DETECTION = ("server_vad", "semantic_vad", "none")
_EAGERNESS = ("low", "medium", "high", "auto")
_NOISE = ("near_field", "far_field")
_TRUNCATION = ("auto", "disabled", "retention_ratio")
_TRACING_KEYS = ("workflow_name", "group_id", "metadata")
_PROMPT_KEYS = ("id", "version", "variables")
#: The ``include`` entry that asks for log probabilities of input transcription tokens.
LOGPROBS_INCLUDE = "item.input_audio_transcription.logprobs"


def format_object(name: str) -> dict[str, Any]:
    """The GA format object for ``"pcm16"``, ``"g711_ulaw"`` or ``"g711_alaw"`` (a fresh dict)."""
    try:
        return dict(AUDIO_FORMATS[name])
    except KeyError:
        raise ConfigurationError(
            f"audio format must be one of {sorted(AUDIO_FORMATS)}, got {name!r}"
        ) from None


def format_name(fmt: object) -> str:
    """The format name of a GA format object or beta string; ``"pcm16"`` when absent/unknown."""
    if isinstance(fmt, dict):
        return _TYPE_TO_NAME.get(str(fmt.get("type", "audio/pcm")), "pcm16")
    if isinstance(fmt, str) and fmt in BYTES_PER_MS:
        return fmt
    return "pcm16"


def bytes_per_ms(fmt: object) -> int:
    """Bytes per millisecond of audio for a format name or GA format object (48 or 8)."""
    return BYTES_PER_MS[format_name(fmt)]


_BETA_KEYS = (
    "modalities",
    "input_audio_format",
    "output_audio_format",
    "voice",
    "speed",
    "turn_detection",
    "input_audio_transcription",
    "input_audio_noise_reduction",
    "max_response_output_tokens",
    "temperature",
)


def normalize_session(session: dict[str, Any]) -> dict[str, Any]:
    """GA nested shape from a flat beta session; a GA session (or anything else) is returned as is.

    Beta keys with no GA place (``temperature``) are kept at the top level.
    """
    if "audio" in session or not any(key in session for key in _BETA_KEYS):
        return session
    out = {k: v for k, v in session.items() if k not in _BETA_KEYS}
    out.setdefault("type", "realtime")
    if "modalities" in session:
        mods = session["modalities"]
        out["output_modalities"] = (
            ["audio"] if isinstance(mods, list) and "audio" in mods else ["text"]
        )
    if "max_response_output_tokens" in session:
        out["max_output_tokens"] = session["max_response_output_tokens"]
    if "temperature" in session:
        out["temperature"] = session["temperature"]
    audio_in: dict[str, Any] = {}
    audio_out: dict[str, Any] = {}
    if "input_audio_format" in session:
        audio_in["format"] = dict(AUDIO_FORMATS[format_name(session["input_audio_format"])])
    if "input_audio_transcription" in session:
        audio_in["transcription"] = session["input_audio_transcription"]
    if "input_audio_noise_reduction" in session:
        audio_in["noise_reduction"] = session["input_audio_noise_reduction"]
    if "turn_detection" in session:
        td = session["turn_detection"]
        if isinstance(td, dict) and "type" not in td:
            td = dict(td, type="server_vad")
        audio_in["turn_detection"] = td
    if "output_audio_format" in session:
        audio_out["format"] = dict(AUDIO_FORMATS[format_name(session["output_audio_format"])])
    for key in ("voice", "speed"):
        if key in session:
            audio_out[key] = session[key]
    audio: dict[str, Any] = {}
    if audio_in:
        audio["input"] = audio_in
    if audio_out:
        audio["output"] = audio_out
    if audio:
        out["audio"] = audio
    return out


_BETA_PARTS = {"text": "output_text", "audio": "output_audio"}


def normalize_item(item: dict[str, Any]) -> dict[str, Any]:
    """GA content part types in a beta assistant message (``text``/``audio`` become
    ``output_text``/``output_audio``); any other item is returned as is (not copied)."""
    if item.get("role") != "assistant":
        return item
    content = item.get("content")
    if not isinstance(content, list) or not any(
        isinstance(p, dict) and p.get("type") in _BETA_PARTS for p in content
    ):
        return item
    parts = [
        dict(p, type=_BETA_PARTS[p["type"]])
        if isinstance(p, dict) and p.get("type") in _BETA_PARTS
        else p
        for p in content
    ]
    return dict(item, content=parts)


def _bad(name: str, why: str, value: object) -> ConfigurationError:
    return ConfigurationError(f"SessionSettings.{name} {why}, got {value!r}")


def _number(name: str, value: object, lo: float, hi: float) -> None:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or not lo <= value <= hi
    ):
        raise _bad(name, f"must be a number in [{lo}, {hi}]", value)


def _int(name: str, value: object, lo: int, hi: int | None = None) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < lo:
        raise _bad(name, f"must be an int >= {lo}" + ("" if hi is None else f" and <= {hi}"), value)
    if hi is not None and value > hi:
        raise _bad(name, f"must be an int >= {lo} and <= {hi}", value)


def _choice(name: str, value: object, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise _bad(name, f"must be one of {list(choices)}", value)


def _opt_str(name: str, value: object) -> None:
    if value is not None and not isinstance(value, str):
        raise _bad(name, "must be a string or None", value)


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionFields:
    """The session options an app sets, in one place: :class:`SessionSettings` and
    :class:`rtsdk.RealtimeAIOptions` both have them (``None``: leave the server's default).

    ``turn_detection``: ``"server_vad"``, ``"semantic_vad"`` or ``"none"`` (manual turns). The
    VAD parameters apply to the chosen mode only (``threshold``, ``prefix_padding_ms``,
    ``silence_duration_ms`` and ``idle_timeout_ms`` to server_vad, ``eagerness`` to semantic_vad);
    setting one for the other mode is an error. ``tools`` are function tool objects
    (``{"type": "function", "name", "description", "parameters"}``) or MCP tool objects, sent
    as given. ``transcription_model=None`` leaves transcription off; ``include_logprobs`` asks
    for the log probabilities of its tokens.

    Reasoning models (``gpt-realtime-2`` and later; see :mod:`rtsdk.models`):
    ``reasoning_effort`` (``"minimal"``, ``"low"`` (the service's default), ``"medium"``,
    ``"high"``, ``"xhigh"``) and ``parallel_tool_calls`` (the model may call several tools in
    one response). Context: ``truncation`` (``"auto"``, ``"disabled"``, or
    ``"retention_ratio"`` with ``retention_ratio`` in 0-1 and optionally
    ``truncation_token_limit``, the tokens allowed after the instructions). ``tracing``:
    ``"auto"`` or ``{"workflow_name", "group_id", "metadata"}`` (once on, it cannot change).
    ``prompt_template``: a stored prompt, ``{"id", "version"?, "variables"?}``.
    """

    instructions: str | None = None
    voice: str | None = None
    output_modality: Literal["audio", "text"] = "audio"
    input_format: AudioFormat = "pcm16"
    output_format: AudioFormat = "pcm16"
    turn_detection: Literal["server_vad", "semantic_vad", "none"] = "server_vad"
    threshold: float | None = None
    prefix_padding_ms: int | None = None
    silence_duration_ms: int | None = None
    idle_timeout_ms: int | None = None
    eagerness: Literal["low", "medium", "high", "auto"] | None = None
    create_response: bool | None = None
    interrupt_response: bool | None = None
    transcription_model: str | None = None
    transcription_language: str | None = None
    transcription_prompt: str | None = None
    noise_reduction: Literal["near_field", "far_field"] | None = None
    tools: Sequence[Mapping[str, Any]] = field(default=())
    tool_choice: str | Mapping[str, Any] | None = None
    max_output_tokens: int | Literal["inf"] | None = None
    speed: float | None = None
    include_logprobs: bool = False
    reasoning_effort: Literal["minimal", "low", "medium", "high", "xhigh"] | None = None
    parallel_tool_calls: bool | None = None
    truncation: Literal["auto", "disabled", "retention_ratio"] | None = None
    retention_ratio: float | None = None
    truncation_token_limit: int | None = None
    tracing: Literal["auto"] | Mapping[str, Any] | None = None
    prompt_template: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionSettings(SessionFields):
    """What an app sets for a session (:class:`SessionFields`), checked at construction;
    ``model`` is for server-side use (the client names its model in the URL).

    ``tools`` is kept as a tuple of dicts, ``tool_choice`` as a string or dict.
    """

    tools: tuple[dict[str, Any], ...] = field(default=())
    tool_choice: str | dict[str, Any] | None = None
    model: str | None = None

    def __post_init__(self) -> None:
        for name in ("instructions", "voice", "model", "transcription_model"):
            _opt_str(name, getattr(self, name))
        if self.voice is not None and not self.voice:
            raise _bad("voice", f"must be a non-empty voice name such as {_VOICES[0]!r}", "")
        _choice("output_modality", self.output_modality, ("audio", "text"))
        _choice("input_format", self.input_format, tuple(AUDIO_FORMATS))
        _choice("output_format", self.output_format, tuple(AUDIO_FORMATS))
        _choice("turn_detection", self.turn_detection, _TURN_DETECTION)
        vad = self.turn_detection
        for name in ("threshold", "prefix_padding_ms", "silence_duration_ms", "idle_timeout_ms"):
            if getattr(self, name) is not None and vad != "server_vad":
                raise _bad(name, "applies to turn_detection='server_vad' only", getattr(self, name))
        if self.threshold is not None:
            _number("threshold", self.threshold, 0.0, 1.0)
        for name in ("prefix_padding_ms", "silence_duration_ms", "idle_timeout_ms"):
            if getattr(self, name) is not None:
                _int(name, getattr(self, name), 0)
        if self.eagerness is not None:
            if vad != "semantic_vad":
                raise _bad("eagerness", "applies to turn_detection='semantic_vad' only", vad)
            _choice("eagerness", self.eagerness, _EAGERNESS)
        for name in ("create_response", "interrupt_response"):
            value = getattr(self, name)
            if value is not None:
                if vad == "none":
                    raise _bad(name, "needs turn_detection 'server_vad' or 'semantic_vad'", value)
                if not isinstance(value, bool):
                    raise _bad(name, "must be a bool or None", value)
        for name in ("transcription_language", "transcription_prompt"):
            _opt_str(name, getattr(self, name))
            if getattr(self, name) is not None and self.transcription_model is None:
                raise _bad(name, "needs transcription_model", getattr(self, name))
        if self.noise_reduction is not None:
            _choice("noise_reduction", self.noise_reduction, _NOISE)
        if not isinstance(self.tools, (tuple, list)):
            raise _bad("tools", "must be a sequence of tool objects", self.tools)
        for i, tool in enumerate(self.tools):
            if not isinstance(tool, dict):
                raise _bad(f"tools[{i}]", "must be a dict", tool)
            kind = tool.get("type", "function")
            if kind == "function" and not isinstance(tool.get("name"), str):
                raise _bad(f"tools[{i}].name", "must be a string", tool.get("name"))
            if kind not in ("function", "mcp"):
                raise _bad(f"tools[{i}].type", "must be 'function' or 'mcp'", kind)
        if isinstance(self.tools, list):
            object.__setattr__(self, "tools", tuple(self.tools))
        tc = self.tool_choice
        if tc is not None and not (
            tc in ("auto", "none", "required")
            or (isinstance(tc, dict) and tc.get("type") in ("function", "mcp"))
        ):
            raise _bad(
                "tool_choice", "must be 'auto', 'none', 'required' or {type: function, name}", tc
            )
        mot = self.max_output_tokens
        if mot is not None and mot != "inf":
            _int("max_output_tokens", mot, 1, 4096)
        if self.speed is not None:
            _number("speed", self.speed, 0.25, 1.5)
        self._check_newer_fields()

    def _check_newer_fields(self) -> None:
        if not isinstance(self.include_logprobs, bool):
            raise _bad("include_logprobs", "must be a bool", self.include_logprobs)
        if self.include_logprobs and self.transcription_model is None:
            raise _bad("include_logprobs", "needs transcription_model", True)
        if self.reasoning_effort is not None:
            _choice("reasoning_effort", self.reasoning_effort, REASONING_EFFORTS)
        if self.parallel_tool_calls is not None and not isinstance(self.parallel_tool_calls, bool):
            raise _bad("parallel_tool_calls", "must be a bool or None", self.parallel_tool_calls)
        if not_reasoning(self.model) is not None:
            for name in ("reasoning_effort", "parallel_tool_calls"):
                if getattr(self, name) is not None:
                    raise _bad(
                        name,
                        f"needs a reasoning model ({self.model} does not reason)",
                        getattr(self, name),
                    )
        if self.truncation is not None:
            _choice("truncation", self.truncation, _TRUNCATION)
        ratio_mode = self.truncation == "retention_ratio"
        if self.retention_ratio is None:
            if ratio_mode:
                raise _bad("retention_ratio", "is required with truncation='retention_ratio'", None)
        elif not ratio_mode:
            raise _bad(
                "retention_ratio",
                "applies to truncation='retention_ratio' only",
                self.retention_ratio,
            )
        else:
            _number("retention_ratio", self.retention_ratio, 0.0, 1.0)
        if self.truncation_token_limit is not None:
            if not ratio_mode:
                raise _bad(
                    "truncation_token_limit",
                    "applies to truncation='retention_ratio' only",
                    self.truncation_token_limit,
                )
            _int("truncation_token_limit", self.truncation_token_limit, 1)
        tracing = self.tracing
        if isinstance(tracing, Mapping):
            extra = sorted(set(tracing) - set(_TRACING_KEYS))
            if extra:
                raise _bad("tracing", f"takes only the keys {list(_TRACING_KEYS)}", extra)
            for key in ("workflow_name", "group_id"):
                _opt_str(f"tracing.{key}", tracing.get(key))
            object.__setattr__(self, "tracing", dict(tracing))
        elif tracing is not None and tracing != "auto":
            raise _bad("tracing", "must be 'auto', a dict of the trace's names, or None", tracing)
        prompt = self.prompt_template
        if prompt is not None:
            if not isinstance(prompt, Mapping) or not isinstance(prompt.get("id"), str):
                raise _bad("prompt_template", "must be a dict with a string 'id'", prompt)
            extra = sorted(set(prompt) - set(_PROMPT_KEYS))
            if extra:
                raise _bad("prompt_template", f"takes only the keys {list(_PROMPT_KEYS)}", extra)
            _opt_str("prompt_template.version", prompt.get("version"))
            variables = prompt.get("variables")
            if variables is not None and not isinstance(variables, Mapping):
                raise _bad("prompt_template.variables", "must be a dict", variables)
            object.__setattr__(self, "prompt_template", dict(prompt))

    @property
    def input_bytes_per_ms(self) -> int:
        return BYTES_PER_MS[self.input_format]

    @property
    def output_bytes_per_ms(self) -> int:
        return BYTES_PER_MS[self.output_format]

    def to_session(self) -> dict[str, Any]:
        """The GA ``session`` object for ``session.update`` (only keys that are set)."""
        session: dict[str, Any] = {"type": "realtime"}
        if self.model is not None:
            session["model"] = self.model
        if self.instructions is not None:
            session["instructions"] = self.instructions
        session["output_modalities"] = [self.output_modality]
        audio_in: dict[str, Any] = {"format": format_object(self.input_format)}
        if self.transcription_model is not None:
            tr: dict[str, Any] = {"model": self.transcription_model}
            if self.transcription_language is not None:
                tr.update(language_field(self.transcription_model, self.transcription_language))
            if self.transcription_prompt is not None:
                tr["prompt"] = self.transcription_prompt
            audio_in["transcription"] = tr
        if self.noise_reduction is not None:
            audio_in["noise_reduction"] = {"type": self.noise_reduction}
        if self.turn_detection == "none":
            audio_in["turn_detection"] = None
        else:
            td: dict[str, Any] = {"type": self.turn_detection}
            for name in (
                "threshold",
                "prefix_padding_ms",
                "silence_duration_ms",
                "idle_timeout_ms",
                "eagerness",
                "create_response",
                "interrupt_response",
            ):
                value = getattr(self, name)
                if value is not None:
                    td[name] = value
            audio_in["turn_detection"] = td
        audio_out: dict[str, Any] = {"format": format_object(self.output_format)}
        if self.voice is not None:
            audio_out["voice"] = self.voice
        if self.speed is not None:
            audio_out["speed"] = self.speed
        session["audio"] = {"input": audio_in, "output": audio_out}
        if self.tools:
            session["tools"] = [dict(tool) for tool in self.tools]
        if self.tool_choice is not None:
            tc = self.tool_choice
            session["tool_choice"] = dict(tc) if isinstance(tc, dict) else tc
        if self.max_output_tokens is not None:
            session["max_output_tokens"] = self.max_output_tokens
        if self.include_logprobs:
            session["include"] = [LOGPROBS_INCLUDE]
        if self.reasoning_effort is not None:
            session["reasoning"] = {"effort": self.reasoning_effort}
        if self.parallel_tool_calls is not None:
            session["parallel_tool_calls"] = self.parallel_tool_calls
        if self.truncation == "retention_ratio":
            truncation: dict[str, Any] = {
                "type": "retention_ratio",
                "retention_ratio": self.retention_ratio,
            }
            if self.truncation_token_limit is not None:
                truncation["token_limits"] = {"post_instructions": self.truncation_token_limit}
            session["truncation"] = truncation
        elif self.truncation is not None:
            session["truncation"] = self.truncation
        if self.tracing is not None:
            session["tracing"] = (
                self.tracing if isinstance(self.tracing, str) else dict(self.tracing)
            )
        if self.prompt_template is not None:
            session["prompt"] = dict(self.prompt_template)
        return session


def language_field(model: str | None, language: str) -> dict[str, Any]:
    """How ``model`` takes a language hint: ``{"languages": [language]}`` for the models that
    take a list of expected languages (``gpt-transcribe``, ``gpt-live-transcribe``), else
    ``{"language": language}``."""
    info = model_info(model)
    if info is not None and info.languages:
        return {"languages": [language]}
    return {"language": language}

"""What the live server accepts in client events: allowed keys, required keys, stated values.

The shapes follow sections 4-6 of the protocol reference (GA). The server rejects any key it does
not know (``unknown_parameter``), so :func:`unknown_client_keys` walks the whole tree (session,
audio, turn detection, tools, items, content parts, response overrides) and returns the dotted
path of every such key. :func:`client_event_problems` adds missing required keys and the value
rules the reference states (``session.type``, ``output_modalities``, audio format rate 24000,
truncate ``content_index`` 0, ...), each as a :class:`Problem` naming the ``param``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["Problem", "client_event_problems", "unknown_client_keys"]


@dataclass(frozen=True, slots=True)
class Problem:
    """One reason the server would reject a client event.

    ``code`` is ``unknown_parameter``, ``missing_required_parameter`` or ``invalid_value``;
    ``param`` is the dotted path (``session.audio.input.format.rate``, ``item.content[0].x``).
    """

    code: str
    param: str
    message: str


Check = Callable[[Any, str, list[Problem]], None]


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _any(value: Any, path: str, out: list[Problem]) -> None:
    return None


def _bad(out: list[Problem], path: str, message: str) -> None:
    out.append(Problem("invalid_value", path, message))


def _of(types: tuple[type, ...], what: str) -> Check:
    def check(value: Any, path: str, out: list[Problem]) -> None:
        if (isinstance(value, bool) and bool not in types) or not isinstance(value, types):
            _bad(out, path, f"expected {what}")

    return check


_STR = _of((str,), "a string")
_INT = _of((int,), "an integer")
_BOOL = _of((bool,), "a boolean")
_DICT = _of((dict,), "an object")


def _num(lo: float | None = None, hi: float | None = None, integer: bool = False) -> Check:
    def check(value: Any, path: str, out: list[Problem]) -> None:
        kinds: tuple[type, ...] = (int,) if integer else (int, float)
        is_number = isinstance(value, kinds) and not isinstance(value, bool)
        if not is_number or not math.isfinite(value):
            _bad(out, path, "expected an integer" if integer else "expected a number")
            return
        number = float(value)
        if (lo is not None and number < lo) or (hi is not None and number > hi):
            if hi is None:
                _bad(out, path, f"must be >= {lo}")
            elif lo == hi:
                _bad(out, path, f"must be {lo:g}")
            else:
                _bad(out, path, f"must be between {lo:g} and {hi:g}")

    return check


def _enum(*values: str) -> Check:
    def check(value: Any, path: str, out: list[Problem]) -> None:
        if value not in values:
            _bad(out, path, f"must be one of {list(values)}")

    return check


def _nullable(inner: Check) -> Check:
    def check(value: Any, path: str, out: list[Problem]) -> None:
        if value is not None:
            inner(value, path, out)

    return check


def _array(inner: Check) -> Check:
    def check(value: Any, path: str, out: list[Problem]) -> None:
        if not isinstance(value, list):
            _bad(out, path, "expected an array")
            return
        for i, element in enumerate(value):
            inner(element, f"{path}[{i}]", out)

    return check


def _obj(
    keys: dict[str, Check],
    required: tuple[str, ...] = (),
    extra_check: Check | None = None,
) -> Check:
    def check(value: Any, path: str, out: list[Problem]) -> None:
        if not isinstance(value, dict):
            _bad(out, path, "expected an object")
            return
        for key, sub in value.items():
            rule = keys.get(key)
            if rule is None:
                out.append(Problem("unknown_parameter", _join(path, str(key)), "unknown parameter"))
            else:
                rule(sub, _join(path, key), out)
        for key in required:
            if key not in value:
                out.append(
                    Problem("missing_required_parameter", _join(path, key), "missing required")
                )
        if extra_check is not None:
            extra_check(value, path, out)

    return check


def _tagged(
    variants: dict[str, Check],
    default: str | None = None,
    tag: str = "type",
    fallback: str | None = None,
) -> Check:
    """Pick the rule by ``value[tag]`` (``default`` when absent). When the tag is missing and
    there is no default, report it, then still check keys against ``fallback`` if given."""

    def check(value: Any, path: str, out: list[Problem]) -> None:
        if not isinstance(value, dict):
            _bad(out, path, "expected an object")
            return
        kind = value.get(tag, default)
        if kind is None:
            out.append(Problem("missing_required_parameter", _join(path, tag), "missing required"))
            if fallback is not None:
                variants[fallback](value, path, out)
            return
        rule = variants.get(kind) if isinstance(kind, str) else None
        if rule is None:
            _bad(out, _join(path, tag), f"must be one of {sorted(variants)}")
            return
        rule(value, path, out)

    return check


def _either(on_str: Check, on_dict: Check) -> Check:
    def check(value: Any, path: str, out: list[Problem]) -> None:
        if isinstance(value, str):
            on_str(value, path, out)
        elif isinstance(value, dict):
            on_dict(value, path, out)
        else:
            _bad(out, path, "expected a string or an object")

    return check


# --------------------------------------------------------------------------------------------
# session (section 4)


def _format_rules(value: dict[str, Any], path: str, out: list[Problem]) -> None:
    if "rate" in value and value.get("type", "audio/pcm") != "audio/pcm":
        out.append(Problem("unknown_parameter", _join(path, "rate"), "rate is for audio/pcm only"))


_FORMAT = _obj(
    {
        "type": _enum("audio/pcm", "audio/pcmu", "audio/pcma"),
        "rate": _num(24000, 24000, integer=True),
    },
    extra_check=_format_rules,
)
_TRANSCRIPTION = _nullable(
    _obj(
        {
            "model": _STR,
            "language": _STR,
            "prompt": _STR,
            "languages": _array(_STR),
            "keywords": _array(_STR),
            "delay": _any,
        }
    )
)
_NOISE = _nullable(_obj({"type": _enum("near_field", "far_field"), "strength": _num()}))
_VAD_COMMON: dict[str, Check] = {
    "type": _STR,
    "create_response": _BOOL,
    "interrupt_response": _BOOL,
}
_TURN_DETECTION = _nullable(
    _tagged(
        {
            "server_vad": _obj(
                {
                    **_VAD_COMMON,
                    "threshold": _num(0.0, 1.0),
                    "prefix_padding_ms": _num(0, None, integer=True),
                    "silence_duration_ms": _num(0, None, integer=True),
                    "idle_timeout_ms": _nullable(_num(0, None, integer=True)),
                }
            ),
            "semantic_vad": _obj(
                {**_VAD_COMMON, "eagerness": _enum("low", "medium", "high", "auto")}
            ),
        }
    )
)
_AUDIO_INPUT = _obj(
    {
        "format": _FORMAT,
        "transcription": _TRANSCRIPTION,
        "noise_reduction": _NOISE,
        "turn_detection": _TURN_DETECTION,
    }
)
_VOICE = _either(_STR, _obj({"id": _STR}, required=("id",)))
_AUDIO_OUTPUT = _obj({"format": _FORMAT, "voice": _VOICE, "speed": _num(0.25, 1.5)})
_FUNCTION_TOOL = _obj({"type": _STR, "name": _STR, "description": _STR, "parameters": _DICT})
_MCP_TOOL = _obj(
    {
        "type": _STR,
        "server_label": _STR,
        "server_url": _STR,
        "connector_id": _STR,
        "tunnel_id": _STR,
        "allowed_tools": _any,
        "require_approval": _any,
        "headers": _nullable(_DICT),
        "authorization": _STR,
        "server_description": _STR,
    },
    required=("server_label",),
)
_TOOLS = _array(_tagged({"function": _FUNCTION_TOOL, "mcp": _MCP_TOOL}, default="function"))
_TOOL_CHOICE = _either(
    _enum("auto", "none", "required"),
    _tagged(
        {
            "function": _obj({"type": _STR, "name": _STR}, required=("name",)),
            "mcp": _obj({"type": _STR, "server_label": _STR, "name": _STR}, ("server_label",)),
        }
    ),
)


def _max_tokens(value: Any, path: str, out: list[Problem]) -> None:
    if value != "inf":
        _num(1, 4096, integer=True)(value, path, out)


def _modalities(value: Any, path: str, out: list[Problem]) -> None:
    if value not in (["audio"], ["text"]):
        _bad(out, path, 'must be ["audio"] or ["text"]')


_TRACING = _nullable(
    _either(_enum("auto"), _obj({"workflow_name": _STR, "group_id": _STR, "metadata": _any}))
)
_TRUNCATION = _either(
    _enum("auto", "disabled"),
    _obj(
        {
            "type": _enum("retention_ratio"),
            "retention_ratio": _num(0.0, 1.0),
            "token_limits": _obj({"post_instructions": _num(0, None, integer=True)}),
        },
        required=("type", "retention_ratio"),
    ),
)
_PROMPT = _nullable(
    _obj({"id": _STR, "version": _nullable(_STR), "variables": _nullable(_DICT)}, ("id",))
)
_INCLUDE = _array(_enum("item.input_audio_transcription.logprobs"))
_REASONING = _obj({"effort": _enum("minimal", "low", "medium", "high", "xhigh")})

_REALTIME_SESSION = _obj(
    {
        "type": _STR,
        "model": _STR,
        "instructions": _STR,
        "output_modalities": _modalities,
        "audio": _obj({"input": _AUDIO_INPUT, "output": _AUDIO_OUTPUT}),
        "tools": _TOOLS,
        "tool_choice": _TOOL_CHOICE,
        "max_output_tokens": _max_tokens,
        "tracing": _TRACING,
        "truncation": _TRUNCATION,
        "prompt": _PROMPT,
        "include": _INCLUDE,
        "reasoning": _nullable(_REASONING),  # null: back to the model's default
        "parallel_tool_calls": _BOOL,
    }
)
_TRANSCRIPTION_SESSION = _obj(
    {"type": _STR, "include": _INCLUDE, "audio": _obj({"input": _AUDIO_INPUT})}
)
_SESSION = _tagged(
    {"realtime": _REALTIME_SESSION, "transcription": _TRANSCRIPTION_SESSION}, fallback="realtime"
)

# --------------------------------------------------------------------------------------------
# items (section 5)

_ITEM_COMMON: dict[str, Check] = {
    "type": _STR,
    "id": _STR,
    "object": _enum("realtime.item"),
    "status": _enum("completed", "incomplete", "in_progress"),
}
_INPUT_TEXT = _obj({"type": _STR, "text": _STR})
_USER_PARTS = _tagged(
    {
        "input_text": _INPUT_TEXT,
        "input_audio": _obj({"type": _STR, "audio": _STR, "transcript": _nullable(_STR)}),
        "input_image": _obj(
            {"type": _STR, "image_url": _STR, "detail": _enum("auto", "low", "high")}
        ),
    },
    default="input_text",
)
_ASSISTANT_PARTS = _tagged(
    {
        "output_text": _obj({"type": _STR, "text": _STR}),
        "output_audio": _obj({"type": _STR, "audio": _STR, "transcript": _nullable(_STR)}),
    },
    default="output_text",
)
_SYSTEM_PARTS = _tagged({"input_text": _INPUT_TEXT}, default="input_text")


def _message(parts: Check) -> Check:
    return _obj(
        {**_ITEM_COMMON, "role": _STR, "content": _array(parts)}, required=("role", "content")
    )


_MESSAGE = _tagged(
    {
        "system": _message(_SYSTEM_PARTS),
        "user": _message(_USER_PARTS),
        "assistant": _message(_ASSISTANT_PARTS),
    },
    tag="role",
)
_ITEM = _tagged(
    {
        "message": _MESSAGE,
        "function_call": _obj(
            {**_ITEM_COMMON, "name": _STR, "arguments": _STR, "call_id": _STR},
            required=("name", "arguments"),
        ),
        "function_call_output": _obj(
            {**_ITEM_COMMON, "call_id": _STR, "output": _STR}, required=("call_id", "output")
        ),
        "mcp_call": _obj(
            {
                "type": _STR,
                "id": _STR,
                "server_label": _STR,
                "name": _STR,
                "arguments": _STR,
                "approval_request_id": _nullable(_STR),
                "output": _nullable(_STR),
                "error": _any,
            }
        ),
        "mcp_list_tools": _obj({"type": _STR, "id": _STR, "server_label": _STR, "tools": _any}),
        "mcp_approval_request": _obj(
            {"type": _STR, "id": _STR, "server_label": _STR, "name": _STR, "arguments": _STR}
        ),
        "mcp_approval_response": _obj(
            {
                "type": _STR,
                "id": _STR,
                "approval_request_id": _STR,
                "approve": _BOOL,
                "reason": _nullable(_STR),
            }
        ),
    }
)
_REFERENCE = _obj({"type": _STR, "id": _STR}, required=("id",))


def _item_or_reference(value: Any, path: str, out: list[Problem]) -> None:
    if isinstance(value, dict) and value.get("type") == "item_reference":
        _REFERENCE(value, path, out)
    else:
        _ITEM(value, path, out)


def _metadata(value: Any, path: str, out: list[Problem]) -> None:
    if value is None:
        return
    if not isinstance(value, dict) or len(value) > 16:
        _bad(out, path, "must be an object of at most 16 string pairs")
        return
    for key, item in value.items():
        if len(key) > 64 or not isinstance(item, str) or len(item) > 512:
            _bad(out, _join(path, key), "keys <= 64 chars, string values <= 512 chars")


_RESPONSE = _obj(
    {
        "output_modalities": _modalities,
        "instructions": _nullable(_STR),  # null: the session's (the types say Optional)
        "audio": _obj({"output": _obj({"format": _FORMAT, "voice": _VOICE})}),
        "tools": _TOOLS,
        "tool_choice": _TOOL_CHOICE,
        "max_output_tokens": _max_tokens,
        "metadata": _metadata,
        "conversation": _STR,
        "input": _array(_item_or_reference),
        "prompt": _PROMPT,
        "reasoning": _REASONING,
        "parallel_tool_calls": _BOOL,
    }
)

# --------------------------------------------------------------------------------------------
# client events (section 6)


def _event(fields: dict[str, Check], required: tuple[str, ...] = ()) -> Check:
    return _obj({"type": _STR, "event_id": _STR, **fields}, required=required)


def _content_index(value: Any, path: str, out: list[Problem]) -> None:
    if value != 0 or isinstance(value, bool):
        _bad(out, path, "must be 0")


_EVENTS: dict[str, Check] = {
    "session.update": _event({"session": _SESSION}, ("session",)),
    "input_audio_buffer.append": _event({"audio": _STR}, ("audio",)),
    "input_audio_buffer.commit": _event({}),
    "input_audio_buffer.clear": _event({}),
    "output_audio_buffer.clear": _event({}),
    "conversation.item.create": _event(
        {"item": _ITEM, "previous_item_id": _nullable(_STR)}, ("item",)
    ),
    "conversation.item.truncate": _event(
        {
            "item_id": _STR,
            "content_index": _content_index,
            "audio_end_ms": _num(0, None, integer=True),
        },
        ("item_id", "content_index", "audio_end_ms"),
    ),
    "conversation.item.delete": _event({"item_id": _STR}, ("item_id",)),
    "conversation.item.retrieve": _event({"item_id": _STR}, ("item_id",)),
    "response.create": _event({"response": _RESPONSE}),
    "response.cancel": _event({"response_id": _STR}),
}


def client_event_problems(event: dict[str, Any]) -> list[Problem]:
    """Every problem the reference lets us see in one client event (empty list = acceptable)."""
    out: list[Problem] = []
    if not isinstance(event, dict):
        return [Problem("invalid_value", "", "event must be a JSON object")]
    kind = event.get("type")
    if not isinstance(kind, str):
        return [Problem("missing_required_parameter", "type", "missing required")]
    rule = _EVENTS.get(kind)
    if rule is None:
        return [Problem("invalid_value", "type", f"unknown client event type {kind[:64]!r}")]
    rule(event, "", out)
    return out


def unknown_client_keys(event: dict[str, Any]) -> list[str]:
    """Dotted paths of every key in a client event that the live server would not accept."""
    return [p.param for p in client_event_problems(event) if p.code == "unknown_parameter"]

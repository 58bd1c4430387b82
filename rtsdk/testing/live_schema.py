"""The GPT-Live client commands as the local server checks them: strict, as the service is.

:func:`command_problem` checks one decoded client event against the shape of its type (the
``openai`` 3.57 types, ``types/live/``) and returns the first fault as a
:class:`~rtsdk.testing.errors.Refusal` of the catalogue (:mod:`.catalogue_live`), or None:

- a key the type does not have, at any depth of ``session`` (top level, ``audio``,
  ``audio.format``, ``audio.output``, ``delegation``, ``delegation.responses``, a function
  tool, a trigger, an ``input`` message): ``unknown_parameter`` with its dotted ``param``
  (``session.delegation.responses.foo``, ``session.input[2].content[0].bar``);
- a required key left out: ``missing_required_parameter``;
- a value of the wrong JSON type: ``invalid_type``; a value outside its enumeration
  (``audio.format`` type and rate: ``audio/pcm`` at 24000 or 16000, ``audio/pcmu`` and
  ``audio/pcma`` at 8000; a voice that is not one of the 23 built-in names; a reasoning
  effort, ...): ``invalid_enum_value``; a negative delay: ``integer_below_min_value``;
- more than 128 ``input`` messages (``array_above_max_length``), an ``input`` message with
  other than one text part, two triggers for one transcript event type (``invalid_value``).

Left loose on purpose: the insides of hosted tools (``mcp``, ``shell``), of Decisions questions
and of data-channel selectors, and the items of ``response.item.create`` apart from what a
``function_call_output`` or a message needs (the Responses backend, not GPT-Live, owns those).
Token limits (instructions, input, content) are not counted.
"""

from __future__ import annotations

from typing import Any

from ..protocol.live import LIVE_VOICES
from .errors import Refusal
from .shapes import Anything, Either, Enum, Items, Loose, Node, Nullable, Obj, Scalar, Union

__all__ = ["BUILT_IN_VOICES", "COMMANDS", "MUTABLE", "command_problem"]

Json = dict[str, Any]

#: The built-in voices (``types/live/built_in_voice.py``).
BUILT_IN_VOICES = LIVE_VOICES

#: The session fields a ``session.update`` may carry (every other field of the startup config
#: is fixed once the session has started).
MUTABLE = ("delegation", "triggers")


STR, BOOL, ANY = Scalar(str), Scalar(bool), Anything()
OPT_STR, OPT_BOOL = Nullable(STR), Nullable(BOOL)
DELAY = Nullable(Scalar(int, 0))


def _only_type(*names: str) -> dict[str, Obj]:
    return {name: Obj({}) for name in names}


def _named(*extra: str) -> Obj:
    return Obj({"name": STR, **{k: STR for k in extra}}, "name", *extra)


_FORMAT = Union(
    "type",
    {
        "audio/pcm": Obj({"rate": Enum(24000, 16000)}, "rate"),
        "audio/pcmu": Obj({"rate": Enum(8000)}, "rate"),
        "audio/pcma": Obj({"rate": Enum(8000)}, "rate"),
    },
)
_VOICE = Either(Enum(*BUILT_IN_VOICES), Obj({"id": STR}, "id"))
_AUDIO = Obj({"format": Nullable(_FORMAT), "output": Nullable(Obj({"voice": Nullable(_VOICE)}))})
_HOSTED = (
    "web_search", "file_search", "code_interpreter", "image_generation", "custom",
    "namespace", "tool_search", "programmatic_tool_calling", "computer", "apply_patch",
)  # fmt: skip
_MCP_KEYS = (
    "allowed_callers", "allowed_tools", "authorization", "connector_id", "defer_loading",
    "headers", "require_approval", "server_description", "server_label", "server_url",
    "tunnel_id",
)  # fmt: skip
_TOOL = Union(
    "type",
    {
        "function": Obj(
            {
                "name": STR,
                "description": OPT_STR,
                "parameters": Nullable(Loose({})),
                "strict": OPT_BOOL,
            },
            "name",
        ),
        "shell": Obj({"environment": ANY}),
        "mcp": Obj(dict.fromkeys(_MCP_KEYS, ANY)),
        **_only_type(*_HOSTED),
    },
)
_CHOSEN = (
    "file_search", "web_search", "web_search_preview", "image_generation", "computer",
    "code_interpreter", "programmatic_tool_calling", "shell", "apply_patch",
)  # fmt: skip
_TOOL_CHOICE = Either(
    Enum("auto", "none", "required"),
    Union(
        "type",
        {
            "function": _named(),
            "custom": _named(),
            "mcp": _named("server_label"),
            "allowed_tools": Obj(
                {"tools": Items(Loose({})), "mode": Nullable(Enum("none", "auto", "required"))},
                "tools",
            ),
            **_only_type(*_CHOSEN),
        },
    ),
)
_RESPONSES_FIELDS: dict[str, Node] = {
    "model": STR,
    "instructions": OPT_STR,
    "max_output_tokens": Nullable(Scalar(int, 1)),
    "parallel_tool_calls": OPT_BOOL,
    "reasoning": Nullable(
        Obj(
            {
                "effort": Nullable(Enum("none", "minimal", "low", "medium", "high", "xhigh")),
                "summary": Nullable(Enum("concise", "detailed", "auto")),
            }
        )
    ),
    "service_tier": Nullable(
        Enum("auto", "default", "fast_tier_temp_pilot", "flex", "priority", "ultrafast")
    ),
    "text": Nullable(Obj({"verbosity": Nullable(Enum("low", "medium", "high"))})),
    "tool_choice": Nullable(_TOOL_CHOICE),
    "tools": Nullable(Items(_TOOL)),
}
_QUESTION = Union(
    "type",
    {
        "choice": Obj(
            {"choices": ANY, "instructions": ANY, "name": OPT_STR}, "choices", "instructions"
        ),
        "predicate": Obj({"instructions": ANY, "name": OPT_STR}, "instructions"),
        "score": Obj(
            {"instructions": ANY, "levels": ANY, "name": OPT_STR}, "instructions", "levels"
        ),
    },
)
_DECISIONS_FIELDS: dict[str, Node] = {"model": STR, "questions": Items(_QUESTION)}
_TRIGGER = Obj(
    {
        "type": Enum("decisions"),
        "event_type": Enum("session.input_transcript.delta", "session.output_transcript.delta"),
        "decisions": Obj({"questions": Items(_QUESTION)}, "questions"),
    },
    "type",
    "event_type",
    "decisions",
)
_TRIGGERS = Nullable(Items(_TRIGGER))


def _delegation(update: bool) -> Nullable:
    responses = Obj(_RESPONSES_FIELDS, *(() if update else ("model",)))
    decisions = Obj(_DECISIONS_FIELDS, *(() if update else ("model", "questions")))
    outer = () if update else ("responses",)
    return Nullable(
        Union(
            "type",
            {
                "client": Obj({"acknowledgement_delay_ms": DELAY}),
                "responses": Obj(
                    {"responses": Nullable(responses), "acknowledgement_delay_ms": DELAY},
                    *outer,
                ),
                "decisions": Obj(
                    {"decisions": Nullable(decisions), "acknowledgement_delay_ms": DELAY},
                    *(() if update else ("decisions",)),
                ),
            },
        )
    )


_ONE_PART = (1, "expected exactly one text part")
_TEXT_PART = Obj({"text": STR, "type": Nullable(Enum("input_text"))}, "text")
_MESSAGE_FIELDS: dict[str, Node] = {
    "id": OPT_STR,
    "status": Nullable(Enum("incomplete", "completed")),
    "type": Nullable(Enum("message")),
}
_INITIAL_ITEM = Union(
    "role",
    {
        "developer": Obj({"content": Items(_TEXT_PART, size=_ONE_PART), **_MESSAGE_FIELDS}),
        "user": Obj({"content": Items(_TEXT_PART, size=_ONE_PART), **_MESSAGE_FIELDS}),
        "assistant": Obj(
            {
                "content": Items(
                    Obj({"text": STR, "type": Nullable(Enum("text", "output_text"))}, "text"),
                    size=_ONE_PART,
                ),
                **_MESSAGE_FIELDS,
            }
        ),
    },
)
for _variant in _INITIAL_ITEM.variants.values():
    _variant.required = ("content",)

_DATA_CHANNEL = Obj({"allowed_client_events": ANY, "allowed_server_events": ANY})
_SESSION = Obj(
    {
        "model": STR,
        "audio": Nullable(_AUDIO),
        "client": Nullable(Obj({"data_channel": _DATA_CHANNEL}, "data_channel")),
        "delegation": _delegation(update=False),
        "input": Nullable(Items(_INITIAL_ITEM, most=128)),
        "instructions": OPT_STR,
        "safety_identifier": OPT_STR,
        "store": OPT_BOOL,
        "triggers": _TRIGGERS,
    },
    "model",
)
_UPDATE = Obj({"delegation": _delegation(update=True), "triggers": _TRIGGERS})
_APPEND = {"content": STR, "delegation_id": OPT_STR}
_RESPONSE_ITEM = Union(
    "type",
    {
        "message": Loose({"role": STR, "content": ANY}, "role", "content"),
        "function_call_output": Loose({"call_id": STR, "output": ANY}, "call_id", "output"),
        "function_call": Loose({"call_id": STR, "name": STR, "arguments": STR}, "call_id"),
    },
    default="message",
    others=Loose({}),
)

#: The shape of each client command (``type`` and ``event_id`` are added to every one).
COMMANDS: dict[str, Obj] = {
    "session.start": Obj({"session": _SESSION}, "session"),
    "session.update": Obj({"session": _UPDATE}, "session"),
    "session.input_audio.append": Obj({"audio": STR}, "audio"),
    "session.input_audio.mute": Obj({}),
    "session.input_audio.unmute": Obj({}),
    "session.output_audio.fixture.play": Obj({"audio": STR}, "audio"),
    "session.instructions.append": Obj(_APPEND, *_APPEND),
    "session.thinking.append": Obj(_APPEND, *_APPEND),
    "session.commentary.append": Obj(_APPEND, *_APPEND),
    "decision.create": Obj({}, "event_id"),
    "decision.item.create": Obj({"item": Loose({})}, "item"),
    "decision.item.delete": Obj({"item_id": STR}, "item_id"),
    "response.item.create": Obj({"item": _RESPONSE_ITEM}, "item"),
    "response.create": Obj({}),
    "session.close": Obj({}),
}
for _command in COMMANDS.values():
    _command.fields.update(type=STR, event_id=OPT_STR)


def _duplicate_trigger(triggers: Any, path: str) -> Refusal | None:
    seen: set[str] = set()
    for trigger in triggers or ():
        kind = trigger["event_type"]
        if kind in seen:
            reason = f"at most one trigger per event_type ('{kind}' is given twice)"
            return Refusal("invalid_value", {"param": path, "reason": reason})
        seen.add(kind)
    return None


def command_problem(data: Json) -> Refusal | None:
    """The first fault of client command ``data`` (its ``type`` one of :data:`COMMANDS`), or
    None. A ``session.update`` naming a field fixed at startup gets ``immutable_field_update``
    (a change of delegation type is the session's to refuse: it knows the current one)."""
    kind = data["type"]
    if kind == "session.update" and isinstance(data.get("session"), dict):
        for key in data["session"]:
            if key in _SESSION.fields and key not in MUTABLE:
                return Refusal("live_immutable", {"param": f"session.{key}"})
    problem = COMMANDS[kind].check(data, "")
    if problem is None and kind in ("session.start", "session.update"):
        problem = _duplicate_trigger(data["session"].get("triggers"), "session.triggers")
    return problem

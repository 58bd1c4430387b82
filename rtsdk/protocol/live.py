"""GPT-Live's session config and client events: :class:`LiveSettings` and the frame builders.

GPT-Live (``wss://.../v1/live/sessions``) is configured once, by ``session.start`` (the first
frame of every connection); afterwards only ``delegation`` and ``triggers`` can change
(``session.update``). :class:`LiveSettings` validates a config at construction
(:class:`~rtsdk.exceptions.ConfigurationError` naming the field) and builds the ``session``
object; :meth:`LiveSettings.update_from` says what an app's change sends, or which immutable
field it tried to change. The builders return the client events of the protocol (each with an
``event_id``), in the shapes of the ``openai`` package's ``types/live``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..exceptions import ConfigurationError
from ..models import DEFAULT_LIVE_MODEL
from .builders import EventIds

__all__ = [
    "IMMUTABLE_FIELDS",
    "LIVE_FORMATS",
    "LIVE_VOICES",
    "MAX_CONTENT_CHARS",
    "MAX_HISTORY_CHARS",
    "MAX_HISTORY_MESSAGES",
    "LiveSettings",
    "context_append",
    "fit_history",
    "function_call_output",
    "history_message",
    "live_event",
    "session_start",
]

Json = dict[str, Any]

#: GPT-Live's built-in voices (a custom voice is ``{"id": "..."}``).
LIVE_VOICES = (
    "alloy", "ash", "ballad", "beacon", "bossa", "cedar", "cinder", "coral", "delta", "echo",
    "gleam", "marin", "meridian", "quartz", "ripple", "sage", "shida", "shimmer", "stone",
    "tempo", "verse", "vesper", "willow",
)  # fmt: skip
#: Format name -> the audio format object (one format covers input and output). The service
#: also takes PCM16 at 16 kHz; rtsdk's audio stack sends 24 kHz PCM16 or 8 kHz G.711.
LIVE_FORMATS: dict[str, Json] = {
    "pcm16": {"type": "audio/pcm", "rate": 24000},
    "g711_ulaw": {"type": "audio/pcmu", "rate": 8000},
    "g711_alaw": {"type": "audio/pcma", "rate": 8000},
}
#: The service's limits on the start-up history: messages, and about 8,192 tokens (counted
#: here as characters at 3 per token, to stay under it for any text).
MAX_HISTORY_MESSAGES = 128
MAX_HISTORY_CHARS = 8192 * 3
#: One commentary / thinking / instructions append: at most 500 tokens (about 1,500 chars).
MAX_CONTENT_CHARS = 1500
#: The fields ``session.start`` fixes for the session's life (``session.update`` refuses them).
IMMUTABLE_FIELDS = (
    "model", "instructions", "voice", "audio_format", "input", "store", "safety_identifier",
)  # fmt: skip
_ROLES = ("developer", "user", "assistant")
_DELEGATIONS = ("client", "responses", "decisions")
_EVENT_TYPE = re.compile(r"^[a-z_]+(\.[a-z_]+)+$")

_IDS = EventIds("evt_rtsdk_live_")


def _bad(name: str, why: str) -> ConfigurationError:
    return ConfigurationError(f"GPT-Live {name} {why}")


def history_message(role: str, text: str) -> Json:
    """One start-up history message (``role``: developer, user or assistant) as the service
    takes it: a ``message`` with one text part."""
    if role not in _ROLES:
        raise _bad("input", f"role must be one of {', '.join(_ROLES)}, got {role!r}")
    if not isinstance(text, str):
        raise _bad("input", f"text must be a str, got {type(text).__name__}")
    part = {"type": "output_text" if role == "assistant" else "input_text", "text": text}
    return {"type": "message", "role": role, "content": [part]}


def _message(entry: object) -> Json:
    """A history entry: ``(role, text)``, ``{"role", "content": str}`` or a full message."""
    if isinstance(entry, tuple) and len(entry) == 2:
        return history_message(*entry)
    if not isinstance(entry, Mapping):
        raise _bad("input", f"entries must be (role, text) or message dicts, got {entry!r:.60}")
    content = entry.get("content")
    if isinstance(content, str):
        return history_message(str(entry.get("role")), content)
    if not isinstance(content, Sequence) or len(content) != 1:
        raise _bad("input", "messages take exactly one text part")
    part = content[0]
    text = part.get("text") if isinstance(part, Mapping) else None
    if not isinstance(text, str):
        raise _bad("input", "a message's text part needs a string 'text'")
    return history_message(str(entry.get("role")), text)


def _text_of(message: Json) -> str:
    return str(message["content"][0]["text"])


def _delegation(
    value: object, tools: Sequence[Mapping[str, Any]], model: str | None
) -> Json | None:
    """The ``delegation`` object: a type name, a full object, or None (tools: Responses)."""
    if value is None:
        if not tools:
            return None
        value = "responses"
    if isinstance(value, str):
        if value not in _DELEGATIONS:
            raise _bad("delegation", f"must be one of {', '.join(_DELEGATIONS)}, got {value!r}")
        if value == "client":
            if tools:
                raise _bad(
                    "delegation",
                    "'client' takes no tools: the app answers delegations itself "
                    "(delegation_reply); drop the tools or use 'responses'",
                )
            return {"type": "client"}
        if value == "decisions":
            raise _bad("delegation", "'decisions' needs its full object (model and questions)")
        if not model:
            raise _bad("delegation_model", "is required for Responses delegation")
        responses: Json = {"model": model}
        if tools:
            responses["tools"] = [dict(t) for t in tools]
        return {"type": "responses", "responses": responses}
    if not isinstance(value, Mapping) or value.get("type") not in _DELEGATIONS:
        raise _bad("delegation", f"must have a type of {', '.join(_DELEGATIONS)}")
    out = dict(value)
    if out["type"] == "responses" and tools:
        responses = dict(out.get("responses") or {})
        responses["tools"] = [*(responses.get("tools") or ()), *(dict(t) for t in tools)]
        out["responses"] = responses
    if out["type"] == "responses" and not (out.get("responses") or {}).get("model"):
        raise _bad("delegation", "of type 'responses' needs responses.model")
    return out


@dataclass(frozen=True)
class LiveSettings:
    """A GPT-Live session's config (validated at construction; see the module docstring).

    ``voice``: a built-in name (:data:`LIVE_VOICES`) or ``{"id": "<custom voice id>"}``.
    ``audio_format``: a :data:`LIVE_FORMATS` name. ``input``: start-up history, entries
    ``(role, text)`` or message dicts (at most :data:`MAX_HISTORY_MESSAGES`). ``delegation``:
    ``"client"``, ``"responses"`` (needs ``delegation_model``), a full delegation object, or
    None (Responses when there are ``tools``, else the app: client delegation). ``tools``:
    function tools (flat ``{"type": "function", "name", "description", "parameters"}``) for
    the Responses backend. ``responses``: further keys of ``delegation.responses``
    (``instructions``, ``tool_choice``, ``reasoning``, ...). ``triggers``: Decisions triggers.
    """

    model: str = DEFAULT_LIVE_MODEL
    instructions: str | None = None
    voice: str | Mapping[str, Any] | None = None
    audio_format: str = "pcm16"
    input: Sequence[Any] = ()
    store: bool | None = None
    safety_identifier: str | None = None
    delegation: str | Mapping[str, Any] | None = None
    delegation_model: str | None = None
    tools: Sequence[Mapping[str, Any]] = ()
    responses: Mapping[str, Any] = field(default_factory=dict)
    acknowledgement_delay_ms: int | None = None
    triggers: Sequence[Mapping[str, Any]] | None = None

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        if not isinstance(self.model, str) or not self.model:
            raise _bad("model", f"must be a non-empty string, got {self.model!r}")
        if self.instructions is not None and not isinstance(self.instructions, str):
            raise _bad("instructions", "must be a str")
        voice = self.voice
        if isinstance(voice, Mapping):
            if set(voice) != {"id"} or not isinstance(voice.get("id"), str) or not voice["id"]:
                raise _bad("voice", "as an object is {'id': '<custom voice id>'}")
            set_(self, "voice", {"id": voice["id"]})
        elif voice is not None and voice not in LIVE_VOICES:
            raise _bad("voice", f"must be one of {', '.join(LIVE_VOICES)} or {{'id': ...}}")
        if self.audio_format not in LIVE_FORMATS:
            raise _bad(
                "audio format",
                f"must be one of {', '.join(LIVE_FORMATS)}, got {self.audio_format!r}",
            )
        if isinstance(self.input, (str, Mapping)):
            raise _bad("input", "must be a sequence of messages")
        messages = tuple(_message(m) for m in self.input)
        if len(messages) > MAX_HISTORY_MESSAGES:
            raise _bad(
                "input", f"holds at most {MAX_HISTORY_MESSAGES} messages, got {len(messages)}"
            )
        set_(self, "input", messages)
        if self.store is not None and not isinstance(self.store, bool):
            raise _bad("store", "must be a bool")
        if self.safety_identifier is not None and not isinstance(self.safety_identifier, str):
            raise _bad("safety_identifier", "must be a str")
        delay = self.acknowledgement_delay_ms
        if delay is not None and (
            isinstance(delay, bool) or not isinstance(delay, int) or delay < 0
        ):
            raise _bad("acknowledgement_delay_ms", f"must be an int >= 0, got {delay!r}")
        if self.triggers is not None:
            if isinstance(self.triggers, Mapping) or not all(
                isinstance(t, Mapping) for t in self.triggers
            ):
                raise _bad("triggers", "must be a sequence of trigger objects")
            set_(self, "triggers", tuple(dict(t) for t in self.triggers))
        set_(self, "tools", tuple(dict(t) for t in self.tools))
        if not isinstance(self.responses, Mapping):
            raise _bad("responses", "must be a dict of delegation.responses keys")
        self.delegation_object()  # checked now, built again when sent

    def delegation_object(self) -> Json | None:
        """The ``delegation`` object sent (None: left out, the app handles delegations)."""
        out = _delegation(self.delegation, self.tools, self.delegation_model)
        if out is None:
            return None
        if out["type"] == "responses" and self.responses:
            out["responses"] = {**out["responses"], **self.responses}
        if self.acknowledgement_delay_ms is not None:
            out["acknowledgement_delay_ms"] = self.acknowledgement_delay_ms
        return out

    @property
    def delegation_type(self) -> str:
        """``client``, ``responses`` or ``decisions``."""
        out = self.delegation_object()
        return "client" if out is None else str(out["type"])

    def to_session(self, *, extra_input: Sequence[Json] = ()) -> Json:
        """The ``session`` object of ``session.start`` (``extra_input``: history appended
        after the configured ``input``, e.g. the conversation so far on a reconnect)."""
        session: Json = {"model": self.model}
        if self.instructions is not None:
            session["instructions"] = self.instructions
        audio: Json = {"format": dict(LIVE_FORMATS[self.audio_format])}
        if self.voice is not None:
            audio["output"] = {"voice": self.voice}
        session["audio"] = audio
        history = [*self.input, *extra_input]
        if history:
            session["input"] = history
        if self.store is not None:
            session["store"] = self.store
        if self.safety_identifier is not None:
            session["safety_identifier"] = self.safety_identifier
        delegation = self.delegation_object()
        if delegation is not None:
            session["delegation"] = delegation
        if self.triggers is not None:
            session["triggers"] = list(self.triggers)
        return session

    def update_from(self, old: LiveSettings) -> Json | None:
        """The ``session`` of the ``session.update`` that moves ``old`` to these settings
        (None: nothing to send). Raises :class:`ConfigurationError` naming a field that
        cannot change after start (or a change of delegation type)."""
        for name in IMMUTABLE_FIELDS:
            if getattr(self, name) != getattr(old, name):
                raise ConfigurationError(
                    f"GPT-Live cannot change {name} after the session started (only "
                    "delegation and triggers can change); start a new session for it"
                )
        session: Json = {}
        new_delegation, old_delegation = self.delegation_object(), old.delegation_object()
        if new_delegation != old_delegation:
            if self.delegation_type != old.delegation_type:
                raise ConfigurationError(
                    f"GPT-Live cannot change the delegation type after start "
                    f"({old.delegation_type!r} to {self.delegation_type!r})"
                )
            session["delegation"] = new_delegation
        if self.triggers != old.triggers:
            session["triggers"] = list(self.triggers or ())
        return session or None


def fit_history(messages: Sequence[Json], *, room: int, chars: int) -> list[Json]:
    """The newest of ``messages`` that fit in ``room`` messages and ``chars`` characters."""
    kept: list[Json] = []
    used = 0
    for message in reversed(messages):
        if len(kept) >= room:
            break
        n = len(_text_of(message))
        if used + n > chars:
            break
        kept.append(message)
        used += n
    kept.reverse()
    return kept


# -- client events ------------------------------------------------------------------------


def live_event(kind: str, *, event_id: str | None = None, **fields_: Any) -> Json:
    """A GPT-Live client event ``kind`` with ``fields_`` and an ``event_id``."""
    if not isinstance(kind, str) or not _EVENT_TYPE.match(kind):
        raise ConfigurationError(f"not a GPT-Live event type: {kind!r}")
    return {"type": kind, "event_id": event_id or _IDS(), **fields_}


def session_start(settings: LiveSettings, *, extra_input: Sequence[Json] = ()) -> Json:
    """``session.start``: the first frame of every GPT-Live connection."""
    return live_event("session.start", session=settings.to_session(extra_input=extra_input))


def context_append(kind: str, content: str, delegation_id: str | None) -> Json:
    """``session.{commentary,thinking,instructions}.append`` (``delegation_id`` None: general
    context, not tied to a delegation)."""
    if kind not in ("commentary", "thinking", "instructions"):
        raise ConfigurationError(
            f"a context append is commentary, thinking or instructions, not {kind!r}"
        )
    if not isinstance(content, str) or not content.strip():
        raise ConfigurationError(f"the {kind} must be a non-empty str")
    if len(content) > MAX_CONTENT_CHARS:
        raise ConfigurationError(
            f"the {kind} is {len(content)} characters; GPT-Live takes at most about 500 tokens "
            f"({MAX_CONTENT_CHARS} characters) per append: split it"
        )
    if delegation_id is not None and not isinstance(delegation_id, str):
        raise ConfigurationError("delegation_id must be a str or None")
    return live_event(f"session.{kind}.append", content=content, delegation_id=delegation_id)


def function_call_output(call_id: str, output: str) -> Json:
    """``response.item.create`` with a ``function_call_output`` (Responses delegation)."""
    return live_event(
        "response.item.create",
        item={"type": "function_call_output", "call_id": call_id, "output": output},
    )

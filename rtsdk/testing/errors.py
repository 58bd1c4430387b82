"""What one error of the local server is: :class:`ErrorEntry`, a row of the catalogue.

The catalogue itself (:data:`rtsdk.testing.catalogue.ERRORS`) says, for every error the local
server can send, what causes it, the ``type`` / ``code`` / ``param`` / ``message`` it carries,
whether its ``event_id`` is the client's, and where that comes from: a public capture of the
real service, a client library that routes on the code, or nothing public (then the entry
says so, and which documented behaviour it is closest to). The server takes every error it
sends from there (:meth:`ErrorEntry.render`), so no code is made up on the spot.

:func:`listed` words a list of values as the service does, :data:`SUPPORTED_CLIENT_EVENTS` is
this server's list of client event types, and the constants at the end are the sources cited
by several entries.

A :class:`Refusal` is an error decided away from the session (a session update merged in
:mod:`.config`, a schema problem worded in :mod:`.wording`): the catalogue key and the fields
its templates need, for the session to send.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = [
    "SUPPORTED_CLIENT_EVENTS",
    "Carrier",
    "ErrorEntry",
    "Evidence",
    "Refusal",
    "listed",
]

Json = dict[str, Any]

#: Where the error travels: an ``error`` event, the JSON body of a refused upgrade, the
#: ``status_details.error`` of a failed ``response.done``, or the ``error`` of a
#: ``conversation.item.input_audio_transcription.failed``.
Carrier = Literal[
    "error", "http", "response.done", "conversation.item.input_audio_transcription.failed"
]
#: How much of the entry public material shows: ``"seen"`` (the code and the message were seen
#: from the service), ``"partly seen"`` (some of it was; the rest is worded by analogy, as the
#: source says), ``"not seen"`` (nothing public: this server's choice).
Evidence = Literal["seen", "partly seen", "not seen"]

_FORMATTER = string.Formatter()


def _names(template: str | None) -> set[str]:
    if template is None:
        return set()
    return {name for _, name, _, _ in _FORMATTER.parse(template) if name}


@dataclass(frozen=True, slots=True, kw_only=True)
class ErrorEntry:
    """One error the local server can send (a row of the catalogue).

    ``message`` and ``param`` are :meth:`str.format` templates; :attr:`fields` names what they
    need. ``client_event`` is the client event type that causes it (``None`` when no client
    event does: a frame that is not an event, a timer, the upgrade). ``echoes_event_id``: the
    error's ``event_id`` is the ``event_id`` of the client event at fault (``null`` when it had
    none); otherwise it is always ``null``. ``status`` is the HTTP status of a refused upgrade;
    ``closes`` the close frame (code, reason) the server sends after the error. ``has_param``
    is False for an error object without a ``param`` key (a failed response's). ``evidence``
    and ``source`` are about the service's error; ``differs`` says where this server's differs
    from it, and why (None: it does not, as far as public material shows).
    """

    key: str
    trigger: str
    client_event: str | None
    code: str | None
    message: str
    param: str | None = None
    type: str = "invalid_request_error"
    echoes_event_id: bool = True
    carrier: Carrier = "error"
    status: int | None = None
    closes: tuple[int, str] | None = None
    has_param: bool = True
    evidence: Evidence
    source: str
    differs: str | None = None
    fields: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "fields", frozenset(_names(self.message) | _names(self.param)))
        if self.carrier != "error" and self.echoes_event_id:
            raise ValueError(f"{self.key}: only an error event echoes an event_id")
        if (self.carrier == "http") != (self.status is not None):
            raise ValueError(f"{self.key}: an HTTP status goes with an HTTP refusal only")

    def render(self, **fields: Any) -> Json:
        """The error object (``type``, ``code``, ``message`` and, unless ``has_param`` is
        False, ``param``), its templates filled from ``fields``; the caller adds ``event_id``.

        Raises ``KeyError`` for a field the templates need and ``fields`` lacks, ``TypeError``
        for one they do not use (a misspelt field must not pass silently).
        """
        extra = set(fields) - self.fields
        if extra:
            raise TypeError(f"{self.key} has no field(s) {sorted(extra)}")
        error: Json = {
            "type": self.type,
            "code": self.code,
            "message": self.message.format(**fields),
        }
        if self.has_param:
            error["param"] = None if self.param is None else self.param.format(**fields)
        return error


@dataclass(frozen=True, slots=True)
class Refusal:
    """An error decided outside the session: its catalogue ``key`` and template ``fields``."""

    key: str
    fields: Mapping[str, Any] = field(default_factory=dict)


#: The client event types this server accepts, as the service lists its own in the message of
#: ``unknown_event_type`` (the service's list also has ``session.close`` and
#: ``session.input_audio_buffer.append``, which this server does not serve).
SUPPORTED_CLIENT_EVENTS = (
    "session.update",
    "input_audio_buffer.append",
    "input_audio_buffer.commit",
    "input_audio_buffer.clear",
    "conversation.item.create",
    "conversation.item.truncate",
    "conversation.item.delete",
    "conversation.item.retrieve",
    "response.create",
    "response.cancel",
)


def listed(values: tuple[str, ...] | list[str]) -> str:
    """Values as the service lists them: ``'a'``, ``'a' and 'b'``, ``'a', 'b', and 'c'``."""
    quoted = [f"'{v}'" for v in values]
    if len(quoted) <= 2:
        return " and ".join(quoted)
    return ", ".join(quoted[:-1]) + f", and {quoted[-1]}"


# -- sources cited by several entries -------------------------------------------------------

#: A live capture of wss://api.openai.com/v1/realtime (gpt-realtime-mini), frame by frame.
PROBE = (
    "public live capture of wss://api.openai.com/v1/realtime, 'WebSocket captures: Inworld "
    "TTS/STT and OpenAI Realtime (2026-09-18)' section 2 (found in the public code index; its "
    "repository was not resolved)"
)
#: A conformance test run against both speaches and api.openai.com, so its expected errors are
#: the service's.
SPEACHES = (
    "conformance test run against api.openai.com: https://github.com/steelburn/speaches/blob/"
    "524a63966f05a3929ac7e6bf4849566aaa2ff1cb/tests/realtime/realtime_conversation_test.py"
)
PIPECAT = (
    "pipecat-ai/pipecat src/pipecat/services/openai/realtime/llm.py (acead05): routes on "
    "error.code, treats every other error as fatal"
)
LIVEKIT = (
    "livekit/agents livekit-plugins/livekit-plugins-openai/livekit/plugins/openai/realtime/"
    "realtime_model.py (da6af86), _handle_error: matches error.event_id to the client event"
)
OURS = "no public source: this server's choice; "

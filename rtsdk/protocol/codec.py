"""Frames in, typed events out (and back): the parsing and encoding half of the protocol core.

``parse_server_event`` never raises: a frame it cannot read becomes a
:class:`~rtsdk.protocol.events.ProtocolErrorEvent`, an unknown type an
:class:`~rtsdk.protocol.events.UnknownServerEvent`, and beta names and the flat beta session
shape are normalised to GA on the way in.
"""

from __future__ import annotations

import json
from typing import Any

from .events import (
    CLIENT_EVENT_TYPES,
    SERVER_EVENT_TYPES,
    ClientEvent,
    ProtocolErrorEvent,
    ServerEvent,
    UnknownClientEvent,
    UnknownServerEvent,
)
from .session import normalize_item, normalize_session

__all__ = [
    "BETA_SERVER_TYPE_ALIASES",
    "decode_frame",
    "encode_event",
    "parse_client_event",
    "parse_server_event",
    "server_event_from_dict",
]

#: Beta (and preview Azure) server event names and the GA names they become.
BETA_SERVER_TYPE_ALIASES: dict[str, str] = {
    "response.audio.delta": "response.output_audio.delta",
    "response.audio.done": "response.output_audio.done",
    "response.audio_transcript.delta": "response.output_audio_transcript.delta",
    "response.audio_transcript.done": "response.output_audio_transcript.done",
    "response.text.delta": "response.output_text.delta",
    "response.text.done": "response.output_text.done",
    "conversation.item.created": "conversation.item.added",
    "transcription_session.created": "session.created",
    "transcription_session.updated": "session.updated",
}

_EXCERPT = 80
# events whose ``item`` may be a beta assistant message with ``text``/``audio`` parts
_ITEM_EVENTS = frozenset(
    {
        "conversation.item.created",
        "conversation.item.added",
        "conversation.item.done",
        "conversation.item.retrieved",
        "response.output_item.added",
        "response.output_item.done",
    }
)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"non-finite number {name} is not JSON")


# Built once: json.loads/json.dumps with keyword options build a new decoder/encoder per call.
_decode = json.JSONDecoder(parse_constant=_reject_constant).decode
_encode = json.JSONEncoder(separators=(",", ":"), allow_nan=False).encode


def _excerpt(frame: object) -> str:
    if isinstance(frame, str):
        text = frame[:_EXCERPT]
    elif isinstance(frame, (bytes, bytearray, memoryview)):
        text = bytes(frame[:_EXCERPT]).decode("utf-8", "replace")
    else:
        text = f"<{type(frame).__name__}>"
    return text


def decode_frame(frame: str | bytes) -> dict[str, Any] | ProtocolErrorEvent:
    """Decode one text frame to a JSON object with a string ``type``, or say why not."""
    try:
        if isinstance(frame, (bytearray, memoryview)):
            frame = bytes(frame)
        if not isinstance(frame, (str, bytes)):
            return ProtocolErrorEvent(
                description=f"frame is {type(frame).__name__}, not text", excerpt=_excerpt(frame)
            )
        data = _decode(frame if isinstance(frame, str) else frame.decode("utf-8"))
    except RecursionError:
        return ProtocolErrorEvent(description="JSON nested too deeply", excerpt=_excerpt(frame))
    except (ValueError, TypeError) as exc:  # JSONDecodeError and UnicodeDecodeError included
        reason = exc.msg if isinstance(exc, json.JSONDecodeError) else type(exc).__name__
        return ProtocolErrorEvent(description=f"invalid JSON: {reason}", excerpt=_excerpt(frame))
    if not isinstance(data, dict):
        return ProtocolErrorEvent(
            description=f"JSON {type(data).__name__} is not an event object",
            excerpt=_excerpt(frame),
        )
    kind = data.get("type")
    if not isinstance(kind, str):
        what = "missing" if kind is None else f"a {type(kind).__name__}, not a string"
        return ProtocolErrorEvent(description=f"event type is {what}", excerpt=_excerpt(frame))
    return data


def server_event_from_dict(data: dict[str, Any]) -> ServerEvent:
    """Type a decoded server event (its ``type`` must be a string); normalises beta to GA."""
    kind: str = data["type"]
    cls = SERVER_EVENT_TYPES.get(kind)
    if cls is None:
        ga = BETA_SERVER_TYPE_ALIASES.get(kind)
        if ga is None:
            return UnknownServerEvent(
                type=kind,
                event_id=data["event_id"] if isinstance(data.get("event_id"), str) else "",
                raw=data,
            )
        data = dict(data)
        data["type"] = ga
        if kind.startswith("transcription_session."):
            session = data.get("session")
            if isinstance(session, dict) and "type" not in session:
                data["session"] = dict(session, type="transcription")
        cls = SERVER_EVENT_TYPES[ga]
    if kind.startswith("session.") or kind.startswith("transcription_session."):
        session = data.get("session")
        if isinstance(session, dict):
            data = dict(data)
            data["session"] = normalize_session(session)
    elif kind in _ITEM_EVENTS:
        item = data.get("item")
        if isinstance(item, dict):
            fixed = normalize_item(item)
            if fixed is not item:
                data = dict(data, item=fixed)
    elif kind == "response.done":
        response = data.get("response")
        if isinstance(response, dict) and isinstance(response.get("output"), list):
            output = response["output"]
            fixed_output = [normalize_item(i) if isinstance(i, dict) else i for i in output]
            if any(a is not b for a, b in zip(fixed_output, output, strict=True)):
                data = dict(data, response=dict(response, output=fixed_output))
    event: ServerEvent = cls.from_dict(data)
    return event


def parse_server_event(frame: str | bytes) -> ServerEvent:
    """Parse one server frame. Never raises; see the module docstring for what comes out."""
    data = decode_frame(frame)
    if isinstance(data, ProtocolErrorEvent):
        return data
    try:
        return server_event_from_dict(data)
    except Exception as exc:  # pragma: no cover - defensive: the parser must never raise
        return ProtocolErrorEvent(
            description=f"unreadable event: {type(exc).__name__}", excerpt=_excerpt(frame)
        )


def parse_client_event(frame: str | bytes | dict[str, Any]) -> ClientEvent | ProtocolErrorEvent:
    """Parse one client frame (server side). Unknown types give :class:`UnknownClientEvent`.

    Unreadable frames give a :class:`ProtocolErrorEvent`; never raises. The event is typed as
    is: check it with :func:`rtsdk.protocol.schema.unknown_client_keys` /
    :func:`~rtsdk.protocol.schema.client_event_problems` before acting on it.
    """
    if isinstance(frame, dict):
        kind = frame.get("type")
        if not isinstance(kind, str):
            return ProtocolErrorEvent(description="event type is missing or not a string")
        data = frame
    else:
        decoded = decode_frame(frame)
        if isinstance(decoded, ProtocolErrorEvent):
            return decoded
        data = decoded
        kind = data["type"]
    cls = CLIENT_EVENT_TYPES.get(kind)
    if cls is None:
        eid = data.get("event_id")
        eid = eid if isinstance(eid, str) else None
        return UnknownClientEvent(type=kind, event_id=eid, raw=data)
    event: ClientEvent = cls.from_dict(data)
    return event


def encode_event(event: ClientEvent | ServerEvent | dict[str, Any]) -> str:
    """Compact JSON text for one event. NaN/inf raise ``ValueError`` (they are not JSON)."""
    data = event if isinstance(event, dict) else event.to_dict()
    return _encode(data)

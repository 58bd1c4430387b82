"""Sans-I/O core of the Realtime protocol: text in, typed events out; intents in, frames out.

Imports no asyncio, websockets, sounddevice or threading. The client layer and the local test
server (``rtsdk.testing``) both drive it.

Parsing (:mod:`.codec`, :mod:`.events`)
    ``parse_server_event(frame: str | bytes) -> ServerEvent``
        Never raises. GA types give their class (``SERVER_EVENT_TYPES[type]``); beta names
        (``response.audio.*``, ``response.audio_transcript.*``, ``response.text.*``,
        ``conversation.item.created`` -> ``conversation.item.added``,
        ``transcription_session.*`` -> ``session.*``) and the flat beta session shape are
        normalised to GA; unknown types give ``UnknownServerEvent`` (``.raw`` = the dict);
        bad JSON / a missing or non-string ``type`` give ``ProtocolErrorEvent``
        (``.description``, ``.excerpt`` = at most 80 characters of the frame).
    ``parse_client_event(frame: str | bytes | dict) -> ClientEvent | ProtocolErrorEvent``
        For the server side; unknown types give ``UnknownClientEvent``.
    ``encode_event(event | dict) -> str``
        Compact JSON (``allow_nan=False``: NaN/inf raise ``ValueError``). Works for client and
        server events alike, so the local server may build typed server events
        (e.g. ``ResponseDoneEvent(event_id=..., response={...})``) and encode them.
    Every event is a slotted dataclass with typed fields (nested objects stay dicts), an
    ``extra`` dict with every key it did not know (kept, never an error), ``to_dict()`` and the
    class attribute ``TYPE``. ``SERVER_EVENT_TYPES`` / ``CLIENT_EVENT_TYPES``: type -> class.

Checking client events (:mod:`.schema`, for the server side)
    ``unknown_client_keys(event: dict) -> list[str]``: dotted paths (``session.audio.input.x``,
    ``item.content[0].foo``) of keys the live server rejects (``unknown_parameter``).
    ``client_event_problems(event: dict) -> list[Problem]``: unknown keys, missing required
    keys and value errors the reference states, each ``Problem(code, param, message)`` with
    ``code`` one of ``unknown_parameter``, ``missing_required_parameter``, ``invalid_value``.

Building client events (:mod:`.session`, :mod:`.builders`)
    ``SessionSettings(...)`` validated at construction (``ConfigurationError`` naming the
    field); ``.to_session()`` -> GA nested session dict. ``EventIds`` makes ``evt_rtsdk_<n>``.
    Builders return dicts ready for ``encode_event``; see :mod:`.builders`.

State (:mod:`.state`, :mod:`.errors`)
    ``ClientSessionState``: driven by parsed server events and the app's intents, returns the
    frames (dicts) to send. ``classify_error(error_dict) -> ErrorKind``.
"""

from __future__ import annotations

from .codec import (
    BETA_SERVER_TYPE_ALIASES,
    decode_frame,
    encode_event,
    parse_client_event,
    parse_server_event,
    server_event_from_dict,
)
from .errors import ErrorKind, classify_error
from .events import (
    CLIENT_EVENT_TYPES,
    SERVER_EVENT_TYPES,
    ClientEvent,
    ProtocolErrorEvent,
    ServerEvent,
    UnknownClientEvent,
    UnknownServerEvent,
)
from .session import SessionSettings, bytes_per_ms, format_object, normalize_session

__all__ = [
    "BETA_SERVER_TYPE_ALIASES",
    "CLIENT_EVENT_TYPES",
    "SERVER_EVENT_TYPES",
    "ClientEvent",
    "ErrorKind",
    "ProtocolErrorEvent",
    "ServerEvent",
    "SessionSettings",
    "UnknownClientEvent",
    "UnknownServerEvent",
    "bytes_per_ms",
    "classify_error",
    "decode_frame",
    "encode_event",
    "format_object",
    "normalize_session",
    "parse_client_event",
    "parse_server_event",
    "server_event_from_dict",
]

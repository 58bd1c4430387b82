"""Sans-I/O core of the Realtime protocol: text in, typed events out; intents in, frames out.

Imports no asyncio, websockets, sounddevice or threading. The client layer and the local test
server (``rtsdk.testing``) both drive it.

Parsing (:mod:`.codec`, :mod:`.events`)
    ``parse_server_event(frame: str | bytes) -> ServerEvent``
        Never raises. GA types give their class (``SERVER_EVENT_TYPES[type]``); beta names
        (``response.audio.*``, ``response.audio_transcript.*``, ``response.text.*``,
        ``conversation.item.created`` -> ``conversation.item.added``,
        ``transcription_session.*`` -> ``session.*``), the flat beta session shape and beta
        assistant content parts (``text``/``audio`` in items) are normalised to GA; unknown
        types give ``UnknownServerEvent`` (``.raw`` = the dict);
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

Building client events (:mod:`.session`, :mod:`.builders`; every result is a dict that passes
:func:`client_event_problems`, else ``ConfigurationError`` naming the parameter)
    ``SessionSettings(instructions=, voice=, output_modality="audio"|"text",
    input_format=/output_format="pcm16"|"g711_ulaw"|"g711_alaw",
    turn_detection="server_vad"|"semantic_vad"|"none", threshold=, prefix_padding_ms=,
    silence_duration_ms=, idle_timeout_ms=, eagerness=, create_response=, interrupt_response=,
    transcription_model=, transcription_language=, transcription_prompt=, noise_reduction=,
    tools=, tool_choice=, max_output_tokens=, speed=, model=)``: validated at construction;
    ``.to_session()`` -> the GA nested session dict.
    Control events get ``event_id`` ``evt_rtsdk_<n>`` unless ``event_id=`` is passed:
    ``session_update(settings | session_dict)``, ``input_audio_buffer_append(audio_b64)`` (no
    event_id by default), ``input_audio_buffer_commit()``, ``input_audio_buffer_clear()``,
    ``conversation_item_create(item, previous_item_id=None)`` with items from
    ``user_text_item(text)``, ``user_audio_item(audio_b64, transcript=None)``,
    ``system_message_item(text)``, ``assistant_text_item(text)``,
    ``function_call_item(call_id, name, arguments)``, ``function_call_output_item(call_id,
    output)`` (all take ``item_id=None``); ``conversation_item_truncate(item_id, audio_end_ms)``,
    ``conversation_item_delete(item_id)``, ``conversation_item_retrieve(item_id)``,
    ``response_create(voice=, output_format=, output_modality=, input=, **GA response keys)``,
    ``response_cancel(response_id=None)``. ``EventIds(prefix)`` is the id counter.
    ``user_image_item(data_url, detail=None, text=None)`` (an ``input_image`` part),
    ``mcp_approval_response_item(approval_request_id, approve, reason=None)`` (always with an
    ``id``). ``TranscriptionSettings(model=, language=, prompt=, noise_reduction=,
    turn_detection=, threshold=, prefix_padding_ms=, silence_duration_ms=, eagerness=,
    include_logprobs=, input_format=)`` (:mod:`.transcription`): a transcription session;
    ``session_update`` takes it too.

State (:mod:`.state`, :mod:`.errors`)
    ``ClientSessionState(settings)``, pure (no I/O, clocks or threads):
    ``on_connect(replay=False) -> list[dict]`` (``session.update`` first, then the replay and
    any queued ``response.create``), ``update_settings(settings) -> list[dict]``,
    ``handle(event) -> Actions(send, stop_playback, function_calls, error)``,
    ``request_response(**overrides) -> list[dict]`` (``[]`` when queued behind the active
    response), ``cancel_response(drop_queued=False)``, ``submit_function_output(call_id,
    output) -> list[dict]``, ``pending_function_calls``, ``audio_received(item_id, nbytes,
    response_id) -> bool`` (False: drop, barged-in), ``audio_played(item_id, samples)``,
    ``played_ms(item_id)``, ``barge_in(cancel=None) -> list[dict]``, ``replay_frames()``,
    ``items`` / ``order`` (the conversation as the server reported it), ``response_active``.
    ``classify_error(error_dict) -> ErrorKind`` (BENIGN, AUTH, RECONNECT, REPORT).

Beta endpoints (:mod:`.beta`)
    ``to_beta_client_event(event_dict) -> dict``: a GA client event in the beta shape (flat
    session, beta response options, beta assistant content types) for Azure's preview path.
"""

from __future__ import annotations

from .beta import to_beta_client_event, to_beta_session
from .builders import (
    EventIds,
    assistant_text_item,
    conversation_item_create,
    conversation_item_delete,
    conversation_item_retrieve,
    conversation_item_truncate,
    function_call_item,
    function_call_output_item,
    input_audio_buffer_append,
    input_audio_buffer_clear,
    input_audio_buffer_commit,
    mcp_approval_response_item,
    response_cancel,
    response_create,
    session_update,
    system_message_item,
    user_audio_item,
    user_image_item,
    user_text_item,
)
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
from .schema import Problem, client_event_problems, unknown_client_keys
from .session import SessionSettings, bytes_per_ms, format_object, normalize_session
from .state import Actions, ClientSessionState, FunctionCall
from .transcription import TranscriptionSettings

__all__ = [
    "BETA_SERVER_TYPE_ALIASES",
    "CLIENT_EVENT_TYPES",
    "SERVER_EVENT_TYPES",
    "Actions",
    "ClientEvent",
    "ClientSessionState",
    "ErrorKind",
    "EventIds",
    "FunctionCall",
    "Problem",
    "ProtocolErrorEvent",
    "ServerEvent",
    "SessionSettings",
    "TranscriptionSettings",
    "UnknownClientEvent",
    "UnknownServerEvent",
    "assistant_text_item",
    "bytes_per_ms",
    "classify_error",
    "client_event_problems",
    "conversation_item_create",
    "conversation_item_delete",
    "conversation_item_retrieve",
    "conversation_item_truncate",
    "decode_frame",
    "encode_event",
    "format_object",
    "function_call_item",
    "function_call_output_item",
    "input_audio_buffer_append",
    "input_audio_buffer_clear",
    "input_audio_buffer_commit",
    "mcp_approval_response_item",
    "normalize_session",
    "parse_client_event",
    "parse_server_event",
    "response_cancel",
    "response_create",
    "server_event_from_dict",
    "session_update",
    "system_message_item",
    "to_beta_client_event",
    "to_beta_session",
    "unknown_client_keys",
    "user_audio_item",
    "user_image_item",
    "user_text_item",
]

"""Every error a GPT-Live session of the local server sends: :data:`LIVE_ERRORS`.

GPT-Live (``/v1/live/sessions``) words its schema errors as the Realtime service does
(``unknown_parameter`` naming the ``param``, ``missing_required_parameter``, ``invalid_type``,
``invalid_value``, ...), so those rows are the Realtime catalogue's own
(:data:`rtsdk.testing.ERRORS`), shared here by key. The rows below are the errors only a Live
session has. Each cites its source, or says "no public source" where nothing public shows the
service's error (then the code and words are this server's choice).

A Live error differs from a Realtime one in where the client's id goes: an entry that
"echoes the event id" puts the ``event_id`` of the client command at fault in
``error.client_event_id`` and the event's ``client_event_id`` (both left out when the command
had none); ``event_id`` is always the server event's own (the ``openai`` types,
``types/live/error_event.py``).
"""

from __future__ import annotations

from .catalogue import ERRORS
from .errors import OURS, ErrorEntry, listed

__all__ = ["LIVE_CLIENT_EVENTS", "LIVE_ERRORS", "LIVE_ONLY", "SHARED"]

#: The GPT-Live client commands of a primary WebSocket (``types/live/client_event.py``).
LIVE_CLIENT_EVENTS = (
    "session.start",
    "session.update",
    "session.input_audio.append",
    "session.input_audio.mute",
    "session.input_audio.unmute",
    "session.output_audio.fixture.play",
    "session.instructions.append",
    "session.thinking.append",
    "session.commentary.append",
    "decision.create",
    "decision.item.create",
    "decision.item.delete",
    "response.item.create",
    "response.create",
    "session.close",
)

_TYPES = "the openai 3.57 package, types/live/"
_GUIDES = "OpenAI's live-conversations and live-delegation guides "

#: The keys of the Realtime catalogue a GPT-Live session sends as they are.
SHARED = (
    "invalid_json",
    "binary_frame",
    "event_not_object",
    "unknown_parameter",
    "missing_required_parameter",
    "invalid_type",
    "invalid_enum_value",
    "invalid_value",
    "integer_below_min_value",
    "auth_error_event",
)

#: The errors only a GPT-Live session sends, in table order.
LIVE_ONLY: tuple[ErrorEntry, ...] = (
    ErrorEntry(
        key="live_injected_server_error",
        trigger="Faults(garbage='error_event') on a GPT-Live connection: an injected server fault",
        client_event=None,
        type="server_error",
        code="server_error",
        message="The server had an error while processing your request. Sorry about that!",
        echoes_event_id=False,
        evidence="partly seen",
        source="the Realtime entry injected_server_error; GPT-Live's error.code is a string "
        f"({_TYPES}error.py), so the code repeats the type",
    ),
    ErrorEntry(
        key="live_not_started",
        trigger="a client event other than session.start before session.started (audio "
        "appends included)",
        client_event="(any but session.start)",
        code="session_not_started",
        message="The session has not started: send session.start before '{event_type}'.",
        evidence="not seen",
        source=OURS + f"{_TYPES}session_start_event.py says to send session.start first and "
        "wait for session.started; the service's answer to an earlier command is not public",
    ),
    ErrorEntry(
        key="live_already_started",
        trigger="a second session.start",
        client_event="session.start",
        code="session_already_started",
        message="The session has already started; session.start is accepted once.",
        evidence="not seen",
        source=OURS + "session.start opens a session once; the service's answer to another is "
        "not public",
    ),
    ErrorEntry(
        key="live_unknown_event_type",
        trigger="an event whose type is not a GPT-Live client command",
        client_event="(any unknown type)",
        code="invalid_value",
        param="type",
        message="Invalid value: {value}. Supported values are: " + listed(LIVE_CLIENT_EVENTS) + ".",
        evidence="partly seen",
        source="the Realtime service's words for an unknown event type (see unknown_event_type "
        "of the Realtime catalogue), with the GPT-Live commands of types/live/client_event.py",
    ),
    ErrorEntry(
        key="live_model_not_found",
        trigger="session.start whose session.model is not gpt-live-1 or gpt-live-1.1",
        client_event="session.start",
        code="model_not_found",
        param="session.model",
        message="The model '{model}' does not exist or you do not have access to it.",
        evidence="partly seen",
        source="the service's words for a model it does not serve in its other APIs; the Live "
        f"models are those of {_TYPES}session_config.py",
    ),
    ErrorEntry(
        key="live_too_many_items",
        trigger="session.start with more than 128 session.input messages",
        client_event="session.start",
        code="array_above_max_length",
        param="session.input",
        message="Invalid 'session.input': array too long. Expected an array with maximum length "
        "128, but got an array with length {length} instead.",
        evidence="partly seen",
        source=f"the limit is {_TYPES}session_config.py's; the words are the service's for an "
        "array over its length in its other APIs",
    ),
    ErrorEntry(
        key="live_immutable",
        trigger="session.update naming a field fixed at startup (model, instructions, audio, "
        "input, store, safety_identifier, client), or changing session.delegation.type",
        client_event="session.update",
        code="immutable_field_update",
        param="{param}",
        message="Cannot update '{param}': it is fixed once the session has started.",
        evidence="partly seen",
        source=_GUIDES + "(code immutable_field_update, param session.delegation.type for a "
        "delegation type change); the message is this server's",
    ),
    ErrorEntry(
        key="live_audio_bad_base64",
        trigger="session.input_audio.append whose audio is not base64",
        client_event="session.input_audio.append",
        code="invalid_value",
        param="audio",
        message="Invalid 'audio'. Expected base64-encoded audio bytes in the session format "
        "({format}) but got an invalid value.",
        evidence="partly seen",
        source="the Realtime service's words for the same fault (append_bad_base64), with the "
        "Live session's format",
    ),
    ErrorEntry(
        key="live_audio_empty",
        trigger="session.input_audio.append with empty audio",
        client_event="session.input_audio.append",
        code="invalid_value",
        param="audio",
        message="Invalid 'audio'. Expected base64-encoded audio bytes in the session format "
        "({format}) but got empty bytes.",
        evidence="partly seen",
        source="the Realtime service's words for the same fault (append_empty)",
    ),
    ErrorEntry(
        key="live_audio_odd_length",
        trigger="session.input_audio.append of PCM16 audio with an odd number of bytes",
        client_event="session.input_audio.append",
        code="invalid_value",
        param="audio",
        message="Invalid 'audio'. Expected whole PCM16 samples (an even number of bytes), but "
        "got {size} bytes.",
        evidence="not seen",
        source=OURS + "the voice-websockets guide asks for even PCM chunks; the service's "
        "answer to an odd one is not public",
    ),
    ErrorEntry(
        key="live_fixture_too_long",
        trigger="session.output_audio.fixture.play of more than 30 s (or not base64, or odd PCM16)",
        client_event="session.output_audio.fixture.play",
        code="invalid_value",
        param="audio",
        message="Invalid 'audio'. Expected at most 30 seconds of base64 PCM16 audio at 24 kHz "
        "(whole samples), but got {what}.",
        evidence="not seen",
        source=OURS + f"the limits are {_TYPES}output_audio_fixture_play_event.py's",
    ),
    ErrorEntry(
        key="live_fixture_active",
        trigger="a fixture or a context append (commentary, thinking, instructions) while a "
        "fixture plays",
        client_event="(fixture.play and the appends)",
        code="fixture_active",
        message="An audio fixture is playing; '{event_type}' is rejected until it has played.",
        evidence="not seen",
        source=OURS + f"{_TYPES}commentary_append_event.py and output_audio_fixture_play_event"
        ".py say these are rejected while a fixture is active; the error is not public",
    ),
    ErrorEntry(
        key="live_delegation_id_with_responses",
        trigger="a context append with a non-null delegation_id under Responses delegation",
        client_event="session.commentary.append (thinking, instructions)",
        code="invalid_value",
        param="delegation_id",
        message="Invalid value for 'delegation_id': non-null delegation IDs are not accepted "
        "with Responses delegation.",
        evidence="not seen",
        source=OURS + f"the rule is {_TYPES}commentary_append_event.py's; the error is not public",
    ),
    ErrorEntry(
        key="live_unknown_delegation",
        trigger="a context append whose delegation_id names no delegation of the session",
        client_event="session.commentary.append (thinking, instructions)",
        code="invalid_value",
        param="delegation_id",
        message="Invalid value for 'delegation_id': no delegation '{delegation_id}' exists in "
        "this session.",
        evidence="not seen",
        source=OURS + "an id must come from session.delegation.created",
    ),
    ErrorEntry(
        key="live_requires_responses",
        trigger="response.item.create or response.create when the delegation is not Responses",
        client_event="response.item.create, response.create",
        code="invalid_request",
        message="'{event_type}' requires Responses delegation (session.delegation.type "
        "'responses').",
        evidence="not seen",
        source=OURS + f"{_TYPES}response_item_create_event.py: 'Requires Responses delegation'",
    ),
    ErrorEntry(
        key="live_unknown_call",
        trigger="response.item.create of a function_call_output whose call_id the backend "
        "never called",
        client_event="response.item.create",
        code="invalid_value",
        param="item.call_id",
        message="No tool call found for function call output with call_id {call_id}.",
        evidence="partly seen",
        source="the Responses API's words for an output of no call (quoted by many of its "
        "clients); the code here is this server's",
    ),
    ErrorEntry(
        key="live_decisions_unsupported",
        trigger="decision.create, decision.item.create or decision.item.delete",
        client_event="decision.*",
        code="unsupported_event",
        message="'{event_type}' is not supported by the local server (it has no Decisions "
        "backend).",
        evidence="not seen",
        source=OURS + "this server does not run Decisions",
        differs="the service runs Decisions questions and answers with decision.event",
    ),
)

#: Every error of a GPT-Live session, by key: the shared Realtime rows, then the Live rows.
LIVE_ERRORS: dict[str, ErrorEntry] = {key: ERRORS[key] for key in SHARED} | {
    e.key: e for e in LIVE_ONLY
}

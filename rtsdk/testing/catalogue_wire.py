"""The catalogue's errors of the connection: the session's end, refused keys, injected
faults, refused upgrades (HTTP status and JSON body), and failures carried by other events
than ``error`` (a failed ``response.done``, a failed input transcription).

Rows of :data:`rtsdk.testing.catalogue.ERRORS` (see there); each cites its source.
"""

from __future__ import annotations

from .errors import OURS, PROBE, ErrorEntry

__all__ = ["WIRE_ERRORS"]

WIRE_ERRORS: tuple[ErrorEntry, ...] = (
    # -- the connection -------------------------------------------------------------------------
    ErrorEntry(
        key="session_expired",
        trigger="the session reaches its length cap (Faults.session_max_seconds; 60 minutes at "
        "the service)",
        client_event=None,
        code="session_expired",
        message="Your session hit the maximum duration of {duration}.",
        echoes_event_id=False,
        closes=(1000, "session expired"),
        evidence="seen",
        source="livekit/agents#1122 (the whole error event, 15 minutes); the 60-minute message "
        "is quoted by many clients; the close code that follows is not public (1000 here)",
    ),
    ErrorEntry(
        key="auth_error_event",
        trigger="a refused key with Faults(refuse_auth='error_event'): the upgrade succeeds, "
        "then this error and a close",
        client_event=None,
        code="invalid_api_key",
        message="Incorrect API key provided. You can find your API key at "
        "https://platform.openai.com/account/api-keys.",
        echoes_event_id=False,
        closes=(1008, "invalid api key"),
        evidence="seen",
        source=f"{PROBE}, probe 10 (error event at the upgrade, then close 3000 "
        "'invalid_request_error.invalid_api_key')",
        differs="the service masks part of the key after 'provided:' (this server never "
        "echoes a key), and closes with 3000 'invalid_request_error.invalid_api_key' (this "
        "server with 1008, which rtsdk's client treats as fatal; 3000 is not in its "
        "FATAL_CLOSE_CODES)",
    ),
    ErrorEntry(
        key="injected_server_error",
        trigger="Faults(garbage='error_event'): an injected server fault",
        client_event=None,
        type="server_error",
        code=None,
        message="The server had an error while processing your request. Sorry about that!",
        echoes_event_id=False,
        evidence="partly seen",
        source="the API reference (type server_error); the message is the service's for a "
        "server error in its other APIs",
    ),
    # -- refused upgrades (HTTP status and JSON body) -------------------------------------------
    ErrorEntry(
        key="http_not_found",
        trigger="an upgrade on another path than /v1/realtime, /openai/v1/realtime, "
        "/openai/realtime, GPT-Live's /v1/live/sessions and /openai/v1/live/sessions and the "
        "translation paths /v1/realtime/translations and /openai/v1/realtime/translations",
        client_event=None,
        code=None,
        message="Invalid URL (GET {path})",
        echoes_event_id=False,
        carrier="http",
        status=404,
        evidence="seen",
        source="the service's answer to an unknown path, quoted in many proxy set-up guides "
        "(code null, param null)",
    ),
    ErrorEntry(
        key="http_missing_model",
        trigger="an upgrade on /v1/realtime or /openai/v1/realtime without ?model= (nor "
        "?intent=transcription)",
        client_event=None,
        code="missing_model",
        message="You must provide a model parameter, for example "
        "wss://api.openai.com/v1/realtime?model=gpt-realtime-1.5",
        echoes_event_id=False,
        carrier="http",
        status=400,
        evidence="seen",
        source=f"{PROBE}, probe 11b",
        differs="the service accepts the upgrade, sends this as an error event and closes with "
        "4000 'invalid_request_error.missing_model'; this server refuses the upgrade (HTTP 400) "
        "with the same error object",
    ),
    ErrorEntry(
        key="http_missing_deployment",
        trigger="an upgrade on Azure's /openai/realtime without ?deployment=",
        client_event=None,
        code="missing_required_parameter",
        message="Missing required query parameter: 'deployment'.",
        echoes_event_id=False,
        carrier="http",
        status=400,
        evidence="not seen",
        source=OURS + "Azure's answer is not public; worded as missing_required_parameter",
    ),
    ErrorEntry(
        key="http_missing_api_version",
        trigger="an upgrade on Azure's /openai/realtime without ?api-version=",
        client_event=None,
        code="missing_required_parameter",
        message="Missing required query parameter: 'api-version'.",
        echoes_event_id=False,
        carrier="http",
        status=400,
        evidence="not seen",
        source=OURS + "Azure's answer is not public; worded as missing_required_parameter",
    ),
    ErrorEntry(
        key="http_bad_intent",
        trigger="an upgrade with an ?intent= other than 'transcription' (or on Azure's "
        "preview path)",
        client_event=None,
        code="invalid_value",
        message="Invalid value for query parameter 'intent': {intent} (this server knows "
        "'transcription', on the GA paths).",
        echoes_event_id=False,
        carrier="http",
        status=400,
        evidence="not seen",
        source=OURS + "closest documented behaviour: ?intent=transcription is the only intent "
        "of the API reference",
    ),
    ErrorEntry(
        key="http_model_with_intent",
        trigger="an upgrade with both ?intent=transcription and ?model=",
        client_event=None,
        code="invalid_value",
        message="You must not provide a model parameter for transcription sessions.",
        echoes_event_id=False,
        carrier="http",
        status=400,
        evidence="partly seen",
        source="the message is quoted by public clients (public code index); the code is not shown",
    ),
    ErrorEntry(
        key="http_invalid_api_key",
        trigger="an upgrade with a wrong key (Authorization: Bearer or api-key), or any upgrade "
        "with Faults(refuse_auth='http')",
        client_event=None,
        code="invalid_api_key",
        message="Incorrect API key provided. You can find your API key at "
        "https://platform.openai.com/account/api-keys.",
        echoes_event_id=False,
        carrier="http",
        status=401,
        evidence="seen",
        source=f"{PROBE}, probe 10",
        differs="the service accepts the upgrade, sends this as an error event (with part of "
        "the key masked after 'provided:') and closes with 3000; this server refuses the "
        "upgrade (HTTP 401) and never echoes a key (auth_error_event is the service's way)",
    ),
    ErrorEntry(
        key="http_missing_api_key",
        trigger="an upgrade with no key at all (a server made with api_key)",
        client_event=None,
        code=None,
        message="Missing bearer or basic authentication in header",
        echoes_event_id=False,
        carrier="http",
        status=401,
        evidence="seen",
        source=f"{PROBE}, probe 10b (code null); the same words in the HTTP 401 of the "
        "service's other endpoints",
        differs="the service accepts the upgrade, sends this as an error event and closes with "
        "3000 'invalid_request_error'; this server refuses the upgrade (HTTP 401)",
    ),
    # -- failures carried by other events -------------------------------------------------------
    ErrorEntry(
        key="response_model_not_found",
        trigger="any response of a session whose model is past its shutdown date (by the "
        "server's today)",
        client_event="response.create",
        code="model_not_found",
        message="The model `{model}` does not exist or you do not have access to it.",
        echoes_event_id=False,
        carrier="response.done",
        has_param=False,
        evidence="seen",
        source="openai/openai-realtime-console#561 and openai/openai-realtime-agents#28 "
        "(response.done, status failed, status_details.error without param)",
    ),
    ErrorEntry(
        key="transcription_failed",
        trigger="input transcription of a turn made to fail "
        "(LocalRealtimeServer.fail_next_transcriptions)",
        client_event=None,
        type="server_error",
        code=None,
        message="Input transcription failed for item '{item_id}'.",
        echoes_event_id=False,
        carrier="conversation.item.input_audio_transcription.failed",
        evidence="seen",
        source="openai/openai-realtime-console#46 and openai/openai-agents-js#297 (the whole "
        "event)",
    ),
    ErrorEntry(
        key="transcription_model_not_found",
        trigger="input transcription with a transcription model past its shutdown date",
        client_event=None,
        code="model_not_found",
        message="The model `{model}` does not exist or you do not have access to it.",
        echoes_event_id=False,
        carrier="conversation.item.input_audio_transcription.failed",
        evidence="partly seen",
        source="the words of response_model_not_found (seen) in the shape of "
        "transcription_failed (seen); no capture shows this combination",
    ),
)

"""Every error of the local server's SIP side (:mod:`.sip`): :data:`SIP_ERRORS`.

The call-control REST answers an error as the service's REST API does: an HTTP status and the
JSON body ``{"error": {"message", "type", "param", "code"}}``. A body that breaks the
request's schema (an unknown key, a missing one, a wrong type or value) gets HTTP 400 with the
Realtime catalogue's schema rows (:data:`SHARED`: ``unknown_parameter`` naming the ``param``,
...); the rows below are the errors only the SIP side has, REST answers, refused sideband
upgrades and the errors a GPT-Live sideband gets. Each cites its source or says "no public
source" (then the code and words are this server's choice).
"""

from __future__ import annotations

from .catalogue import ERRORS
from .errors import OURS, ErrorEntry, listed

__all__ = ["SHARED", "SIDEBAND_CLIENT_EVENTS", "SIP_ERRORS", "SIP_ONLY", "call_failure"]

#: The commands a GPT-Live sideband may send (``types/live/connect_client_event.py``).
SIDEBAND_CLIENT_EVENTS = (
    "session.update",
    "session.input_audio.mute",
    "session.input_audio.unmute",
    "session.output_audio.fixture.play",
    "transport.dtmf.send",
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

_GUIDE = "OpenAI's voice-sip guide (?api=live) as summarised in ../shared/gpt-live.md section 4"
_TYPES = "the openai 3.57 package, "

#: The Realtime catalogue's schema rows, sent as the body of an HTTP 400 by the SIP REST.
SHARED = (
    "unknown_parameter",
    "missing_required_parameter",
    "invalid_type",
    "invalid_enum_value",
    "invalid_value",
    "integer_below_min_value",
    "integer_above_max_value",
    "decimal_below_min_value",
    "decimal_above_max_value",
    "unsupported_parameter",
)

#: The errors only the SIP side sends, in table order.
SIP_ONLY: tuple[ErrorEntry, ...] = (
    ErrorEntry(
        key="sip_call_not_found",
        trigger="a call-control request (accept, reject, refer, hangup; either API) for an id "
        "the server never gave, for a call whose caller hung up before it was answered, or "
        "(refer, hangup) for a call that is over",
        client_event=None,
        code=None,
        message="No call found with id '{call_id}'.",
        echoes_event_id=False,
        carrier="http",
        status=404,
        evidence="partly seen",
        source="the issue and the voice-sip guide: an accept after the caller hung up is "
        "answered 404; the words and the null code are this server's (the service's 404 body "
        "for a call is not public)",
    ),
    ErrorEntry(
        key="sip_decision_already_made",
        trigger="an accept or reject (either API) of a call already accepted or rejected "
        "(the first decision wins), or of an outbound call (the app placed it)",
        client_event=None,
        code="decision_already_made",
        message="A decision has already been made for call '{call_id}' (it was {decision}).",
        echoes_event_id=False,
        carrier="http",
        status=409,
        evidence="partly seen",
        source=_GUIDE + " (code decision_already_made for accept and reject); the status and "
        "the words are this server's",
    ),
    ErrorEntry(
        key="sip_call_not_active",
        trigger="a refer or hangup of an inbound call that rings (not accepted yet), or a "
        "refer of an outbound call not answered yet (hanging one up cancels it)",
        client_event=None,
        code="call_not_active",
        message="Call '{call_id}' has not been accepted; '{action}' needs an answered call.",
        echoes_event_id=False,
        carrier="http",
        status=409,
        evidence="not seen",
        source=OURS + "SIP REFER needs an established dialog, and the guides describe refer "
        "and hangup on an active call; decline a ringing call with reject",
    ),
    ErrorEntry(
        key="sip_model_not_found",
        trigger="a GPT-Live accept (or outbound create) whose session.model is not gpt-live-1 "
        "or gpt-live-1.1",
        client_event=None,
        code="model_not_found",
        message="The model '{model}' does not exist or you do not have access to it.",
        echoes_event_id=False,
        carrier="http",
        status=400,
        evidence="partly seen",
        source="the service's words for a model it does not serve; the Live models are those "
        "of types/live/session_accept_params.py",
        differs="the service's REST answers model_not_found with 404 in its other APIs; this "
        "server answers 400, so that 404 keeps meaning 'no such call'",
    ),
    ErrorEntry(
        key="sip_invalid_json",
        trigger="a call-control or outbound request whose body is not a JSON object",
        client_event=None,
        code=None,
        message="We could not parse the JSON body of your request. (HINT: This likely means "
        "you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, "
        "but what was sent was not valid JSON.)",
        echoes_event_id=False,
        carrier="http",
        status=400,
        evidence="seen",
        source="the service's REST answer to a body that is not JSON, quoted by many of its "
        "clients (the sentence about the help center left out)",
    ),
    ErrorEntry(
        key="sip_body_too_large",
        trigger="a request body over 4 MiB",
        client_event=None,
        code=None,
        message="The request body is too large ({size} bytes at most).",
        echoes_event_id=False,
        carrier="http",
        status=413,
        evidence="not seen",
        source=OURS + "the service's limit and words are not public",
    ),
    ErrorEntry(
        key="sip_http_not_found",
        trigger="a plain HTTP request to a path and method the server does not serve",
        client_event=None,
        code=None,
        message="Invalid URL ({method} {path})",
        echoes_event_id=False,
        carrier="http",
        status=404,
        evidence="seen",
        source="the service's answer to an unknown path (see http_not_found)",
    ),
    ErrorEntry(
        key="sip_outbound_not_enabled",
        trigger="POST /v1/live/sessions with a SIP transport on a server made with "
        "SipOptions(outbound_enabled=False)",
        client_event=None,
        code="outbound_sip_not_enabled",
        type="permission_error",
        message="Outbound SIP calling is not enabled for this organization.",
        echoes_event_id=False,
        carrier="http",
        status=403,
        evidence="partly seen",
        source=_GUIDE + " (outbound_sip_not_enabled, 403); the words and type are this server's",
    ),
    ErrorEntry(
        key="sip_setup_failed",
        trigger="POST /v1/live/sessions with a SIP transport after "
        "server.sip.fail_next_outbound(502)",
        client_event=None,
        code="sip_setup_failed",
        type="server_error",
        message="The SIP call could not be set up with the provider.",
        echoes_event_id=False,
        carrier="http",
        status=502,
        evidence="partly seen",
        source=_GUIDE + " (SIP setup failures answer 502 or 504); code and words are this server's",
    ),
    ErrorEntry(
        key="sip_setup_timeout",
        trigger="POST /v1/live/sessions with a SIP transport after "
        "server.sip.fail_next_outbound(504)",
        client_event=None,
        code="sip_setup_timeout",
        type="server_error",
        message="The SIP provider did not answer in time.",
        echoes_event_id=False,
        carrier="http",
        status=504,
        evidence="partly seen",
        source=_GUIDE + " (SIP setup failures answer 502 or 504); code and words are this server's",
    ),
    ErrorEntry(
        key="sip_hook_refused",
        trigger="a test hook (/rtsdk/sip/...) whose request cannot be carried out (a WAV that "
        "cannot be read, keys on a call not answered, an outbound command on an inbound call)",
        client_event=None,
        code="invalid_request",
        message="{detail}",
        echoes_event_id=False,
        carrier="http",
        status=400,
        evidence="not seen",
        source=OURS + "the test hooks are this server's own",
    ),
    ErrorEntry(
        key="sip_sideband_not_found",
        trigger="a sideband upgrade (Realtime ?call_id=, GPT-Live /attach) for an unknown id "
        "or a call that is not (or no longer) accepted",
        client_event=None,
        code=None,
        message="No active session found with id '{call_id}'.",
        echoes_event_id=False,
        carrier="http",
        status=404,
        evidence="not seen",
        source=OURS + "the service's answer to a sideband for no session is not public",
    ),
    ErrorEntry(
        key="sip_sideband_bad_query",
        trigger="a GPT-Live sideband upgrade whose graceful_close is not true or false",
        client_event=None,
        code="invalid_value",
        message="Invalid value for query parameter 'graceful_close': {value} (expected true or "
        "false).",
        echoes_event_id=False,
        carrier="http",
        status=400,
        evidence="not seen",
        source=OURS + f"{_TYPES}types/live/sideband_connect_params.py types it as a boolean",
    ),
    ErrorEntry(
        key="sip_sideband_unknown_event_type",
        trigger="on a GPT-Live sideband, a command it may not send (session.start, "
        "session.input_audio.append) or an unknown type",
        client_event="(session.start, session.input_audio.append, any unknown type)",
        code="invalid_value",
        param="type",
        message="Invalid value: {value}. Supported values are: "
        + listed(SIDEBAND_CLIENT_EVENTS)
        + ".",
        evidence="partly seen",
        source="the Realtime service's words for an unknown event type, with the sideband "
        f"commands of {_TYPES}types/live/connect_client_event.py (a sideband never sends "
        "session.start, and SIP carries the audio)",
    ),
    ErrorEntry(
        key="sip_dtmf_invalid",
        trigger="transport.dtmf.send whose event is not one key of 0-9, A-D, * or #",
        client_event="transport.dtmf.send",
        code="invalid_value",
        param="event",
        message="Invalid value: {value}. Supported values are: one of 0-9, A-D, '*' and '#'.",
        evidence="not seen",
        source=OURS + f"{_TYPES}types/live/connect_client_event.py: one keypress per event",
    ),
)

#: Every SIP error, by key: the shared schema rows, then the SIP rows.
SIP_ERRORS: dict[str, ErrorEntry] = {key: ERRORS[key] for key in SHARED} | {
    e.key: e for e in SIP_ONLY
}


def call_failure(code: str, message: str) -> dict[str, str]:
    """The ``error`` of a ``transport.failed`` (an outbound call that never connected): the
    code and words the test gave (``SimulatedCall.fail``), type ``call_error``
    (``types/live/connect_server_event.py``, ``TransportFailedError``)."""
    return {"code": code, "message": message, "type": "call_error"}

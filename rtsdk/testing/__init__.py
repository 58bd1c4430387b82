"""A local Realtime, GPT-Live and Realtime translation server for tests, demos and offline
development.

:class:`LocalRealtimeServer` is a real ``websockets`` server (127.0.0.1 by default) that speaks
the GA Realtime protocol of OpenAI (and the Azure paths), driven by rtsdk's protocol core from
the server side, and GPT-Live and Realtime translation on the same port. It is plainly not a
model: its assistant is an echo, its translator plays the speech back. ``base_url`` is
``ws://HOST:PORT/v1`` (clients add ``/realtime``, ``/live/sessions`` or
``/realtime/translations``); ``url``, ``live_url`` and ``translation_url`` are the endpoints.

Connecting
    ``/v1/realtime?model=M`` (OpenAI), ``/openai/v1/realtime?model=DEPLOYMENT`` (Azure GA) and
    ``/openai/realtime?api-version=V&deployment=DEPLOYMENT`` (Azure preview, which speaks the
    beta event shapes, as does a client sending ``OpenAI-Beta: realtime=v1``; see :mod:`.beta`).
    With ``api_key`` set, the upgrade needs ``Authorization: Bearer <key>`` or
    ``api-key: <key>``; else HTTP 401 with a JSON body. Keys are never echoed, and the
    handshake log hides auth header values.

What the session does
    ``session.created`` first; ``session.update`` merged and answered with the whole
    ``session.updated``, or an ``invalid_request_error`` naming the ``param`` and carrying the
    client's ``event_id`` (unknown keys and bad values, by
    :func:`rtsdk.protocol.client_event_problems`). An energy VAD on the audio received
    (threshold, prefix padding, silence duration honoured; see :mod:`.vad`) gives
    ``speech_started`` / ``speech_stopped`` / ``committed`` and, with ``create_response``, a
    response; new speech cancels the active response (``turn_detected``) with
    ``interrupt_response``; ``idle_timeout_ms`` gives ``timeout_triggered``. ``semantic_vad``
    runs the same energy VAD with a silence that follows its eagerness. A turn that ends
    while a response is still active (``interrupt_response`` off) is committed without a
    new response. Manual turns (commit, ``response.create``), ``response.cancel``,
    ``conversation.item.create/truncate/delete/retrieve``, ``input_audio_buffer.clear``, one
    active response at a time (``conversation_already_has_active_response``), out-of-band
    responses (``conversation: "none"``) beside it, ``max_output_tokens`` (``incomplete``), and
    G.711 u-law/A-law in and out. Input transcription, when the session asks for it, is a
    description of the audio (see :mod:`.transcribe`). See :mod:`.echo` for what the
    assistant says and plays.

Models
    The server knows rtsdk's model catalogue (:mod:`rtsdk.models`). A reasoning model's
    session starts with ``reasoning: {"effort": "low"}``; ``reasoning`` and
    ``parallel_tool_calls`` (in ``session.update`` or ``response.create``) are refused with
    ``unsupported_parameter`` for a catalogue model that does not reason, and its responses
    report ``output_token_details.reasoning_tokens`` by effort. ``tracing`` cannot change
    once enabled. A model past its shutdown date (by the server's ``today``, the real UTC
    date by default; ``--today`` on the command line) still gets its session, but every
    response fails (``model_not_found``), as does input transcription with such a
    transcription model. A model the catalogue does not know is served as any other.

Transcription sessions
    ``?intent=transcription`` (no ``model``) opens a ``session.type`` "transcription" session:
    per VAD turn (or manual commit) ``speech_started`` / ``speech_stopped`` / ``committed``,
    the user item, then transcription deltas and ``completed`` (``segment`` events with
    ``gpt-4o-transcribe-diarize``; logprobs with ``include``). Response and conversation
    events (``response.create``, ``response.cancel``, ``conversation.item.create`` /
    ``truncate``) get an ``invalid_request_error``; a session update of the other type gets
    the service's ``invalid_parameter`` ("Passing a ... session update ... is not allowed.").

    Items still being generated: a truncate of one that has audio ends its response
    (``cancelled``, ``client_cancelled``) and then cuts it, as the real service does for a
    client interrupting without ``response.cancel``; before any audio it is refused. A delete
    ends the response first too; a retrieve gives the item as it stands (``in_progress``,
    audio and transcript so far) and leaves the response running.

Errors
    Every error the server sends (``error`` events, refused upgrades, failed responses and
    transcriptions) is a row of :data:`ERRORS` (:mod:`.catalogue`, ``docs/server-errors.md``):
    what causes it, its ``type`` / ``code`` / ``param`` / ``message``, whether its
    ``event_id`` is the client's, and the public source of each (or "no public source").
    The codes are the service's where public material shows them
    (``conversation_already_has_active_response``, ``input_audio_buffer_commit_empty``,
    ``unknown_parameter``, ``integer_below_min_value``, ``invalid_json``, ...); an entry that
    differs from the service says so (``ErrorEntry.differs``).

GPT-Live
    ``/v1/live/sessions`` (OpenAI) and ``/openai/v1/live/sessions`` (Azure), no query, the
    same key rules. ``session.start`` first, checked strictly (an unknown field anywhere gets
    ``unknown_parameter`` naming it, and no ``session.started``); then a full-duplex echo
    model on the session timeline (the input audio received): it answers after the user
    pauses (500 ms) by playing the utterance back, stops within ``barge_in_ms`` (50 ms) when
    the user speaks over it, speaks commentary (a greeting with ``delegation_id: null``),
    delegates when :meth:`LocalRealtimeServer.script_delegation` says so (client delegation:
    it waits for a commentary with that id; Responses delegation: ``response.event``
    wrappers, scripted function calls, the output spoken), plays fixtures, mutes, reports
    usage, closes and expires with ``session.closed``. Output audio leaves a real-time mixer
    (40 ms chunks, 80 ms ahead, late chunks skipped, never burst; :class:`LiveOptions`). See
    :mod:`.live`, :mod:`.live_session`, :mod:`.live_model`, :mod:`.live_mixer`,
    :mod:`.live_backend`; its errors are :data:`LIVE_ERRORS`. ``decision.*`` is refused: this
    server has no Decisions backend.

Realtime translation
    ``/v1/realtime/translations?model=gpt-realtime-translate`` (OpenAI) and
    ``/openai/v1/realtime/translations?model=DEPLOYMENT`` (Azure), the same key rules; a missing
    or non-translation model is refused at the upgrade. ``session.created`` first (the default
    config), ``session.update`` of the target language, source transcription and noise
    reduction (``model``, ``type``, format fields and unknown keys refused, naming the
    ``param``), appends of base64 24 kHz PCM16 mono only (bad base64, odd lengths and format
    fields refused; G.711 cannot be chosen), gathered into 200 ms engine frames. The translator
    (:mod:`.translator`) hears utterances with the energy VAD and plays each back as the
    "translation", frame by frame, ``lag_ms`` (400) behind its source, with target transcript
    deltas in the language's tag (``[fr] French ...``) and, when configured, source transcript
    deltas (``[source] speech 1.2 s``), all stamped with ``elapsed_ms`` (200 ms steps); output
    is paced in real time (:class:`TranslationOptions`, ``pacing="fast"`` for tests).
    ``session.close`` flushes the rest, then ``session.closed`` and close 1000. See
    :mod:`.translation`, :mod:`.translation_session`; its errors are :data:`TRANSLATION_ERRORS`.

SIP calls
    ``LocalRealtimeServer(sip=SipOptions(webhook_url=..., webhook_secret="whsec_..."))`` plays
    OpenAI's side of phone calls on the same port: :meth:`SipCalls.incoming_call` (``server.sip``)
    rings a :class:`SimulatedCall` and posts signed ``realtime.call.incoming`` and
    ``live.transport.incoming`` webhooks; the call-control REST of both APIs
    (``/v1/realtime/calls/{id}/…``, ``/v1/live/sessions/{id}/…``) answers as the service does;
    sidebands (``/v1/realtime?call_id=``, ``/v1/live/sessions/{id}/attach``) attach to the
    accepted call's session, whose audio comes from and goes to the simulated caller (a
    recording); GPT-Live outbound calls ring, answer and fail on command. See :mod:`.sip`; its
    errors are :data:`SIP_ERRORS`.

Tests
    Every frame each way is recorded on the :class:`ServerConnection`; ``wait_for_received`` /
    ``wait_for_sent`` / :meth:`LocalRealtimeServer.wait_for_connection` wait for them.
    :class:`Faults` (for the server or per connection) refuses auth, drops, closes, stalls,
    sends garbage or ends the session at a length cap; ``script_function_call`` makes turns
    call a tool (every matching script in the same response, ``count`` calls each, a spoken
    ``preamble`` before them), ``script_mcp_call`` a remote MCP tool (tool listing, approval
    round trip, call events; see :mod:`.mcp`). ``start_in_thread()`` runs it all for
    synchronous code. :class:`ImpairedLink` (:mod:`.impair`) sits between a client and the
    server and makes the network bad: delay, jitter, a bottleneck, one-way outages with the
    connection kept open, a reader that stops, resets.
"""

from __future__ import annotations

from .catalogue import ERRORS
from .catalogue_live import LIVE_ERRORS
from .catalogue_sip import SIP_ERRORS
from .catalogue_translation import TRANSLATION_ERRORS
from .connection import ServerConnection
from .errors import ErrorEntry
from .faults import Faults, FunctionCallScript
from .impair import ImpairedLink, Impairment
from .live import LIVE_MODELS, LIVE_PATHS, DelegationScript, LiveConnection, LiveOptions
from .mcp import McpCallScript
from .server import LocalRealtimeServer, ServerHandle
from .sip import SipCalls, SipOptions
from .sip_call import SimulatedCall
from .sip_sideband import SidebandConnection
from .sip_webhook import Delivery, new_webhook_secret, sign_webhook
from .translation import TRANSLATION_PATHS, TranslationConnection, TranslationOptions

__all__ = [
    "ERRORS",
    "LIVE_ERRORS",
    "LIVE_MODELS",
    "LIVE_PATHS",
    "SIP_ERRORS",
    "TRANSLATION_ERRORS",
    "TRANSLATION_PATHS",
    "DelegationScript",
    "Delivery",
    "ErrorEntry",
    "Faults",
    "FunctionCallScript",
    "ImpairedLink",
    "Impairment",
    "LiveConnection",
    "LiveOptions",
    "LocalRealtimeServer",
    "McpCallScript",
    "ServerConnection",
    "ServerHandle",
    "SidebandConnection",
    "SimulatedCall",
    "SipCalls",
    "SipOptions",
    "TranslationConnection",
    "TranslationOptions",
    "new_webhook_secret",
    "sign_webhook",
]

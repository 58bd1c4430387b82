"""RealtimeEventHandler has one no-op method per event type, named by the documented rule."""

from __future__ import annotations

import inspect

from rtsdk.client.handler import RealtimeEventHandler
from rtsdk.protocol import SERVER_EVENT_TYPES, ProtocolErrorEvent
from rtsdk.session.events import (
    ConnectedEvent,
    DisconnectedEvent,
    HandlerErrorEvent,
    ReconnectedEvent,
    ReconnectingEvent,
    SessionRecycledEvent,
    ToolResultEvent,
    handler_method_name,
)


def test_a_method_for_every_server_and_sdk_event() -> None:
    sdk = [
        ConnectedEvent,
        ReconnectingEvent,
        ReconnectedEvent,
        DisconnectedEvent,
        SessionRecycledEvent,
        HandlerErrorEvent,
        ToolResultEvent,
        ProtocolErrorEvent,
    ]
    types = [*SERVER_EVENT_TYPES, *(cls.TYPE for cls in sdk)]
    handler = RealtimeEventHandler()
    for event_type in types:
        method = getattr(handler, handler_method_name(event_type))
        assert method(None) is None
        assert inspect.getdoc(method), event_type
    assert handler_method_name("response.output_audio.delta") == "on_response_output_audio_delta"
    assert handler_method_name("rtsdk.reconnecting") == "on_reconnecting"
    # no stray methods for types that do not exist
    names = {handler_method_name(t) for t in types} | {"on_event", "on_unknown"}
    declared = {n for n in dir(RealtimeEventHandler) if n.startswith("on_")}
    assert declared == names


def test_sdk_events_carry_their_type() -> None:
    assert ReconnectingEvent(attempt=2, delay=0.5).type == "rtsdk.reconnecting"
    assert DisconnectedEvent(reason="x").to_dict()["type"] == "rtsdk.disconnected"

"""Every error of a GPT-Live session (``rtsdk.testing.LIVE_ERRORS``), provoked over a socket.

For each entry a scenario provokes it through a real websocket against ``LocalRealtimeServer``
and the error received must be exactly the entry's (``type``, ``code``, ``param``, ``message``
with its templates filled), with the client's ``event_id`` as ``client_event_id`` (in the
event and in ``error``) when the entry echoes it, and none otherwise.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from rtsdk.testing import LIVE_ERRORS, Faults, LiveConnection, LiveOptions, LocalRealtimeServer
from rtsdk.testing.catalogue_live import LIVE_CLIENT_EVENTS
from tests.test_testing_live import MODEL, RESPONSES, LiveClient, b64, check_live_sent, tone

#: (the error event, the template fields, the client event_id it must echo)
Seen = tuple[dict[str, Any], dict[str, Any], str | None]
SCENARIOS: dict[str, Callable[[LocalRealtimeServer], Awaitable[Seen]]] = {}


def scenario(key: str) -> Callable[[Any], Any]:
    def register(fn: Any) -> Any:
        SCENARIOS[key] = fn
        return fn

    return register


async def _client(srv: LocalRealtimeServer, **session: Any) -> LiveClient:
    client = await LiveClient.connect(srv.live_url)
    if session.pop("start", True):
        await client.start(**session)
    return client


async def _after(
    srv: LocalRealtimeServer, event: dict[str, Any] | str | bytes, **session: Any
) -> dict[str, Any]:
    client = await _client(srv, **session)
    if isinstance(event, dict):
        await client.send(event)
    else:
        await client.ws.send(event)
    return await client.until("error")


def _start(event_id: str, **session: Any) -> dict[str, Any]:
    return {"type": "session.start", "event_id": event_id, "session": {"model": MODEL, **session}}


@scenario("invalid_json")
async def _(srv: LocalRealtimeServer) -> Seen:
    return await _after(srv, "{oops", start=False), {}, None


@scenario("binary_frame")
async def _(srv: LocalRealtimeServer) -> Seen:
    return await _after(srv, b"\x01\x02", start=False), {}, None


@scenario("event_not_object")
async def _(srv: LocalRealtimeServer) -> Seen:
    return await _after(srv, "[1, 2]", start=False), {"got": "an array"}, None


@scenario("unknown_parameter")
async def _(srv: LocalRealtimeServer) -> Seen:
    event = _start("e1", delegation={"type": "client", "color": "red"})
    return await _after(srv, event, start=False), {"param": "session.delegation.color"}, "e1"


@scenario("missing_required_parameter")
async def _(srv: LocalRealtimeServer) -> Seen:
    event = {"type": "session.thinking.append", "event_id": "e2", "content": "hm"}
    return await _after(srv, event), {"param": "delegation_id"}, "e2"


@scenario("invalid_type")
async def _(srv: LocalRealtimeServer) -> Seen:
    event = _start("e3", instructions=["a"])
    fields = {"param": "session.instructions", "expected": "a string", "got": "an array"}
    return await _after(srv, event, start=False), fields, "e3"


@scenario("invalid_enum_value")
async def _(srv: LocalRealtimeServer) -> Seen:
    event = _start("e4", audio={"format": {"type": "audio/pcma", "rate": 16000}})
    fields = {"param": "session.audio.format.rate", "value": "16000", "supported": "'8000'"}
    return await _after(srv, event, start=False), fields, "e4"


@scenario("invalid_value")
async def _(srv: LocalRealtimeServer) -> Seen:
    item = {"role": "user", "content": []}
    event = _start("e5", input=[item])
    fields = {"param": "session.input[0].content", "reason": "expected exactly one text part"}
    return await _after(srv, event, start=False), fields, "e5"


@scenario("integer_below_min_value")
async def _(srv: LocalRealtimeServer) -> Seen:
    event = _start("e6", delegation={"type": "client", "acknowledgement_delay_ms": -5})
    param = "session.delegation.acknowledgement_delay_ms"
    return (
        await _after(srv, event, start=False),
        {"param": param, "minimum": 0, "value": "-5"},
        "e6",
    )


@scenario("auth_error_event")
async def _(srv: LocalRealtimeServer) -> Seen:
    srv.faults_for_next_connections(Faults(refuse_auth="error_event"))
    client = await _client(srv, start=False)
    error = await client.until("error")
    assert (await client.closed)[0] == 1008
    return error, {}, None


@scenario("live_injected_server_error")
async def _(srv: LocalRealtimeServer) -> Seen:
    srv.faults_for_next_connections(Faults(garbage_after_frames=1, garbage="error_event"))
    client = await _client(srv)
    return await client.until("error"), {}, None


@scenario("live_not_started")
async def _(srv: LocalRealtimeServer) -> Seen:
    event = {"type": "session.input_audio.mute", "event_id": "e7"}
    return await _after(srv, event, start=False), {"event_type": "session.input_audio.mute"}, "e7"


@scenario("live_already_started")
async def _(srv: LocalRealtimeServer) -> Seen:
    return await _after(srv, _start("e8")), {}, "e8"


@scenario("live_unknown_event_type")
async def _(srv: LocalRealtimeServer) -> Seen:
    event = {"type": "input_audio_buffer.append", "event_id": "e9", "audio": ""}
    return await _after(srv, event), {"value": "'input_audio_buffer.append'"}, "e9"


@scenario("live_model_not_found")
async def _(srv: LocalRealtimeServer) -> Seen:
    event = {"type": "session.start", "event_id": "e10", "session": {"model": "gpt-live-9"}}
    return await _after(srv, event, start=False), {"model": "gpt-live-9"}, "e10"


@scenario("live_too_many_items")
async def _(srv: LocalRealtimeServer) -> Seen:
    item = {"role": "assistant", "content": [{"type": "output_text", "text": "ok"}]}
    event = _start("e11", input=[item] * 130)
    return await _after(srv, event, start=False), {"length": 130}, "e11"


@scenario("live_immutable")
async def _(srv: LocalRealtimeServer) -> Seen:
    event = {"type": "session.update", "event_id": "e12", "session": {"safety_identifier": "x"}}
    return await _after(srv, event), {"param": "session.safety_identifier"}, "e12"


@scenario("live_audio_bad_base64")
async def _(srv: LocalRealtimeServer) -> Seen:
    event = {"type": "session.input_audio.append", "event_id": "e13", "audio": "not base64!"}
    fmt = {"type": "audio/pcm", "rate": 16000}
    error = await _after(srv, event, audio={"format": fmt})
    return error, {"format": "audio/pcm at 16000 Hz"}, "e13"


@scenario("live_audio_empty")
async def _(srv: LocalRealtimeServer) -> Seen:
    event = {"type": "session.input_audio.append", "event_id": "e14", "audio": ""}
    return await _after(srv, event), {"format": "audio/pcm at 24000 Hz"}, "e14"


@scenario("live_audio_odd_length")
async def _(srv: LocalRealtimeServer) -> Seen:
    event = {"type": "session.input_audio.append", "event_id": "e15", "audio": b64(b"\0" * 7)}
    return await _after(srv, event), {"size": 7}, "e15"


@scenario("live_fixture_too_long")
async def _(srv: LocalRealtimeServer) -> Seen:
    raw = b"\0" * (48000 * 31)
    event = {"type": "session.output_audio.fixture.play", "event_id": "e16", "audio": b64(raw)}
    return await _after(srv, event), {"what": f"{len(raw)} bytes (31.00 s)"}, "e16"


@scenario("live_fixture_active")
async def _(srv: LocalRealtimeServer) -> Seen:
    srv.live = LiveOptions()  # real time: the fixture plays for a second
    client = await _client(srv)
    await client.send({"type": "session.output_audio.fixture.play", "audio": b64(tone(1000))})
    await client.until("session.output_audio.fixture.playing")
    await client.send(
        {"type": "session.commentary.append", "event_id": "e17", "content": "hi",
         "delegation_id": None}
    )  # fmt: skip
    return await client.until("error"), {"event_type": "session.commentary.append"}, "e17"


@scenario("live_delegation_id_with_responses")
async def _(srv: LocalRealtimeServer) -> Seen:
    event = {
        "type": "session.instructions.append",
        "event_id": "e18",
        "content": "x",
        "delegation_id": "item_1",
    }
    return await _after(srv, event, delegation=RESPONSES), {}, "e18"


@scenario("live_unknown_delegation")
async def _(srv: LocalRealtimeServer) -> Seen:
    event = {
        "type": "session.commentary.append",
        "event_id": "e19",
        "content": "x",
        "delegation_id": "item_404",
    }
    return await _after(srv, event), {"delegation_id": "item_404"}, "e19"


@scenario("live_requires_responses")
async def _(srv: LocalRealtimeServer) -> Seen:
    event = {
        "type": "response.item.create",
        "event_id": "e20",
        "item": {"role": "user", "content": "hi"},
    }
    return await _after(srv, event), {"event_type": "response.item.create"}, "e20"


@scenario("live_unknown_call")
async def _(srv: LocalRealtimeServer) -> Seen:
    item = {"type": "function_call_output", "call_id": "call_9", "output": "x"}
    event = {"type": "response.item.create", "event_id": "e21", "item": item}
    return await _after(srv, event, delegation=RESPONSES), {"call_id": "call_9"}, "e21"


@scenario("live_decisions_unsupported")
async def _(srv: LocalRealtimeServer) -> Seen:
    event = {"type": "decision.item.delete", "event_id": "e22", "item_id": "di_1"}
    return await _after(srv, event), {"event_type": "decision.item.delete"}, "e22"


def test_every_entry_has_a_scenario_and_a_source() -> None:
    assert set(SCENARIOS) == set(LIVE_ERRORS)
    for key, entry in LIVE_ERRORS.items():
        assert entry.code, key  # GPT-Live's error.code is a string
        assert len(entry.source.strip()) > 20, key
        if entry.evidence == "not seen":
            assert entry.source.startswith("no public source"), key
    assert len(LIVE_CLIENT_EVENTS) == 15


@pytest.mark.parametrize("key", list(LIVE_ERRORS))
async def test_every_live_error_is_sent_exactly_as_catalogued(key: str) -> None:
    async with LocalRealtimeServer(live=LiveOptions(pacing="fast")) as srv:
        event, fields, client_event_id = await asyncio.wait_for(SCENARIOS[key](srv), 10)
    entry = LIVE_ERRORS[key]
    expected = entry.render(**fields)
    if entry.echoes_event_id and client_event_id is not None:
        expected["client_event_id"] = client_event_id
        assert event["client_event_id"] == client_event_id
    else:
        assert "client_event_id" not in event
    assert event["error"] == expected
    for conn in srv.connections:
        assert isinstance(conn, LiveConnection)
        check_live_sent(conn)

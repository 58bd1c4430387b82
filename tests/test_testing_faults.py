"""Local server fault injection, each fault over a real socket."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest
import websockets
from websockets.exceptions import ConnectionClosed

from rtsdk.exceptions import ConfigurationError
from rtsdk.testing import Faults, LocalRealtimeServer
from tests.conformance import assert_server_event_valid
from tests.test_testing_server import (
    MODEL,
    RawClient,
    check_sent,
    open_client,
    silence,
    tone,
)


@pytest.fixture
async def server() -> AsyncIterator[LocalRealtimeServer]:
    async with LocalRealtimeServer() as srv:
        yield srv


async def closed_by_server(client: RawClient, timeout: float = 5.0) -> ConnectionClosed:
    """Read until the server ends the connection; return how it ended."""
    with pytest.raises(ConnectionClosed) as info:
        while True:
            await client.recv(timeout)
    return info.value


async def text_turn(client: RawClient) -> None:
    item = {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "hi"}]}
    await client.send({"type": "conversation.item.create", "item": item})
    await client.send({"type": "response.create"})


async def test_refuse_auth_http_for_the_next_connection_only(server: LocalRealtimeServer) -> None:
    server.faults_for_next_connections(Faults(refuse_auth=True))
    with pytest.raises(websockets.InvalidStatus) as info:
        await websockets.connect(f"{server.url}?model={MODEL}")
    assert info.value.response.status_code == 401
    client, _ = await open_client(server)  # the plan is used up
    assert server.refused == [(401, "/v1/realtime")] and len(server.connections) == 1
    await client.close()


async def test_refuse_auth_with_an_error_event_then_a_close(server: LocalRealtimeServer) -> None:
    server.faults_for_next_connections(Faults(refuse_auth="error_event"))
    client = await RawClient.connect(f"{server.url}?model={MODEL}")
    closed = await closed_by_server(client)
    assert [f["type"] for f in client.frames] == ["error"]
    assert client.frames[0]["error"]["code"] == "invalid_api_key"
    assert closed.rcvd is not None and closed.rcvd.code == 1008
    conn = server.connections[0]
    await conn.wait_closed()
    assert conn.counts_sent["session.created"] == 0  # nothing was served
    check_sent(conn)


async def test_drop_after_frames_cuts_a_response_mid_way(server: LocalRealtimeServer) -> None:
    server.faults_for_next_connections(Faults(drop_after_frames=6))
    client, conn = await open_client(server)
    await text_turn(client)
    closed = await closed_by_server(client)
    assert closed.rcvd is None  # no close frame: an abrupt TCP close (1006)
    assert len(client.frames) == 6 and len(conn.sent) == 6 and conn.frames_sent == 6
    assert client.frames[-1]["type"] != "response.done"
    await conn.wait_closed()
    assert conn.dropped and conn.closed
    # the next connection is served normally
    again, _ = await open_client(server)
    await text_turn(again)
    await again.until("response.done")
    await again.close()


async def test_drop_after_seconds(server: LocalRealtimeServer) -> None:
    server.faults_for_next_connections(Faults(drop_after_seconds=0.2))
    client, conn = await open_client(server)
    closed = await closed_by_server(client)
    assert closed.rcvd is None
    await conn.wait_closed()
    assert conn.dropped


@pytest.mark.parametrize(("code", "reason"), [(1001, "going away"), (1011, "oops"), (4000, "x")])
async def test_close_after_frames_with_a_code(
    server: LocalRealtimeServer, code: int, reason: str
) -> None:
    server.faults_for_next_connections(
        Faults(close_after_frames=3, close_code=code, close_reason=reason)
    )
    client, conn = await open_client(server)
    await text_turn(client)
    closed = await closed_by_server(client)
    assert closed.rcvd is not None and (closed.rcvd.code, closed.rcvd.reason) == (code, reason)
    assert len(client.frames) == 3
    await conn.wait_closed()
    assert conn.close_code == code and not conn.dropped


async def test_close_after_seconds(server: LocalRealtimeServer) -> None:
    server.faults_for_next_connections(Faults(close_after_seconds=0.1, close_code=1013))
    client, _ = await open_client(server)
    closed = await closed_by_server(client)
    assert closed.rcvd is not None and closed.rcvd.code == 1013


async def test_stall_reads_and_writes_nothing_then_carries_on(
    server: LocalRealtimeServer,
) -> None:
    server.faults_for_next_connections(Faults(stall_after_frames=1, stall_seconds=1.5))
    client, conn = await open_client(server)
    await client.send({"type": "session.update", "event_id": "u", "session": {"type": "realtime"}})
    pong = await client.ws.ping()
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(asyncio.shield(pong), 0.5)  # unanswered during the stall
    updated = await client.until("session.updated", timeout=5.0)  # then served
    assert updated["type"] == "session.updated"
    await asyncio.wait_for(pong, 5.0)
    # the same on demand
    conn.stall(1.0)
    await asyncio.sleep(0.05)
    await client.send({"type": "input_audio_buffer.clear"})
    with pytest.raises(asyncio.TimeoutError):
        await client.until("input_audio_buffer.cleared", timeout=0.4)
    await client.until("input_audio_buffer.cleared", timeout=5.0)
    await client.close()
    check_sent(conn)


@pytest.mark.parametrize("garbage", ["malformed_json", "unknown_type", "error_event"])
async def test_garbage_after_frames(server: LocalRealtimeServer, garbage: str) -> None:
    server.faults_for_next_connections(Faults(garbage_after_frames=1, garbage=garbage))
    client, conn = await open_client(server)
    raw = await asyncio.wait_for(client.ws.recv(), 5)
    assert conn.frames_sent == 2
    if garbage == "malformed_json":
        with pytest.raises(json.JSONDecodeError):
            json.loads(raw)
        assert conn.sent[1] == raw
    else:
        frame = json.loads(raw)
        if garbage == "unknown_type":
            assert frame["type"] == "rtsdk.local.unknown_event"
        else:
            assert frame["type"] == "error"
            assert frame["error"]["type"] == "server_error"
            assert_server_event_valid(frame)
    # the session goes on
    await client.send({"type": "session.update", "session": {"type": "realtime"}})
    await client.until("session.updated")
    await client.close()


async def test_session_max_seconds_ends_like_the_service(server: LocalRealtimeServer) -> None:
    server.faults_for_next_connections(Faults(session_max_seconds=0.3))
    client, conn = await open_client(server)
    assert client.frames[0]["session"]["expires_at"] > 0
    closed = await closed_by_server(client)
    error = client.frames[-1]
    assert error["type"] == "error" and error["error"]["code"] == "session_expired"
    assert error["error"]["message"] == "Your session hit the maximum duration of 0.3 seconds."
    assert closed.rcvd is not None and closed.rcvd.code == 1000
    await conn.wait_closed()
    check_sent(conn)


async def test_server_wide_faults_and_per_connection_plans(server: LocalRealtimeServer) -> None:
    server.faults = Faults(close_after_frames=1, close_code=4001)
    server.faults_for_next_connections(Faults(), count=2)
    for _ in range(2):
        client, _ = await open_client(server)
        await client.send({"type": "session.update", "session": {"type": "realtime"}})
        await client.until("session.updated")
        await client.close()
    client = await RawClient.connect(f"{server.url}?model={MODEL}")
    closed = await closed_by_server(client)
    assert closed.rcvd is not None and closed.rcvd.code == 4001
    assert (await server.wait_for_connection(3)).faults.close_code == 4001


async def test_connection_controls(server: LocalRealtimeServer) -> None:
    client, conn = await open_client(server)
    await conn.send_raw('{"type": "brand.new_event", "x": 1}')
    assert (await client.recv())["x"] == 1
    assert conn.sent[-1] == {"type": "brand.new_event", "x": 1}
    await conn.close(4002, "bye")
    closed = await closed_by_server(client)
    assert closed.rcvd is not None and (closed.rcvd.code, closed.rcvd.reason) == (4002, "bye")
    client2, conn2 = await open_client(server)
    assert await server.wait_for_connection(2) is conn2
    with pytest.raises(asyncio.TimeoutError, match=r"response\.done"):
        await conn2.wait_for_sent("response.done", timeout=0.05)
    await conn2.drop()
    assert (await closed_by_server(client2)).rcvd is None
    with pytest.raises(asyncio.TimeoutError, match="connection"):
        await server.wait_for_connection(3, timeout=0.1)


async def test_wait_for_frames_by_type_and_rank(server: LocalRealtimeServer) -> None:
    client, conn = await open_client(server)
    waiter = asyncio.ensure_future(conn.wait_for_received("session.update", 5, nth=2))
    for n in range(2):
        await client.send(
            {"type": "session.update", "event_id": f"s{n}", "session": {"type": "realtime"}}
        )
    assert (await waiter)["event_id"] == "s1"
    assert (await conn.wait_for_received("session.update"))["event_id"] == "s0"
    assert (await conn.wait_for_sent("session.updated", nth=2))["type"] == "session.updated"
    await client.close()


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"drop_after_frames": 0}, "drop_after_frames"),
        ({"stall_seconds": -1}, "stall_seconds"),
        ({"close_code": 1006}, "close_code"),
        ({"garbage": "noise"}, "garbage"),
        ({"refuse_auth": "maybe"}, "refuse_auth"),
        ({"session_max_seconds": float("nan")}, "session_max_seconds"),
    ],
)
def test_bad_fault_plans_are_refused(kw: dict[str, object], match: str) -> None:
    with pytest.raises(ConfigurationError, match=match):
        Faults(**kw)  # type: ignore[arg-type]


async def test_fault_plans_can_change_on_a_live_connection(server: LocalRealtimeServer) -> None:
    client, conn = await open_client(server)
    conn.faults = Faults(drop_after_frames=conn.frames_sent + 2)
    await text_turn(client)
    assert (await closed_by_server(client)).rcvd is None
    assert conn.frames_sent == 3


async def test_records_without_audio_still_count_it() -> None:
    async with LocalRealtimeServer(record_audio=False) as srv:
        client, conn = await open_client(srv)
        await client.stream(silence(100) + tone(300) + silence(700))
        await client.until("response.done")
        await client.close()
        await conn.wait_closed()
        kinds = {f["type"] for f in conn.received + conn.sent if isinstance(f, dict)}
        assert "input_audio_buffer.append" not in kinds
        assert "response.output_audio.delta" not in kinds and "response.done" in kinds
        assert conn.counts_received["input_audio_buffer.append"] == 55
        assert conn.counts_sent["response.output_audio.delta"] == 5  # 400 ms in 80 ms deltas
    async with LocalRealtimeServer(record=False) as srv:
        client, conn = await open_client(srv)
        await client.close()
        await conn.wait_closed()
        assert conn.sent == [] and conn.counts_sent["session.created"] == 1


async def test_stop_during_a_stall_closes_promptly() -> None:
    async with LocalRealtimeServer() as srv:
        client, conn = await open_client(srv)
        conn.stall(30.0)
        await asyncio.sleep(0.05)
    # the server closed with 1001 without waiting out the stall
    closed = await closed_by_server(client)
    assert closed.rcvd is not None and closed.rcvd.code == 1001
    assert conn.closed


async def test_waiting_on_a_closed_connection_fails_clearly(server: LocalRealtimeServer) -> None:
    client, conn = await open_client(server)
    waiter = asyncio.ensure_future(conn.wait_for_sent("response.done", timeout=5))
    await asyncio.sleep(0)
    await client.close()
    with pytest.raises(ConnectionError, match="closed"):
        await waiter
    await conn.wait_closed()
    with pytest.raises(ConnectionError, match="closed"):
        await conn.wait_for_received("response.create")
    with pytest.raises(ConnectionError, match="closed"):
        await conn.send_raw("{}")

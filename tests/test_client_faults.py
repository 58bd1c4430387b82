"""The client under faults from the local server: drops, refused auth, stalls, garbage, errors."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from rtsdk import AsyncRealtimeAIClient, RealtimeAIOptions
from rtsdk.exceptions import AuthenticationError, ConnectionClosedError
from rtsdk.testing import Faults, LocalRealtimeServer

from .client_helpers import KEY, Recorder, tone


def options(server: LocalRealtimeServer, **kw: Any) -> RealtimeAIOptions:
    base: dict[str, Any] = {
        "url": server.url,
        "api_key": KEY,
        "base_delay": 0.05,
        "max_delay": 0.2,
        "max_retries": 5,
        "ping_interval": 0.3,
        "ping_timeout": 0.3,
        "handshake_timeout": 5.0,
        "output_modality": "text",
        "turn_detection": "none",
    }
    base.update(kw)
    return RealtimeAIOptions(**base)


@pytest.fixture
async def server() -> AsyncIterator[LocalRealtimeServer]:
    async with LocalRealtimeServer(pacing="fast", api_key=KEY) as srv:
        yield srv


async def started(server: LocalRealtimeServer, **kw: Any) -> tuple[AsyncRealtimeAIClient, Recorder]:
    client = AsyncRealtimeAIClient(options(server, **kw))
    rec = Recorder()
    client.on("*", rec)
    await client.start()
    return client, rec


def first_type(server: LocalRealtimeServer, conn: int) -> str:
    frames = [f for f in server.connections[conn].received if isinstance(f, dict)]
    return str(frames[0]["type"])


async def test_drop_mid_response_reconnects_and_resends_the_session(
    server: LocalRealtimeServer, caplog: pytest.LogCaptureFixture
) -> None:
    server.pacing = "realtime"
    client, rec = await started(server, output_modality="audio", instructions="Keep me.")
    # the next connection's plan is irrelevant; this one drops after a few response frames
    server.connections[0].faults = Faults(drop_after_frames=len(server.connections[0].sent) + 6)
    await client.send_audio((tone(1.0) * 32767).astype("int16").tobytes())
    await client.commit_audio()
    await client.generate_response()
    t0 = time.monotonic()
    reconnecting = await rec.wait("rtsdk.reconnecting")
    assert reconnecting.attempt == 1
    assert reconnecting.delay <= 0.05  # full jitter under base_delay on the first attempt
    await rec.wait("rtsdk.reconnected")
    assert time.monotonic() - t0 < 2.0
    assert len(server.connections) == 2
    assert first_type(server, 1) == "session.update"
    assert server.connections[1].session["instructions"] == "Keep me."
    # the session goes on: a new turn works
    await client.send_text("after the drop")
    await rec.wait("response.done", lambda e: e.response["status"] == "completed")
    assert client.metrics.reconnects >= 1
    assert client.failure is None
    await client.stop()
    # no exception escaped into the event loop (a task that died would be logged as ERROR)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text


async def test_refused_auth_fails_fast_without_retries() -> None:
    async with LocalRealtimeServer(api_key="the-right-key-000000") as srv:
        client = AsyncRealtimeAIClient(options(srv))
        t0 = time.monotonic()
        with pytest.raises(AuthenticationError) as info:
            await client.start()
        assert time.monotonic() - t0 < 1.0
        assert KEY not in str(info.value) and KEY not in repr(client)
        await asyncio.sleep(0.2)
        assert len(srv.connections) <= 1  # no retry storm (a refused upgrade may not count)


async def test_auth_error_event_ends_the_session(server: LocalRealtimeServer) -> None:
    server.faults_for_next_connections(Faults(refuse_auth="error_event"))
    client = AsyncRealtimeAIClient(options(server))
    with pytest.raises(AuthenticationError, match="invalid_api_key"):
        await client.start()
    await asyncio.sleep(0.2)
    assert len(server.connections) == 1


async def test_stall_is_detected_by_ping_timeout(server: LocalRealtimeServer) -> None:
    client, rec = await started(server)
    t0 = time.monotonic()
    server.connections[0].stall(2.0)
    await rec.wait("rtsdk.reconnecting", timeout=3.0)
    assert time.monotonic() - t0 < 0.3 + 0.3 + 1.0
    await rec.wait("rtsdk.reconnected", timeout=3.0)
    await client.send_text("hello again")
    await rec.wait("response.done")
    await client.stop()


@pytest.mark.parametrize("garbage", ["malformed_json", "unknown_type"])
async def test_garbage_frames_are_reported_and_the_session_goes_on(
    server: LocalRealtimeServer, garbage: str
) -> None:
    client, rec = await started(server)
    conn = server.connections[0]
    if garbage == "malformed_json":
        await conn.send_raw('{"type": "response.done", "respo')
        event = await rec.wait("rtsdk.protocol_error")
        assert "JSON" in event.description or "json" in event.description
        assert client.metrics.protocol_errors == 1
    else:
        await conn.send_raw('{"type": "brand.new_event", "x": 1}')
        event = await rec.wait("brand.new_event")
        assert event.raw["x"] == 1
    await client.send_text("still fine?")
    await rec.wait("response.done")
    assert client.is_connected
    await client.stop()


async def test_server_error_events_are_delivered_not_fatal(server: LocalRealtimeServer) -> None:
    client, rec = await started(server)
    await server.connections[0].send_raw(
        '{"type":"error","event_id":"e1","error":{"type":"server_error","code":"oops",'
        '"message":"transient trouble"}}'
    )
    err = await rec.wait("error")
    assert err.error["code"] == "oops"
    await client.cancel_response()  # nothing active: not even sent
    await client.send_event({"type": "response.cancel"})  # benign error from the server
    await rec.wait("error", lambda e: e.error.get("code") == "response_cancel_not_active")
    await client.send_text("and on")
    await rec.wait("response.done")
    assert client.metrics.server_errors == 1  # the benign one is not counted
    await client.stop()


async def test_session_expiry_recycles_with_the_config(server: LocalRealtimeServer) -> None:
    server.faults_for_next_connections(Faults(session_max_seconds=0.5))
    client, rec = await started(server, instructions="Remember me.")
    await client.send_text("before")
    await rec.wait("response.done")
    recycled = await rec.wait("rtsdk.session_recycled", timeout=5.0)
    assert "session_expired" in recycled.reason
    assert recycled.replayed_items >= 2  # the user message and the answer
    assert first_type(server, 1) == "session.update"
    assert server.connections[1].session["instructions"] == "Remember me."
    replayed = [
        f
        for f in server.connections[1].received
        if isinstance(f, dict) and f["type"] == "conversation.item.create"
    ]
    assert replayed[0]["item"]["content"][0]["text"] == "before"
    await client.stop()


async def test_recycle_before_the_cap(server: LocalRealtimeServer) -> None:
    client, rec = await started(server, session_max_seconds=0.3)
    await rec.wait("rtsdk.session_recycled", timeout=5.0)
    assert len(server.connections) >= 2
    await client.send_text("after recycle")
    await rec.wait("response.done")
    assert client.metrics.recycles >= 1
    await client.stop()


async def test_stop_during_reconnect_returns_in_time(server: LocalRealtimeServer) -> None:
    client, rec = await started(server, base_delay=2.0, max_delay=4.0, max_retries=10)
    await server.connections[0].drop()
    await rec.wait("rtsdk.reconnecting")
    t0 = time.monotonic()
    await client.stop(timeout=2.0)
    assert time.monotonic() - t0 < 2.5
    assert not client.is_connected
    await rec.wait("rtsdk.disconnected")
    with pytest.raises(ConnectionClosedError):
        await client.send_text("too late")


async def test_retries_run_out() -> None:
    async with LocalRealtimeServer() as srv:
        url = srv.url
    client = AsyncRealtimeAIClient(
        RealtimeAIOptions(url=url, max_retries=2, base_delay=0.01, max_delay=0.02)
    )
    with pytest.raises(ConnectionClosedError, match="attempt"):
        await client.start()


async def test_the_key_never_reaches_the_logs(
    server: LocalRealtimeServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    for name in ("websockets", "rtsdk", "rtsdk.websocket.wire"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    try:
        client, rec = await started(server)
        await client.send_text("hello")
        await rec.wait("response.done")
        await server.connections[0].drop()
        await rec.wait("rtsdk.reconnected")
        await client.stop()
        async with LocalRealtimeServer(api_key="other-key-1234567") as srv:
            with pytest.raises(AuthenticationError) as info:
                await AsyncRealtimeAIClient(options(srv)).start()
        assert KEY not in str(info.value)
    finally:
        for name in ("websockets", "rtsdk", "rtsdk.websocket.wire"):
            logging.getLogger(name).setLevel(logging.NOTSET)
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert len(caplog.records) > 10  # the wire log really was on
    assert "Authorization" in text or "authorization" in text.lower()
    assert KEY not in text
    assert KEY not in "\n".join(str(r.__dict__) for r in caplog.records)


async def test_a_frame_that_breaks_handling_does_not_end_the_session(
    server: LocalRealtimeServer, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from rtsdk.protocol import ClientSessionState

    original = ClientSessionState.handle

    def fragile(self: ClientSessionState, event: Any) -> Any:
        if event.type == "rate_limits.updated" or getattr(event, "raw", {}).get("boom"):
            raise RuntimeError("state bug")
        return original(self, event)

    monkeypatch.setattr(ClientSessionState, "handle", fragile)
    client, rec = await started(server)
    await server.connections[0].send_raw('{"type":"x.y","boom":true}')
    await client.send_text("still talking?")
    await rec.wait("response.done")
    assert client.is_connected and client.failure is None
    assert client.metrics.protocol_errors >= 1
    assert "state bug" in caplog.text
    await client.stop()


async def test_commit_after_a_drop_with_nothing_appended_is_not_sent(
    server: LocalRealtimeServer, caplog: pytest.LogCaptureFixture
) -> None:
    client, rec = await started(server)
    pcm = (tone(0.5) * 32767).astype("int16").tobytes()
    await client.send_audio(pcm)  # appended on the first connection, never committed
    await client.drain()
    await server.connections[0].drop()
    await rec.wait("rtsdk.reconnected")
    await client.commit_audio()  # the buffer went with the old connection: nothing to commit
    assert "commit skipped" in caplog.text
    # audio appended on the new connection is committed as usual
    await client.send_audio(pcm)
    await client.commit_audio()
    await client.generate_response()
    await rec.wait("response.done")
    commits = [
        f
        for f in server.connections[1].received
        if isinstance(f, dict) and f.get("type") == "input_audio_buffer.commit"
    ]
    assert len(commits) == 1
    assert not rec.of("error"), [e.error for e in rec.of("error")]
    await client.stop()

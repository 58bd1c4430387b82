"""One picows connection under a websockets server: fragments, pings, backpressure, handler
failures, the close handshake."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from websockets.asyncio.server import ServerConnection, serve

from rtsdk.exceptions import ConnectionClosedError
from rtsdk.link.connection import Connection, UpgradeRefused, open_connection
from rtsdk.link.websocket import LinkEvent, ReconnectPolicy, WebSocketManager


class Server:
    """Does what each test asks with every new connection (``behave``)."""

    def __init__(self) -> None:
        self.behave: Callable[[ServerConnection], Any] | None = None
        self.url = ""
        self.received: list[str] = []


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    srv = Server()

    async def handler(conn: ServerConnection) -> None:
        if srv.behave is not None:
            await srv.behave(conn)
        async for msg in conn:
            srv.received.append(str(msg))

    # close_timeout: a connection left not reading (the silent server) does not hold the close
    async with serve(
        handler, "127.0.0.1", 0, compression=None, ping_interval=None, close_timeout=0.5
    ) as ws:
        srv.url = f"ws://127.0.0.1:{ws.sockets[0].getsockname()[1]}/v1/realtime"
        yield srv


async def _open(url: str, got: list[bytes], **kw: Any) -> Connection:
    opts: dict[str, Any] = {
        "open_timeout": 5.0,
        "ping_interval": None,
        "ping_timeout": None,
        "logger": None,
    }
    opts.update(kw)
    conn = await open_connection(url, {}, got.append, **opts)
    conn.release()
    return conn


async def _until(pred: Callable[[], bool], timeout: float = 5.0) -> None:
    async def poll() -> None:
        while not pred():
            await asyncio.sleep(0.005)

    await asyncio.wait_for(poll(), timeout)


async def test_fragmented_messages_arrive_whole(server: Server) -> None:
    async def behave(conn: ServerConnection) -> None:
        await conn.send(['{"type":', '"a",', '"x":1}'])  # three frames, one message
        await conn.send(iter([b"\x00\x01", b"\x02"]))  # binary fragments too
        await conn.send('{"type":"b"}')

    server.behave = behave
    got: list[bytes] = []
    conn = await _open(server.url, got)
    await _until(lambda: len(got) == 3)
    assert got == [b'{"type":"a","x":1}', b"\x00\x01\x02", b'{"type":"b"}']
    await conn.close_and_wait(1000, "", 2.0)


async def test_messages_wait_for_release(server: Server) -> None:
    async def behave(conn: ServerConnection) -> None:
        await conn.send("first")

    server.behave = behave
    got: list[bytes] = []
    conn = await open_connection(
        server.url, {}, got.append, open_timeout=5, ping_interval=None, ping_timeout=None,
        logger=None,
    )  # fmt: skip
    await asyncio.sleep(0.1)
    assert got == []  # held until the link is set up
    conn.release()
    assert got == [b"first"]
    await conn.close_and_wait(1000, "", 2.0)


async def test_server_close_is_answered_and_its_code_kept(server: Server) -> None:
    async def behave(conn: ServerConnection) -> None:
        await conn.close(4001, "go away")

    server.behave = behave
    conn = await _open(server.url, [])
    assert await conn.closed(5.0)
    assert (conn.close_code, conn.close_reason) == (4001, "go away")
    assert not conn.ready and not conn.stalled


async def test_silent_server_is_found_by_ping(server: Server) -> None:
    async def behave(conn: ServerConnection) -> None:
        assert conn.transport is not None
        conn.transport.pause_reading()  # reads (and answers) nothing from now on

    server.behave = behave
    conn = await _open(server.url, [], ping_interval=0.1, ping_timeout=0.1)
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    assert await conn.closed(3.0)
    assert conn.stalled and conn.close_code is None
    assert loop.time() - t0 < 2.0


async def test_answering_server_keeps_the_connection(server: Server) -> None:
    conn = await _open(server.url, [], ping_interval=0.05, ping_timeout=0.05)
    assert not await conn.closed(0.6)  # several pings answered
    assert not conn.stalled
    await conn.close_and_wait(1000, "", 2.0)


async def test_send_waits_while_the_write_buffer_is_full(server: Server) -> None:
    conn = await _open(server.url, [])
    conn.pause_writing()  # as the transport does over its high-water mark
    assert not conn.ready
    sending = asyncio.ensure_future(conn.send('{"n":1}'))
    await asyncio.sleep(0.05)
    assert not sending.done()
    conn.resume_writing()
    await asyncio.wait_for(sending, 2.0)
    assert conn.ready
    await _until(lambda: server.received == ['{"n":1}'])
    await conn.close_and_wait(1000, "", 2.0)
    with pytest.raises(ConnectionResetError):
        await conn.send("{}")


async def test_refused_upgrade_carries_its_status() -> None:
    async def refuse(conn: ServerConnection, request: Any) -> Any:
        import http

        return conn.respond(http.HTTPStatus.FORBIDDEN, "no\n")

    async with serve(lambda c: asyncio.sleep(0), "127.0.0.1", 0, process_request=refuse) as ws:
        url = f"ws://127.0.0.1:{ws.sockets[0].getsockname()[1]}/v1/realtime"
        with pytest.raises(UpgradeRefused) as info:
            await _open(url, [])
    assert info.value.status == 403


async def test_a_failing_handler_ends_the_link_without_retry(server: Server) -> None:
    async def behave(conn: ServerConnection) -> None:
        await conn.send('{"type":"boom"}')

    def on_message(message: bytes) -> None:
        raise RuntimeError("handler bug")

    server.behave = behave
    events: list[LinkEvent] = []
    link = WebSocketManager(
        server.url,
        on_message=on_message,
        on_link_event=events.append,
        reconnect=ReconnectPolicy(max_retries=3, base_delay=0.01, max_delay=0.02),
    )
    await link.connect()
    await asyncio.wait_for(link.wait_closed(), 5.0)
    assert isinstance(link.failure, RuntimeError)
    assert [e.kind for e in events] == ["connected", "disconnected"]
    with pytest.raises(ConnectionClosedError):
        await link.send("{}")

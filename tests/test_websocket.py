"""WebSocketManager over real loopback sockets: backoff, auth refusal, drops, backlog, secrecy."""

from __future__ import annotations

import asyncio
import http
import logging
import shutil
import ssl
import subprocess
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.http11 import Request, Response

from rtsdk.exceptions import AuthenticationError, ConfigurationError, ConnectionClosedError
from rtsdk.link.websocket import LinkEvent, LinkState, ReconnectPolicy, WebSocketManager

KEY = "sk-test-SECRET-0123456789"


@dataclass
class EchoServer:
    """A loopback server that echoes text frames and misbehaves on request."""

    key: str | None = KEY
    refuse_status: int | None = None
    drop_after: int | None = None  # abort the TCP connection after N frames (once)
    close_code: int | None = None  # close with this code after the first frame (once)
    received: list[str] = field(default_factory=list)
    connections: int = 0
    server: Server | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        port = self.server.sockets[0].getsockname()[1]
        return f"ws://127.0.0.1:{port}/v1/realtime?model=m"

    def _process_request(self, conn: ServerConnection, request: Request) -> Response | None:
        if self.refuse_status is not None:
            return conn.respond(http.HTTPStatus(self.refuse_status), "no\n")
        if self.key is not None and request.headers.get("Authorization") != f"Bearer {self.key}":
            return conn.respond(http.HTTPStatus.UNAUTHORIZED, "bad key\n")
        return None

    async def _handler(self, conn: ServerConnection) -> None:
        self.connections += 1
        n = 0
        async for msg in conn:
            assert isinstance(msg, str)
            self.received.append(msg)
            n += 1
            if self.drop_after is not None and n >= self.drop_after:
                self.drop_after = None
                assert conn.transport is not None
                conn.transport.abort()
                return
            if self.close_code is not None:
                code, self.close_code = self.close_code, None
                await conn.close(code, "test close")
                return
            await conn.send("echo:" + msg)


@pytest.fixture
async def echo_server() -> AsyncIterator[EchoServer]:
    es = EchoServer()
    async with serve(
        es._handler, "127.0.0.1", 0, process_request=es._process_request, compression=None
    ) as server:
        es.server = server
        yield es


def make_manager(
    url: str, received: list[bytes], events: list[LinkEvent], **kw: object
) -> WebSocketManager:
    opts: dict[str, object] = {
        "reconnect": ReconnectPolicy(max_retries=5, base_delay=0.01, max_delay=0.05),
        "ping_interval": 0.2,
        "ping_timeout": 0.2,
    }
    opts.update(kw)
    return WebSocketManager(
        url,
        {"Authorization": f"Bearer {KEY}"},
        on_message=received.append,
        on_link_event=events.append,
        **opts,  # type: ignore[arg-type]
    )


async def wait_for(pred: Callable[[], bool], timeout: float = 3.0) -> None:
    async def poll() -> None:
        while not pred():
            await asyncio.sleep(0.005)

    await asyncio.wait_for(poll(), timeout)


async def test_send_receive_and_graceful_close(echo_server: EchoServer) -> None:
    got: list[bytes] = []
    events: list[LinkEvent] = []
    m = make_manager(echo_server.url, got, events)
    await m.connect()
    assert m.is_connected
    assert await m.send('{"type":"a"}')
    assert await m.send(b'{"type":"b"}')  # prebuilt bytes go out as a text frame
    await wait_for(lambda: len(got) == 2)
    assert got == [b'echo:{"type":"a"}', b'echo:{"type":"b"}']
    await m.close()
    assert m.state is LinkState.CLOSED
    assert [e.kind for e in events] == ["connected", "disconnected"]
    with pytest.raises(ConnectionClosedError):
        await m.send("{}")


async def test_refused_auth_raises_at_once_without_retry(echo_server: EchoServer) -> None:
    echo_server.key = "another-key"
    events: list[LinkEvent] = []
    m = make_manager(echo_server.url, [], events)
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    with pytest.raises(AuthenticationError) as info:
        await m.connect()
    assert loop.time() - t0 < 1.0
    assert "401" in str(info.value)
    assert KEY not in str(info.value) and KEY not in repr(m)
    assert not any(e.kind == "reconnecting" for e in events)


@pytest.mark.parametrize("status", [403])
async def test_forbidden_is_an_auth_error(echo_server: EchoServer, status: int) -> None:
    echo_server.refuse_status = status
    with pytest.raises(AuthenticationError):
        await make_manager(echo_server.url, [], []).connect()


async def test_other_4xx_is_not_retried(echo_server: EchoServer) -> None:
    echo_server.refuse_status = 404
    events: list[LinkEvent] = []
    with pytest.raises(ConnectionClosedError, match="404"):
        await make_manager(echo_server.url, [], events).connect()
    assert not any(e.kind == "reconnecting" for e in events)


async def test_unreachable_server_gives_up_after_retries() -> None:
    events: list[LinkEvent] = []
    m = make_manager("ws://127.0.0.1:9/v1/realtime", [], events)
    with pytest.raises(ConnectionClosedError, match="after"):
        await m.connect()
    attempts = [e for e in events if e.kind == "reconnecting"]
    assert [e.attempt for e in attempts] == [1, 2, 3, 4, 5]
    assert all(0 <= e.delay <= 0.05 for e in attempts)


async def test_drop_reconnects_and_flushes_backlog(echo_server: EchoServer) -> None:
    opened = 0

    async def on_open() -> None:
        nonlocal opened
        opened += 1
        await m.send_now('{"type":"session.update"}')

    got: list[bytes] = []
    events: list[LinkEvent] = []
    echo_server.drop_after = 2  # the first frame is on_open's, the second triggers the drop
    m = make_manager(echo_server.url, got, events, on_open=on_open)
    await m.connect()
    await m.send('{"n":1}')
    await wait_for(lambda: m.stats.reconnects == 1)
    await m.send('{"n":2}')
    await wait_for(lambda: any(b'"n":2' in g for g in got))
    kinds = [e.kind for e in events]
    assert kinds[0] == "connected" and "reconnecting" in kinds and "reconnected" in kinds
    assert opened == 2
    # the session config went first on the new connection too
    assert echo_server.received[2] == '{"type":"session.update"}'
    await m.close()


async def test_backlog_keeps_control_and_drops_stale_audio(echo_server: EchoServer) -> None:
    now = [0.0]
    got: list[bytes] = []
    m = make_manager(echo_server.url, got, [], audio_window=1.0, clock=lambda: now[0])
    await m.connect()
    assert echo_server.server is not None
    echo_server.server.close()
    await wait_for(lambda: not m.is_connected)
    assert not await m.send('{"type":"control"}')
    assert not await m.send('{"a":"old"}', audio=True)
    now[0] = 5.0
    assert not await m.send('{"a":"new"}', audio=True)
    assert m.backlog == 2 and m.stats.audio_frames_dropped == 1
    await m.close()


async def test_fatal_close_code_is_not_retried(echo_server: EchoServer) -> None:
    echo_server.close_code = 1008
    events: list[LinkEvent] = []
    m = make_manager(echo_server.url, [], events)
    await m.connect()
    await m.send("{}")
    await asyncio.wait_for(m.wait_closed(), 3)
    assert isinstance(m.failure, ConnectionClosedError)
    assert events[-1].kind == "disconnected" and "1008" in events[-1].reason
    assert not any(e.kind == "reconnecting" for e in events)


@pytest.mark.parametrize("code", [1001, 1011, 4000])
async def test_recoverable_close_codes_reconnect(echo_server: EchoServer, code: int) -> None:
    echo_server.close_code = code
    events: list[LinkEvent] = []
    m = make_manager(echo_server.url, [], events)
    await m.connect()
    await m.send("{}")
    await wait_for(lambda: any(e.kind == "reconnected" for e in events))
    assert m.stats.last_close_code == code
    await m.close()


async def test_close_during_reconnect_returns_promptly(echo_server: EchoServer) -> None:
    events: list[LinkEvent] = []
    m = make_manager(
        echo_server.url,
        [],
        events,
        reconnect=ReconnectPolicy(max_retries=None, base_delay=5.0, max_delay=5.0),
    )
    await m.connect()
    assert echo_server.server is not None
    echo_server.server.close()
    await wait_for(lambda: any(e.kind == "reconnecting" for e in events))
    await asyncio.wait_for(m.close(), 1.0)
    assert m.state is LinkState.CLOSED


def test_policy_bounds_and_validation() -> None:
    p = ReconnectPolicy(max_retries=3, base_delay=0.5, max_delay=4.0)
    assert [p.ceiling(n) for n in range(5)] == [0.5, 1.0, 2.0, 4.0, 4.0]
    assert p.delay(2, lambda: 1.0) == 2.0 and p.delay(2, lambda: 0.0) == 0.0
    for bad in (
        {"max_retries": -1},
        {"base_delay": 0},
        {"base_delay": 2.0, "max_delay": 1.0},
    ):
        with pytest.raises(ConfigurationError):
            ReconnectPolicy(**bad)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="scheme"):
        WebSocketManager("http://x", on_message=lambda b: None)


async def test_key_never_logged(echo_server: EchoServer, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    echo_server.drop_after = 1
    events: list[LinkEvent] = []
    m = make_manager(echo_server.url, [], events)
    await m.connect()
    await m.send("{}")
    await wait_for(lambda: any(e.kind == "reconnected" for e in events))
    await m.close()
    client_side = [r for r in caplog.records if not r.name.startswith("websockets.server")]
    assert any(r.name == "rtsdk.websocket.wire" for r in client_side)  # handshake was logged
    assert all(KEY not in r.getMessage() for r in client_side)
    assert all(KEY not in repr(e) for e in events)


def test_headers_not_in_repr() -> None:
    m = WebSocketManager(
        "wss://h/v1/realtime?model=x&api-key=QUERYSECRET",
        {"api-key": KEY},
        on_message=lambda b: None,
    )
    assert KEY not in repr(m) and "QUERYSECRET" not in repr(m) and "api-key" in repr(m)


async def test_recycle_opens_a_new_connection_at_once_and_keeps_order(
    echo_server: EchoServer,
) -> None:
    got: list[bytes] = []
    events: list[LinkEvent] = []
    opened: list[int] = []

    m = make_manager(
        echo_server.url,
        got,
        events,
        # a long backoff: the recycle must not wait for it
        reconnect=ReconnectPolicy(max_retries=3, base_delay=5.0, max_delay=5.0),
    )

    async def on_open() -> None:
        opened.append(echo_server.connections)
        await m.send_now('{"type":"session.update"}')

    m._on_open = on_open
    await m.connect()
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    assert await m.recycle("length cap")
    assert not await m.recycle("again")  # not connected right now: nothing to do
    await m.send('{"type":"during"}')  # kept for the new connection
    await wait_for(lambda: any(e.kind == "recycled" for e in events))
    assert loop.time() - t0 < 2.0
    await wait_for(lambda: b'echo:{"type":"during"}' in got)
    assert echo_server.connections == 2
    assert len(opened) == 2
    # on the new connection the session config went first, then the kept frame
    assert echo_server.received[-2:] == ['{"type":"session.update"}', '{"type":"during"}']
    recycled = next(e for e in events if e.kind == "recycled")
    assert recycled.reason == "length cap"
    assert not any(e.kind == "reconnecting" for e in events)
    assert m.stats.reconnects == 1
    await m.close()


def _make_certs(tmp: Path) -> tuple[Path, Path, Path]:
    """A throwaway CA and a server certificate for ``localhost`` signed by it."""
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command to make test certificates")

    def run(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=tmp, check=True, capture_output=True)

    ec = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes")
    run("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
        "-subj", "/CN=rtsdk test CA", "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign")  # fmt: skip
    run("req", *ec, "-keyout", "srv.key", "-out", "srv.csr", "-subj", "/CN=localhost")
    (tmp / "ext.cnf").write_text("subjectAltName=DNS:localhost\n")
    run("x509", "-req", "-in", "srv.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
        "-CAcreateserial", "-out", "srv.pem", "-days", "2", "-extfile", "ext.cnf")  # fmt: skip
    return tmp / "ca.pem", tmp / "srv.pem", tmp / "srv.key"


async def test_wss_verifies_the_server_certificate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ca, cert, key = _make_certs(tmp_path)
    server_tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_tls.load_cert_chain(cert, key)
    es = EchoServer()
    async with serve(
        es._handler,
        "127.0.0.1",
        0,
        process_request=es._process_request,
        compression=None,
        ssl=server_tls,
    ) as server:
        port = server.sockets[0].getsockname()[1]
        url = f"wss://localhost:{port}/v1/realtime?model=m"
        no_retry = {"reconnect": ReconnectPolicy(max_retries=0)}
        # not trusted: refused, and the reason says so
        monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "nothing.pem"))
        with pytest.raises(ConnectionClosedError, match=r"(?i)certificate"):
            await make_manager(url, [], [], **no_retry).connect()
        monkeypatch.setenv("SSL_CERT_FILE", str(ca))
        # trusted, but the name does not match the certificate: refused
        wrong_name = f"wss://127.0.0.1:{port}/v1/realtime?model=m"
        with pytest.raises(ConnectionClosedError, match=r"(?i)certificate|match|IP address"):
            await make_manager(wrong_name, [], [], **no_retry).connect()
        # trusted and the right name: a working link
        got: list[bytes] = []
        m = make_manager(url, got, [])
        await m.connect()
        assert await m.send('{"type":"over tls"}')
        await wait_for(lambda: got == [b'echo:{"type":"over tls"}'])
        await m.close()
        assert es.connections == 1

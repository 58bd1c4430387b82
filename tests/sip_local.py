"""Helpers of the local server's SIP tests: a webhook sink, a raw REST client, frame checks.

Everything here is independent of the server's own HTTP code: the sink is a bare asyncio
server, the REST client is ``http.client`` (run in a thread), and frames are checked against
the ``openai`` 3.57 types, strictly, with no key the types do not declare at any depth.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import json
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import websockets
from openai.types.live.connect_server_event import ConnectServerEvent
from openai.types.webhooks import (
    LiveCallIncomingWebhookEvent,
    LiveTransportIncomingWebhookEvent,
    RealtimeCallIncomingWebhookEvent,
)
from pydantic import BaseModel, TypeAdapter

from tests.conformance import SERVER_MODELS, model_extras

KEY = "sk-local-sip"
AUTH = {"Authorization": f"Bearer {KEY}"}
LIVE_MODEL = "gpt-live-1"

SIDEBAND_EVENT: TypeAdapter[Any] = TypeAdapter(ConnectServerEvent)
WEBHOOK_TYPES: dict[str, type[BaseModel]] = {
    "realtime.call.incoming": RealtimeCallIncomingWebhookEvent,
    "live.transport.incoming": LiveTransportIncomingWebhookEvent,
    "live.call.incoming": LiveCallIncomingWebhookEvent,
}


def no_extra(model: Any, where: str) -> None:
    """No key the types do not declare, at any depth of a parsed model."""
    extras = model_extras(model)
    assert not extras, f"{where}: keys the types do not know: {extras}"


def check_webhook(body: bytes) -> dict[str, Any]:
    event = json.loads(body)
    model = WEBHOOK_TYPES[event["type"]].model_validate_json(body, strict=True)
    no_extra(model, event["type"])
    return event


def check_live_sideband(frame: dict[str, Any]) -> None:
    """A frame of a GPT-Live sideband, against ``ConnectServerEvent``; reflected output carries
    its session times, reflected input none."""
    parsed = SIDEBAND_EVENT.validate_python(frame, strict=True)
    no_extra(parsed, frame["type"])
    if frame["type"] == "session.output_audio.delta":
        assert set(frame) == {"type", "delta", "start_ms", "end_ms"}, frame.keys()
        assert 0 <= frame["start_ms"] < frame["end_ms"]
    if frame["type"] == "session.input_audio.append":
        assert set(frame) == {"type", "audio"}


#: Keys the service's session object has beyond the GA types (as every local session sends).
SESSION_EXTRAS = {"session.object", "session.id", "session.expires_at"}


def check_realtime_sideband(frame: dict[str, Any]) -> None:
    """A frame of a Realtime sideband, against the GA server types; never output audio."""
    kind = frame["type"]
    assert kind in SERVER_MODELS, kind
    assert kind != "response.output_audio.delta", "call audio goes to the phone, not here"
    model = SERVER_MODELS[kind].model_validate_json(json.dumps(frame), strict=True)
    extras = set(model_extras(model)) - SESSION_EXTRAS
    assert not extras, f"{kind}: keys the types do not know: {sorted(extras)}"


def tone(ms: int, rate: int = 24000, amp: float = 0.3, freq: float = 300.0) -> bytes:
    t = np.arange(rate * ms // 1000) / rate
    return (np.sin(2 * np.pi * freq * t) * amp * 32767).astype("<i2").tobytes()


def level(raw: bytes | bytearray) -> float:
    """RMS of PCM16 audio (0..1)."""
    x = np.frombuffer(bytes(raw), dtype="<i2").astype(np.float64) / 32768
    return float(np.sqrt(np.mean(x**2))) if x.size else 0.0


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    at: float


@dataclass
class WebhookSink:
    """A bare HTTP server that keeps every POST and answers from ``statuses`` (then 200)."""

    statuses: list[int] = field(default_factory=list)
    seen: list[Received] = field(default_factory=list)
    server: asyncio.Server | None = None
    _new: asyncio.Event = field(default_factory=asyncio.Event)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            headers: dict[str, str] = {}
            for line in head.decode("latin-1").split("\r\n")[1:]:
                if ":" in line:
                    name, value = line.split(":", 1)
                    headers[name.strip().lower()] = value.strip()
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            self.seen.append(Received(headers, body, time.monotonic()))
            status = self.statuses.pop(0) if self.statuses else 200
            writer.write(
                f"HTTP/1.1 {status} X\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok".encode()
            )
            await writer.drain()
        finally:
            self._new.set()
            writer.close()

    async def __aenter__(self) -> WebhookSink:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.close()
        await self.server.wait_closed()

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}/webhook"

    async def wait(self, count: int, timeout: float = 5.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while len(self.seen) < count:
            left = deadline - time.monotonic()
            assert left > 0, f"{len(self.seen)} deliveries, wanted {count}"
            self._new.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._new.wait(), left)
        return list(self.seen)


def _request(
    port: int, method: str, path: str, body: Any, headers: dict[str, str], chunked: bool
) -> tuple[int, Any, dict[str, str]]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    data: bytes | None
    if body is None:
        data = None
    elif isinstance(body, bytes):
        data = body
    else:
        data = json.dumps(body).encode()
    sent = dict(headers)
    if data is not None:
        sent.setdefault("Content-Type", "application/json")
    if chunked:
        conn.request(method, path, body=iter([data or b""]), headers=sent, encode_chunked=True)
    else:
        conn.request(method, path, body=data, headers=sent)
    response = conn.getresponse()
    raw = response.read()
    conn.close()
    answer = json.loads(raw) if raw.strip() else None
    return response.status, answer, {k.lower(): v for k, v in response.getheaders()}


async def rest(
    port: int,
    path: str,
    body: Any = None,
    *,
    method: str = "POST",
    headers: dict[str, str] | None = None,
    chunked: bool = False,
) -> tuple[int, Any]:
    """One request with ``http.client`` (in a thread): the status and the JSON body (None
    when empty). ``headers`` default to the test key."""
    status, answer, _ = await asyncio.to_thread(
        _request, port, method, path, body, AUTH if headers is None else headers, chunked
    )
    return status, answer


def assert_error(
    answer: Any, code: str | None, param: str | None = None, *, type_: str | None = None
) -> dict[str, Any]:
    """The body is the service's error shape with this ``code`` (and ``param``)."""
    assert isinstance(answer, dict) and set(answer) == {"error"}, answer
    error = answer["error"]
    assert set(error) == {"type", "code", "message", "param"}, error
    assert error["code"] == code, error
    assert error["param"] == param, error
    if type_ is not None:
        assert error["type"] == type_, error
    assert isinstance(error["message"], str) and error["message"], error
    return error


class Sideband:
    """A raw websockets sideband reading in the background (every frame kept)."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.frames: list[dict[str, Any]] = []
        self._new = asyncio.Event()
        self._task = asyncio.get_running_loop().create_task(self._read())

    @classmethod
    async def attach(cls, url: str, headers: dict[str, str] | None = None) -> Sideband:
        ws = await websockets.connect(url, additional_headers=headers or AUTH, max_size=None)
        return cls(ws)

    async def _read(self) -> None:
        with contextlib.suppress(websockets.ConnectionClosed):
            async for message in self.ws:
                self.frames.append(json.loads(message))
                self._new.set()
        self._new.set()

    async def send(self, event: dict[str, Any]) -> None:
        await self.ws.send(json.dumps(event))

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [f for f in self.frames if f["type"] == kind]

    async def until(self, kind: str, n: int = 1, timeout: float = 5.0) -> dict[str, Any]:
        """The ``n``-th frame of ``kind`` (waiting for it)."""
        deadline = time.monotonic() + timeout
        while len(self.of(kind)) < n:
            left = deadline - time.monotonic()
            if left <= 0 or self._task.done():
                got = [f["type"] for f in self.frames if "audio" not in f["type"]]
                raise AssertionError(f"no {kind!r} #{n}: got {got}")
            self._new.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._new.wait(), left)
        return self.of(kind)[n - 1]

    async def closed(self, timeout: float = 5.0) -> int | None:
        await asyncio.wait_for(asyncio.shield(self._task), timeout)
        return self.ws.close_code

    async def close(self) -> None:
        await self.ws.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._task, 2)

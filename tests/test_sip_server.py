"""The SIP webhook server's HTTP side: every bad delivery gets a clear answer and no call.

The call control goes to a recording stand-in (tests/sip_fakes.py), so what the server did
about each delivery is visible: nothing, for every delivery it must refuse or ignore.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import time
from collections.abc import AsyncIterator

import pytest

from rtsdk import RealtimeAIOptions
from rtsdk.exceptions import ConfigurationError
from rtsdk.sip import CallControl, SipCall, SipCallHandler, SipServer, sign_webhook
from rtsdk.sip.http import HttpClient, HttpResponse

from .sip_fakes import FakeRest

SECRET = "whsec_" + base64.b64encode(b"s" * 32).decode()
WRONG = "whsec_" + base64.b64encode(b"w" * 32).decode()
KEY = "sk-test-server-key-0123456789"


def _incoming(kind: str, call_id: str) -> bytes:
    field = "call_id" if kind == "realtime.call.incoming" else "session_id"
    data: dict[str, object] = {field: call_id, "sip_headers": [{"name": "To", "value": "x"}]}
    if kind == "live.transport.incoming":
        data["type"] = "sip"
    event = {"id": "evt_1", "object": "event", "created_at": 1, "type": kind, "data": data}
    return json.dumps(event).encode()


class _Env:
    def __init__(self, server: SipServer, rest: FakeRest) -> None:
        self.server = server
        self.rest = rest
        self.http = HttpClient(timeout=5)

    async def post(
        self, body: bytes, headers: dict[str, str] | None = None, path: str = "/webhook"
    ) -> HttpResponse:
        return await self.http.request(
            "POST", self.server.url + path, headers=headers or {}, body=body
        )

    async def signed(
        self, body: bytes, webhook_id: str, *, secret: str = SECRET, age: int = 0
    ) -> HttpResponse:
        headers = sign_webhook(secret, webhook_id, body, timestamp=int(time.time()) - age)
        headers["Content-Type"] = "application/json"
        return await self.post(body, headers)


@pytest.fixture
async def env() -> AsyncIterator[_Env]:
    async with FakeRest() as rest:
        control = CallControl(api_key=KEY, api_base=rest.base)
        options = RealtimeAIOptions(api_key=KEY, model="gpt-realtime-2.1", max_retries=0)
        async with SipServer(options, secret=SECRET, control=control) as server:
            e = _Env(server, rest)
            yield e
            await e.http.close()


def _answer(response: HttpResponse) -> dict:
    return json.loads(response.body)


async def test_bad_deliveries_get_clear_answers_and_no_call(env: _Env) -> None:
    body = _incoming("realtime.call.incoming", "rtc_1")
    unsigned = await env.post(body, {"Content-Type": "application/json"})
    assert unsigned.status == 401 and "missing header(s): webhook-id" in _answer(unsigned)["error"]
    wrong = await env.signed(body, "wh_1", secret=WRONG)
    assert wrong.status == 401 and "no signature matches" in _answer(wrong)["error"]
    old = await env.signed(body, "wh_2", age=600)
    assert old.status == 401 and "s old (more than 300 s)" in _answer(old)["error"]
    not_json = await env.signed(b"<xml/>", "wh_3")
    assert not_json.status == 400 and _answer(not_json)["error"] == "the body is not JSON"
    malformed = await env.signed(b'{"type": "realtime.call.incoming", "data": {}}', "wh_4")
    assert malformed.status == 400 and "data.call_id" in _answer(malformed)["error"]
    again = await env.signed(b'{"type": "realtime.call.incoming", "data": {}}', "wh_4")
    assert again.status == 400  # its retry is answered the same, not as a duplicate
    other = await env.signed(
        json.dumps({"type": "batch.completed", "data": {"id": "b"}}).encode(), "wh_5"
    )
    assert other.status == 200
    assert _answer(other) == {"status": "ignored", "type": "batch.completed"}
    live = await env.signed(_incoming("live.transport.incoming", "live_1"), "wh_6")
    assert live.status == 200 and _answer(live)["status"] == "ignored"  # the other API's event
    health = await env.http.request("GET", env.server.url + "/healthz")
    assert health.status == 200
    assert _answer(health) == {"status": "ok", "calls": 0, "pid": os.getpid()}
    assert (await env.post(b"", path="/elsewhere")).status == 404
    assert (await env.http.request("GET", env.server.url + "/webhook")).status == 405
    big = await env.post(b"x" * (1 << 20 + 1), {"Content-Type": "application/json"})
    assert big.status == 413
    await asyncio.sleep(0.05)
    assert env.rest.seen == [] and env.server.calls == {}
    assert env.server.counts["refused"] == 6 and env.server.counts["ignored"] == 2


async def test_a_call_is_taken_once_and_one_nobody_can_steer_is_hung_up(env: _Env) -> None:
    """The escaped id reaches the accept; the stand-in has no sideband, so the attach fails
    and the call is hung up. A replayed delivery and a second delivery for the same call
    change nothing."""
    odd = "rtc_a/b c?d"
    body = _incoming("realtime.call.incoming", odd)
    first = await env.signed(body, "wh_10")
    assert first.status == 200 and _answer(first) == {"status": "accepted"}
    replay = await env.signed(body, "wh_10")
    assert replay.status == 200 and _answer(replay)["status"] == "duplicate"
    again = await env.signed(body, "wh_11")  # a new delivery id for the same call
    assert again.status == 200 and _answer(again) == {"status": "duplicate", "call": "seen"}
    for _ in range(300):
        if len(env.rest.seen) >= 3 and not env.server.calls:
            break
        await asyncio.sleep(0.01)
    assert env.rest.paths() == [
        "/v1/realtime/calls/rtc_a%2Fb%20c%3Fd/accept",
        "/v1/realtime",  # the sideband's upgrade request (?call_id=...), refused here
        "/v1/realtime/calls/rtc_a%2Fb%20c%3Fd/hangup",
    ]
    upgrade = env.rest.seen[1]
    assert upgrade.method == "GET" and upgrade.headers["upgrade"].lower() == "websocket"
    assert upgrade.headers["authorization"] == f"Bearer {KEY}"
    accept = env.rest.seen[0].json
    assert accept["type"] == "realtime" and accept["model"] == "gpt-realtime-2.1"
    assert env.server.counts == {
        "calls": 1,
        "ignored": 0,
        "duplicate": 2,
        "refused": 0,
        "finished": 1,
        "failed": 1,
    }


async def test_a_handler_decides_and_draining_refuses_new_deliveries() -> None:
    decided: list[str] = []

    class Screen(SipCallHandler):
        async def configure(self, call: SipCall, options: RealtimeAIOptions) -> None:
            assert call.incoming is not None
            if call.incoming.header("X-Route") == "sales":
                await call.reject(486)  # busy
            # else: None and no decision: declined with 603
            decided.append(call.id)

        def on_end(self, call: SipCall) -> None:
            decided.append(f"end {call.id} {call.ended_by}")

    async with FakeRest() as rest:
        control = CallControl(api_key=KEY, api_base=rest.base)
        options = RealtimeAIOptions(api_key=KEY, model="gpt-live-1")
        server = SipServer(options, secret=SECRET, control=control, handler_factory=Screen)
        async with server:
            env = _Env(server, rest)
            event = json.loads(_incoming("live.transport.incoming", "live_1"))
            event["data"]["sip_headers"] = [{"name": "x-route", "value": "sales"}]
            assert (await env.signed(json.dumps(event).encode(), "wh_1")).status == 200
            deprecated = _incoming("live.call.incoming", "live_2")
            assert (await env.signed(deprecated, "wh_2")).status == 200
            await server.drain(5)
            assert server.draining
            # the port is closed; a connection still open gets 503s (and is closed)
            health = await env.http.request("GET", server.url + "/healthz")
            assert health.status == 503 and _answer(health)["status"] == "draining"
            await env.http.close()
    assert rest.paths() == [
        "/v1/live/sessions/live_1/reject",
        "/v1/live/sessions/live_2/reject",
    ]
    assert rest.seen[0].json == {"status_code": 486}
    assert rest.seen[1].json == {"status_code": 603}
    assert sorted(decided) == [
        "end live_1 rejected",
        "end live_2 rejected",
        "live_1",
        "live_2",
    ]


def test_no_secret_no_server() -> None:
    options = RealtimeAIOptions(api_key=KEY)
    control = CallControl(api_key=KEY, api_base="http://127.0.0.1:9/v1")
    with pytest.raises(ConfigurationError, match="needs the webhook secret"):
        SipServer(options, secret="", control=control)
    with pytest.raises(ConfigurationError, match="Realtime or GPT-Live"):
        SipServer(
            RealtimeAIOptions(api_key=KEY, session_type="transcription"),
            secret=SECRET,
            control=control,
        )


async def test_a_handler_that_fails_before_deciding_has_the_call_rejected_480() -> None:
    errors: list[str] = []

    class Broken(SipCallHandler):
        def configure(self, call: SipCall, options: RealtimeAIOptions) -> RealtimeAIOptions:
            raise LookupError("no such customer")

        def on_error(self, call: SipCall, error: BaseException) -> None:
            errors.append(f"{type(error).__name__}: {error}")

    async with FakeRest() as rest:
        control = CallControl(api_key=KEY, api_base=rest.base)
        options = RealtimeAIOptions(api_key=KEY, model="gpt-realtime-2.1")
        async with SipServer(options, secret=SECRET, control=control, handler_factory=Broken) as s:
            env = _Env(s, rest)
            answer = await env.signed(_incoming("realtime.call.incoming", "rtc_9"), "wh_9")
            assert answer.status == 200
            for _ in range(200):
                if not s.calls and rest.seen:
                    break
                await asyncio.sleep(0.01)
            await env.http.close()
    assert errors == ["LookupError: no such customer"]
    assert rest.paths() == ["/v1/realtime/calls/rtc_9/reject"]
    assert rest.seen[0].json == {"status_code": 480}
    assert s.counts["failed"] == 1 and s.counts["finished"] == 1


async def test_the_http_front_refuses_malformed_and_trickled_requests(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from rtsdk.sip import httpd

    monkeypatch.setattr(httpd, "_REQUEST_TIMEOUT", 0.3)
    seen: list[tuple[str, str, bytes]] = []

    async def app(method: str, path: str, headers: dict, body: bytes) -> tuple[int, str, bytes]:
        seen.append((method, path, body))
        return 200, "text/plain", b"ok"

    server = httpd.HttpServer(app)
    await server.start()

    async def exchange(raw: bytes, wait: float = 2.0) -> bytes:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(raw)
        await writer.drain()
        try:
            return await asyncio.wait_for(reader.read(), wait)
        finally:
            writer.close()

    assert (await exchange(b"GARBAGE\r\n\r\n")).startswith(b"HTTP/1.1 400 ")
    assert (await exchange(b"GET / HTTP/1.1\r\nno colon\r\n\r\n")).startswith(b"HTTP/1.1 400 ")
    big = b"GET / HTTP/1.1\r\n" + b"".join(b"X-%d: %s\r\n" % (i, b"v" * 500) for i in range(80))
    assert (await exchange(big + b"\r\n")).startswith(b"HTTP/1.1 431 ")
    chunked = b"POST /webhook HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
    assert (await exchange(chunked)).startswith(b"HTTP/1.1 411 ")
    assert (await exchange(b"POST / HTTP/1.1\r\nContent-Length: -4\r\n\r\n")).startswith(
        b"HTTP/1.1 400 "
    )
    # a request trickled in is dropped without an answer once its time is up
    assert await exchange(b"POST /webhook HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc") == b""
    # two requests on one connection, then HTTP/1.0 closes it
    two = (
        b"POST /a HTTP/1.1\r\nContent-Length: 1\r\n\r\nx"
        b"POST /b?q=1 HTTP/1.0\r\nContent-Length: 2\r\n\r\nyz"
    )
    answer = await exchange(two)
    assert answer.count(b"HTTP/1.1 200 OK") == 2 and answer.endswith(b"ok")
    assert b"Connection: keep-alive" in answer and b"Connection: close" in answer
    assert seen == [("POST", "/a", b"x"), ("POST", "/b", b"yz")]
    await server.close()

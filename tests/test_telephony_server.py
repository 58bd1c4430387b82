"""The phone server's HTTP side (the TwiML webhook), its command line and the local demo."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import os
import re
import signal
import subprocess
import sys
import wave
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import numpy as np
import pytest

from rtsdk.session.options import RealtimeAIOptions
from rtsdk.telephony import PhoneServer, twiml_connect_stream
from rtsdk.telephony.cli import phone_main
from rtsdk.telephony.signature import (
    body_hash_valid,
    read_webhook_body,
    signature_for,
    signature_valid,
)
from rtsdk.testing import LocalRealtimeServer
from rtsdk.testing.caller import SimulatedCaller
from tests.conftest import NO_EXTENSIONS

try:
    import picows  # noqa: F401

    HAVE_PICOWS = True
except ImportError:
    HAVE_PICOWS = False
needs_picows = pytest.mark.skipif(not HAVE_PICOWS, reason="picows is not installed")

only_compiled = pytest.mark.skipif(
    NO_EXTENSIONS, reason="process handling, not the kernels: run once, compiled"
)


@pytest.fixture
async def phone() -> AsyncIterator[PhoneServer]:
    opts = RealtimeAIOptions(url="ws://127.0.0.1:9/v1/realtime", api_key=None)
    async with PhoneServer(opts) as srv:
        yield srv


async def http(srv: PhoneServer, request: bytes) -> tuple[int, dict[str, str], str]:
    reader, writer = await asyncio.open_connection("127.0.0.1", srv.port)
    writer.write(request)
    await writer.drain()
    raw = await asyncio.wait_for(reader.read(), 5)
    writer.close()
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return status, headers, body.decode()


def parse_twiml(body: str) -> tuple[str, dict[str, str]]:
    root = ET.fromstring(body)
    assert root.tag == "Response"
    stream = root.find("Connect/Stream")
    assert stream is not None
    params = {p.get("name", ""): p.get("value", "") for p in stream.findall("Parameter")}
    return stream.get("url", ""), params


def test_twiml_document_escapes_what_it_quotes() -> None:
    doc = twiml_connect_stream("wss://h/media?a=1&b=2", {"n": '<"&>'})
    url, params = parse_twiml(doc)
    assert url == "wss://h/media?a=1&b=2"
    assert params == {"n": '<"&>'}
    assert doc.startswith('<?xml version="1.0" encoding="UTF-8"?>')


async def test_webhook_get_answers_connect_stream(phone: PhoneServer) -> None:
    status, headers, body = await http(
        phone,
        b"GET /twiml?lang=fr&From=%2B15550100&AccountSid=AC1 HTTP/1.1\r\n"
        b"Host: calls.example.com\r\nConnection: close\r\n\r\n",
    )
    assert status == 200
    assert headers["content-type"].startswith("text/xml")
    url, params = parse_twiml(body)
    assert url == "wss://calls.example.com/media"
    assert params == {"lang": "fr", "from": "+15550100"}


async def test_webhook_post_form_fields_become_parameters(phone: PhoneServer) -> None:
    form = urlencode(
        {"CallSid": "CA1", "From": "+15550100", "To": "+15550199", "AccountSid": "AC1"}
    ).encode()
    request = (
        b"POST /twiml?tenant=acme HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\nX-Forwarded-Proto: http\r\n"
        b"Content-Length: " + str(len(form)).encode() + b"\r\nConnection: close\r\n\r\n"
    )
    # the body arrives in a separate segment, as it may
    reader, writer = await asyncio.open_connection("127.0.0.1", phone.port)
    writer.write(request)
    await writer.drain()
    await asyncio.sleep(0.05)
    writer.write(form)
    raw = await asyncio.wait_for(reader.read(), 5)
    writer.close()
    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200")
    url, params = parse_twiml(body.decode())
    assert url == "ws://127.0.0.1/media"
    assert params == {"tenant": "acme", "from": "+15550100", "to": "+15550199"}


async def test_public_url_and_unknown_paths() -> None:
    opts = RealtimeAIOptions(url="ws://127.0.0.1:9/v1/realtime", api_key=None)
    async with PhoneServer(opts, public_url="wss://voice.example.org/") as srv:
        status, _, body = await http(srv, b"GET /twiml HTTP/1.1\r\nHost: x\r\n\r\n")
        assert status == 200
        assert parse_twiml(body)[0] == "wss://voice.example.org/media"
        status, _, _ = await http(srv, b"GET /nothing HTTP/1.1\r\nHost: x\r\n\r\n")
        assert status == 404
        too_big = b"POST /twiml HTTP/1.1\r\nHost: x\r\nContent-Length: 999999\r\n\r\n"
        status, _, _ = await http(srv, too_big)
        assert status == 413


def _wav(path: Path, seconds: float) -> None:
    t = np.arange(int(16000 * seconds)) / 16000
    x = (8000 * np.sin(2 * np.pi * 300 * t) * (np.sin(2 * np.pi * 3 * t) > 0)).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(x.tobytes())


@only_compiled
@pytest.mark.parametrize("loop", ["asyncio", "uvloop"])
def test_the_local_demo(tmp_path: Path, capsys: pytest.CaptureFixture[str], loop: str) -> None:
    """A whole call (caller, bridge, local server) on either event loop: uvloop's transports
    are not asyncio.Transport subclasses, and its reads must be restarted for the media
    stream's protocol after the HTTP front hands the connection over."""
    if loop == "uvloop":
        pytest.importorskip("uvloop")
    wav = tmp_path / "say.wav"
    _wav(wav, 1.2)
    out = tmp_path / "heard.wav"
    assert phone_main(["--demo", "--loop", loop, "--wav", str(wav), "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "0 errors" in text and "ended by stop" in text
    with wave.open(str(out)) as w:
        assert w.getframerate() == 8000 and w.getnframes() > 8000


_LOUD = bytes([0x8F, 0x0F] * 400)  # 100 ms the server's VAD takes for speech


def _phone_command(*args: str, new_session: bool = False) -> subprocess.Popen[str]:
    """``python -m rtsdk phone ARGS`` (no API key: the local server), stdout piped."""
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    env.pop("OPENAI_API_KEY", None)
    env.pop("AZURE_OPENAI_API_KEY", None)
    return subprocess.Popen(
        [sys.executable, "-m", "rtsdk", "phone", *args],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
        start_new_session=new_session,
    )


def _line_reader(proc: subprocess.Popen[str]) -> Callable[[], Awaitable[str]]:
    """An awaitable ``readline`` of the command's output (30 s at most per line)."""
    assert proc.stdout is not None
    readline = proc.stdout.readline

    async def next_line() -> str:
        loop = asyncio.get_running_loop()
        return await asyncio.wait_for(loop.run_in_executor(None, readline), 30)

    return next_line


def _close_output(proc: subprocess.Popen[str]) -> None:
    if proc.stdout is not None:
        proc.stdout.close()


@only_compiled
async def test_workers_share_one_port() -> None:
    proc = _phone_command("--port", "0", "--workers", "2", "--local")
    next_line = _line_reader(proc)
    try:
        lines = [await next_line(), await next_line()]
        ports = {re.search(r"ws://127\.0\.0\.1:(\d+)/media", line).group(1) for line in lines}  # type: ignore[union-attr]
        assert len(ports) == 1, lines
        url = f"ws://127.0.0.1:{ports.pop()}/media"
        callers = [SimulatedCaller(url) for _ in range(4)]
        for c in callers:
            await c.start()
            c.say(_LOUD)
        for c in callers:
            await c.wait_heard(50, timeout=15)
            await c.hang_up()
    finally:
        proc.send_signal(signal.SIGTERM)
        status = await asyncio.get_running_loop().run_in_executor(None, proc.wait, 20)
        _close_output(proc)
    assert status == 0


def test_signature_matches_the_published_example() -> None:
    form = {
        "CallSid": "CA1234567890ABCDE",
        "Caller": "+14158675309",
        "Digits": "1234",
        "From": "+14158675309",
        "To": "+18005551212",
    }
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    assert signature_for("12345", url, form.items()) == "RSOYDt4T1cUTdK1PDd93/VVr8B8="
    assert signature_valid("12345", "RSOYDt4T1cUTdK1PDd93/VVr8B8=", [url], form.items())
    assert not signature_valid("12346", "RSOYDt4T1cUTdK1PDd93/VVr8B8=", [url], form.items())
    assert not signature_valid("12345", None, [url], form.items())


def _signed_json(token: str, url: str, body: bytes) -> tuple[str, str]:
    """(the URL with its bodySHA256, its signature), computed here from the HMAC definition."""
    signed_url = (
        url + ("&" if "?" in url else "?") + "bodySHA256=" + hashlib.sha256(body).hexdigest()
    )
    mac = hmac.new(token.encode(), signed_url.encode(), hashlib.sha1).digest()
    return signed_url, base64.b64encode(mac).decode()


def test_a_json_body_is_signed_through_its_hash_in_the_url() -> None:
    body = b'{"CallSid":"CA1","From":"+15550100","Digits":7}'
    url, sig = _signed_json("tok", "https://voice.example.org/twiml?x=1", body)
    assert body_hash_valid(url, body)
    assert signature_valid("tok", sig, [url], [], json_body=body)
    # the body's fields are not part of the signature: passing them changes nothing
    assert signature_valid("tok", sig, [url], [("From", "+15550100")], json_body=body)
    assert not signature_valid("tok", sig, [url], [], json_body=body + b" ")  # body changed
    assert not signature_valid("other", sig, [url], [], json_body=body)
    bare = "https://voice.example.org/twiml?x=1"
    assert not body_hash_valid(bare, body)  # no hash: refused even under a valid signature
    assert not signature_valid("tok", signature_for("tok", bare), [bare], [], json_body=body)
    assert not body_hash_valid(url + "&bodySHA256=00", body)  # two hashes: ambiguous
    assert read_webhook_body(body, "application/json; charset=utf-8") == (
        [("CallSid", "CA1"), ("From", "+15550100")],
        body,
    )
    assert read_webhook_body(b"[1]", "application/json") == ([], b"[1]")
    assert read_webhook_body(b"not json", "application/json") == ([], b"not json")
    assert read_webhook_body(b"From=%2B1&To=2", "application/x-www-form-urlencoded") == (
        [("From", "+1"), ("To", "2")],
        None,
    )


@pytest.mark.parametrize("engine", [pytest.param("picows", marks=needs_picows), "websockets"])
async def test_a_signed_json_webhook_is_answered_and_a_tampered_one_refused(engine: str) -> None:
    opts = RealtimeAIOptions(url="ws://127.0.0.1:9/v1/realtime", api_key=None)
    async with PhoneServer(
        opts, public_url="wss://voice.example.org", auth_token="tok", engine=engine
    ) as srv:
        body = b'{"From":"+15550100","To":"+15550199","CallSid":"CA7"}'
        url, sig = _signed_json("tok", "https://voice.example.org/twiml?lang=fr", body)
        target = url.removeprefix("https://voice.example.org").encode()

        def post(payload: bytes) -> bytes:
            return (
                b"POST " + target + b" HTTP/1.1\r\nHost: x\r\nContent-Type: application/json"
                + b"\r\nX-Twilio-Signature: " + sig.encode()
                + b"\r\nContent-Length: " + str(len(payload)).encode() + b"\r\n\r\n" + payload
            )  # fmt: skip

        status, _, answer = await http(srv, post(body))
        assert status == 200
        params = parse_twiml(answer)[1]
        assert params == {"from": "+15550100", "to": "+15550199", "lang": "fr"}
        status, _, _ = await http(srv, post(body.replace(b"0100", b"0666")))
        assert status == 403


@pytest.mark.parametrize("engine", [pytest.param("picows", marks=needs_picows), "websockets"])
async def test_with_an_auth_token_only_signed_requests_get_in(engine: str) -> None:
    opts = RealtimeAIOptions(url="ws://127.0.0.1:9/v1/realtime", api_key=None)
    base = "wss://voice.example.org"
    async with PhoneServer(
        opts, public_url=base, auth_token="tok", engine=engine, start_timeout=0.3
    ) as srv:
        status, _, _ = await http(srv, b"GET /twiml?x=1 HTTP/1.1\r\nHost: x\r\n\r\n")
        assert status == 403
        sig = signature_for("tok", "https://voice.example.org/twiml?x=1").encode()
        request = b"GET /twiml?x=1 HTTP/1.1\r\nHost: x\r\nX-Twilio-Signature: " + sig
        status, _, body = await http(srv, request + b"\r\n\r\n")
        assert status == 200 and parse_twiml(body)[1] == {"x": "1"}
        form = urlencode({"From": "+15550100", "CallSid": "CA9"}).encode()
        sig = signature_for(
            "tok", "https://voice.example.org/twiml", [("From", "+15550100"), ("CallSid", "CA9")]
        ).encode()
        status, _, _ = await http(
            srv,
            b"POST /twiml HTTP/1.1\r\nHost: x\r\nX-Twilio-Signature: " + sig
            + b"\r\nContent-Length: " + str(len(form)).encode() + b"\r\n\r\n" + form,
        )  # fmt: skip
        assert status == 200
        with pytest.raises(Exception, match="403"):
            await SimulatedCaller(srv.url + "/media").start()
        signed = {"X-Twilio-Signature": signature_for("tok", base + "/media")}
        caller = SimulatedCaller(srv.url + "/media", headers=signed)
        await caller.start()  # let in (the session then fails: nothing listens on port 9)
        await caller.hang_up()


@needs_picows
async def test_the_front_refuses_what_is_not_a_webhook_or_a_stream(phone: PhoneServer) -> None:
    assert phone.engine == "picows"
    status, _, _ = await http(phone, b"NONSENSE\r\n\r\n")
    assert status == 400
    status, _, _ = await http(phone, b"DELETE /twiml HTTP/1.1\r\nHost: x\r\n\r\n")
    assert status in (404, 405)
    status, _, _ = await http(phone, b"GET /twiml HTTP/1.1\r\nX-Big: " + b"a" * 20000 + b"\r\n\r\n")
    assert status in (400, 431)
    # a plain GET on the media path is not a WebSocket upgrade: refused, nothing started
    status, _, _ = await http(phone, b"GET /media HTTP/1.1\r\nHost: x\r\n\r\n")
    assert status in (400, 426)
    assert phone.calls == set()


async def _until(pred: Any, timeout: float, what: str) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not pred():
        assert loop.time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.02)


async def _still_bridged(caller: SimulatedCaller) -> None:
    """The call is still bridged: a new utterance gets a reply of its own (more than what is
    left of an earlier one: those are 100 ms at most)."""
    heard = caller.heard_ms
    caller.say(_LOUD * 3)
    await _until(lambda: caller.heard_ms >= heard + 200, 15, "a reply to the new utterance")


@only_compiled
@pytest.mark.parametrize("engine", [pytest.param("picows", marks=needs_picows), "websockets"])
async def test_drain_takes_no_new_calls_and_lets_live_ones_end(engine: str) -> None:
    async with LocalRealtimeServer(pacing="realtime") as rt:
        opts = RealtimeAIOptions(url=rt.url, api_key=None, max_retries=0)
        async with PhoneServer(opts, engine=engine) as srv:
            async with SimulatedCaller(srv.url + "/media") as caller:
                await _until(lambda: srv.calls, 10, "the call")
                assert await srv.drain(0) == 1  # port closed; the call is live
                assert srv.draining and "draining" in repr(srv)
                with pytest.raises(OSError):
                    await asyncio.open_connection("127.0.0.1", srv.port)
                await _still_bridged(caller)
                assert await srv.drain(0.2) == 1  # (timed out: still live)
                waiting = asyncio.create_task(srv.drain(30))
                await asyncio.sleep(0.2)
                assert not waiting.done()
            # the caller hung up with 'stop': the drain is over, nothing was cut off
            assert await asyncio.wait_for(waiting, 10) == 0
            assert srv.finished == 1 and not caller.closed_by_bridge
        assert not srv.draining


@only_compiled
@pytest.mark.parametrize("engine", [pytest.param("picows", marks=needs_picows), "websockets"])
async def test_stop_after_a_drain_hangs_up_the_calls_left(engine: str) -> None:
    async with LocalRealtimeServer(pacing="realtime") as rt:
        opts = RealtimeAIOptions(url=rt.url, api_key=None, max_retries=0)
        srv = PhoneServer(opts, engine=engine)
        await srv.start()
        caller = SimulatedCaller(srv.url + "/media")
        await caller.start()
        try:
            await _until(lambda: srv.calls, 10, "the call")
            assert await srv.drain(0.1) == 1
            await srv.stop()
            await caller.wait_closed(10)
            assert caller.closed_by_bridge and srv.calls == set() and srv.finished == 1
            with pytest.raises(RuntimeError, match="not started"):
                await srv.drain(1)
        finally:
            await caller.hang_up()
            await srv.stop()


@only_compiled
@pytest.mark.parametrize("workers", [1, 2], ids=["one-process", "workers-signalled-as-a-group"])
async def test_the_command_drains_on_the_first_signal_and_hangs_up_on_the_second(
    workers: int,
) -> None:
    """With ``--workers``, Ctrl-C reaches the launcher and its workers at once and the launcher
    forwards it: each worker takes the pair as one request, and drains."""
    argv = ["--port", "0", "--local", "--drain", "60"]
    if workers > 1:
        argv += ["--workers", str(workers)]
    proc = _phone_command(*argv, new_session=True)  # a process group of its own, as in a shell

    def stop_request() -> None:
        if workers > 1:
            os.killpg(proc.pid, signal.SIGINT)  # as Ctrl-C in a shell
        else:
            proc.send_signal(signal.SIGTERM)  # as a process manager

    next_line = _line_reader(proc)
    loop = asyncio.get_running_loop()
    caller = None
    try:
        lines = [await next_line() for _ in range(workers)]
        found = re.search(r"(ws://127\.0\.0\.1:\d+)/media", lines[0])
        assert found is not None
        caller = SimulatedCaller(found.group(1) + "/media")
        await caller.start()
        caller.say(_LOUD)
        await caller.wait_heard(50, timeout=15)
        stop_request()
        assert "draining: 1 live calls" in await next_line()
        await _still_bridged(caller)
        assert proc.poll() is None and not caller.closed_by_bridge
        await asyncio.sleep(0.5)  # (a signal within 0.5 s of the first counts as the same)
        stop_request()  # the second: hang up now
        assert "hanging up 1 calls" in await next_line()
        await caller.wait_closed(10)
        status = await loop.run_in_executor(None, proc.wait, 20)
    finally:
        if caller is not None:
            await caller.hang_up()
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        _close_output(proc)
    assert status == 0


def test_the_command_refuses_a_negative_drain(capsys: pytest.CaptureFixture[str]) -> None:
    assert phone_main(["--drain", "-1"]) == 2
    assert "--drain must be >= 0" in capsys.readouterr().err

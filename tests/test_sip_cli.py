"""``python -m rtsdk sip``: refuses to start without a secret or key; serves, drains on
SIGTERM (a live call goes on until it ends), and runs as several workers on one port."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys

import pytest

from rtsdk.sip.cli import sip_main
from rtsdk.sip.http import HttpClient
from rtsdk.testing import SipOptions
from rtsdk.testing.sip_webhook import new_webhook_secret
from tests.conftest import REALTIME_ONCE

from .sip_stack import KEY, fast_sip_server
from .test_sip_calls import tone

pytestmark = pytest.mark.timeout(60)


def test_no_secret_no_key_no_server(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("OPENAI_WEBHOOK_SECRET", "OPENAI_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    assert sip_main(["--port", "0"]) == 2
    assert "no webhook secret: set OPENAI_WEBHOOK_SECRET" in capsys.readouterr().err
    monkeypatch.setenv("OPENAI_WEBHOOK_SECRET", "whsec_!!!")
    assert sip_main(["--port", "0"]) == 2
    err = capsys.readouterr().err
    assert "is not base64" in err and "!!!" not in err
    monkeypatch.setenv("OPENAI_WEBHOOK_SECRET", new_webhook_secret())
    assert sip_main(["--port", "0"]) == 2
    assert "no API key" in capsys.readouterr().err
    assert sip_main(["--port", "0", "--model", "gpt-realtime-translate"]) == 2
    assert sip_main(["--workers", "0"]) == 2
    assert sip_main(["--drain", "-1"]) == 2


def _start(args: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "rtsdk", "sip", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


async def _line(proc: subprocess.Popen[str]) -> str:
    assert proc.stdout is not None
    return (await asyncio.to_thread(proc.stdout.readline)).strip()


@REALTIME_ONCE  # the server, not the kernels: once, on the compiled ones
async def test_serve_a_call_then_drain_on_sigterm() -> None:
    secret = new_webhook_secret()
    server = fast_sip_server(secret)
    async with server:
        env = dict(
            os.environ,
            OPENAI_WEBHOOK_SECRET=secret,
            OPENAI_API_KEY=KEY,
            OPENAI_BASE_URL=f"http://127.0.0.1:{server.port}/v1",
        )
        proc = _start(
            ["--model", "gpt-live-1", "--instructions", "Be brief.", "--drain", "20"], env
        )
        try:
            line = await _line(proc)
            assert line.startswith("sip server: webhook http://127.0.0.1:"), line
            assert "(GPT-Live gpt-live-1, http://127.0.0.1:" in line
            webhook = line.split()[3]
            server.sip.options = SipOptions(
                webhook_url=webhook, webhook_secret=secret, retry_delays=(), caller_pacing="fast"
            )
            phone = await server.sip.incoming_call()
            await phone.wait_state("accepted", timeout=15)
            assert phone.api == "live" and phone.line is not None
            assert phone.line.session["instructions"] == "Be brief."
            proc.send_signal(signal.SIGTERM)
            assert (await _line(proc)).startswith("draining: 1 live calls, up to 20 s")
            phone.say(tone(0.5))  # the drained call still talks
            await phone.wait_recording(200, timeout=15)
            http = HttpClient(timeout=2)
            with pytest.raises(Exception, match="cannot reach"):  # the port is closed
                await http.request("GET", webhook.replace("/webhook", "/healthz"))
            phone.hangup()
            out, err = await asyncio.to_thread(proc.communicate, timeout=20)
            assert proc.returncode == 0, err
            assert "hanging up" not in out  # the call ended by itself
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


@pytest.mark.skipif(not hasattr(signal, "SIGTERM"), reason="POSIX signals")
@REALTIME_ONCE  # the server, not the kernels: once, on the compiled ones
async def test_workers_share_the_port() -> None:
    env = dict(os.environ, OPENAI_WEBHOOK_SECRET=new_webhook_secret(), OPENAI_API_KEY=KEY)
    proc = _start(["--workers", "2", "--api-base", "http://127.0.0.1:9/v1"], env)
    try:
        line = await _line(proc)
        assert line.startswith("sip server: webhook http://127.0.0.1:"), line
        health = line.split()[5]
        pids = set()
        for _ in range(20):  # a new connection each: the kernel spreads them over the workers
            http = HttpClient(timeout=5)
            answer = await http.request("GET", health)
            await http.close()
            assert answer.status == 200
            pids.add(json.loads(answer.body)["pid"])
        assert len(pids) == 2 and proc.pid not in pids  # both workers; not the launcher
        proc.send_signal(signal.SIGTERM)
        _, err = await asyncio.to_thread(proc.communicate, timeout=20)
        assert proc.returncode == 0, err
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()

"""``python -m rtsdk serve`` with its SIP options: webhooks to a URL, calls rung from the
command line and from the test hook, the REST and a sideband on the same port."""

from __future__ import annotations

import asyncio
import os
import sys
import wave
from pathlib import Path

import pytest
from openai import OpenAI

from rtsdk.testing import new_webhook_secret
from rtsdk.testing.cli import serve_main
from tests.conftest import REALTIME_ONCE
from tests.sip_local import LIVE_MODEL, Sideband, WebhookSink, rest, tone

ROOT = Path(__file__).resolve().parents[1]
SERVE = "import sys; from rtsdk.testing.cli import serve_main; sys.exit(serve_main())"


def write_wav(path: Path, pcm: bytes, rate: int = 16000) -> None:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(pcm)


@REALTIME_ONCE  # a server process: it tests the server, not the kernels
async def test_serve_rings_calls_that_post_signed_webhooks(tmp_path: Path) -> None:
    secret = new_webhook_secret()
    wav = tmp_path / "caller.wav"
    write_wav(wav, tone(500, rate=16000))
    async with WebhookSink() as sink:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-c", SERVE, "--port", "0", "--pacing", "fast",
            "--sip-webhook", sink.url, "--sip-call", str(wav), "--sip-call-delay", "0",
            "--sip-caller-pacing", "fast", "--sip-retries", "0", "--api-key", "sk-local-sip",
            cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            env={**os.environ, "PYTHONUNBUFFERED": "1", "OPENAI_WEBHOOK_SECRET": secret},
        )  # fmt: skip
        assert proc.stdout is not None
        try:
            lines = [
                (await asyncio.wait_for(proc.stdout.readline(), 20)).decode() for _ in range(5)
            ]
            url = lines[0].strip()
            port = int(url.split(":")[2].split("/")[0])
            assert lines[3].startswith(f"SIP: webhooks to {sink.url}; ring a call: POST http://")
            assert "/rtsdk/sip/calls" in lines[3] and "rings (" in lines[4]
            seen = await sink.wait(2)
            client = OpenAI(api_key="unused", webhook_secret=secret)
            events = {e.type: e for e in (client.webhooks.unwrap(r.body, r.headers) for r in seen)}
            session_id = events["live.transport.incoming"].data.session_id
            body = {"session": {"type": "live", "model": LIVE_MODEL}}
            assert await rest(port, f"/v1/live/sessions/{session_id}/accept", body) == (200, None)
            sideband = await Sideband.attach(
                f"ws://127.0.0.1:{port}/v1/live/sessions/{session_id}/attach"
            )
            heard = await sideband.until("session.input_transcript.delta")
            assert 480 <= heard["end_ms"] - heard["start_ms"] <= 540  # the WAV (16 -> 24 kHz)
            status, state = await rest(port, f"/rtsdk/sip/calls/{session_id}", method="GET")
            assert status == 200 and state["state"] == "accepted" and state["api"] == "live"
            assert [d["status"] for d in state["deliveries"]] == [200, 200]
            # the test hook: DTMF, the caller's hangup, another call
            assert (await rest(port, f"/rtsdk/sip/calls/{session_id}/dtmf", {"digits": "4"}))[
                0
            ] == 200
            assert (await sideband.until("transport.dtmf.received"))["event"] == "4"
            status, state = await rest(port, f"/rtsdk/sip/calls/{session_id}/hangup")
            assert status == 200 and state["state"] == "ended" and state["ended_by"] == "caller"
            assert (await sideband.until("session.closed"))["reason"] == "remote_hangup"
            status, ids = await rest(
                port, "/rtsdk/sip/calls", {"audio": str(wav), "from": "+4930123"}
            )
            assert status == 200 and ids["call_id"].startswith("rtc_")
            third = await sink.wait(4)
            assert "+4930123" in third[-1].body.decode()
            status, answer = await rest(
                port, "/rtsdk/sip/calls", {"audio": str(tmp_path / "none.wav")}
            )
            assert status == 400 and answer["error"]["code"] == "invalid_request"
            status, answer = await rest(port, "/rtsdk/sip/calls", {"bogus": 1})
            assert status == 400 and answer["error"]["param"] == "bogus"
            status, _ = await rest(port, "/rtsdk/sip/calls", {}, headers={})
            assert status == 401
        finally:
            proc.terminate()
            _, err = await asyncio.wait_for(proc.communicate(), 20)
        assert proc.returncode == 0, err
        assert secret not in err.decode()


def test_serve_refuses_bad_sip_options(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_WEBHOOK_SECRET", raising=False)
    assert serve_main(["--sip-webhook", "http://127.0.0.1:9/x"]) == 2  # no secret
    assert serve_main(["--sip-webhook", "http://127.0.0.1:9/x", "--sip-secret", "nope"]) == 2
    assert serve_main(["--sip-webhook", "ftp://x", "--sip-secret", new_webhook_secret()]) == 2
    assert serve_main(["--sip-call", str(tmp_path / "missing.wav")]) == 2
    assert serve_main(["--sip-retries", "99"]) == 2
    secret = ["--sip-secret", new_webhook_secret()]
    assert serve_main(["--sip-webhook", "http://127.0.0.1:9/x", *secret, "--workers", "2"]) == 2

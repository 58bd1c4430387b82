"""``serve_main`` (``python -m rtsdk serve``) as a subprocess, and the server on a thread."""

from __future__ import annotations

import contextlib
import json
import os
import re
import selectors
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from websockets.sync.client import connect

from rtsdk.testing import LocalRealtimeServer
from rtsdk.testing.cli import serve_main

ROOT = Path(__file__).resolve().parents[1]
SERVE = "import sys; from rtsdk.testing.cli import serve_main; sys.exit(serve_main())"


def _readline(proc: subprocess.Popen[str], timeout: float = 20.0) -> str:
    assert proc.stdout is not None
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ)
        if not sel.select(timeout):
            proc.kill()
            raise AssertionError(f"no output within {timeout} s: {proc.communicate()}")
    return proc.stdout.readline().strip()


def _serve(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", SERVE, "--port", "0", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


@contextlib.contextmanager
def served(*args: str) -> Iterator[str]:
    """``python -m rtsdk serve --port 0 ARGS...`` in a subprocess: yields its URL, then stops it
    with SIGTERM and checks it exited 0."""
    proc = _serve(*args)
    try:
        yield _readline(proc)
        proc.terminate()
        _, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err


def _text_turn(url: str, headers: dict[str, str]) -> list[str]:
    with connect(url, additional_headers=headers, max_size=None) as ws:
        types = [json.loads(ws.recv(5))["type"]]
        item = {
            "type": "message",
            "role": "user",
            "content": [{"type": "input_text", "text": "hi"}],
        }
        ws.send(json.dumps({"type": "conversation.item.create", "item": item}))
        ws.send(
            json.dumps({"type": "response.create", "response": {"output_modalities": ["text"]}})
        )
        while types[-1] != "response.done":
            types.append(json.loads(ws.recv(5))["type"])
    return types


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_serve_prints_the_url_serves_and_exits_0_on_a_signal(sig: signal.Signals) -> None:
    proc = _serve("--api-key", "sk-cli", "--pacing", "fast")
    try:
        url = _readline(proc)
        assert re.fullmatch(r"ws://127\.0\.0\.1:\d+/v1/realtime", url), url
        types = _text_turn(f"{url}?model=gpt-realtime-1.5", {"Authorization": "Bearer sk-cli"})
        assert types[0] == "session.created" and types[-1] == "response.done"
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    assert "sk-cli" not in out + err


def test_serve_main_statuses() -> None:
    assert serve_main(["--port", "not-a-port"]) == 2
    assert serve_main(["--pacing", "slow"]) == 2
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert serve_main(["--port", str(port)]) == 1


def test_server_on_a_thread_serves_synchronous_code() -> None:
    with LocalRealtimeServer(api_key="sk-t").start_in_thread() as handle:
        types = _text_turn(f"{handle.url}?model=m", {"api-key": "sk-t"})
        assert types[-1] == "response.done"
        conn = handle.call(lambda: handle.server.wait_for_connection(1))
        assert conn.counts_sent["response.done"] == 1
        assert conn.received[0]["type"] == "conversation.item.create"
        thread = handle.thread
    assert not thread.is_alive()
    handle.stop()  # idempotent


def test_start_in_thread_reports_a_failure_to_listen() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(OSError):
            LocalRealtimeServer(port=port).start_in_thread()


@pytest.mark.skipif(not hasattr(socket, "SO_REUSEPORT"), reason="needs SO_REUSEPORT")
def test_serve_workers_share_one_port_and_one_url() -> None:
    with served("--pacing", "fast", "--workers", "3") as url:
        assert re.fullmatch(r"ws://127\.0\.0\.1:\d+/v1/realtime", url), url
        servers = set()
        for _ in range(12):  # the kernel spreads connections over the workers
            with connect(f"{url}?model=gpt-realtime-1.5", max_size=None) as ws:
                created = json.loads(ws.recv(5))
                assert created["type"] == "session.created"
                servers.add(created["session"]["id"][5:13])  # each server's own id base
        assert len(servers) >= 2  # all 12 on one of 3 workers: about 1 in 180,000
        assert _text_turn(f"{url}?model=gpt-realtime-1.5", {})[-1] == "response.done"
    assert serve_main(["--workers", "0"]) == 2

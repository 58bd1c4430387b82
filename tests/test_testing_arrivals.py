"""The server's arrivals file (``rtsdk.testing.arrivals``, ``serve --arrivals FILE``): every
client frame with the time it arrived, readable from another process while the server runs."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path

import pytest
from websockets.sync.client import connect

from rtsdk.testing import LocalRealtimeServer
from rtsdk.testing.arrivals import Arrival, ArrivalLog, read_arrivals
from rtsdk.testing.cli import serve_main

from .test_testing_cli import served


def _append(pcm: bytes) -> str:
    return json.dumps(
        {"type": "input_audio_buffer.append", "audio": base64.b64encode(pcm).decode()}
    )


async def test_the_hook_logs_each_client_frame_as_it_arrives(tmp_path: Path) -> None:
    from websockets.asyncio.client import connect as aconnect

    path = tmp_path / "arrivals.jsonl"
    log = ArrivalLog(path)
    async with LocalRealtimeServer(pacing="fast") as server:
        server.on_received = log.note
        async with aconnect(f"{server.url}?model=gpt-realtime") as ws:
            await ws.recv()  # session.created
            before = time.monotonic()
            await ws.send(_append(b"\x01\x00\x02\x00"))
            await ws.send("not json")
            await ws.send(json.dumps({"type": "input_audio_buffer.clear"}))
            conn = await server.wait_for_connection()
            await conn.wait_for_received("input_audio_buffer.clear")
            seen = read_arrivals(path)  # read while the server runs
            after = time.monotonic()
    log.close()
    log.note(0, {"type": "late"})  # nothing once closed
    assert [a.type for a in seen] == [
        "input_audio_buffer.append",
        "<raw>",
        "input_audio_buffer.clear",
    ]
    assert seen[0].audio == b"\x01\x00\x02\x00" and seen[2].audio == b""
    assert seen[1].frame == "not json" and seen[1].audio == b""
    assert all(a.conn == 0 for a in seen)
    times = [a.t for a in seen]
    assert before <= times[0] <= times[1] <= times[2] <= after
    assert read_arrivals(path) == seen
    assert "lines=3" in repr(log) and "closed" in repr(log)


def test_a_partial_last_line_is_left_out_and_a_bad_line_named(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    good = json.dumps({"t": 1.5, "conn": 2, "frame": {"type": "x"}})
    path.write_text(good + "\n" + '{"t": 2.0, "co')
    assert read_arrivals(path) == [Arrival(1.5, 2, {"type": "x"})]
    path.write_text(good + "\n[1, 2]\n")
    with pytest.raises(ValueError, match=r"a\.jsonl:2: not an arrival line"):
        read_arrivals(path)
    with pytest.raises(OSError, match="cannot write the arrivals file"):
        ArrivalLog(tmp_path / "no-such-dir" / "a.jsonl")


def test_serve_writes_arrivals_and_refuses_them_with_workers(tmp_path: Path) -> None:
    path = tmp_path / "served.jsonl"
    with served("--pacing", "fast", "--arrivals", str(path)) as url:
        with connect(f"{url}?model=gpt-realtime") as ws:
            json.loads(ws.recv(5))
            ws.send(_append(b"\x00\x00" * 240))
            ws.send(json.dumps({"type": "input_audio_buffer.commit"}))
            json.loads(ws.recv(5))  # the commit's answer: both were read
        rows = read_arrivals(path)
    assert [a.type for a in rows] == ["input_audio_buffer.append", "input_audio_buffer.commit"]
    assert len(rows[0].audio) == 480
    assert serve_main(["--workers", "2", "--arrivals", str(path)]) == 2
    assert serve_main(["--port", "0", "--arrivals", str(tmp_path / "no" / "x.jsonl")]) == 2

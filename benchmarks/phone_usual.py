"""A phone bridge written the usual way: the baseline of ``test_bench_phone.py``.

What hand-written carrier <-> Realtime bridges do (a carrier WebSocket server, a plain
``websockets`` client to the Realtime service): every carrier message through ``json.loads``;
caller audio base64-decoded, μ-law decoded to PCM16 (where an app would look at it) and encoded
back (``audioop``), base64-encoded and ``json.dumps``-ed into an append; every server event
through ``json.loads``; each output delta decoded and re-encoded the same way into a carrier
``media`` message plus a ``mark``; on ``speech_started`` a ``clear`` and a truncate at the
wall-clock time since the reply's first delta. Same wire traffic as rtsdk's bridge, same
session (``g711_ulaw`` both ways, server VAD).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import time
import warnings
from typing import Any

from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection, serve

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import audioop  # the usual G.711 tool (audioop-lts on Python >= 3.13)

__all__ = ["SESSION_UPDATE", "UsualBridge", "wall_clock_truncate"]

#: What both benchmark bridges ask for: G.711 u-law both ways, server VAD.
SESSION_UPDATE = {
    "type": "session.update",
    "session": {
        "type": "realtime",
        "audio": {
            "input": {
                "format": {"type": "audio/pcmu"},
                "turn_detection": {"type": "server_vad"},
            },
            "output": {"format": {"type": "audio/pcmu"}},
        },
    },
}


def wall_clock_truncate(item_id: str, started: float) -> str:
    """The usual barge-in: truncate ``item_id`` at the wall-clock time since its first delta
    (``started``, a ``time.monotonic()``), as if the caller heard audio the moment it came."""
    heard = int((time.monotonic() - started) * 1000)
    truncate = {
        "type": "conversation.item.truncate",
        "item_id": item_id,
        "content_index": 0,
        "audio_end_ms": heard,
    }
    return json.dumps(truncate)


class UsualBridge:
    """Carrier media streams on ``/media`` of ``ws://127.0.0.1:PORT``, one session per call."""

    def __init__(self, realtime_url: str) -> None:
        self.realtime_url = realtime_url
        self.port = 0
        self.calls = 0
        self.errors = 0
        self._server: Any = None

    async def __aenter__(self) -> UsualBridge:
        self._server = await serve(
            self._call, "127.0.0.1", 0, compression=None, max_size=1 << 20, ping_interval=None
        )
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._server.close()
        await self._server.wait_closed()

    async def _call(self, carrier: ServerConnection) -> None:
        self.calls += 1
        url = self.realtime_url + "?model=gpt-realtime-2.1"
        try:
            async with connect(url, compression=None, max_size=None, proxy=None) as rt:
                await rt.send(json.dumps(SESSION_UPDATE))
                state: dict[str, Any] = {"sid": None, "item": None, "t0": None, "marks": 0}
                up = asyncio.create_task(self._uplink(carrier, rt, state))
                down = asyncio.create_task(self._downlink(carrier, rt, state))
                await up
                down.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await down
        except Exception:
            self.errors += 1

    async def _uplink(self, carrier: ServerConnection, rt: Any, state: dict[str, Any]) -> None:
        async for message in carrier:
            data = json.loads(message)
            event = data["event"]
            if event == "media":
                ulaw = base64.b64decode(data["media"]["payload"])
                pcm = audioop.ulaw2lin(ulaw, 2)
                audio = base64.b64encode(audioop.lin2ulaw(pcm, 2)).decode("ascii")
                await rt.send(json.dumps({"type": "input_audio_buffer.append", "audio": audio}))
            elif event == "start":
                state["sid"] = data["start"]["streamSid"]
            elif event == "mark":
                state["marks"] += 1
            elif event == "stop":
                return

    async def _downlink(self, carrier: ServerConnection, rt: Any, state: dict[str, Any]) -> None:
        async for message in rt:
            event = json.loads(message)
            kind = event["type"]
            if kind == "response.output_audio.delta":
                if state["item"] != event["item_id"]:
                    state["item"], state["t0"] = event["item_id"], time.monotonic()
                pcm = audioop.ulaw2lin(base64.b64decode(event["delta"]), 2)
                payload = base64.b64encode(audioop.lin2ulaw(pcm, 2)).decode("ascii")
                sid = state["sid"]
                await carrier.send(
                    json.dumps({"event": "media", "streamSid": sid, "media": {"payload": payload}})
                )
                await carrier.send(
                    json.dumps({"event": "mark", "streamSid": sid, "mark": {"name": "m"}})
                )
            elif kind == "input_audio_buffer.speech_started" and state["item"] is not None:
                await carrier.send(json.dumps({"event": "clear", "streamSid": state["sid"]}))
                await rt.send(wall_clock_truncate(state["item"], state["t0"]))
                state["item"] = None

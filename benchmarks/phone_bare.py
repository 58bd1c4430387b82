"""The least a phone bridge in Python can do on rtsdk's stack: the floor of ``test_bench_phone.py``.

Not a product: a yardstick for how much of the bridge's CPU is the stack itself (uvloop,
picows on both sockets, the kernel's loopback TCP and wake-ups) and how much is rtsdk's call
and session layers. Per call it does only what the wire needs and nothing a real bridge must:

- caller ``media`` is spliced into an append (``kernels.media_to_append``) and written at once;
- each output audio delta is spliced into a carrier ``media`` message
  (``kernels.delta_to_media``) and written at once with a ``mark``: no pacing, no played clock,
  echoed marks not even parsed;
- on ``speech_started`` the carrier gets ``clear`` and the reply's item is truncated at the wall
  clock since its first delta (as the usual bridge does);
- no event parsing, no session state, no reconnect, no checks of order, format or errors.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from picows import WSListener, WSMsgType, ws_connect, ws_create_server

from benchmarks.phone_usual import SESSION_UPDATE, wall_clock_truncate
from rtsdk import kernels

__all__ = ["BareBridge"]

_TEXT = WSMsgType.TEXT
_SESSION = json.dumps(SESSION_UPDATE).encode()


class _Realtime(WSListener):
    """The Realtime side of one call: deltas to the carrier, barge-in."""

    def __init__(self, call: _Carrier) -> None:
        self.call = call
        self.item: str | None = None
        self.t0 = 0.0

    def on_ws_frame(self, transport: Any, frame: Any) -> None:
        if frame.msg_type != _TEXT:
            return
        raw = frame.get_payload_as_bytes()
        call = self.call
        spliced = kernels.delta_to_media(raw, call.sid)
        if spliced is not None:
            if spliced[1] != self.item:
                self.item, self.t0 = spliced[1], time.monotonic()
            call.carrier.send(_TEXT, spliced[3])
            call.carrier.send(_TEXT, call.mark)
        elif b"input_audio_buffer.speech_started" in raw and self.item is not None:
            call.carrier.send(_TEXT, call.clear)
            transport.send(_TEXT, wall_clock_truncate(self.item, self.t0).encode())
            self.item = None


class _Carrier(WSListener):
    """The carrier side of one call."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.carrier: Any = None
        self.realtime: Any = None
        self.early: list[bytes] = []
        self.sid = ""
        self.mark = self.clear = b""

    def on_ws_connected(self, transport: Any) -> None:
        self.carrier = transport
        asyncio.get_running_loop().create_task(self._connect())

    async def _connect(self) -> None:
        realtime, _ = await ws_connect(lambda: _Realtime(self), self.url)
        realtime.send(_TEXT, _SESSION)
        for frame in self.early:
            realtime.send(_TEXT, frame)
        self.early = []
        self.realtime = realtime

    def on_ws_frame(self, transport: Any, frame: Any) -> None:
        if frame.msg_type != _TEXT:
            return
        raw = frame.get_payload_as_bytes()
        media = kernels.media_to_append(raw)
        if media is not None:
            if self.realtime is not None:
                self.realtime.send(_TEXT, media[2])
            else:
                self.early.append(media[2])
            return
        message = json.loads(raw)
        if message["event"] == "start":
            self.sid = message["start"]["streamSid"]
            sid = json.dumps(self.sid)
            self.mark = f'{{"event":"mark","streamSid":{sid},"mark":{{"name":"m"}}}}'.encode()
            self.clear = f'{{"event":"clear","streamSid":{sid}}}'.encode()
        elif message["event"] == "stop":
            if self.realtime is not None:
                self.realtime.disconnect()
            transport.disconnect()


class BareBridge:
    """Carrier media streams on ``ws://127.0.0.1:PORT/media``, one Realtime socket per call."""

    def __init__(self, realtime_url: str) -> None:
        self.realtime_url = realtime_url + "?model=gpt-realtime-2.1"
        self.port = 0
        self._server: Any = None

    async def __aenter__(self) -> BareBridge:
        self._server = await ws_create_server(
            lambda request: _Carrier(self.realtime_url), "127.0.0.1", 0
        )
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._server.close()
        await self._server.wait_closed()

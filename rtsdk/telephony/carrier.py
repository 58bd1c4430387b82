"""The carrier side of a call: how a :class:`~rtsdk.telephony.PhoneCall` writes to its stream.

A call reads carrier messages by being fed them (:meth:`PhoneCall.feed`) and writes through a
:class:`CarrierPort`:

- :class:`SocketPort` wraps any WebSocket-like object (``await send(text)``, ``await
  close()``; a ``websockets`` connection, a Starlette/FastAPI ``WebSocket`` through a small
  shim, ...): writes are queued to one writer task, in order; :func:`pull` reads it
  (``await recv()``) and feeds the call;
- :class:`TransportPort` writes to a picows ``WSTransport`` synchronously (the phone server's
  own engine: frames are parsed and built in compiled code, and handed to the call from the
  socket's read callback, with no task in between).
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

__all__ = ["CarrierPort", "FedCall", "SocketPort", "TransportPort", "pull"]

log = logging.getLogger("rtsdk.telephony")


class CarrierPort(Protocol):
    """Where a call writes its carrier messages."""

    def write(self, frame: bytes) -> None:
        """Send one UTF-8 JSON text message (in order with the others)."""

    def write_many(self, frames: list[bytes]) -> None:
        """Send several messages, in order (one socket write where the port can)."""

    def discard_pending(self) -> None:
        """Drop messages queued but not yet handed to the socket (a ``clear`` follows)."""

    def close(self) -> None:
        """Start closing the stream (idempotent)."""

    async def aclose(self) -> None:
        """Close the stream and wait for the writer (idempotent)."""


class FedCall(Protocol):
    """What a reader of the carrier's stream uses of the call it feeds (a
    :class:`~rtsdk.telephony.PhoneCall` is one)."""

    @property
    def ended(self) -> bool:
        """True once the call is over (or ending): nothing more to read for it."""

    def feed(self, raw: str | bytes) -> None:
        """One message from the carrier (text, as ``str`` or UTF-8 ``bytes``)."""

    def carrier_closed(self) -> None:
        """The carrier's stream closed (or broke)."""


def _sender(ws: Any) -> Callable[[bytes], Awaitable[None]]:
    send = ws.send
    try:
        takes_text = "text" in inspect.signature(send).parameters
    except (TypeError, ValueError):
        takes_text = False
    if takes_text:
        return lambda frame: send(frame, text=True)
    return lambda frame: send(frame.decode("utf-8"))


class SocketPort:
    """A WebSocket-like object as a carrier port: one writer task sends in order."""

    def __init__(self, ws: Any, on_broken: Callable[[], None]) -> None:
        self.ws = ws
        self._send = _sender(ws)
        self._on_broken = on_broken
        self._out: deque[bytes] = deque()
        self._ready = asyncio.Event()
        self._closing = False
        self._writer = asyncio.get_running_loop().create_task(
            self._write_forever(), name="rtsdk-phone-writer"
        )

    def write(self, frame: bytes) -> None:
        if not self._closing:
            self._out.append(frame)
            self._ready.set()

    def write_many(self, frames: list[bytes]) -> None:
        if not self._closing:
            self._out.extend(frames)
            self._ready.set()

    def discard_pending(self) -> None:
        self._out.clear()

    def close(self) -> None:
        if not self._closing:
            self._closing = True
            self._ready.set()

    async def _write_forever(self) -> None:
        out, ready, send = self._out, self._ready, self._send
        while True:
            if not out:
                if self._closing:
                    break
                ready.clear()
                await ready.wait()
                continue
            try:
                await send(out.popleft())
            except Exception:
                self._on_broken()
                break
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.ws.close(), 2.0)

    async def aclose(self) -> None:
        self.close()
        with contextlib.suppress(asyncio.TimeoutError, Exception):
            await asyncio.wait_for(asyncio.shield(self._writer), 3.0)
        if not self._writer.done():
            self._writer.cancel()


async def pull(ws: Any, call: FedCall) -> None:
    """Feed ``call`` every message ``ws.recv()`` gives, until the stream closes."""
    recv = ws.recv
    try:
        if "decode" in inspect.signature(recv).parameters:
            recv = lambda: ws.recv(decode=False)  # noqa: E731  (text frames as bytes)
    except (TypeError, ValueError):
        pass
    while not call.ended:
        try:
            raw = await recv()
        except asyncio.CancelledError:
            raise
        except Exception:
            call.carrier_closed()
            return
        call.feed(raw)


class TransportPort:
    """A picows ``WSTransport`` as a carrier port: each write is one synchronous send."""

    def __init__(self, transport: Any) -> None:
        from picows import WSMsgType

        self._transport = transport
        self._text = WSMsgType.TEXT
        self._closed = False

    def write(self, frame: bytes) -> None:
        if not self._closed:
            self._transport.send(self._text, frame)

    def write_many(self, frames: list[bytes]) -> None:
        """The messages as server text frames (unmasked) in one write: one syscall."""
        if self._closed:
            return
        parts: list[bytes] = []
        for frame in frames:
            n = len(frame)
            if n < 126:
                parts.append(bytes((0x81, n)))
            elif n < 65536:
                parts.append(bytes((0x81, 126)) + n.to_bytes(2, "big"))
            else:
                parts.append(bytes((0x81, 127)) + n.to_bytes(8, "big"))
            parts.append(frame)
        self._transport.underlying_transport.write(b"".join(parts))

    def discard_pending(self) -> None:
        pass  # every write went to the socket at once

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            with contextlib.suppress(Exception):
                self._transport.send_close()
            with contextlib.suppress(Exception):
                self._transport.disconnect()

    async def aclose(self) -> None:
        self.close()
        with contextlib.suppress(asyncio.TimeoutError, Exception):
            await asyncio.wait_for(self._transport.wait_disconnected(), 2.0)

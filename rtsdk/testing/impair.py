"""An impairment proxy: a TCP relay between a client and a server that makes the network bad.

:class:`ImpairedLink` listens on 127.0.0.1 (or any host) and relays every connection to the
target, byte for byte (it does not parse WebSocket or TLS, so it sits under any protocol).
Each direction has its own :class:`Impairment`:

- ``delay_ms`` and ``jitter_ms``: every chunk read is delivered ``delay_ms`` later, plus a
  uniform random ``[-jitter_ms, +jitter_ms]`` (deterministic with ``seed``); TCP keeps order,
  so a chunk never overtakes the one before it (jitter shows as bunching, as on a real path);
- ``rate_kbps``: a bottleneck of that many kbit/s (a token bucket on delivery);
- ``queue_bytes``: how much the bottleneck holds before the relay stops reading (the sender's
  kernel then fills its own buffer and its writes block: bufferbloat of that size).

And controls a test calls while traffic flows (on every open relayed connection):

- :meth:`ImpairedLink.blackhole` ``(seconds, direction)``: a one-way outage with the TCP
  connection kept open: nothing is delivered in that direction for ``seconds`` (what was sent
  meanwhile arrives afterwards, as TCP retransmission would deliver it, unless the connection
  was closed first); the other direction keeps flowing;
- :meth:`ImpairedLink.stall_reads` ``(seconds, side)``: the relay stops reading one side
  (``"client"``: as if the server stopped reading; ``"server"``: as if the client did);
- :meth:`ImpairedLink.reset`: abort every relayed connection (RST to both ends).

It runs on one asyncio loop. ``stats`` counts connections, bytes each way and the
longest time a chunk waited in the relay.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import socket
import struct
from collections import deque
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlsplit, urlunsplit

__all__ = ["Direction", "ImpairedLink", "Impairment", "LinkStats"]

#: ``"up"``: client → server; ``"down"``: server → client; ``"both"``.
Direction = Literal["up", "down", "both"]

_CHUNK = 65536


@dataclass(frozen=True, slots=True)
class Impairment:
    """What one direction of :class:`ImpairedLink` does to the bytes (see the module)."""

    delay_ms: float = 0.0
    jitter_ms: float = 0.0
    rate_kbps: float | None = None
    queue_bytes: int = 256 * 1024

    def __post_init__(self) -> None:
        if self.delay_ms < 0 or self.jitter_ms < 0:
            raise ValueError(
                f"delay_ms and jitter_ms must be >= 0, got {self.delay_ms} and {self.jitter_ms}"
            )
        if self.jitter_ms > self.delay_ms:
            raise ValueError(
                f"jitter_ms ({self.jitter_ms}) must not exceed delay_ms ({self.delay_ms})"
            )
        if self.rate_kbps is not None and not self.rate_kbps > 0:
            raise ValueError(f"rate_kbps must be > 0 or None, got {self.rate_kbps}")
        if self.queue_bytes < 1:
            raise ValueError(f"queue_bytes must be >= 1, got {self.queue_bytes}")


@dataclass(slots=True)
class LinkStats:
    """Counters of an :class:`ImpairedLink` since it started."""

    connections: int = 0
    bytes_up: int = 0
    bytes_down: int = 0
    resets: int = 0
    max_hold_ms: dict[str, float] = field(default_factory=lambda: {"up": 0.0, "down": 0.0})


class _Pipe:
    """One direction of one relayed connection: read, hold, deliver in order."""

    def __init__(
        self,
        name: str,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        link: ImpairedLink,
    ) -> None:
        self.name = name
        self.reader = reader
        self.writer = writer
        self.link = link
        self.queue: deque[tuple[float, float, bytes]] = deque()  # (due, read at, chunk)
        self.queued = 0
        self.eof = False
        self.last_due = 0.0
        self.more = asyncio.Event()  # something queued, or EOF
        self.room = asyncio.Event()  # the queue is under its limit
        self.room.set()
        self.reads_resume_at = 0.0
        self.blackhole_until = 0.0

    @property
    def impairment(self) -> Impairment:
        return self.link.up if self.name == "up" else self.link.down

    async def read_side(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while True:
                await self.room.wait()
                chunk = await self.reader.read(_CHUNK)
                if not chunk:
                    break
                # a stall set while this read waited holds what it read (and reads no more)
                while (wait := self.reads_resume_at - loop.time()) > 0:
                    await asyncio.sleep(wait)
                now = loop.time()
                imp = self.impairment
                delay = imp.delay_ms
                if imp.jitter_ms:
                    delay += self.link.rand.uniform(-imp.jitter_ms, imp.jitter_ms)
                due = max(now + delay / 1000.0, self.last_due)
                self.last_due = due
                self.queue.append((due, now, chunk))
                self.queued += len(chunk)
                if self.queued >= imp.queue_bytes:
                    self.room.clear()
                self.more.set()
        except (ConnectionError, OSError):
            pass
        finally:
            self.eof = True
            self.more.set()

    async def write_side(self) -> None:
        loop = asyncio.get_running_loop()
        stats = self.link.stats
        next_free = 0.0  # the bottleneck is busy until then
        try:
            while True:
                if not self.queue:
                    if self.eof:
                        break
                    self.more.clear()
                    await self.more.wait()
                    continue
                due, read_at, chunk = self.queue[0]
                now = loop.time()
                hold = max(due, self.blackhole_until, next_free) - now
                if hold > 0:
                    await asyncio.sleep(hold)
                    continue
                imp = self.impairment
                if imp.rate_kbps is not None:
                    # deliver a slice the bottleneck passes in about 5 ms, so a slow link
                    # trickles instead of bursting whole chunks
                    size = max(1, int(imp.rate_kbps * 1000 / 8 * 0.005))
                    piece, rest = chunk[:size], chunk[size:]
                    next_free = max(now, next_free) + len(piece) * 8 / (imp.rate_kbps * 1000)
                else:
                    piece, rest = chunk, b""
                if rest:
                    self.queue[0] = (due, read_at, rest)
                else:
                    self.queue.popleft()
                self.queued -= len(piece)
                if self.queued < imp.queue_bytes:
                    self.room.set()
                held = (now - read_at) * 1000.0
                if held > stats.max_hold_ms[self.name]:
                    stats.max_hold_ms[self.name] = held
                self.writer.write(piece)
                if self.name == "up":
                    stats.bytes_up += len(piece)
                else:
                    stats.bytes_down += len(piece)
                await self.writer.drain()
            if self.writer.can_write_eof():
                self.writer.write_eof()
        except (ConnectionError, OSError):
            pass


class ImpairedLink:
    """A relay to ``target_host:target_port`` listening on ``host:port`` (0: any free port).

    Use as ``async with ImpairedLink(...) as link:`` or :meth:`start` / :meth:`stop`;
    :meth:`rewrite` points a server URL at the relay.
    """

    def __init__(
        self,
        target_host: str,
        target_port: int,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        up: Impairment | None = None,
        down: Impairment | None = None,
        seed: int = 0,
    ) -> None:
        self.target = (target_host, target_port)
        self.host = host
        self.port = port
        self.up = up or Impairment()
        self.down = down or Impairment()
        self.rand = random.Random(seed)
        self.stats = LinkStats()
        self._server: asyncio.Server | None = None
        self._relays: set[tuple[_Pipe, _Pipe]] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    @classmethod
    def to_url(cls, url: str, **kwargs: object) -> ImpairedLink:
        """A relay to the host and port of a ``ws://`` / ``http://`` URL."""
        parts = urlsplit(url)
        if parts.hostname is None or parts.port is None:
            raise ValueError(f"the URL needs a host and a port: {url!r}")
        return cls(parts.hostname, parts.port, **kwargs)  # type: ignore[arg-type]

    def rewrite(self, url: str) -> str:
        """``url`` with its host and port replaced by the relay's."""
        parts = urlsplit(url)
        return urlunsplit(parts._replace(netloc=f"{self.host}:{self.port}"))

    async def start(self) -> None:
        """Listen (the chosen port is then in :attr:`port`)."""
        self._server = await asyncio.start_server(self._relay, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Stop listening and abort every relayed connection."""
        if self._server is not None:
            self._server.close()
        self.reset(count=False)
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=2.0)
        if self._server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2.0)
            self._server = None

    async def __aenter__(self) -> ImpairedLink:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def open_connections(self) -> int:
        """Relayed connections open now."""
        return len(self._relays)

    # -- controls ------------------------------------------------------------------------------

    def _pipes(self, direction: Direction) -> list[_Pipe]:
        if direction not in ("up", "down", "both"):
            raise ValueError(f"direction must be 'up', 'down' or 'both', got {direction!r}")
        names = ("up", "down") if direction == "both" else (direction,)
        return [pipe for pair in self._relays for pipe in pair if pipe.name in names]

    def blackhole(self, seconds: float, direction: Direction = "both") -> None:
        """Deliver nothing in ``direction`` for ``seconds`` on every open connection (the
        connections stay open; what was held is delivered afterwards)."""
        until = asyncio.get_running_loop().time() + seconds
        for pipe in self._pipes(direction):
            pipe.blackhole_until = max(pipe.blackhole_until, until)
            pipe.more.set()

    def stall_reads(self, seconds: float, side: Literal["client", "server"] = "client") -> None:
        """Stop reading ``side`` for ``seconds`` on every open connection (``"client"``: the
        server appears not to read; the client's writes back up into its own buffers)."""
        if side not in ("client", "server"):
            raise ValueError(f"side must be 'client' or 'server', got {side!r}")
        until = asyncio.get_running_loop().time() + seconds
        for pipe in self._pipes("up" if side == "client" else "down"):
            pipe.reads_resume_at = max(pipe.reads_resume_at, until)

    def reset(self, *, count: bool = True) -> int:
        """Abort every open relayed connection with a TCP reset to both ends; how many."""
        relays = list(self._relays)
        for up, down in relays:
            for writer in (up.writer, down.writer):
                _abort(writer)
        self._relays.clear()
        if count:
            self.stats.resets += len(relays)
        return len(relays)

    # -- relay ---------------------------------------------------------------------------------

    async def _relay(self, c_reader: asyncio.StreamReader, c_writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            try:
                s_reader, s_writer = await asyncio.open_connection(*self.target)
            except OSError:
                _abort(c_writer)
                return
            for writer in (c_writer, s_writer):
                sock = writer.get_extra_info("socket")
                if sock is not None:
                    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.stats.connections += 1
            up = _Pipe("up", c_reader, s_writer, self)
            down = _Pipe("down", s_reader, c_writer, self)
            pair = (up, down)
            self._relays.add(pair)
            try:
                await asyncio.gather(
                    up.read_side(), up.write_side(), down.read_side(), down.write_side()
                )
            finally:
                self._relays.discard(pair)
                for writer in (c_writer, s_writer):
                    writer.close()
        except asyncio.CancelledError:
            pass  # stop(): the relay's own task, ended on purpose
        finally:
            self._tasks.discard(task)


def _abort(writer: asyncio.StreamWriter) -> None:
    """Close with a reset (SO_LINGER 0), not a FIN."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()

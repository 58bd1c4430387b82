"""The impairment proxy (rtsdk.testing.impair) against a plain TCP echo server."""

from __future__ import annotations

import asyncio
import time

import pytest

from rtsdk.testing.impair import ImpairedLink, Impairment

from .conftest import REALTIME_ONCE

# a TCP relay in real time, no kernels: once, on the compiled run
pytestmark = REALTIME_ONCE


@pytest.fixture
async def echo_server():
    async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(echo, "127.0.0.1", 0)
    yield server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()


async def _round_trip(reader, writer, payload: bytes) -> float:
    start = time.monotonic()
    writer.write(payload)
    await writer.drain()
    got = await asyncio.wait_for(reader.readexactly(len(payload)), 10)
    assert got == payload
    return time.monotonic() - start


async def test_delay_each_way_adds_up_and_order_holds_under_jitter(echo_server) -> None:
    link = ImpairedLink(
        "127.0.0.1",
        echo_server,
        up=Impairment(delay_ms=60, jitter_ms=40),
        down=Impairment(delay_ms=60, jitter_ms=40),
        seed=3,
    )
    async with link:
        reader, writer = await asyncio.open_connection("127.0.0.1", link.port)
        rtt = await _round_trip(reader, writer, b"ping")
        assert rtt >= 0.04  # at least the two delays less their jitter
        # many small writes with jitter: the bytes come back whole and in order
        payload = b"".join(i.to_bytes(2, "big") for i in range(2000))
        for i in range(0, len(payload), 40):
            writer.write(payload[i : i + 40])
            await asyncio.sleep(0)
        got = await asyncio.wait_for(reader.readexactly(len(payload)), 10)
        assert got == payload
        assert link.stats.connections == 1
        assert link.stats.bytes_up == len(payload) + 4
        assert link.stats.max_hold_ms["up"] >= 20
        writer.close()


async def test_rate_limit_paces_delivery(echo_server) -> None:
    async with ImpairedLink("127.0.0.1", echo_server, up=Impairment(rate_kbps=256)) as link:
        reader, writer = await asyncio.open_connection("127.0.0.1", link.port)
        took = await _round_trip(reader, writer, bytes(16_000))  # 0.5 s at 256 kbit/s
        assert 0.4 <= took < 3.0
        writer.close()


async def test_blackhole_holds_one_direction_then_delivers(echo_server) -> None:
    async with ImpairedLink("127.0.0.1", echo_server) as link:
        reader, writer = await asyncio.open_connection("127.0.0.1", link.port)
        await _round_trip(reader, writer, b"a")
        link.blackhole(0.4, "down")
        writer.write(b"held")
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(reader.readexactly(4), 0.2)
        assert await asyncio.wait_for(reader.readexactly(4), 2) == b"held"
        with pytest.raises(ValueError, match="direction"):
            link.blackhole(1, "sideways")  # type: ignore[arg-type]
        writer.close()


async def test_stalled_reads_back_up_into_the_senders_buffers(echo_server) -> None:
    async with ImpairedLink("127.0.0.1", echo_server, up=Impairment(queue_bytes=4096)) as link:
        reader, writer = await asyncio.open_connection("127.0.0.1", link.port)
        await _round_trip(reader, writer, b"a")
        link.stall_reads(0.5, "client")
        start = time.monotonic()
        writer.write(b"x" * 100)
        got = await asyncio.wait_for(reader.readexactly(100), 5)
        assert got == b"x" * 100
        assert time.monotonic() - start >= 0.3
        writer.close()


async def test_reset_aborts_both_ends(echo_server) -> None:
    async with ImpairedLink("127.0.0.1", echo_server) as link:
        reader, writer = await asyncio.open_connection("127.0.0.1", link.port)
        await _round_trip(reader, writer, b"a")
        assert link.open_connections == 1
        assert link.reset() == 1
        with pytest.raises((ConnectionError, asyncio.IncompleteReadError)):
            await asyncio.wait_for(reader.readexactly(1), 2)
        assert link.stats.resets == 1
        writer.close()


def test_bad_impairments_are_refused() -> None:
    with pytest.raises(ValueError, match="jitter_ms"):
        Impairment(delay_ms=10, jitter_ms=20)
    with pytest.raises(ValueError, match="rate_kbps"):
        Impairment(rate_kbps=0)
    with pytest.raises(ValueError, match="host and a port"):
        ImpairedLink.to_url("ws://localhost/v1")
    link = ImpairedLink.to_url("ws://127.0.0.1:9/v1")
    link.port = 1234
    assert link.rewrite("ws://127.0.0.1:9/v1/realtime?model=m") == (
        "ws://127.0.0.1:1234/v1/realtime?model=m"
    )

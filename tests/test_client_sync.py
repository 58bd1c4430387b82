"""The synchronous facade: from a plain script, from inside a running loop's thread, and the
local server in a thread, as the sample app uses them."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from rtsdk import RealtimeAIClient, RealtimeAIOptions, RealtimeEventHandler
from rtsdk.exceptions import AuthenticationError, ConnectionClosedError
from rtsdk.testing import LocalRealtimeServer

from .client_helpers import tone


@pytest.fixture
def threaded_server() -> Iterator[Any]:
    handle = LocalRealtimeServer(pacing="fast").start_in_thread()
    try:
        yield handle
    finally:
        handle.stop()


class Collect(RealtimeEventHandler):
    def __init__(self) -> None:
        self.types: list[str] = []
        self.text: list[str] = []
        self.done = threading.Event()
        self.threads: set[str] = set()

    def on_event(self, event: Any) -> None:
        self.types.append(event.type)
        self.threads.add(threading.current_thread().name)

    def on_response_output_text_delta(self, event: Any) -> None:
        self.text.append(event.delta)

    def on_response_done(self, event: Any) -> None:
        self.done.set()


def _threads() -> set[str]:
    return {t.name for t in threading.enumerate()}


def test_sync_client_from_a_plain_script(threaded_server: Any) -> None:
    before = _threads()
    handler = Collect()
    client = RealtimeAIClient(
        RealtimeAIOptions(url=threaded_server.url, output_modality="text", turn_detection="none"),
        event_handler=handler,
    )
    client.start()
    assert client.is_connected
    client.send_text("Hello!")
    assert handler.done.wait(10)
    assert "".join(handler.text)
    assert handler.threads == {"rtsdk-client-loop"}
    handler.done.clear()
    client.send_audio(tone(0.3, 48000), sample_rate=48000)
    client.commit_audio()
    client.generate_response()
    assert handler.done.wait(10)
    t0 = time.monotonic()
    client.stop(timeout=3)
    assert time.monotonic() - t0 < 3.5
    assert not client.is_connected
    assert "rtsdk-client-loop" not in _threads()
    assert _threads() <= before | {"asyncio_0", "asyncio_1"}
    with pytest.raises(ConnectionClosedError):
        client.send_text("after stop")
    client.stop()  # idempotent


def test_sync_client_inside_a_running_event_loop(threaded_server: Any) -> None:
    async def app() -> list[str]:
        handler = Collect()
        with RealtimeAIClient(
            RealtimeAIOptions(
                url=threaded_server.url, output_modality="text", turn_detection="none"
            ),
            event_handler=handler,
        ) as client:
            client.send_text("from a coroutine")
            # the caller's loop keeps running while the client works on its own thread
            for _ in range(500):
                if handler.done.is_set():
                    break
                await asyncio.sleep(0.01)
        return handler.types

    types = asyncio.run(app())
    assert "response.done" in types


def test_sync_start_raises_auth_error_and_leaves_no_thread() -> None:
    handle = LocalRealtimeServer(api_key="right-key-0000000000").start_in_thread()
    try:
        client = RealtimeAIClient(RealtimeAIOptions(url=handle.url, api_key="wrong-key-111111"))
        with pytest.raises(AuthenticationError):
            client.start(timeout=5)
        time.sleep(0.05)
        assert "rtsdk-client-loop" not in _threads()
    finally:
        handle.stop()


def test_sync_events_iterator(threaded_server: Any) -> None:
    client = RealtimeAIClient(
        RealtimeAIOptions(url=threaded_server.url, output_modality="text", turn_detection="none")
    )
    events = client.events(timeout=10)  # subscribed before start: sees connected
    client.start()
    client.send_text("iterate me")
    seen: list[str] = []
    for event in events:
        seen.append(event.type)
        if event.type == "response.done":
            break
    assert seen[0] == "rtsdk.connected"
    assert "response.output_text.delta" in seen
    tail = client.events(timeout=10)
    client.stop()
    assert [e.type for e in tail][-1] == "rtsdk.disconnected"

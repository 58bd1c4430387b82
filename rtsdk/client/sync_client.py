"""The synchronous facade: :class:`RealtimeAIClient`.

It runs an :class:`~rtsdk.client.AsyncRealtimeAIClient` on an event loop of its own, on one
background thread: ``start()`` blocks until the session is ready, every call is handed to that
loop, and ``stop()`` ends the loop and the thread within its timeout.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import functools
import logging
import queue
import threading
import time
from collections.abc import Callable, Coroutine, Iterable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

from rtsdk.client.async_client import AsyncRealtimeAIClient
from rtsdk.client.blocking import blocking
from rtsdk.client.handler import RealtimeEventHandler
from rtsdk.client.stats import SessionStats
from rtsdk.client.sync_conversation import SyncGaHelpers, SyncResponseHandle
from rtsdk.exceptions import ConnectionClosedError
from rtsdk.mcp import ApprovalPolicy
from rtsdk.protocol import ServerEvent
from rtsdk.session.metrics import SessionMetrics
from rtsdk.session.options import RealtimeAIOptions
from rtsdk.session.service import EventCallback, RealtimeAIServiceManager

if TYPE_CHECKING:
    from rtsdk.audio.options import AudioStreamOptions
    from rtsdk.audio.stream import AudioStreamManager

__all__ = ["RealtimeAIClient"]

log = logging.getLogger("rtsdk.client")

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])


class RealtimeAIClient(SyncGaHelpers):
    """The synchronous facade: same session, its event loop on one background thread.

    ``start()`` returns once connected and configured; ``stop()`` always returns within its
    timeout and leaves no thread behind. Handlers run on the background thread, in order.
    Safe to use from plain scripts and from inside a running event loop's thread (calls block
    that thread only for as long as they take).
    """

    def __init__(
        self,
        options: RealtimeAIOptions | None = None,
        *,
        event_handler: RealtimeEventHandler | None = None,
        stream_options: AudioStreamOptions | None = None,
        tools: Iterable[Callable[..., Any]] = (),
        audio_source: Any = None,
        audio_sink: Any = None,
        mcp_approval: ApprovalPolicy | None = None,
    ) -> None:
        self._client = AsyncRealtimeAIClient(
            options,
            event_handler=event_handler,
            stream_options=stream_options,
            tools=tools,
            audio_source=audio_source,
            audio_sink=audio_sink,
            mcp_approval=mcp_approval,
        )
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._audio_lock = threading.Lock()

    def __repr__(self) -> str:
        return repr(self._client).replace("AsyncRealtimeAIClient", "RealtimeAIClient", 1)

    @property
    def options(self) -> RealtimeAIOptions:
        """The session options (updated by :meth:`update_session`)."""
        return self._client.options

    @property
    def metrics(self) -> SessionMetrics:
        """Latencies and counters of the session."""
        return self._client.metrics

    @property
    def is_connected(self) -> bool:
        """True while the connection is open."""
        return self._client.is_connected

    @property
    def failure(self) -> BaseException | None:
        """Why the session ended, if it failed."""
        return self._client.failure

    def stats(self) -> SessionStats:
        """See :meth:`AsyncRealtimeAIClient.stats`."""
        return self._client.stats()

    @property
    def async_client(self) -> AsyncRealtimeAIClient:
        """The :class:`AsyncRealtimeAIClient` running on the background loop."""
        return self._client

    @property
    def audio(self) -> AudioStreamManager | None:
        """The audio stream manager, when audio streaming was asked for."""
        return self._client.audio

    # -- loop plumbing -----------------------------------------------------------------------

    def _run(self, coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        loop = self._loop
        if loop is None or not loop.is_running():
            coro.close()
            raise ConnectionClosedError("the client is not running (call start() first)")
        future = asyncio.run_coroutine_threadsafe(coro, loop)
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise TimeoutError(f"no answer from the client loop within {timeout} s") from None

    def start(self, timeout: float | None = None) -> None:
        """Connect and configure; returns once the session is ready (or raises why not)."""
        if self._thread is not None:
            raise RuntimeError("start() may be called once per client")
        loop = asyncio.new_event_loop()
        ready = threading.Event()

        def run() -> None:
            asyncio.set_event_loop(loop)
            loop.call_soon(ready.set)
            try:
                loop.run_forever()
            finally:
                with contextlib.suppress(Exception):
                    _cancel_all(loop)
                loop.close()

        self._loop = loop
        self._thread = threading.Thread(target=run, name="rtsdk-client-loop", daemon=True)
        self._thread.start()
        ready.wait()
        try:
            self._run(self._client.start(), timeout)
        except BaseException:
            self.stop()
            raise

    def stop(self, timeout: float = 5.0) -> Any:
        """End the session and the background thread; returns within ``timeout`` seconds.

        GPT-Live: returns the server's final ``session.closed`` (reason, usage) when it came."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return self._client.session_closed
        deadline = time.monotonic() + timeout
        if loop.is_running():
            future = asyncio.run_coroutine_threadsafe(self._client.stop(timeout * 0.8), loop)
            with contextlib.suppress(Exception):
                future.result(max(0.0, deadline - time.monotonic()))
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(loop.stop)
        if thread is not threading.current_thread():
            thread.join(max(0.0, deadline - time.monotonic()))
        if thread.is_alive():
            log.warning("client loop thread still running after stop(timeout=%s)", timeout)
        return self._client.session_closed

    def __enter__(self) -> RealtimeAIClient:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- API ---------------------------------------------------------------------------------

    def on(self, event_type: str, callback: EventCallback | None = None) -> Any:
        """See :meth:`AsyncRealtimeAIClient.on` (callbacks run on the background thread)."""
        return self._client.on(event_type, callback)

    def events(self, timeout: float | None = None) -> Iterator[ServerEvent]:
        """Every event from this call on, in order, until the session ends
        (``rtsdk.disconnected`` is the last). ``timeout``: the longest wait for one event,
        else :class:`TimeoutError`. Subscribes at once, so it may be called before start().
        """
        inbox: queue.SimpleQueue[ServerEvent] = queue.SimpleQueue()
        self._on_loop_or_now(lambda: self._client.on("*", inbox.put))
        return self._iterate(inbox, timeout)

    def _iterate(
        self, inbox: queue.SimpleQueue[ServerEvent], timeout: float | None
    ) -> Iterator[ServerEvent]:
        try:
            while True:
                try:
                    event = inbox.get(timeout=timeout)
                except queue.Empty:
                    raise TimeoutError(f"no event within {timeout} s") from None
                yield event
                if event.type == "rtsdk.disconnected":
                    return
        finally:
            with contextlib.suppress(ConnectionClosedError, TimeoutError):
                self._on_loop_or_now(lambda: self._client.service.remove_listener("*", inbox.put))

    def _on_loop_or_now(self, fn: Callable[[], object]) -> None:
        loop = self._loop
        if loop is not None and loop.is_running():
            self._call_soon(fn)
        else:
            fn()

    def tool(self, func: F | None = None, **kwargs: Any) -> Any:
        """See :meth:`AsyncRealtimeAIClient.tool`."""
        if self._loop is not None and self._loop.is_running():

            def register(fn: F) -> F:
                self._call_soon(functools.partial(self._client.tool, fn, **kwargs))
                return fn

            return register(func) if func is not None else register
        return self._client.tool(func, **kwargs)

    def _call_soon(self, fn: Callable[[], T], timeout: float = 10.0) -> T:
        async def call() -> T:
            return fn()

        return self._run(call(), timeout)

    def send_audio(self, data: object, sample_rate: int | None = None) -> None:
        """See :meth:`AsyncRealtimeAIClient.send_audio`. Converts on the calling thread and
        hands the frames over without waiting for the loop."""
        loop = self._loop
        if loop is None or not loop.is_running() or not self._client._started:
            raise ConnectionClosedError("the client is not running (call start() first)")
        with self._audio_lock:
            frames = self._client._uplink.frames(data, sample_rate)
        service = self._client.service
        for frame in frames:
            loop.call_soon_threadsafe(_post_quietly, service, frame)

    commit_audio = blocking(AsyncRealtimeAIClient.commit_audio)

    clear_audio = blocking(AsyncRealtimeAIClient.clear_audio)

    send_text = blocking(AsyncRealtimeAIClient.send_text)

    def generate_response(self, **overrides: Any) -> SyncResponseHandle:
        """See :meth:`AsyncRealtimeAIClient.generate_response`; the handle's ``result()``
        blocks until that response is done."""
        return self._tracked(overrides)

    cancel_response = blocking(AsyncRealtimeAIClient.cancel_response)

    truncate = blocking(AsyncRealtimeAIClient.truncate)

    interrupt = blocking(AsyncRealtimeAIClient.interrupt)

    submit_function_output = blocking(AsyncRealtimeAIClient.submit_function_output)

    update_session = blocking(AsyncRealtimeAIClient.update_session)

    send_event = blocking(AsyncRealtimeAIClient.send_event)

    def drain(self, timeout: float = 5.0) -> None:
        """See :meth:`AsyncRealtimeAIClient.drain`."""
        self._run(self._client.drain(timeout), timeout + 1)

    def wait_closed(self, timeout: float | None = None) -> bool:
        """Block until the session ends; False on timeout."""
        try:
            self._run(self._client.wait_closed(), timeout)
        except TimeoutError:
            return False
        except ConnectionClosedError:
            return True
        return True


def _post_quietly(service: RealtimeAIServiceManager, frame: bytes) -> None:
    try:
        service.send_audio_frame(frame)
    except ConnectionClosedError:
        service.metrics.outbox_dropped += 1


def _cancel_all(loop: asyncio.AbstractEventLoop) -> None:
    pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
    for task in pending:
        task.cancel()
    if pending:
        loop.run_until_complete(asyncio.wait(pending, timeout=1.0))
    loop.run_until_complete(loop.shutdown_asyncgens())

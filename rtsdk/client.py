"""The facade apps use: :class:`AsyncRealtimeAIClient` and the sync :class:`RealtimeAIClient`.

Both run one Realtime session: connect, configure, stream audio up, deliver events (and, with
``stream_options``, capture and play audio through devices or files). The async client lives on
the caller's event loop; the sync client runs the same async client on an event loop in one
background thread, which :meth:`RealtimeAIClient.stop` ends within its timeout.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import dataclasses
import functools
import logging
import queue
import threading
from collections.abc import AsyncIterator, Callable, Coroutine, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from rtsdk import kernels
from rtsdk.audio.base import to_float32
from rtsdk.audio.encode import AppendEncoder, downmix
from rtsdk.audio.options import SUPPORTED_RATES
from rtsdk.events import RealtimeEventHandler
from rtsdk.exceptions import AudioFormatError, ConfigurationError, ConnectionClosedError
from rtsdk.metrics import SessionMetrics
from rtsdk.options import RealtimeAIOptions
from rtsdk.protocol import (
    ServerEvent,
    conversation_item_create,
    conversation_item_truncate,
    input_audio_buffer_clear,
    input_audio_buffer_commit,
    user_text_item,
)
from rtsdk.service import EventCallback, RealtimeAIServiceManager
from rtsdk.tools import Tool, ToolRegistry

if TYPE_CHECKING:
    from rtsdk.audio.options import AudioStreamOptions
    from rtsdk.audio.stream import AudioStreamManager

__all__ = ["AsyncRealtimeAIClient", "RealtimeAIClient"]

log = logging.getLogger("rtsdk.client")

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])

_MAX_APPEND_MS = 500  # larger buffers go up as several appends (the server caps one at 15 MiB)


class _Uplink:
    """App-provided audio -> session-format append frames (one resampler per source rate).

    Decoding and downmixing are the audio layer's (``to_float32``, ``downmix``), and so is the
    framing (``AppendEncoder``): the same steps as the device and file uplink.
    """

    def __init__(self, input_format: str) -> None:
        self._encoder = AppendEncoder(input_format)
        self._resamplers: dict[int, Any] = {}

    def frames(self, data: object, sample_rate: int | None) -> list[bytes]:
        enc = self._encoder
        step = enc.rate * _MAX_APPEND_MS // 1000  # samples per append
        if isinstance(data, (bytes, bytearray, memoryview)) and (
            sample_rate is None or (sample_rate == enc.rate and enc.width == 2)
        ):
            raw = memoryview(data).cast("B")  # already in the session format: framed as is
            if raw.nbytes % enc.width:
                raise AudioFormatError(
                    f"send_audio: {raw.nbytes} bytes is not a whole number of "
                    f"{enc.format} samples ({enc.width} bytes each)"
                )
            chunk = step * enc.width
            return [
                kernels.encode_append(raw[i : i + chunk], sample_width=enc.width)
                for i in range(0, raw.nbytes, chunk)
            ]
        if sample_rate is None and isinstance(data, np.ndarray):
            raise AudioFormatError("send_audio: a NumPy array needs its sample_rate= (e.g. 48000)")
        channels = 1
        if isinstance(data, np.ndarray) and data.ndim == 2:
            channels = int(data.shape[1])
            if channels < 1:
                raise AudioFormatError("send_audio: a 2-D array needs >= 1 channel column")
        x = to_float32(data, channels, "send_audio")
        if channels > 1:
            x = downmix(x, channels)
        if sample_rate not in SUPPORTED_RATES:
            raise AudioFormatError(
                f"send_audio: sample_rate {sample_rate} Hz is not supported; use one of "
                f"{list(SUPPORTED_RATES)}"
            )
        if sample_rate != enc.rate:
            rs = self._resamplers.get(sample_rate)
            if rs is None:
                rs = self._resamplers[sample_rate] = kernels.Resampler(sample_rate, enc.rate)
            x = rs.process(x)
        return [enc.frame(x[i : i + step]) for i in range(0, x.size, step)]


class AsyncRealtimeAIClient:
    """A Realtime session on the running event loop.

    >>> async with AsyncRealtimeAIClient(RealtimeAIOptions(instructions="Be brief.")) as client:
    ...     await client.send_text("Hello!")
    ...     async for event in client.events():
    ...         if event.type == "response.done":
    ...             break

    ``event_handler``: a :class:`RealtimeEventHandler` (methods plain or async). ``tools``:
    callables registered as function tools. ``stream_options``: an
    :class:`~rtsdk.audio.AudioStreamOptions` to capture and play audio (devices or files);
    without it the app sends audio with :meth:`send_audio` and gets it in events.
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
    ) -> None:
        self.options = options if options is not None else RealtimeAIOptions()
        if event_handler is not None and not isinstance(event_handler, RealtimeEventHandler):
            raise ConfigurationError(
                "event_handler must be a RealtimeEventHandler (subclass it and override "
                f"on_<event> methods), got {type(event_handler).__name__}"
            )
        self.tools = ToolRegistry()
        for func in tools:
            self.tools.register(func)
        self.metrics = SessionMetrics()
        self._service = RealtimeAIServiceManager(
            self.options, tools=self.tools, metrics=self.metrics
        )
        self._service.set_handler(event_handler)
        self._stream_options = stream_options
        self._audio_source = audio_source
        self._audio_sink = audio_sink
        self.audio: AudioStreamManager | None = None
        self._uplink = _Uplink(self.options.input_format)
        self._started = False
        self._stopped = False

    def __repr__(self) -> str:
        state = "connected" if self.is_connected else ("stopped" if self._stopped else "idle")
        return f"<AsyncRealtimeAIClient {state} {self.options!r}>"

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Connect and configure the session; returns once the server confirmed the config.

        With ``stream_options``, audio capture and playback start too.
        """
        if self._started:
            raise RuntimeError("start() may be called once per client")
        self._started = True
        service = self._service
        service.state.update_settings(service._settings())
        await service.connect()
        if self._stream_options is not None or self._audio_source is not None:
            try:
                await self._start_audio()
            except BaseException:
                await self.stop()
                raise

    async def _start_audio(self) -> None:
        from rtsdk.audio.options import AudioStreamOptions
        from rtsdk.audio.stream import AudioStreamManager

        options = self._stream_options or AudioStreamOptions(input_device=None, output_device=None)
        manager = AudioStreamManager(
            options,
            session_format=self.options.input_format,
            output_format=self.options.output_format,
            send_frame=self._service.send_audio_frame,
            source=self._audio_source,
            sink=self._audio_sink,
        )
        self.audio = manager
        self._service.playback = manager
        await manager.start()

    async def stop(self, timeout: float = 5.0) -> None:
        """End the session (audio, tasks, socket) within about ``timeout`` s. Idempotent."""
        if self._stopped:
            return
        self._stopped = True
        audio, self.audio = self.audio, None
        if audio is not None:
            try:
                await asyncio.wait_for(audio.stop(), timeout / 3)
            except (asyncio.TimeoutError, Exception):
                log.warning("audio did not stop cleanly", exc_info=True)
        await self._service.close(timeout * 2 / 3 if audio is not None else timeout)

    async def __aenter__(self) -> AsyncRealtimeAIClient:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def wait_closed(self) -> None:
        """Until the session has ended (stopped, or failed for good: see :attr:`failure`)."""
        await self._service.wait_closed()

    @property
    def is_connected(self) -> bool:
        """True while the connection is open."""
        return self._service.is_connected

    @property
    def failure(self) -> BaseException | None:
        """Why the session ended, if it failed (e.g. :class:`AuthenticationError`)."""
        return self._service.failure

    def stats(self) -> dict[str, object]:
        """One flat snapshot: :attr:`metrics` (latencies, reconnects, drops, queue high-water
        marks) plus, with audio streaming, the audio counters (``audio_`` prefixed)."""
        out = self.metrics.as_dict()
        audio = self.audio
        if audio is not None:
            for name, value in dataclasses.asdict(audio.stats).items():
                out[f"audio_{name}"] = value
        return out

    @property
    def service(self) -> RealtimeAIServiceManager:
        """The :class:`RealtimeAIServiceManager` under this client (state, link, stats)."""
        return self._service

    # -- events ------------------------------------------------------------------------------

    def events(self) -> AsyncIterator[ServerEvent]:
        """Every event from now on, in order, until the session ends."""
        return self._service.events()

    def on(self, event_type: str, callback: EventCallback | None = None) -> Any:
        """Call ``callback(event)`` for every ``event_type`` event (``"*"``: all).

        Usable as a decorator: ``@client.on("response.done")``.
        """
        if callback is None:

            def decorate(fn: F) -> F:
                self._service.add_listener(event_type, fn)
                return fn

            return decorate
        self._service.add_listener(event_type, callback)
        return callback

    # -- tools -------------------------------------------------------------------------------

    def tool(
        self,
        func: F | None = None,
        *,
        name: str | None = None,
        description: str | None = None,
        parameters: Mapping[str, Any] | None = None,
    ) -> Any:
        """Register a function tool; usable as ``@client.tool`` or ``@client.tool(name=...)``.

        Registered before :meth:`start`, it is part of the first session config; after, the
        session is updated.
        """

        def register(fn: F) -> F:
            self.register_tool(fn, name=name, description=description, parameters=parameters)
            return fn

        return register(func) if func is not None else register

    def register_tool(
        self,
        func: Callable[..., Any],
        *,
        name: str | None = None,
        description: str | None = None,
        parameters: Mapping[str, Any] | None = None,
    ) -> Tool:
        """Register ``func`` as a function tool (schema from its signature and docstring)."""
        tool = self.tools.register(func, name=name, description=description, parameters=parameters)
        if self._started and not self._stopped:
            self._service.update_settings(self._service._settings())
        return tool

    # -- sending -----------------------------------------------------------------------------

    async def send_audio(self, data: object, sample_rate: int | None = None) -> None:
        """Stream audio up.

        ``bytes``: audio in the session's input format (PCM16 24 kHz mono little-endian, or
        G.711 bytes), or PCM16 mono at ``sample_rate``. A NumPy float32 (-1..1) or int16 array,
        shape ``(frames,)`` or ``(frames, channels)`` (downmixed), with its ``sample_rate``:
        resampled and converted. Consecutive calls form one continuous stream.
        """
        for frame in self._uplink.frames(data, sample_rate):
            self._service.send_audio_frame(frame)

    async def commit_audio(self) -> None:
        """``input_audio_buffer.commit``: end the user's turn (manual turns)."""
        self._service.send(input_audio_buffer_commit())

    async def clear_audio(self) -> None:
        """``input_audio_buffer.clear``: drop the audio not yet committed."""
        self._service.send(input_audio_buffer_clear())

    async def send_text(self, text: str, *, respond: bool = True) -> None:
        """Add a user text message; with ``respond`` ask for a response (queued while one runs)."""
        if not isinstance(text, str):
            raise ConfigurationError(f"send_text: text must be a str, got {type(text).__name__}")
        self._service.send(conversation_item_create(user_text_item(text)))
        if respond:
            self._service.request_response()

    async def generate_response(self, **overrides: Any) -> None:
        """``response.create`` with GA response options (``instructions=``, ``voice=``,
        ``output_modality=``, ``conversation="none"`` for out-of-band, ...). While a response
        is active the request waits for its ``response.done``."""
        self._service.request_response(**overrides)

    async def cancel_response(self) -> None:
        """Cancel the active response (nothing when none is active)."""
        self._service.cancel_response()

    async def truncate(self, item_id: str, audio_end_ms: int) -> None:
        """``conversation.item.truncate``: the user heard ``audio_end_ms`` of ``item_id``."""
        if isinstance(audio_end_ms, bool) or not isinstance(audio_end_ms, int) or audio_end_ms < 0:
            raise ConfigurationError(
                f"truncate: audio_end_ms must be an int >= 0, got {audio_end_ms!r}"
            )
        self._service.send(conversation_item_truncate(item_id, audio_end_ms))

    async def interrupt(self) -> None:
        """Barge in from the app (e.g. push-to-talk): stop playback, cancel, truncate."""
        self._service.barge_in()

    async def submit_function_output(self, call_id: str, output: str) -> None:
        """The output of a function call the app handles itself (no registered tool)."""
        self._service.submit_function_output(call_id, output)

    async def update_session(self, **changes: Any) -> None:
        """Change session options (the :class:`RealtimeAIOptions` session fields) now and for
        every later connect."""
        self.options = self.options.with_changes(**changes)
        self._service.options = self.options
        self._service.update_settings(self._service._settings())

    async def send_event(self, event: dict[str, Any]) -> None:
        """Send any client event dict (see :mod:`rtsdk.protocol` builders) as is."""
        self._service.send(event)

    async def drain(self, timeout: float = 5.0) -> None:
        """Wait until everything queued has been handed to the connection."""
        await self._service.drain(timeout)


class RealtimeAIClient:
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
    ) -> None:
        self._client = AsyncRealtimeAIClient(
            options,
            event_handler=event_handler,
            stream_options=stream_options,
            tools=tools,
            audio_source=audio_source,
            audio_sink=audio_sink,
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

    def stats(self) -> dict[str, object]:
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

    def stop(self, timeout: float = 5.0) -> None:
        """End the session and the background thread; returns within ``timeout`` seconds."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        deadline = _monotonic() + timeout
        if loop.is_running():
            future = asyncio.run_coroutine_threadsafe(self._client.stop(timeout * 0.8), loop)
            with contextlib.suppress(Exception):
                future.result(max(0.0, deadline - _monotonic()))
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(loop.stop)
        if thread is not threading.current_thread():
            thread.join(max(0.0, deadline - _monotonic()))
        if thread.is_alive():
            log.warning("client loop thread still running after stop(timeout=%s)", timeout)

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

    def commit_audio(self) -> None:
        """See :meth:`AsyncRealtimeAIClient.commit_audio`."""
        self._run(self._client.commit_audio(), 10)

    def clear_audio(self) -> None:
        """See :meth:`AsyncRealtimeAIClient.clear_audio`."""
        self._run(self._client.clear_audio(), 10)

    def send_text(self, text: str, *, respond: bool = True) -> None:
        """See :meth:`AsyncRealtimeAIClient.send_text`."""
        self._run(self._client.send_text(text, respond=respond), 10)

    def generate_response(self, **overrides: Any) -> None:
        """See :meth:`AsyncRealtimeAIClient.generate_response`."""
        self._run(self._client.generate_response(**overrides), 10)

    def cancel_response(self) -> None:
        """See :meth:`AsyncRealtimeAIClient.cancel_response`."""
        self._run(self._client.cancel_response(), 10)

    def truncate(self, item_id: str, audio_end_ms: int) -> None:
        """See :meth:`AsyncRealtimeAIClient.truncate`."""
        self._run(self._client.truncate(item_id, audio_end_ms), 10)

    def interrupt(self) -> None:
        """See :meth:`AsyncRealtimeAIClient.interrupt`."""
        self._run(self._client.interrupt(), 10)

    def submit_function_output(self, call_id: str, output: str) -> None:
        """See :meth:`AsyncRealtimeAIClient.submit_function_output`."""
        self._run(self._client.submit_function_output(call_id, output), 10)

    def update_session(self, **changes: Any) -> None:
        """See :meth:`AsyncRealtimeAIClient.update_session`."""
        self._run(self._client.update_session(**changes), 10)

    def send_event(self, event: dict[str, Any]) -> None:
        """See :meth:`AsyncRealtimeAIClient.send_event`."""
        self._run(self._client.send_event(event), 10)

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


def _monotonic() -> float:
    import time

    return time.monotonic()


def _cancel_all(loop: asyncio.AbstractEventLoop) -> None:
    pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
    for task in pending:
        task.cancel()
    if pending:
        loop.run_until_complete(asyncio.wait(pending, timeout=1.0))
    loop.run_until_complete(loop.shutdown_asyncgens())

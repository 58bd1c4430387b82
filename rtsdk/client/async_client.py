"""The facade apps use: :class:`AsyncRealtimeAIClient` and the sync :class:`RealtimeAIClient`.

Both run one Realtime session: connect, configure, stream audio up, deliver events (and, with
``stream_options``, capture and play audio through devices or files). The async client lives on
the caller's event loop; the sync client (:mod:`rtsdk.client.sync_client`) runs the same async
client on an event loop in one background thread, which :meth:`RealtimeAIClient.stop` ends
within its timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from rtsdk.client.conversation import GaHelpers
from rtsdk.client.live import LiveHelpers
from rtsdk.client.live_transcripts import iter_live_lines
from rtsdk.client.responses import ResponseHandle
from rtsdk.client.stats import SessionStats, session_stats
from rtsdk.exceptions import ConfigurationError
from rtsdk.mcp import ApprovalPolicy
from rtsdk.protocol import (
    ServerEvent,
    conversation_item_create,
    conversation_item_truncate,
    input_audio_buffer_clear,
    input_audio_buffer_commit,
    user_text_item,
)
from rtsdk.protocol.live_core import LiveCore
from rtsdk.protocol.live_events import LiveSessionClosedEvent
from rtsdk.protocol.translation import ENGINE_FRAME_MS, TranslationSessionClosedEvent
from rtsdk.session.events import EventHandler
from rtsdk.session.metrics import SessionMetrics
from rtsdk.session.options import RealtimeAIOptions
from rtsdk.session.service import EventCallback, RealtimeAIServiceManager
from rtsdk.session.tools import Tool, ToolRegistry
from rtsdk.session.uplink import Uplink

if TYPE_CHECKING:
    from rtsdk.audio.options import AudioStreamOptions
    from rtsdk.audio.stream import AudioStreamManager

__all__ = ["AsyncRealtimeAIClient"]

log = logging.getLogger("rtsdk.client")

F = TypeVar("F", bound=Callable[..., Any])


class AsyncRealtimeAIClient(GaHelpers, LiveHelpers):
    """A Realtime, GPT-Live or translation session on the running event loop.

    >>> async with AsyncRealtimeAIClient(RealtimeAIOptions(instructions="Be brief.")) as client:
    ...     await client.send_text("Hello!")
    ...     async for event in client.events():
    ...         if event.type == "response.done":
    ...             break

    GPT-Live (``RealtimeAIOptions(model="gpt-live-1")``): the same audio, tools, handlers,
    transcripts and stats; :mod:`rtsdk.client.live` adds :meth:`mute`, :meth:`unmute`,
    :meth:`play_fixture`, :meth:`drop_queued_output` and :meth:`delegation_reply`, and the
    intents GPT-Live has no such thing for (:meth:`generate_response`, :meth:`cancel_response`,
    :meth:`truncate`, :meth:`interrupt`, :meth:`commit_audio`, :meth:`clear_audio`, item
    requests) raise :class:`~rtsdk.exceptions.ConfigurationError` naming GPT-Live. A translation
    session (``RealtimeAIOptions(model="gpt-realtime-translate", target_language="fr")``) runs
    on the same audio, with ``source`` / ``target`` lines from :meth:`transcripts`.

    ``event_handler``: a :class:`RealtimeEventHandler` or
    :class:`~rtsdk.client.live_handler.LiveEventHandler` (methods plain or async). ``tools``:
    callables registered as function tools. ``stream_options``: an
    :class:`~rtsdk.audio.AudioStreamOptions` to capture and play audio (devices or files);
    without it the app sends audio with :meth:`send_audio` and gets it in events.
    ``mcp_approval``: how MCP calls that need approval are answered: ``"approve"``,
    ``"deny"``, or a callable ``(McpApprovalRequest) -> bool | (bool, reason)`` (plain or
    async); ``None``: the app answers with :meth:`approve_mcp`.

    GA helpers (:mod:`rtsdk.client.conversation`): :meth:`transcripts`, :meth:`send_image`,
    :meth:`generate_response` (a handle that resolves with that response's text, audio and
    ``response.done``), :meth:`retrieve_item`, :meth:`delete_item`, :meth:`approve_mcp`.
    """

    #: the session layer under the client (a subclass may attach to a running session)
    _service_type: type[RealtimeAIServiceManager] = RealtimeAIServiceManager

    def __init__(
        self,
        options: RealtimeAIOptions | None = None,
        *,
        event_handler: EventHandler | None = None,
        stream_options: AudioStreamOptions | None = None,
        tools: Iterable[Callable[..., Any]] = (),
        audio_source: Any = None,
        audio_sink: Any = None,
        mcp_approval: ApprovalPolicy | None = None,
    ) -> None:
        self.options = options if options is not None else RealtimeAIOptions()
        if event_handler is not None and not isinstance(event_handler, EventHandler):
            raise ConfigurationError(
                "event_handler must be a RealtimeEventHandler or LiveEventHandler (subclass it "
                f"and override on_<event> methods), got {type(event_handler).__name__}"
            )
        self.tools = ToolRegistry()
        for func in tools:
            self._conversation_only("tools")
            self.tools.register(func)
        self.metrics = SessionMetrics()
        self._service = self._service_type(self.options, tools=self.tools, metrics=self.metrics)
        self._service.set_handler(event_handler)
        self._init_ga(mcp_approval)
        self._stream_options = stream_options
        self._audio_source = audio_source
        self._audio_sink = audio_sink
        self.audio: AudioStreamManager | None = None
        self._uplink = Uplink(
            self.options.input_format, event_type=self._service.state.input_audio_event
        )
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
        service.update_settings(service._settings(), send=False)  # tools registered since
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
        translation = self.options.session_type == "translation"
        manager = AudioStreamManager(
            options,
            session_format=self.options.input_format,
            output_format=self.options.output_format,
            send_frame=self._service.send_audio_frame,
            input_event=self._service.state.input_audio_event,
            continuous=self._continuous,
            append_ms=ENGINE_FRAME_MS if translation else None,
            source=self._audio_source,
            sink=self._audio_sink,
        )
        self.audio = manager
        self._service.playback = manager
        await manager.start()

    async def stop(
        self, timeout: float = 5.0
    ) -> LiveSessionClosedEvent | TranslationSessionClosedEvent | None:
        """End the session (audio, tasks, socket) within about ``timeout`` s. Idempotent.

        GPT-Live and translation: the input stops, ``session.close`` goes out, what the server
        still sends (a translation's flushed output) plays, and its ``session.closed`` (on
        GPT-Live with the reason and usage) is returned when it came; None otherwise (and for
        Realtime)."""
        if self._stopped:
            return self.session_closed
        self._stopped = True
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        audio = self.audio
        if self._continuous and self._service.is_connected:
            # the input ends first; the server's last words (a translation's flushed output,
            # the final usage) still arrive and play before the audio stops
            if audio is not None:
                await audio.stop_input()
            await self._service.say_goodbye(timeout / 2)
            if audio is not None:
                with contextlib.suppress(Exception):
                    await audio.drain(max(0.0, (deadline - loop.time()) / 2))
        self.audio = None
        if audio is not None:
            try:
                await asyncio.wait_for(audio.stop(), max(0.05, (deadline - loop.time()) / 3))
            except (asyncio.TimeoutError, Exception):
                log.warning("audio did not stop cleanly", exc_info=True)
        await self._service.close(max(0.05, deadline - loop.time()))
        return self.session_closed

    @property
    def _continuous(self) -> bool:
        """A session whose input never stops (GPT-Live, translation)."""
        return self.options.session_type in ("live", "translation")

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

    def stats(self) -> SessionStats:
        """One nested snapshot of the session's public counters: ``latency``, ``link``,
        ``errors``, ``dispatch`` and ``audio`` (input sent and output received in bytes and ms,
        drops; with audio streaming the stream's counters under ``stream`` and the echo stage
        under ``echo``). See :mod:`rtsdk.client.stats`; the flat keys of earlier releases still
        read."""
        return session_stats(self._service, self.audio)

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
        self._conversation_only("register_tool")
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
        self._realtime_only("commit_audio")
        self._service.send(input_audio_buffer_commit())

    async def clear_audio(self) -> None:
        """``input_audio_buffer.clear``: drop the audio not yet committed."""
        self._realtime_only("clear_audio")
        self._service.send(input_audio_buffer_clear())

    async def send_text(self, text: str, *, respond: bool = True) -> None:
        """Add a user text message; with ``respond`` ask for a response (queued while one runs)."""
        if not isinstance(text, str):
            raise ConfigurationError(f"send_text: text must be a str, got {type(text).__name__}")
        self._conversation_only("send_text")
        state = self._service.state
        if isinstance(state, LiveCore):
            # GPT-Live: a user message to the Responses backend, or context for the model
            for frame in state.user_text(text):
                self._service.send(frame)
            return
        self._service.send(conversation_item_create(user_text_item(text)))
        if respond:
            self._service.request_response()

    async def generate_response(self, **overrides: Any) -> ResponseHandle:
        """``response.create`` with GA response options (``instructions=``, ``voice=``,
        ``output_modality=``, ``input=[...]``, ``metadata=``, ``conversation="none"`` for
        out-of-band, ``reasoning="high"`` and ``parallel_tool_calls=`` on reasoning models,
        ``prompt={"id": ...}``, ...). While a default-conversation response is active the
        request waits for its ``response.done``; an out-of-band one goes out at once.

        Returns at once with a :class:`~rtsdk.client.responses.ResponseHandle`: ``await`` it
        for a :class:`~rtsdk.client.responses.ResponseResult` (text, audio, output items and
        the ``response.done`` object of that response). An out-of-band response's audio is
        in its result only, never in the playback."""
        self._realtime_only("generate_response")
        return self._tracked_response(overrides)

    async def cancel_response(self) -> None:
        """Cancel the active response (nothing when none is active)."""
        self._realtime_only("cancel_response")
        self._service.cancel_response()

    async def truncate(self, item_id: str, audio_end_ms: int) -> None:
        """``conversation.item.truncate``: the user heard ``audio_end_ms`` of ``item_id``."""
        self._realtime_only("truncate")
        if isinstance(audio_end_ms, bool) or not isinstance(audio_end_ms, int) or audio_end_ms < 0:
            raise ConfigurationError(
                f"truncate: audio_end_ms must be an int >= 0, got {audio_end_ms!r}"
            )
        self._service.send(conversation_item_truncate(item_id, audio_end_ms))

    async def interrupt(self) -> None:
        """Barge in from the app (e.g. push-to-talk): stop playback, cancel, truncate.

        Not on GPT-Live, where the model decides by itself (:meth:`drop_queued_output` drops
        the local queue, for guardrails)."""
        self._realtime_only("interrupt")
        self._service.barge_in()

    async def submit_function_output(self, call_id: str, output: str) -> None:
        """The output of a function call the app handles itself (no registered tool)."""
        self._service.submit_function_output(call_id, output)

    async def update_session(self, /, **changes: Any) -> None:
        """Change session options (the :class:`RealtimeAIOptions` session fields) now and for
        every later connect. GPT-Live takes changes of its delegation and triggers only (the
        rest is fixed at start): another change raises ``ConfigurationError`` naming it, and
        nothing is sent or changed."""
        options = self.options.with_changes(**changes)
        previous = self._service.options
        self._service.options = options
        try:
            self._service.update_settings(self._service._settings())
        except BaseException:
            self._service.options = previous
            raise
        self.options = options

    def transcripts(self) -> AsyncIterator[Any]:
        """The transcript from now on, until the session ends: on GPT-Live a
        :class:`~rtsdk.client.live_transcripts.TranscriptLine` per finished line of either
        speaker (session-timeline ``start_ms`` / ``end_ms``), in a translation session one per
        line of the source speech and of its translation; on Realtime a
        :class:`~rtsdk.client.transcripts.Transcript` per finished user turn (see
        :meth:`GaHelpers.transcripts`)."""
        if self._continuous:
            return iter_live_lines(self._service.events(), self.options.session_type)
        return GaHelpers.transcripts(self)

    async def send_event(self, event: dict[str, Any]) -> None:
        """Send any client event dict (see :mod:`rtsdk.protocol` builders) as is."""
        self._service.send(event)

    async def drain(self, timeout: float = 5.0) -> None:
        """Wait until everything queued has been handed to the connection."""
        await self._service.drain(timeout)

"""RealtimeAIServiceManager: the Realtime protocol running over one resilient WebSocket link.

It joins the sans-I/O protocol core (:class:`~rtsdk.protocol.ClientSessionState`) to the
:class:`~rtsdk.websocket.WebSocketManager`, on one asyncio loop:

- on every connect and reconnect, the session config goes out first, then what the core says
  must be replayed (the conversation, when ``replay_conversation``);
  ``start`` returns once the server has confirmed the config with ``session.updated``;
- every received frame is handled at once, in order, from the socket's read callback: output
  audio takes the fast path (:mod:`rtsdk.downlink`: no JSON parse, no event, straight to the
  playback); everything else is parsed, fed to the core, and what the core asks for is sent;
- events reach the app through one dispatcher task (:mod:`rtsdk.dispatch`), in order; a slow or
  failing handler delays only other handlers, never audio or protocol work;
- every send goes through one ordered outbox (:mod:`rtsdk.outbox`);
- server errors are classified: benign ones end nothing, auth ones end the session at once with
  :class:`~rtsdk.exceptions.AuthenticationError`, ``session_expired`` renews the connection;
- the connection is recycled before the server's session-length cap, at a quiet moment
  (:mod:`rtsdk.recycle`); registered tools run in their own tasks (:mod:`rtsdk.tools`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from typing import Any

from rtsdk import kernels
from rtsdk.exceptions import (
    AuthenticationError,
    ConfigurationError,
    ConnectionClosedError,
    ModelUnavailableError,
)
from rtsdk.link.websocket import LinkEvent, WebSocketManager, redacted_url
from rtsdk.models import deprecation_notice, warn_if_deprecated
from rtsdk.protocol import (
    ClientSessionState,
    ErrorKind,
    FunctionCall,
    ProtocolErrorEvent,
    ServerEvent,
    SessionSettings,
    TranscriptionSettings,
    encode_event,
    parse_server_event,
    to_beta_client_event,
)
from rtsdk.protocol import events as ev
from rtsdk.session.dispatch import EventCallback, EventDispatcher
from rtsdk.session.downlink import OutputAudio
from rtsdk.session.events import (
    ConnectedEvent,
    DisconnectedEvent,
    RealtimeEventHandler,
    ReconnectedEvent,
    ReconnectingEvent,
    SessionRecycledEvent,
    ToolResultEvent,
)
from rtsdk.session.metrics import SessionMetrics
from rtsdk.session.options import RealtimeAIOptions
from rtsdk.session.outbox import Outbox
from rtsdk.session.playback import AudioPlayback, RawAudioSink
from rtsdk.session.recycle import Recycler
from rtsdk.session.tools import ToolRegistry, ToolResult

__all__ = ["AudioPlayback", "EventCallback", "RawAudioSink", "RealtimeAIServiceManager"]

log = logging.getLogger("rtsdk.service")


_APPEND_FRAMING = len(kernels.encode_append(b""))  # the append event around its base64


def _append_audio_bytes(frame: str | bytes) -> int:
    """Audio bytes in an ``input_audio_buffer.append`` frame of :func:`encode_append`'s shape:
    its base64 length, less the padding (no decode)."""
    n = len(frame) - _APPEND_FRAMING
    if n <= 0:
        return 0
    pad = frame[-4:].count("=") if isinstance(frame, str) else frame[-4:].count(b"=")
    return n * 3 // 4 - pad


class RealtimeAIServiceManager(OutputAudio):
    """One Realtime session over a resilient link (see the module docstring).

    Runs on one asyncio loop; none of its methods are thread-safe (the sync client facade
    calls them on its loop).
    """

    def __init__(
        self,
        options: RealtimeAIOptions,
        *,
        tools: ToolRegistry | None = None,
        metrics: SessionMetrics | None = None,
    ) -> None:
        self.options = options
        self.tools = tools if tools is not None else ToolRegistry()
        self.metrics = metrics if metrics is not None else SessionMetrics()
        self.state = ClientSessionState(self._settings())
        self.playback: AudioPlayback | None = None
        self._init_output_audio()
        self._observers: list[Callable[[ServerEvent], None]] = []
        self.raw_audio: RawAudioSink | None = None
        self.dispatcher = EventDispatcher(self.metrics)
        self.dispatcher.on_interest = self._disarm
        self._link: WebSocketManager | None = None
        self._outbox = Outbox(self.metrics, options.max_backlog)
        self._tasks: set[asyncio.Task[Any]] = set()
        self._sender: asyncio.Task[None] | None = None
        self._dispatcher: asyncio.Task[None] | None = None
        self._ready: asyncio.Future[None] | None = None
        self._session_update_id: str | None = None
        self._connected_once = False
        self._input_lost = False  # renewed connection, no audio appended on it yet
        self._replayed = 0
        self._recycler = Recycler(
            options.session_max_seconds, lambda: self.state.response_active, self._start_recycle
        )
        self._closed = False
        self._ended = False
        self._refused_transcription: set[str | None] = set()
        #: Input audio bytes handed to the outbox (decoded from the append frames), this session.
        self.audio_sent_bytes = 0
        self.failure: BaseException | None = None

    def __repr__(self) -> str:
        return f"<RealtimeAIServiceManager {self.options!r} link={self._link!r}>"

    def _settings(self) -> SessionSettings | TranscriptionSettings:
        if self.options.session_type == "transcription":
            return self.options.transcription_settings()
        settings = self.options.session_settings()
        if len(self.tools):
            settings = replace(settings, tools=self.tools.merged(settings.tools))
        return settings

    # -- listeners ---------------------------------------------------------------------------

    def set_handler(self, handler: RealtimeEventHandler | None) -> None:
        """The :class:`RealtimeEventHandler` whose methods receive events."""
        self.dispatcher.set_handler(handler)

    def add_listener(self, event_type: str, callback: EventCallback) -> None:
        """Call ``callback(event)`` for each event of ``event_type`` (``"*"``: every event)."""
        self.dispatcher.add_listener(event_type, callback)

    def remove_listener(self, event_type: str, callback: EventCallback) -> None:
        """Undo :meth:`add_listener` (no error if it was not added)."""
        self.dispatcher.remove_listener(event_type, callback)

    def events(self) -> AsyncIterator[ServerEvent]:
        """Every event from now on, in order, until the session ends (at once if it has)."""
        return self.dispatcher.events()

    # -- connect / close ---------------------------------------------------------------------

    @property
    def is_connected(self) -> bool:
        """True while the link is open (and not renewing)."""
        return self._link is not None and self._link.is_connected

    async def connect(self) -> None:
        """Connect, send the session config, and wait until the server confirms it.

        Raises :class:`AuthenticationError` (refused key: no retry),
        :class:`ConnectionClosedError` (unreachable after the retries, or no
        ``session.updated`` within ``handshake_timeout``) or :class:`ConfigurationError` (the
        server rejected the session config; its message says which parameter).
        """
        if self._link is not None:
            raise RuntimeError("connect() may be called once per service manager")
        opts = self.options
        opts.require_key()
        for model in self._models():
            warn_if_deprecated(model, stacklevel=3)
        loop = asyncio.get_running_loop()
        self._ready = loop.create_future()
        self._link = WebSocketManager(
            opts.endpoint_url(),
            opts.auth_headers(),
            on_message=self._on_frame,
            on_open=self._on_open,
            on_link_event=self._on_link_event,
            reconnect=opts.reconnect_policy(),
            open_timeout=opts.connect_timeout,
            ping_interval=opts.ping_interval,
            ping_timeout=opts.ping_timeout,
            # a server that stopped answering pings will not answer a close either
            close_timeout=min(2.0, opts.ping_timeout or 2.0),
            max_backlog=opts.max_backlog,
            audio_window=opts.audio_window,
        )
        self.metrics.link = self._link.stats
        self._dispatcher = loop.create_task(self.dispatcher.run(), name="rtsdk-dispatch")
        try:
            await self._link.connect()
            try:
                await asyncio.wait_for(asyncio.shield(self._ready), opts.handshake_timeout)
            except asyncio.TimeoutError:
                raise ConnectionClosedError(
                    f"the server did not confirm the session within "
                    f"{opts.handshake_timeout:g} s (no session.updated)"
                ) from None
        except BaseException:
            await self.close()
            raise
        self._sender = loop.create_task(self._outbox.run(self._link), name="rtsdk-sender")

    async def close(self, timeout: float = 5.0) -> None:
        """End the session: close the link, stop the tasks, end event iterators.

        Returns within about ``timeout`` seconds whatever the server or the handlers do:
        handlers still running then are cancelled. Idempotent.
        """
        if self._closed:
            return
        self._closed = True
        deadline = time.monotonic() + timeout

        def left(share: float = 1.0) -> float:
            return max(0.01, (deadline - time.monotonic()) * share)

        self._recycler.cancel()
        link = self._link
        if link is not None:
            try:
                await asyncio.wait_for(link.close(), left(0.6))
            except (asyncio.TimeoutError, Exception):
                log.warning("the link did not close cleanly within %.1f s", timeout)
        tasks = [t for t in (self._sender, *self._tasks) if t is not None and not t.done()]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=left(0.3))
        self._end_events("closed by the client", None)
        dispatcher = self._dispatcher
        if dispatcher is not None and dispatcher is not asyncio.current_task():
            done, _ = await asyncio.wait([dispatcher], timeout=left())
            if not done:
                log.warning("event handlers still busy after %.1f s; cancelled", timeout)
                dispatcher.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await dispatcher

    async def wait_closed(self) -> None:
        """Until the session has ended (closed, or failed for good)."""
        if self._link is not None:
            await self._link.wait_closed()

    def _models(self) -> tuple[str, ...]:
        """The catalogue names this session uses: its model and its transcription model."""
        opts = self.options
        names = [opts.catalogue_model]
        if opts.session_type == "transcription":
            names.append(self.state.settings.model)
        else:
            names.append(opts.transcription_model)
        return tuple(n for n in names if n)

    def _model_refused(self, error: dict[str, Any], where: str) -> None:
        """The service said ``model_not_found``: end the session with a
        :class:`ModelUnavailableError` that says why (the catalogue's shutdown date and
        replacement when the model is past it)."""
        opts = self.options
        model = (
            self._models()[-1] if opts.session_type == "transcription" else opts.catalogue_model
        ) or opts.model
        text = (
            f"the service refused model {model!r} ({where}: {error.get('code')}: "
            f"{error.get('message') or 'no message'})"
        )
        notice = deprecation_notice(model)
        failure = ModelUnavailableError(f"{text}; {notice}" if notice else text, model=model)
        log.error("%s", failure)
        self.metrics.server_errors += 1
        ready = self._ready
        if ready is not None and not ready.done():
            ready.set_exception(failure)
            ready.exception()
        if self._link is not None:
            self._link.fail(failure)

    def _transcription_failed(self, error: dict[str, Any]) -> None:
        if not isinstance(error, dict) or error.get("code") != "model_not_found":
            return
        if self.options.session_type == "transcription":
            self._model_refused(error, "transcription failed")  # nothing else it could do
            return
        model = self.options.transcription_model
        if model in self._refused_transcription:
            return
        self._refused_transcription.add(model)
        notice = deprecation_notice(model)
        log.error(
            "the service refused transcription model %r (%s)%s; the conversation goes on "
            "without input transcripts",
            model,
            error.get("message") or error.get("code"),
            f"; {notice}" if notice else "",
        )

    # -- link callbacks ----------------------------------------------------------------------

    async def _on_open(self) -> None:
        link = self._link
        assert link is not None
        # a transcription session has no conversation to rebuild (it refuses item.create)
        replay = (
            self._connected_once
            and self.options.replay_conversation
            and self.options.session_type != "transcription"
        )
        frames = self.state.on_connect(replay=replay)
        # audio appended on the old connection and not committed is gone with it
        self._input_lost = self._connected_once and not (
            link.backlog_has_audio or any(audio for _, audio in self._outbox.frames)
        )
        self._session_update_id = frames[0].get("event_id")
        self._replayed = sum(1 for f in frames if f.get("type") == "conversation.item.create")
        self._connected_once = True
        for frame in frames:
            try:
                await link.send_now(self._encode(frame))
            except ConnectionClosedError as exc:
                # closed under us (e.g. an auth error event then a close): the reader reads
                # what the server said and recovers or fails as for any close
                log.debug("connection closed during session setup: %s", exc)
                break
            self._note_sent(frame)
        self._recycler.arm()

    def _on_link_event(self, event: LinkEvent) -> None:
        self._disarm()
        m = self.metrics
        if event.kind == "connected":
            m.connects += 1
            self._publish(ConnectedEvent(url=redacted_url(self.options.endpoint_url())))
        elif event.kind == "reconnecting":
            m.reconnects += 1
            self._publish(
                ReconnectingEvent(attempt=event.attempt, delay=event.delay, reason=event.reason)
            )
        elif event.kind == "reconnected":
            m.connects += 1
            self._publish(ReconnectedEvent(replayed_items=self._replayed))
        elif event.kind == "recycled":
            m.connects += 1
            m.recycles += 1
            self._publish(SessionRecycledEvent(reason=event.reason, replayed_items=self._replayed))
        elif event.kind == "disconnected":
            link = self._link
            failure = link.failure if link is not None else None
            if failure is not None and self.failure is None:
                self.failure = failure
            ready = self._ready
            if ready is not None and not ready.done():
                ready.set_exception(
                    failure
                    if failure is not None
                    else ConnectionClosedError(f"disconnected: {event.reason}")
                )
                ready.exception()  # retrieved here too: no "never retrieved" warning
            self._end_events(event.reason, failure)

    def _end_events(self, reason: str, error: BaseException | None) -> None:
        if self._ended:
            return
        self._ended = True
        self._recycler.cancel()
        self._publish(DisconnectedEvent(reason=reason, error=error))
        self.dispatcher.end()

    # -- receive -----------------------------------------------------------------------------

    def _on_frame(self, frame: bytes) -> None:
        try:
            armed = self._armed
            if armed is not None:  # this frame was not the armed item's next delta
                self._disarm()
            if self._take_audio(frame):
                return
            self._handle(parse_server_event(frame))
            if armed is not None:  # e.g. a transcript delta between two audio deltas
                self._arm(*armed)
        except ConnectionClosedError:
            pass  # closing: what the frame asked to send has nowhere to go
        except Exception:
            # never let one frame end the session: report it and read the next one
            self.metrics.protocol_errors += 1
            log.exception("could not handle a frame from the server (%.80r)", frame)

    def _handle(self, event: ServerEvent) -> None:
        state = self.state
        m = self.metrics
        etype = event.type
        if etype == "input_audio_buffer.speech_started":
            self._sync_played(interrupt=True)
        actions = state.handle(event)
        for frame in actions.send:
            self._post_json(frame)
        if actions.function_calls:
            self._run_tools(actions.function_calls)
        if isinstance(event, ev.ErrorEvent):
            self._on_error(event, actions.error)
        elif isinstance(event, ProtocolErrorEvent):
            m.protocol_errors += 1
            log.warning("unreadable frame from the server: %s", event.description)
        elif etype == "session.updated":
            ready = self._ready
            if ready is not None and not ready.done():
                ready.set_result(None)
        elif etype == "input_audio_buffer.speech_stopped":
            m.speech_stopped()
        elif isinstance(event, ev.InputAudioTranscriptionFailedEvent):
            self._transcription_failed(event.error)
        elif etype == "response.output_audio.done" and self.playback is not None:
            try:
                self.playback.end_item(getattr(event, "item_id", None))
            except Exception:
                log.exception("playback end_item failed")
        elif etype == "response.created":
            rid = event.response.get("id") if isinstance(event, ev.ResponseCreatedEvent) else None
            if isinstance(rid, str):
                m.response_created(rid)
        elif etype == "response.output_text.delta":
            m.first_output(getattr(event, "response_id", ""))
        elif etype == "response.done":
            response = event.response if isinstance(event, ev.ResponseDoneEvent) else {}
            rid = response.get("id")
            if isinstance(rid, str):
                m.response_done(rid)
            if response.get("status") == "failed":
                details = response.get("status_details") or {}
                error = details.get("error") if isinstance(details, dict) else None
                if isinstance(error, dict) and error.get("code") == "model_not_found":
                    self._model_refused(error, "response failed")
            self._recycler.response_done()
            self._sync_played()  # the played counts so far; frees the playback's old marks
        self._publish(event)

    def _on_error(self, event: ev.ErrorEvent, kind: ErrorKind | None) -> None:
        error = event.error if isinstance(event.error, dict) else {}
        code = str(error.get("code") or "")
        if code == "model_not_found":
            self._model_refused(error, "error")
            return
        message = str(error.get("message") or "")
        blamed = error.get("event_id")
        ready = self._ready
        if (
            ready is not None
            and not ready.done()
            and blamed is not None
            and blamed == self._session_update_id
        ):
            param = error.get("param")
            ready.set_exception(
                ConfigurationError(
                    f"the server rejected the session config"
                    f"{f' ({param})' if param else ''}: {code or 'error'}: {message}"
                )
            )
            ready.exception()
        if kind is ErrorKind.BENIGN:
            log.debug("benign server error %s: %s", code, message)
            return
        self.metrics.server_errors += 1
        if kind is ErrorKind.AUTH:
            failure = AuthenticationError(
                f"the server refused the credentials ({code or error.get('type')})"
            )
            if ready is not None and not ready.done():
                ready.set_exception(failure)
                ready.exception()
            if self._link is not None:
                self._link.fail(failure)
        elif kind is ErrorKind.RECONNECT:
            log.info("the server ended the session (%s); renewing the connection", code)
            self._recycler.start(f"server ended the session: {code}")
        else:
            log.warning("server error %s: %s", code or error.get("type"), message)

    # -- dispatch ----------------------------------------------------------------------------

    def _publish(self, event: ServerEvent) -> None:
        for observe in self._observers:
            try:
                observe(event)
            except Exception:
                log.exception("event observer failed on %s", event.type)
        self.dispatcher.publish(event)

    def add_observer(self, observe: Callable[[ServerEvent], None]) -> None:
        """Call ``observe(event)`` synchronously for every event, as it is published (before
        any handler, and before the next frame is read): for the client's own bookkeeping."""
        self._observers.append(observe)

    # -- send --------------------------------------------------------------------------------

    def _encode(self, frame: dict[str, Any]) -> str:
        if self.options.beta_protocol:
            frame = to_beta_client_event(frame)
        return encode_event(frame)

    def _note_sent(self, frame: dict[str, Any]) -> None:
        if frame.get("type") == "response.create":
            self.metrics.response_requested()

    def _post_json(self, frame: dict[str, Any]) -> None:
        self._note_sent(frame)
        self.post(self._encode(frame))

    def post(self, frame: str | bytes, *, audio: bool = False) -> None:
        """Queue one prebuilt text frame for sending, in order with every other send.

        ``audio=True`` marks an ``input_audio_buffer.append`` frame: it may be dropped (and is
        counted) when the link is down longer than ``audio_window`` or the outbox is full.
        """
        if self._closed or self._ended:
            raise ConnectionClosedError("the session is closed") from self.failure
        if audio:
            self._input_lost = False
            self.audio_sent_bytes += _append_audio_bytes(frame)
        else:
            self._disarm()  # an intent may change what the session plays (truncate, cancel)
        self._outbox.post(frame, audio)

    def send(self, event: dict[str, Any]) -> None:
        """Queue a client event (a dict from :mod:`rtsdk.protocol` builders) for sending.

        After the connection was renewed, an ``input_audio_buffer.commit`` with no audio
        appended since is not sent (the server's buffer is certainly empty: what was appended
        before went with the old connection); it is logged instead.
        """
        etype = event.get("type")
        if etype == "input_audio_buffer.commit" and self._input_lost:
            log.warning(
                "commit skipped: the connection was renewed and no audio was appended since "
                "(what was appended before is gone with the old connection)"
            )
            return
        if etype == "input_audio_buffer.clear":
            self._input_lost = False
        self._post_json(event)

    def send_audio_frame(self, frame: bytes) -> None:
        """Queue a prebuilt ``input_audio_buffer.append`` frame (``encode_append``): as
        ``post(frame, audio=True)``."""
        if self._closed or self._ended:
            raise ConnectionClosedError("the session is closed") from self.failure
        self._input_lost = False
        self.audio_sent_bytes += _append_audio_bytes(frame)
        self._outbox.post(frame, True)

    async def drain(self, timeout: float = 5.0) -> None:
        """Wait until the outbox has been handed to the link (sent, or kept for reconnect)."""
        await self._outbox.drain(timeout, lambda: self._closed)

    # -- intents -----------------------------------------------------------------------------

    def request_response(self, **overrides: Any) -> None:
        """``response.create`` now, or once the active response is done."""
        for frame in self.state.request_response(**overrides):
            self._post_json(frame)

    def cancel_response(self) -> None:
        """Cancel the active response (nothing when none is active)."""
        for frame in self.state.cancel_response():
            self._post_json(frame)

    def submit_function_output(self, call_id: str, output: str) -> None:
        """The output of a function call; the follow-up ``response.create`` goes out once all
        outputs of that response are in."""
        for frame in self.state.submit_function_output(call_id, output):
            self._post_json(frame)

    def update_settings(self, settings: SessionSettings | TranscriptionSettings) -> None:
        """New session settings: sent now and on every later connect."""
        for frame in self.state.update_settings(settings):
            self._post_json(frame)

    def barge_in(self) -> None:
        """The user interrupts locally (push-to-talk): stop playback, cancel, truncate."""
        self._sync_played(interrupt=True)
        for frame in self.state.barge_in():
            self._post_json(frame)

    def _sync_played(self, *, interrupt: bool = False) -> None:
        self._disarm()
        playback = self.playback
        if playback is None:
            return
        try:
            played = playback.interrupt() if interrupt else playback.take_played()
        except Exception:
            log.exception("playback accounting failed")
            return
        for item_id, samples in played:
            self.state.audio_played(item_id, samples)

    def _run_tools(self, calls: list[FunctionCall]) -> None:
        # results are published in call order: each once it and the calls before it are in
        order = [c for c in calls if c.name in self.tools]
        results: dict[str, ToolResult] = {}

        def report(result: ToolResult) -> None:
            results[result.call_id] = result
            while order and order[0].call_id in results:
                call = order.pop(0)
                done = results.pop(call.call_id)
                self._publish(
                    ToolResultEvent(
                        call_id=call.call_id,
                        name=call.name,
                        arguments=call.arguments,
                        response_id=call.response_id,
                        output=done.output,
                        error=done.error,
                        seconds=done.seconds,
                    )
                )

        for call in order:
            task = self.tools.start(
                call.name, call.call_id, call.arguments, self._tool_output, report=report
            )
            if task is not None:
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)

    def _tool_output(self, call_id: str, output: str) -> None:
        if not self._closed and not self._ended:
            self.submit_function_output(call_id, output)

    # -- session length ----------------------------------------------------------------------

    def _start_recycle(self, reason: str) -> None:
        link = self._link
        if link is None or self._closed:
            return
        task = asyncio.get_running_loop().create_task(link.recycle(reason), name="rtsdk-recycle")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def recycle(self, reason: str = "requested by the app") -> None:
        """Renew the connection now, with the config (and conversation) replayed."""
        link = self._link
        if link is not None:
            await link.recycle(reason)

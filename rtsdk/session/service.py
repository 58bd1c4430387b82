"""RealtimeAIServiceManager: one voice session, a protocol core over one resilient link.

It joins a sans-I/O protocol core (the seam, :class:`~rtsdk.protocol.core.ProtocolCore`; for the
Realtime API :class:`~rtsdk.protocol.realtime_core.RealtimeCore`) to the
:class:`~rtsdk.link.websocket.WebSocketManager`, on one asyncio loop, and knows no event name:

- on every connect and reconnect it sends what the core says opens a connection (the session
  config first, then, when ``replay_conversation``, the conversation); ``connect`` returns once
  the core reports the server's confirmation (``Actions.ready``);
- every received frame is handled at once, in order, from the socket's read callback: output
  audio the core's compiled recogniser takes goes the fast path (:mod:`rtsdk.session.downlink`:
  no JSON parse, no event, straight to the playback); anything else is parsed by the core, and
  the :class:`~rtsdk.protocol.core.Actions` it returns are carried out (frames to send, tools
  to run, the handshake, metrics, a failure, a renewal, a problem to report);
- events reach the app through one dispatcher task (:mod:`rtsdk.session.dispatch`), in order;
  a slow or failing handler delays only other handlers, never audio or protocol work;
- every send goes through one ordered outbox (:mod:`rtsdk.session.outbox`);
- the connection is recycled before the server's session-length cap, at a quiet moment
  (:mod:`rtsdk.session.recycle`); registered tools run in their own tasks
  (:mod:`rtsdk.session.tools`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from typing import Any

from rtsdk.exceptions import ConnectionClosedError, RtsdkError
from rtsdk.link.websocket import LinkEvent, WebSocketManager, redacted_url
from rtsdk.models import warn_if_deprecated
from rtsdk.protocol import ServerEvent, SessionSettings, TranscriptionSettings
from rtsdk.protocol.core import Actions
from rtsdk.protocol.live import LiveSettings
from rtsdk.protocol.live_core import LiveCore
from rtsdk.protocol.realtime_core import RealtimeCore
from rtsdk.protocol.translation import TranslationCore, TranslationSettings
from rtsdk.session.dispatch import EventCallback, EventDispatcher
from rtsdk.session.downlink import OutputAudio
from rtsdk.session.events import (
    ConnectedEvent,
    DisconnectedEvent,
    EventHandler,
    ReconnectedEvent,
    ReconnectingEvent,
    SessionRecycledEvent,
)
from rtsdk.session.intents import Intents
from rtsdk.session.metrics import SessionMetrics
from rtsdk.session.options import RealtimeAIOptions
from rtsdk.session.outbox import Outbox
from rtsdk.session.playback import AudioPlayback, RawAudioSink
from rtsdk.session.recycle import Recycler
from rtsdk.session.session_types import live_settings, models_in_use
from rtsdk.session.tools import ToolRegistry

__all__ = ["AudioPlayback", "EventCallback", "RawAudioSink", "RealtimeAIServiceManager"]

log = logging.getLogger("rtsdk.service")

#: A session's settings, for any of the APIs.
Settings = SessionSettings | TranscriptionSettings | LiveSettings | TranslationSettings

#: Seconds before a session's announced end (GPT-Live's ``expires_at``) that it is renewed.
EXPIRY_MARGIN = 30.0


class RealtimeAIServiceManager(Intents, OutputAudio):
    """One Realtime session over a resilient link (see the module docstring).

    Runs on one asyncio loop; none of its methods are thread-safe (the sync client facade
    calls them on its loop).
    """

    #: The protocol core (sans-I/O): every event name and frame shape lives there.
    state: RealtimeCore | LiveCore | TranslationCore

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
        settings = self._settings()
        if isinstance(settings, LiveSettings):
            self.state = LiveCore(settings)
        elif isinstance(settings, TranslationSettings):
            self.state = TranslationCore(settings)
        else:
            self.state = RealtimeCore(
                settings, model=options.catalogue_model or options.model, beta=options.beta_protocol
            )
        self.playback: AudioPlayback | None = None
        self._init_output_audio()
        self._observers: list[Callable[[ServerEvent], None]] = []
        self.raw_audio: RawAudioSink | None = None
        self.dispatcher = EventDispatcher(
            self.metrics,
            audio_event=self.state.output_audio_event,
            event_types=self.state.event_types,
        )
        self.dispatcher.on_interest = self._disarm
        self._link: WebSocketManager | None = None
        self._outbox = Outbox(self.metrics, options.max_backlog, options.audio_window)
        self._tasks: set[asyncio.Task[Any]] = set()
        self._sender: asyncio.Task[None] | None = None
        self._dispatcher: asyncio.Task[None] | None = None
        self._ready: asyncio.Future[None] | None = None
        # this connection's session confirmed (or refused: _refused), for the link's gate
        self._confirmed: asyncio.Event | None = None
        self._refused: RtsdkError | None = None
        self._server_closed: asyncio.Event | None = None
        self._said_goodbye = False
        self._connected_once = False
        self._input_lost = False  # renewed connection, no audio appended on it yet
        self._replayed = 0
        self._recycler = Recycler(
            options.session_max_seconds, lambda: self.state.response_active, self._start_recycle
        )
        self._closed = False
        self._ended = False
        #: Input audio bytes handed to the outbox (counted from the frames), this session.
        self.audio_sent_bytes = 0
        self._input_framing = len(self.state.encode_input_audio(b""))
        self.failure: BaseException | None = None

    def __repr__(self) -> str:
        return f"<RealtimeAIServiceManager {self.options!r} link={self._link!r}>"

    def _settings(self) -> Settings:
        if self.options.session_type == "translation":
            return self.options.translation_settings()
        if self.options.session_type == "live":
            return live_settings(self.options, self.tools.merged(self.options.tools))
        if self.options.session_type == "transcription":
            return self.options.transcription_settings()
        settings = self.options.session_settings()
        if len(self.tools):
            settings = replace(settings, tools=self.tools.merged(settings.tools))
        return settings

    # -- listeners ---------------------------------------------------------------------------

    def set_handler(self, handler: EventHandler | None) -> None:
        """The handler (an :class:`~rtsdk.session.events.EventHandler`, e.g. a
        :class:`~rtsdk.client.handler.RealtimeEventHandler`) whose methods receive events."""
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
        for model in models_in_use(opts, self.state.settings):
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
        if self.state.gate_sends:
            # nothing (audio included) may go out before the server confirmed the session
            self._link.gate = self._gate
        self._link.track_acks = self.state.tracks_acks
        self._server_closed = asyncio.Event()
        self.metrics.link = self._link.stats
        self._dispatcher = loop.create_task(self.dispatcher.run(), name="rtsdk-dispatch")
        try:
            await self._link.connect()
            try:
                await asyncio.wait_for(asyncio.shield(self._ready), opts.handshake_timeout)
            except asyncio.TimeoutError:
                raise ConnectionClosedError(
                    f"the server did not confirm the session within "
                    f"{opts.handshake_timeout:g} s (no {self.state.ready_event})"
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
        if link is not None and link.is_connected and not self._ended:
            await self.say_goodbye(min(2.0, left(0.5)))
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

    async def say_goodbye(self, timeout: float) -> None:
        """End the session politely, once: send the core's closing frames (GPT-Live and
        translation: ``session.close``) and wait up to ``timeout`` s for the server's
        confirmation, with events still flowing (a translation's flushed output, the final
        usage). Nothing for a Realtime session."""
        if self._said_goodbye or self._server_closed is None:
            return
        self._said_goodbye = True
        frames = self.state.close()
        if not frames:
            return
        deadline = time.monotonic() + timeout
        try:
            for frame in frames:
                self._outbox.post(self._encode(frame), False, None, True)  # after the audio
            await self._outbox.drain(max(0.01, timeout / 2), lambda: False)
            if self._link is not None:
                self._link.closing()  # the server closes after its goodbye: no reconnect
            left = max(0.01, deadline - time.monotonic())
            await asyncio.wait_for(self._server_closed.wait(), left)
        except (asyncio.TimeoutError, ConnectionClosedError):
            log.info("the server did not confirm the close; closing the connection")

    async def _gate(self) -> None:
        """The link's gate (GPT-Live): hold every send until this connection's session is
        confirmed; a refusal or no answer within ``handshake_timeout`` ends the link."""
        confirmed = self._confirmed
        assert confirmed is not None
        try:
            await asyncio.wait_for(confirmed.wait(), self.options.handshake_timeout)
        except asyncio.TimeoutError:
            raise ConnectionClosedError(
                f"the server did not confirm the session within "
                f"{self.options.handshake_timeout:g} s (no {self.state.ready_event})"
            ) from None
        if self._refused is not None:
            raise self._refused

    async def wait_closed(self) -> None:
        """Until the session has ended (closed, or failed for good)."""
        if self._link is not None:
            await self._link.wait_closed()

    # -- link callbacks ----------------------------------------------------------------------

    async def _on_open(self) -> None:
        link = self._link
        assert link is not None
        self._confirmed = asyncio.Event()
        self._refused = None
        # a transcription session has no conversation to rebuild (it refuses item.create)
        replay = (
            self._connected_once
            and self.options.replay_conversation
            and self.options.session_type != "transcription"
        )
        # what the old connection may have lost (none untracked): sent again or reported
        self.state.take_back(link.take_unacknowledged())
        frames = self.state.on_connect(replay=replay)
        # audio appended on the old connection and not committed is gone with it
        self._input_lost = self._connected_once and not (
            link.backlog_has_audio or self._outbox.has_audio
        )
        self._replayed = self.state.replayed
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
        if self.state.resent:  # before anything kept, after the gate
            link.requeue([(self._encode(f), f) for f in self.state.resent])
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
            self._publish(
                ReconnectedEvent(
                    replayed_items=self._replayed,
                    session_id=self._session_id(),
                    resent=tuple(self.state.resent),
                    unsent=tuple(self.state.unsent),
                )
            )
        elif event.kind == "recycled":
            m.connects += 1
            m.recycles += 1
            self._publish(
                SessionRecycledEvent(
                    reason=event.reason,
                    replayed_items=self._replayed,
                    session_id=self._session_id(),
                )
            )
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

    def _session_id(self) -> str | None:
        sid = getattr(self.state, "session_id", None)
        return sid if isinstance(sid, str) else None

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
            self._handle(self.state.parse(frame))
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
        if state.interrupts_playback(event):
            self._sync_played(interrupt=True)  # what was heard, before the core cuts
        actions = state.handle(event)
        link = self._link
        if link is not None and link.unacknowledged:
            link.acknowledge(lambda sent: state.acknowledges(event, sent))
        for frame in actions.send:
            self._post_json(frame)
        if actions.function_calls:
            self._run_tools(actions.function_calls)
        self._apply(actions)
        self._publish(event)

    def _apply(self, actions: Actions) -> None:
        """Do what the core's :class:`~rtsdk.protocol.core.Actions` say (protocol-neutral)."""
        m = self.metrics
        ready = self._ready
        pending = ready is not None and not ready.done()
        confirmed = self._confirmed
        if actions.ready:
            if confirmed is not None:
                confirmed.set()
            self._arm_expiry()
        elif actions.rejected is not None and confirmed is not None and not confirmed.is_set():
            self._refused = actions.rejected
            confirmed.set()
        if actions.ready and pending:
            assert ready is not None
            ready.set_result(None)
        elif actions.rejected is not None and pending and actions.failure is None:
            assert ready is not None
            ready.set_exception(actions.rejected)
            ready.exception()  # retrieved here too: no "never retrieved" warning
        if actions.closed and self._server_closed is not None:
            self._server_closed.set()
        if actions.turn_ended:
            m.speech_stopped()
        if actions.response_started is not None:
            m.response_created(actions.response_started)
        if actions.first_output is not None:
            m.first_output(actions.first_output)
        if actions.output_done is not None and self.playback is not None:
            try:
                self.playback.end_item(actions.output_done)
            except Exception:
                log.exception("playback end_item failed")
        if actions.response_finished is not None:
            m.response_done(actions.response_finished)
            self._recycler.response_done()
            self._sync_played()  # the played counts so far; frees the playback's old marks
        if actions.unreadable is not None:
            m.protocol_errors += 1
            log.warning("unreadable frame from the server: %s", actions.unreadable)
        if actions.failure is not None:
            self._fail(actions.failure)
        elif actions.renew is not None:
            m.server_errors += 1
            log.info("%s; renewing the connection", actions.renew)
            self._recycler.start(actions.renew)
        elif actions.problem is not None:
            m.server_errors += 1
            log.warning("%s", actions.problem)

    def _arm_expiry(self) -> None:
        """A session with a known end (GPT-Live's ``expires_at``) is renewed before it."""
        expires_at = getattr(self.state, "expires_at", None)
        if isinstance(expires_at, int):
            self._recycler.arm(within=max(1.0, expires_at - time.time() - EXPIRY_MARGIN))

    def _fail(self, failure: RtsdkError) -> None:
        """End the session for good with ``failure`` (no reconnect)."""
        self.metrics.server_errors += 1
        log.error("%s", failure)
        ready = self._ready
        if ready is not None and not ready.done():
            ready.set_exception(failure)
            ready.exception()
        if self._link is not None:
            self._link.fail(failure)

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
        return self.state.encode(frame)

    def _note_sent(self, frame: dict[str, Any]) -> None:
        if self.state.asks_response(frame):
            self.metrics.response_requested()

    def _post_json(self, frame: dict[str, Any], barrier: bool = False) -> None:
        self._note_sent(frame)
        self._post(self._encode(frame), frame, barrier)

    def post(self, frame: str | bytes, *, audio: bool = False) -> None:
        """Queue one prebuilt text frame for sending, in order with every other send.

        ``audio=True`` marks an ``input_audio_buffer.append`` frame: it may be dropped (and is
        counted) when the link is down longer than ``audio_window`` or the outbox is full.
        """
        if audio:
            self.send_audio_frame(frame.encode() if isinstance(frame, str) else frame)
            return
        self._post(frame, None, False)

    def _post(self, frame: str | bytes, tag: dict[str, Any] | None, barrier: bool) -> None:
        if self._closed or self._ended:
            raise ConnectionClosedError("the session is closed") from self.failure
        self._disarm()  # an intent may change what the session plays (truncate, cancel)
        self._outbox.post(frame, False, tag, barrier)

    def send(self, event: dict[str, Any]) -> None:
        """Queue a client event (a dict from :mod:`rtsdk.protocol` builders) for sending.

        After the connection was renewed, an ``input_audio_buffer.commit`` with no audio
        appended since is not sent (the server's buffer is certainly empty: what was appended
        before went with the old connection); it is logged instead.
        """
        intent = self.state.input_intent(event)
        if intent == "commit" and self._input_lost:
            log.warning(
                "commit skipped: the connection was renewed and no audio was appended since "
                "(what was appended before is gone with the old connection)"
            )
            return
        if intent == "clear":
            self._input_lost = False
        self._post_json(event, barrier=intent is not None)  # after the audio before it

    def send_audio_frame(self, frame: bytes) -> None:
        """Queue a prebuilt ``input_audio_buffer.append`` frame (``encode_append``): as
        ``post(frame, audio=True)``."""
        if self._closed or self._ended:
            raise ConnectionClosedError("the session is closed") from self.failure
        self._input_lost = False
        n = len(frame) - self._input_framing  # inline: this runs for every audio frame
        if n > 0:
            self.audio_sent_bytes += n * 3 // 4 - frame.count(b"=", -4)
        self._outbox.post(frame, True)

    @property
    def outbox(self) -> Outbox:
        """What waits to be sent (its waits and drops are in ``stats()["link"]["uplink"]``)."""
        return self._outbox

    async def drain(self, timeout: float = 5.0) -> None:
        """Wait until the outbox has been handed to the link (sent, or kept for reconnect)."""
        await self._outbox.drain(timeout, lambda: self._closed)

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

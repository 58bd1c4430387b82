"""The client's session state machine: parsed server events and app intents in, frames out.

Pure: no I/O, no clocks, no threads. The client layer calls :meth:`ClientSessionState.handle` for
every parsed server event and sends ``Actions.send``; app intents (``request_response``,
``cancel_response``, ``submit_function_output``, ``barge_in``, ...) return the frames to send.
Frames are dicts for ``encode_event``.

What it guarantees:

- The session config is the first frame of every connection (:meth:`on_connect`).
- At most one ``response.create`` for the default conversation is in flight or active; a second
  request waits and is released by ``response.done`` (so no
  ``conversation_already_has_active_response``).
  Out-of-band requests (``conversation="none"``) go out at once.
- Function calls of a response are collected; once the app has supplied every output and the
  calling response is done, the ``function_call_output`` items go out, then one ``response.create``.
  When the calling response ended early (cancelled, e.g. by a barge-in during a spoken
  preamble), the calls it had completed still get their outputs, but no ``response.create``:
  the user's new turn asks for the next response.
- Output-audio marks per assistant item: bytes received and samples played; a barge-in yields
  ``conversation.item.truncate`` at the played position, clamped to what was received, never at
  0 ms, and nothing when the item was fully played.
- Replay after a reconnect (``on_connect(replay=True)``): user/system/assistant text and function
  calls/outputs as ``conversation.item.create`` in order. Audio is not kept: user audio is replayed
  as its transcript (as user text) when one arrived, otherwise skipped; assistant audio as its
  transcript (assistant text; after a truncate the server-side transcript was shortened, ours is
  the one from ``conversation.item.done`` as last seen, which may hold words cut off by a
  truncate). Function calls still waiting for outputs survive a replaying reconnect: their
  outputs and one ``response.create`` go out on the new connection once all are given.
- Bounded for long sessions: the conversation kept for replay is the newest items within
  ``replay_budget`` characters of text (about a reasoning model's context: what the service
  would take back), an output whose call was let go is not replayed; the newest
  :data:`MAX_AUDIO_MARKS` items keep their output-audio marks (older ones have long finished
  playing; their bytes stay counted in ``received_audio_bytes``).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any

from . import builders as b
from . import events as ev
from .acks import acknowledges, sort_unacknowledged
from .core import Actions, FunctionCall
from .errors import classify_error
from .replay import item_chars, replay_frames
from .session import SessionSettings, bytes_per_ms, format_name
from .transcription import TranscriptionSettings

__all__ = [
    "MAX_AUDIO_MARKS",
    "REPLAY_BUDGET",
    "Actions",
    "ClientSessionState",
    "FunctionCall",
    "ItemAudio",
]

#: Characters of conversation text kept for replay (about 128k tokens at 4 per token).
REPLAY_BUDGET = 512 * 1024
#: Output-audio marks kept (the newest items'); also the barged-in responses remembered.
MAX_AUDIO_MARKS = 256

Json = dict[str, Any]


@dataclass(slots=True)
class ItemAudio:
    """Output audio of one assistant item: bytes received, bytes played, whether all arrived."""

    response_id: str
    received: int = 0
    played: int = 0
    complete: bool = False
    truncated: bool = False


@dataclass(slots=True)
class _Create:
    overrides: Json
    frame: Json | None = None


class ClientSessionState:
    """State of one logical session across connections (see the module docstring)."""

    def __init__(
        self,
        settings: SessionSettings | TranscriptionSettings | None = None,
        *,
        replay_budget: int = REPLAY_BUDGET,
    ) -> None:
        self.replay_budget = replay_budget
        self._sizes: dict[str, int] = {}  # item id -> characters it holds (in self.order)
        self._chars = 0
        self.settings: SessionSettings | TranscriptionSettings = (
            settings if settings is not None else SessionSettings()
        )
        self.output_format: str = self.settings.output_format
        self.turn_detection: str = self.settings.turn_detection
        self.interrupt_response = self.settings.interrupt_response is not False
        self.session: Json = {}
        # responses
        self.active_response_id: str | None = None
        self._create_in_flight: _Create | None = None
        self._queued: deque[_Create] = deque()
        self.out_of_band: set[str] = set()
        # conversation
        self.items: dict[str, Json] = {}
        self.order: list[str] = []
        # function calls: response id -> call id -> call; outputs supplied by the app
        self._calls: dict[str, dict[str, FunctionCall]] = {}
        self._outputs: dict[str, str] = {}
        self._awaiting_outputs: dict[str, list[FunctionCall]] = {}
        # responses that ended early: their calls' outputs go back with no response.create
        self._quiet_outputs: set[str] = set()
        # output audio
        self.audio: dict[str, ItemAudio] = {}
        self._received_before = 0  # output audio bytes of the marks earlier connections had
        self._unfinished: dict[str, list[ItemAudio]] = {}  # response id -> its open marks
        self.playing_item_id: str | None = None
        self._dropped_responses: dict[str, None] = {}  # an ordered set, the newest kept
        # client events a dead connection never confirmed (see take_back), and what the last
        # connect did with them
        self._taken_back: list[Json] = []
        self.resent: list[Json] = []
        self.unsent: list[Json] = []

    # ----------------------------------------------------------------------------------------
    # connection and configuration

    @property
    def bytes_per_ms(self) -> int:
        """Output audio bytes per millisecond (48 for PCM16 24 kHz, 8 for G.711)."""
        return bytes_per_ms(self.output_format)

    @property
    def response_active(self) -> bool:
        """True while a default-conversation response is requested or running."""
        return self.active_response_id is not None or self._create_in_flight is not None

    def on_connect(self, *, replay: bool = False) -> list[Json]:
        """Frames for a new connection: ``session.update`` first, then (if asked) the replay.

        Per-connection state is reset (no response is active on a new connection); requests
        still queued are kept and the first is sent after the replay. What the old connection
        never confirmed (:meth:`take_back`) is sorted: items and the response request in
        flight (which stays in flight) into :attr:`resent`, which the session sends after
        these frames, the rest into :attr:`unsent`.
        """
        frames = [b.session_update(self.settings)]
        if replay:
            frames += self.replay_frames()
        taken, self._taken_back = self._taken_back, []
        self.resent, self.unsent = [], taken
        if replay and taken:
            calls = {str(i.get("call_id")) for i in self.items.values() if "call_id" in i}
            self.resent, self.unsent = sort_unacknowledged(taken, calls=calls)
        # a response request in flight stays so when it is sent again now, or was never
        # written (it goes out from the backlog): no second request is released meanwhile
        in_flight = self._create_in_flight
        if in_flight is not None and any(f is in_flight.frame for f in self.unsent):
            in_flight = None
        self.active_response_id = None
        self._create_in_flight = in_flight
        self.out_of_band.clear()
        self.items.clear()
        self.order.clear()
        self._sizes.clear()
        self._chars = 0
        self._received_before = self.received_audio_bytes
        self.audio.clear()
        self._unfinished.clear()
        self.playing_item_id = None
        self._dropped_responses.clear()
        self._calls.clear()
        if not replay:
            # the calls are gone with the old conversation; with a replay they are back, and
            # their outputs (given before or after) go out on this connection
            self._awaiting_outputs.clear()
            self._outputs.clear()
            self._quiet_outputs.clear()
        frames += self._release()
        return frames

    #: the link remembers this session's control events until :meth:`acknowledges` says the
    #: server got them (see :mod:`.acks`)
    tracks_acks = True

    acknowledges = staticmethod(acknowledges)

    def take_back(self, sent: list[Json]) -> None:
        """Client events written on a connection that died before the server confirmed
        them, oldest first: the next :meth:`on_connect` sends them again or reports them."""
        self._taken_back = list(sent)

    def update_settings(self, settings: SessionSettings | TranscriptionSettings) -> list[Json]:
        """Keep new settings (re-sent on every connect) and return their ``session.update``."""
        self.settings = settings
        self.output_format = settings.output_format
        self.turn_detection = settings.turn_detection
        self.interrupt_response = settings.interrupt_response is not False
        return [b.session_update(settings)]

    def replay_frames(self) -> list[Json]:
        """``conversation.item.create`` frames rebuilding the conversation as text (see above)."""
        return replay_frames(self.items[item_id] for item_id in self.order)

    # ----------------------------------------------------------------------------------------
    # app intents

    def request_response(self, **overrides: Any) -> list[Json]:
        """``response.create`` now, or queued while another response is active (then ``[]``).

        ``overrides`` are :func:`~rtsdk.protocol.builders.response_create` keywords;
        ``conversation="none"`` (out-of-band) is never queued.
        """
        request = _Create(overrides)
        request.frame = b.response_create(**overrides)  # validates now, not when released
        if overrides.get("conversation") == "none":
            return [request.frame]
        self._queued.append(request)
        return self._release()

    def cancel_response(self, *, drop_queued: bool = False) -> list[Json]:
        """``response.cancel`` for the active response (nothing when none is active)."""
        if drop_queued:
            self._queued.clear()
        if self.active_response_id is not None:
            return [b.response_cancel(self.active_response_id)]
        if self._create_in_flight is not None:
            return [b.response_cancel()]
        return []

    def submit_function_output(self, call_id: str, output: str) -> list[Json]:
        """Record the app's output for ``call_id``; returns the frames once all are ready.

        When every call of the calling response has an output and that response is done:
        the ``function_call_output`` items in call order, then one ``response.create`` (queued
        if another response is active by then).
        """
        b.function_call_output_item(call_id, output)  # type check
        self._outputs[call_id] = output
        for response_id, calls in list(self._awaiting_outputs.items()):
            if any(c.call_id == call_id for c in calls):
                return self._flush_outputs(response_id)
        return []

    @property
    def pending_function_calls(self) -> list[FunctionCall]:
        """Calls of finished responses that still wait for an output from the app."""
        return [
            c
            for calls in self._awaiting_outputs.values()
            for c in calls
            if c.call_id not in self._outputs
        ]

    @property
    def received_audio_bytes(self) -> int:
        """Output audio bytes received in this session, over all its connections (the fast
        path's compiled player counts into the same marks)."""
        return self._received_before + sum(m.received for m in self.audio.values())

    def audio_received(self, item_id: str, nbytes: int, response_id: str = "") -> bool:
        """Count output audio bytes received for ``item_id``. False: not for the playback
        (barged-in, or of an out-of-band response, whose audio is its requester's)."""
        if response_id in self._dropped_responses or response_id in self.out_of_band:
            return False
        mark = self.audio.get(item_id)
        if mark is None:
            mark = self.audio[item_id] = ItemAudio(response_id)
            self._unfinished.setdefault(response_id, []).append(mark)
            if len(self.audio) > MAX_AUDIO_MARKS:
                oldest = next(iter(self.audio))
                self._received_before += self.audio.pop(oldest).received
        if mark.truncated:
            return False
        mark.received += nbytes
        return True

    def plays_audio(self, item_id: str, response_id: str) -> bool:
        """Whether :meth:`audio_received` would now accept audio of ``item_id`` for the
        playback (the item seen before, not barged-in, its response neither dropped nor
        out-of-band)."""
        if response_id in self._dropped_responses or response_id in self.out_of_band:
            return False
        mark = self.audio.get(item_id)
        return mark is not None and not mark.truncated

    def audio_played(self, item_id: str, samples: int) -> None:
        """The playback side rendered ``samples`` more samples of ``item_id`` (format rate)."""
        mark = self.audio.get(item_id)
        if mark is None:
            return
        per_sample = 2 if format_name(self.output_format) == "pcm16" else 1
        mark.played += samples * per_sample
        self.playing_item_id = item_id

    def played_ms(self, item_id: str) -> int:
        """Milliseconds of ``item_id`` played, clamped to what was received."""
        mark = self.audio.get(item_id)
        if mark is None:
            return 0
        return min(mark.played, mark.received) // self.bytes_per_ms

    def barge_in(self, *, cancel: bool | None = None) -> list[Json]:
        """The user interrupts: frames to cancel (if needed) and truncate the playing item.

        ``cancel`` None: cancel the active response only when the server will not do it by
        itself (manual turns or ``interrupt_response`` off).
        """
        frames: list[Json] = []
        if cancel is None:
            cancel = self.turn_detection == "none" or not self.interrupt_response
        if cancel:
            frames += self.cancel_response()
        if self.active_response_id is not None:
            self._drop(self.active_response_id)
        frames += self._truncate_playing()
        return frames

    def _truncate_playing(self) -> list[Json]:
        item_id = self.playing_item_id
        if item_id is None:
            return []
        mark = self.audio.get(item_id)
        self.playing_item_id = None
        if mark is None or mark.truncated:
            return []
        self._drop(mark.response_id)
        if mark.complete and mark.played >= mark.received:
            return []  # fully played: nothing to cut
        end_ms = min(mark.played, mark.received) // self.bytes_per_ms
        mark.truncated = True
        if end_ms <= 0:
            return []
        return [b.conversation_item_truncate(item_id, end_ms)]

    # ----------------------------------------------------------------------------------------
    # server events

    def handle(self, event: ev.ServerEvent) -> Actions:
        """Apply one parsed server event; returns what the client layer must do."""
        actions = Actions()
        handler = _HANDLERS.get(type(event))
        if handler is not None:
            handler(self, event, actions)
        return actions

    def _on_session(self, event: Any, actions: Actions) -> None:
        session = event.session
        self.session = session
        audio = session.get("audio") if isinstance(session, dict) else None
        if isinstance(audio, dict):
            out = audio.get("output")
            if isinstance(out, dict) and "format" in out:
                self.output_format = format_name(out["format"])
            inp = audio.get("input")
            if isinstance(inp, dict) and "turn_detection" in inp:
                td = inp["turn_detection"]
                if td is None:
                    self.turn_detection = "none"
                elif isinstance(td, dict):
                    self.turn_detection = str(td.get("type", "server_vad"))
                    self.interrupt_response = td.get("interrupt_response") is not False

    def _on_item_added(self, event: Any, actions: Actions) -> None:
        item = event.item
        item_id = item.get("id")
        if not isinstance(item_id, str):
            return
        if item_id not in self.items:
            prev = event.previous_item_id
            order = self.order
            if isinstance(prev, str) and prev in self.items and order[-1] != prev:
                order.insert(order.index(prev) + 1, item_id)
            else:
                order.append(item_id)
        self.items[item_id] = dict(item)
        size = item_chars(item)
        self._chars += size - self._sizes.get(item_id, 0)
        self._sizes[item_id] = size
        while self._chars > self.replay_budget and len(self.order) > 1:
            gone = self.order.pop(0)
            del self.items[gone]
            self._chars -= self._sizes.pop(gone, 0)

    def _drop(self, response_id: str) -> None:
        """Remember a barged-in response (its late audio is not played), the newest only."""
        drops = self._dropped_responses
        drops[response_id] = None
        if len(drops) > MAX_AUDIO_MARKS:
            del drops[next(iter(drops))]

    def _on_item_done(self, event: Any, actions: Actions) -> None:
        self._on_item_added(event, actions)
        item_id = event.item.get("id")
        mark = self.audio.get(item_id) if isinstance(item_id, str) else None
        if mark is not None:
            mark.complete = True

    def _on_item_deleted(self, event: Any, actions: Actions) -> None:
        if event.item_id in self.items:
            del self.items[event.item_id]
            self.order.remove(event.item_id)
            self._chars -= self._sizes.pop(event.item_id, 0)

    def _on_item_truncated(self, event: Any, actions: Actions) -> None:
        mark = self.audio.get(event.item_id)
        if mark is not None:
            mark.truncated = True

    def _on_transcription_completed(self, event: Any, actions: Actions) -> None:
        item = self.items.get(event.item_id)
        if item is None:
            return
        content = item.get("content")
        if isinstance(content, list) and 0 <= event.content_index < len(content):
            part = content[event.content_index]
            if isinstance(part, dict):
                content[event.content_index] = dict(part, transcript=event.transcript)

    @property
    def speech_interrupts(self) -> bool:
        """Whether the user starting to talk (``speech_started``) cuts the reply: not with
        ``interrupt_response`` off, where the server lets its reply go on, and so does the
        client (an app that wants to cut it barges in itself)."""
        return self.turn_detection == "none" or self.interrupt_response

    def _on_speech_started(self, event: Any, actions: Actions) -> None:
        if not self.speech_interrupts:
            return
        actions.stop_playback = True
        actions.send += self.barge_in()

    def _on_response_created(self, event: Any, actions: Actions) -> None:
        response = event.response
        rid = response.get("id")
        if not isinstance(rid, str):
            return
        if "conversation_id" in response and response["conversation_id"] is None:
            self.out_of_band.add(rid)
            return
        self.active_response_id = rid
        self._create_in_flight = None

    def _on_output_item_done(self, event: Any, actions: Actions) -> None:
        item = event.item
        if item.get("type") == "function_call":
            self._record_call(event.response_id, item)

    def _record_call(self, response_id: str, item: Json) -> None:
        call_id = item.get("call_id")
        if not isinstance(call_id, str):
            return
        calls = self._calls.setdefault(response_id, {})
        calls[call_id] = FunctionCall(
            call_id=call_id,
            name=str(item.get("name") or ""),
            arguments=str(item.get("arguments") or ""),
            response_id=response_id,
            item_id=str(item.get("id") or ""),
        )

    def _on_arguments_done(self, event: Any, actions: Actions) -> None:
        self._calls.setdefault(event.response_id, {})[event.call_id] = FunctionCall(
            call_id=event.call_id,
            name=event.name,
            arguments=event.arguments,
            response_id=event.response_id,
            item_id=event.item_id,
        )

    def _on_audio_delta(self, event: Any, actions: Actions) -> None:
        delta = event.delta
        nbytes = len(delta) * 3 // 4 - (delta[-2:].count("=") if delta else 0)
        self.audio_received(event.item_id, nbytes, event.response_id)

    def _on_audio_done(self, event: Any, actions: Actions) -> None:
        mark = self.audio.get(event.item_id)
        if mark is not None:
            mark.complete = True

    def _on_response_done(self, event: Any, actions: Actions) -> None:
        response = event.response
        rid = response.get("id")
        for item in response.get("output") or ():
            if (
                isinstance(item, dict)
                and item.get("type") == "function_call"
                and isinstance(rid, str)
            ):
                self._record_call(rid, item)
        for mark in self._unfinished.pop(rid, ()) if isinstance(rid, str) else ():
            mark.complete = True
        if isinstance(rid, str) and rid in self.out_of_band:
            self.out_of_band.discard(rid)
            return
        self.active_response_id = None  # one default-conversation response at a time
        calls = self._calls.pop(rid, None) if isinstance(rid, str) else None
        status = response.get("status", "completed")
        if calls and isinstance(rid, str) and status != "completed":
            # interrupted (a barge-in during a preamble, a cancel): the calls the model had
            # finished are in the conversation and still run, their outputs go back, but no
            # response is asked for (the user's turn brings the next one)
            finished = {
                item.get("call_id")
                for item in response.get("output") or ()
                if isinstance(item, dict)
                and item.get("type") == "function_call"
                and item.get("status") == "completed"
            }
            calls = {k: c for k, c in calls.items() if k in finished}
            if calls:
                self._quiet_outputs.add(rid)
        if calls and isinstance(rid, str):
            ordered = list(calls.values())
            self._awaiting_outputs[rid] = ordered
            actions.function_calls = ordered
            actions.send += self._flush_outputs(rid)
        actions.send += self._release()

    def _on_error(self, event: Any, actions: Actions) -> None:
        error = event.error
        actions.error = classify_error(error)
        blamed = error.get("event_id") if isinstance(error, dict) else None
        pending = self._create_in_flight
        if (
            pending is not None
            and pending.frame is not None
            and blamed == pending.frame["event_id"]
        ):
            self._create_in_flight = None
            if error.get("code") == "conversation_already_has_active_response":
                # someone else's response is running: wait for its response.done
                pending.frame = b.response_create(**pending.overrides)
                self._queued.appendleft(pending)
                if self.active_response_id is None:
                    self.active_response_id = ""  # unknown id; cleared by response.done
            else:
                actions.send += self._release()

    # ----------------------------------------------------------------------------------------

    def _flush_outputs(self, response_id: str) -> list[Json]:
        calls = self._awaiting_outputs.get(response_id)
        if not calls or any(c.call_id not in self._outputs for c in calls):
            return []
        del self._awaiting_outputs[response_id]
        frames = [
            b.conversation_item_create(
                b.function_call_output_item(c.call_id, self._outputs.pop(c.call_id))
            )
            for c in calls
        ]
        if response_id in self._quiet_outputs:
            self._quiet_outputs.discard(response_id)
            return frames
        self._queued.append(_Create({}, b.response_create()))
        return frames + self._release()

    def _release(self) -> list[Json]:
        if self.response_active or not self._queued:
            return []
        request = self._queued.popleft()
        frame = request.frame if request.frame is not None else b.response_create()
        request.frame = frame
        self._create_in_flight = request
        return [frame]


_HANDLERS: dict[type, Any] = {
    ev.SessionCreatedEvent: ClientSessionState._on_session,
    ev.SessionUpdatedEvent: ClientSessionState._on_session,
    ev.ConversationItemAddedEvent: ClientSessionState._on_item_added,
    ev.ConversationItemDoneEvent: ClientSessionState._on_item_done,
    ev.ConversationItemDeletedEvent: ClientSessionState._on_item_deleted,
    ev.ConversationItemTruncatedEvent: ClientSessionState._on_item_truncated,
    ev.InputAudioTranscriptionCompletedEvent: ClientSessionState._on_transcription_completed,
    ev.InputAudioBufferSpeechStartedEvent: ClientSessionState._on_speech_started,
    ev.ResponseCreatedEvent: ClientSessionState._on_response_created,
    ev.ResponseOutputItemDoneEvent: ClientSessionState._on_output_item_done,
    ev.ResponseFunctionCallArgumentsDoneEvent: ClientSessionState._on_arguments_done,
    ev.ResponseOutputAudioDeltaEvent: ClientSessionState._on_audio_delta,
    ev.ResponseOutputAudioDoneEvent: ClientSessionState._on_audio_done,
    ev.ResponseDoneEvent: ClientSessionState._on_response_done,
    ev.ErrorEvent: ClientSessionState._on_error,
}

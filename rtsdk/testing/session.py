"""The Realtime protocol as the service plays it, for one connection of the local server.

:class:`RealtimeSession` takes decoded client events and produces server events (as dicts,
through the ``send`` callback given to it, in order). It holds the session config, the
conversation, the input audio buffer with its energy VAD, and the responses in progress; it
does no I/O itself (responses stream from tasks it starts on the running loop).

Every error it sends is a row of the catalogue (:mod:`.catalogue`, ``docs/server-errors.md``),
sent by :meth:`RealtimeSession.fail` with the fields the row's templates need: the codes the
service gives (``conversation_already_has_active_response``, ``response_cancel_not_active``,
``input_audio_buffer_commit_empty``, ``unknown_parameter``, ``invalid_json``, ...) with their
sources, and this server's own choice, said as such, where nothing public shows one. An error
carries the client's ``event_id`` when its row says the service echoes it.

Models, by the catalogue of :mod:`rtsdk.models`: ``reasoning`` or ``parallel_tool_calls`` for a
model known not to reason is refused with ``unsupported_parameter``, an unknown effort with the
service's "Invalid value: 'ultra'. Supported values are: ...". A session whose model has
reached its shutdown date (``today``, UTC by default) still comes up, but each of its
responses fails as the service fails a model it does not serve (``model_not_found``), and so
does input transcription with a transcription model past its date.
"""

from __future__ import annotations

import asyncio
import copy
import datetime
import time
from collections.abc import Callable
from typing import Any

from ..kernels import b64decode
from ..protocol import events as ev
from ..protocol.schema import client_event_problems
from .buffer import InputAudioBuffer
from .catalogue import ERRORS
from .config import (
    VadDefaults,
    default_session,
    default_transcription_session,
    input_format,
    merge_session,
    vad_parameters,
)
from .errors import Refusal
from .faults import FunctionCallScript
from .items import item_create, item_delete, item_retrieve, item_truncate
from .mcp import McpCallScript, list_tools, mcp_tools
from .respond import Responding
from .responses import ResponseRun
from .transcribe import transcribe_turn
from .wording import Ids, frame_refusal, problem_refusal, quoted

__all__ = ["MIN_COMMIT_MS", "Ids", "RealtimeSession"]

Json = dict[str, Any]

#: A commit with less audio than this fails with ``input_audio_buffer_commit_empty``.
MIN_COMMIT_MS = 100
#: Largest decoded ``audio`` of one ``input_audio_buffer.append``.
MAX_APPEND_BYTES = 15 * 1024 * 1024
_APPEND_KEYS = frozenset({"type", "event_id", "audio"})
#: Client events a transcription session refuses (it has no responses and no assistant).
_CONVERSATION_ONLY = frozenset(
    {
        "response.create",
        "response.cancel",
        "conversation.item.create",
        "conversation.item.truncate",
    }
)


class RealtimeSession(Responding):
    """Server side of one Realtime session (see the module docstring)."""

    def __init__(
        self,
        *,
        send: Callable[[Json], None],
        ids: Ids,
        model: str,
        vad: VadDefaults,
        pacing: str | Callable[[], str] = "fast",
        chunk_ms: int = 80,
        realtime_lead_ms: int = 200,
        scripts: list[FunctionCallScript] | None = None,
        session_seconds: float = 3600.0,
        voice: str = "marin",
        clock: Callable[[], float] = time.monotonic,
        intent: str | None = None,
        mcp_scripts: list[McpCallScript] | None = None,
        transcription_failures: list[int] | None = None,
        today: datetime.date | Callable[[], datetime.date | None] | None = None,
    ) -> None:
        self._send = send
        self.new_id = ids
        self._vad_defaults = vad
        self._pacing = pacing
        self.chunk_ms = chunk_ms
        self.realtime_lead_ms = realtime_lead_ms
        self.scripts = scripts if scripts is not None else []
        self.mcp_scripts = mcp_scripts if mcp_scripts is not None else []
        #: Shared with the server: one entry per upcoming turn whose transcription fails.
        self.transcription_failures = (
            transcription_failures if transcription_failures is not None else []
        )
        self._mcp_listed: set[str] = set()  # MCP server labels whose tools were listed
        self._continue_pending = False  # an approval came while a response was active
        self._closed = False
        self._clock = clock
        self._today = today
        #: True on a ``?intent=transcription`` connection (``session.type`` "transcription").
        self.transcription = intent == "transcription"
        expires_at = int(time.time() + session_seconds)
        self.session: Json = (
            default_transcription_session(session_id=ids("sess"), expires_at=expires_at, vad=vad)
            if self.transcription
            else default_session(
                session_id=ids("sess"), model=model, expires_at=expires_at, vad=vad, voice=voice
            )
        )
        self.conversation_id = ids("conv")
        self.items: list[Json] = []
        self._audio: dict[str, tuple[bytes, str]] = {}
        self.responses: dict[str, ResponseRun] = {}
        self.active: ResponseRun | None = None
        self.audio_produced = False
        self._tasks: set[asyncio.Task[None]] = set()
        self.buffer = InputAudioBuffer()
        self._speech: tuple[str, float] | None = None  # (item id, audio_start_ms) while speaking
        self._idle_from_ms = 0.0  # audio time the idle timeout counts from
        self._configure_input()
        self._handlers: dict[str, Callable[[Json, str | None], None]] = {
            "session.update": self._session_update,
            "input_audio_buffer.commit": self._buffer_commit,
            "input_audio_buffer.clear": self._buffer_clear,
            "conversation.item.create": lambda d, e: item_create(self, d, e),
            "conversation.item.truncate": lambda d, e: item_truncate(self, d, e),
            "conversation.item.delete": lambda d, e: item_delete(self, d, e),
            "conversation.item.retrieve": lambda d, e: item_retrieve(self, d, e),
            "response.create": self._response_create,
            "response.cancel": self._response_cancel,
        }

    def now(self) -> float:
        """The session's clock (seconds)."""
        return self._clock()

    @property
    def today(self) -> datetime.date | None:
        """The date that decides which models are past their shutdown (None: the real date,
        UTC); a callable given at construction is asked each time."""
        today = self._today
        return today() if callable(today) else today

    @property
    def pacing(self) -> str:
        """``"fast"`` or ``"realtime"`` (a callable given at construction is asked each time)."""
        pacing = self._pacing
        return pacing() if callable(pacing) else pacing

    # -- output helpers ----------------------------------------------------------------------

    def send(self, cls: type[ev.ServerEvent], **fields: Any) -> None:
        """Build a typed server event with a fresh ``event_id`` and send it.

        A field passed as ``None`` is sent as ``null`` (as the service does), not left out.
        """
        event = cls(event_id=self.new_id("event"), **fields).to_dict()
        for key, value in fields.items():
            if value is None:
                event[key] = None
        self._send(event)

    def fail(self, key: str, *, event_id: str | None = None, **fields: Any) -> None:
        """Send the ``error`` event of catalogue entry ``key`` (the session goes on).

        ``fields`` fill its templates; ``event_id`` is the client event's, sent back when the
        entry says the service echoes it (else the error's ``event_id`` is null).
        """
        entry = ERRORS[key]
        if entry.carrier != "error":
            raise ValueError(f"{key} is not sent as an error event ({entry.carrier})")
        error = entry.render(**fields)
        error["event_id"] = event_id if entry.echoes_event_id else None
        self.send(ev.ErrorEvent, error=error)

    def refuse(self, refusal: Refusal, event_id: str | None) -> None:
        """Send the error of a refusal decided elsewhere (a schema problem, a session update)."""
        self.fail(refusal.key, event_id=event_id, **refusal.fields)

    @staticmethod
    def snapshot(item: Json) -> Json:
        """A copy of an item as sent (no audio bytes), safe from later changes."""
        return copy.deepcopy(item)

    def start(self) -> None:
        """Send ``session.created`` (the first event of every connection)."""
        self.send(ev.SessionCreatedEvent, session=copy.deepcopy(self.session))

    def close(self) -> None:
        """Stop every response task (the connection is gone)."""
        self._closed = True
        for task in list(self._tasks):
            task.cancel()

    # -- conversation ------------------------------------------------------------------------

    def find(self, item_id: str) -> int:
        """Index of an item in the conversation, -1 if absent."""
        for i, item in enumerate(self.items):
            if item.get("id") == item_id:
                return i
        return -1

    def previous_of(self, item_id: str) -> str | None:
        """Id of the item before ``item_id`` in the conversation (None if first)."""
        i = self.find(item_id)
        return self.items[i - 1]["id"] if i > 0 else None

    def conversation_add(self, item: Json, after: str | None = None, root: bool = False) -> None:
        """Insert ``item`` (at the end, at the start, or after ``after``) and announce it."""
        if root:
            self.items.insert(0, item)
        elif after is not None:
            self.items.insert(self.find(after) + 1, item)
        else:
            self.items.append(item)
        self.send(
            ev.ConversationItemAddedEvent,
            item=self.snapshot(item),
            previous_item_id=self.previous_of(item["id"]),
        )

    def item_final(self, item: Json) -> None:
        self.send(
            ev.ConversationItemDoneEvent,
            item=self.snapshot(item),
            previous_item_id=self.previous_of(item["id"]),
        )

    def store_audio(self, item_id: str, raw: bytes, fmt: str) -> None:
        """Keep an item's audio (for the echo, truncate bounds and retrieve)."""
        self._audio[item_id] = (raw, fmt)

    def forget_audio(self, item_id: str) -> None:
        self._audio.pop(item_id, None)

    def generating(self, item_id: str) -> ResponseRun | None:
        """The response still generating conversation item ``item_id``, if any."""
        for run in self.responses.values():
            if not run.done and run.in_conversation and run.item_id == item_id:
                return run
        return None

    def end_response_of(self, item_id: str) -> None:
        """End (``cancelled``, ``client_cancelled``) a response still generating ``item_id``."""
        run = self.generating(item_id)
        if run is not None:
            run.finish("cancelled", "client_cancelled")

    def item_audio(self, item_id: str) -> tuple[bytes, str] | None:
        """An item's audio so far and its format (also of an item still being generated)."""
        run = self.generating(item_id)
        if run is not None:
            return run.audio_so_far, run.out_fmt
        return self._audio.get(item_id)

    # -- frames in ---------------------------------------------------------------------------

    def bad_frame(self, text: str) -> None:
        """A client text frame that is not a JSON event object: not JSON (``invalid_json``),
        not an object, or an object without a string ``type``."""
        refusal, event_id = frame_refusal(text)
        self.refuse(refusal, event_id)

    def binary_frame(self) -> None:
        """A binary client frame: the service reads text frames only."""
        self.fail("binary_frame")

    def handle(self, data: Json) -> None:
        """Act on one decoded client event (a dict with a string ``type``)."""
        kind = data["type"]
        if kind == "input_audio_buffer.append" and _APPEND_KEYS.issuperset(data):
            audio = data.get("audio")
            if isinstance(audio, str):
                self._append(audio, data.get("event_id"))
                return
        event_id = data.get("event_id")
        event_id = event_id if isinstance(event_id, str) else None
        if kind not in self._handlers:
            self.fail("unknown_event_type", event_id=event_id, value=quoted(kind))
            return
        problems = client_event_problems(data)
        if problems:
            self.refuse(problem_refusal(problems[0], data), event_id)
            return
        if self.transcription and kind in _CONVERSATION_ONLY:
            self.fail("not_in_transcription_session", event_id=event_id, event_type=kind)
            return
        self._handlers[kind](data, event_id)

    # -- session.update ------------------------------------------------------------------------

    def _session_update(self, data: Json, event_id: str | None) -> None:
        new, problem = merge_session(
            self.session, data["session"], vad=self._vad_defaults, voice_locked=self.audio_produced
        )
        if problem is not None:
            self.refuse(problem, event_id)
            return
        old = self.session
        self.session = new
        if (
            old["audio"]["input"]["format"] != new["audio"]["input"]["format"]
            or old["audio"]["input"]["turn_detection"] != new["audio"]["input"]["turn_detection"]
        ):
            self._configure_input()
        self.send(ev.SessionUpdatedEvent, session=copy.deepcopy(new))
        self._list_mcp_tools(new.get("tools"))

    def _list_mcp_tools(self, tools: Any) -> None:
        """List the tools of each MCP server label declared for the first time."""
        for label, tool in mcp_tools(tools).items():
            if label not in self._mcp_listed:
                self._mcp_listed.add(label)
                list_tools(self, tool, self.mcp_scripts)

    def _configure_input(self) -> None:
        self._speech = None
        self._idle_from_ms = self.buffer.end_ms
        self.buffer.configure(input_format(self.session), vad_parameters(self.session))

    # -- input audio -------------------------------------------------------------------------

    def _append(self, audio_b64: str, event_id: Any) -> None:
        eid = event_id if isinstance(event_id, str) else None
        if not audio_b64:
            self.fail("append_empty", event_id=eid)
            return
        try:
            raw = b64decode(audio_b64)
        except ValueError:
            self.fail("append_bad_base64", event_id=eid)
            return
        if len(raw) > MAX_APPEND_BYTES:
            self.fail("append_too_large", event_id=eid, size=len(raw))
            return
        self.take_audio(raw)

    def take_audio(self, raw: bytes) -> None:
        """Add caller audio (in the session's input format) to the buffer and run the VAD."""
        buffer = self.buffer
        for kind, ms in buffer.feed(raw):
            if kind == "started":
                self._speech_started(ms)
            else:
                self._speech_stopped(ms)
        params = buffer.params
        if (
            params is not None
            and params["idle_timeout_ms"] is not None
            and self.active is None
            and not buffer.in_speech
            and buffer.end_ms - self._idle_from_ms >= params["idle_timeout_ms"]
        ):
            self._idle_timeout()

    def _idle_timeout(self) -> None:
        """Nobody spoke for ``idle_timeout_ms``: say so, commit the quiet audio, respond."""
        buffer = self.buffer
        item_id = self.new_id("item")
        self.send(
            ev.InputAudioBufferTimeoutTriggeredEvent,
            audio_start_ms=int(buffer.start_ms),
            audio_end_ms=int(buffer.end_ms),
            item_id=item_id,
        )
        self._idle_from_ms = buffer.end_ms
        self._commit(buffer.take_all(), item_id)
        if buffer.params and buffer.params["create_response"]:
            self.create_response({}, None)

    def _speech_started(self, ms: float) -> None:
        start = max(ms, self.buffer.start_ms)
        item_id = self.new_id("item")
        self._speech = (item_id, start)
        self.send(ev.InputAudioBufferSpeechStartedEvent, audio_start_ms=int(start), item_id=item_id)
        params = self.buffer.params
        active = self.active
        if params and params["interrupt_response"] and active is not None and not active.done:
            active.finish("cancelled", "turn_detected")

    def _speech_stopped(self, ms: float) -> None:
        item_id, start = self._speech or (self.new_id("item"), self.buffer.start_ms)
        self._speech = None
        self._idle_from_ms = ms
        self.send(ev.InputAudioBufferSpeechStoppedEvent, audio_end_ms=int(ms), item_id=item_id)
        raw = self.buffer.slice(start, ms)
        self.buffer.drop_until(ms)
        self._commit(raw, item_id)
        params = self.buffer.params
        if params and params["create_response"] and self.active is None:
            self.create_response({}, None)

    def _commit(self, raw: bytes, item_id: str) -> None:
        fmt = self.buffer.fmt
        previous = self.items[-1]["id"] if self.items else None
        item: Json = {
            "id": item_id,
            "object": "realtime.item",
            "type": "message",
            "status": "completed",
            "role": "user",
            "content": [{"type": "input_audio", "transcript": None}],
        }
        self.store_audio(item_id, raw, fmt)
        self.send(ev.InputAudioBufferCommittedEvent, item_id=item_id, previous_item_id=previous)
        self.conversation_add(item)
        self.item_final(item)
        self._transcribe(item, raw, fmt)

    def _transcribe(self, item: Json, raw: bytes, fmt: str) -> None:
        task = transcribe_turn(self, item, raw, fmt)
        if task is not None:
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    def _buffer_commit(self, data: Json, event_id: str | None) -> None:
        ms = self.buffer.duration_ms
        if ms < MIN_COMMIT_MS:
            self.fail("commit_empty", event_id=event_id, minimum=MIN_COMMIT_MS, duration=ms)
            return
        item_id = self._speech[0] if self._speech else self.new_id("item")
        self._speech = None
        self._commit(self.buffer.take_all(), item_id)

    def _buffer_clear(self, data: Json, event_id: str | None) -> None:
        self._speech = None
        self.buffer.clear()
        self.send(ev.InputAudioBufferClearedEvent)

"""One response of the local server: what it says, how it streams, how it ends.

A :class:`ResponseRun` streams a :class:`Plan` as the events of sections 9.2, 9.4 and 9.5 of
the reference (``response.created``, ``response.output_item.added``, ``conversation.item.added``,
``response.content_part.added``, deltas, the ``*.done`` events, ``response.done`` with usage,
then ``rate_limits.updated``). A plan is a chain of steps (:attr:`Plan.then`), one output item
each, streamed in order (a preamble message, a call, the next preamble, the next call, ...).
:meth:`ResponseRun.finish` ends it at any point (cancel, barge-in, token cap) with the
``*.done`` events of whatever was open, synchronously, so that a ``response.cancel`` is answered
before the next client event is read; :meth:`ResponseRun.fail` ends it ``failed`` before any
output (a model the service no longer serves).

Usage: text tokens are a quarter of the characters, audio tokens 20 per second. A response of a
reasoning model with a reasoning effort (the response's, else the session's) first spends
:data:`REASONING_TOKENS` of that effort: they count in ``output_tokens`` (and against
``max_output_tokens``, as a model's reasoning does) and show as
``output_token_details.reasoning_tokens``.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from typing import Any

from ..kernels import b64encode
from ..protocol import events as ev
from .audio import BYTES_PER_MS
from .host import SessionHost
from .mcp import close_mcp_item, stream_mcp
from .plan import Pace, Plan

__all__ = ["ECHO_PREFIX", "REASONING_TOKENS", "Pace", "Plan", "ResponseRun", "make_pacer"]

Json = dict[str, Any]

ECHO_PREFIX = "Local echo from rtsdk.testing (not a model):"

#: The echo's reasoning tokens per response, by reasoning effort: fixed, growing with effort.
REASONING_TOKENS: dict[str, int] = {
    "minimal": 0,
    "low": 16,
    "medium": 64,
    "high": 192,
    "xhigh": 512,
}


def make_pacer(pacing: Callable[[], str], clock: Callable[[], float], lead_s: float) -> Pace:
    """``pace(k, audio_seconds_sent)``, awaited after each delta of one response.

    ``"fast"`` only yields to the loop. ``"realtime"`` holds the audio to the rate it plays,
    ``lead_s`` ahead of the first delta's time; text and argument deltas (no audio) come
    20 ms apart. ``pacing()`` is read per delta, so a test may switch it mid-session.
    """
    started: list[float] = []

    async def pace(k: int, audio_seconds: float) -> None:
        if pacing() == "fast":
            await asyncio.sleep(0)
            return
        if audio_seconds <= 0:
            await asyncio.sleep(0.02)
            return
        now = clock()
        if not started:
            started.append(now)
        await asyncio.sleep(max(0.0, started[0] + audio_seconds - lead_s - now))

    return pace


def _audio_tokens_out(ms: float) -> int:
    return math.ceil(ms / 50)  # the echo's own accounting: 20 tokens per second of speech


def _text_tokens(text: str) -> int:
    return math.ceil(len(text) / 4)


def _words(text: str) -> list[str]:
    parts = text.split(" ")
    return [p if i == 0 else " " + p for i, p in enumerate(parts)]


class ResponseRun:
    """A response in progress; ``session`` owns it and drives its events."""

    def __init__(
        self,
        session: SessionHost,
        *,
        response_id: str,
        conversation_id: str | None,
        modalities: list[str],
        out_fmt: str,
        format_object: Json,
        voice: Any,
        max_output_tokens: int | str,
        metadata: Json | None,
        input_tokens: int,
        reasoning_tokens: int | None = None,
    ) -> None:
        self.session = session
        self.id = response_id
        self.conversation_id = conversation_id
        self.modalities = modalities
        self.out_fmt = out_fmt
        self.format_object = format_object
        self.voice = voice
        self.max_output_tokens = max_output_tokens
        self.metadata = metadata
        self.input_tokens = input_tokens
        #: Tokens the response reasons for before its output (None: no reasoning effort).
        self.reasoning_tokens = reasoning_tokens
        self.output: list[Json] = []
        self.done = False
        self.task: asyncio.Task[None] | None = None
        # progress, so that finish() closes what is open
        self._item: Json | None = None
        self._part: str | None = None  # "audio" | "text" once the content part is open
        self._audio = bytearray()
        self._said = ""
        self._arguments = ""
        self._tokens_text = 0
        self._tokens_audio = 0
        self._tokens_reasoning = 0
        self._audio_bytes = 0  # audio sent by the whole response (every message)
        self._first_audio_at: float | None = None
        self._plan: Plan | None = None
        self._item_closed = False

    # -- objects ---------------------------------------------------------------------------

    @property
    def item_id(self) -> str | None:
        """Id of the item being generated (None before the first)."""
        return None if self._item is None else str(self._item["id"])

    @property
    def audio_so_far(self) -> bytes:
        """Audio generated so far for the current item (output format)."""
        return bytes(self._audio)

    @property
    def part_kind(self) -> str | None:
        """``"audio"`` or ``"text"`` once the current message's content part is open."""
        return self._part

    def item_so_far(self) -> Json | None:
        """The item being generated as it stands (``in_progress``, content or arguments so
        far, no audio bytes), or None before the first item."""
        item = self._item
        if item is None:
            return None
        snap = self.session.snapshot(item)
        if item["type"] == "function_call":
            snap["arguments"] = self._arguments
        elif self._part == "audio":
            snap["content"] = [{"type": "output_audio", "transcript": self._said}]
        elif self._part == "text":
            snap["content"] = [{"type": "output_text", "text": self._said}]
        return snap

    def playback_left_ms(self, now: float) -> float:
        """How much of the audio sent would still be playing at ``now`` (clock seconds), if
        the client plays it from the first delta on."""
        if self._first_audio_at is None:
            return 0.0
        sent_ms = self._audio_bytes / BYTES_PER_MS[self.out_fmt]
        return max(0.0, sent_ms - (now - self._first_audio_at) * 1000.0)

    @property
    def in_conversation(self) -> bool:
        return self.conversation_id is not None

    def response_object(self, status: str, details: Json | None, usage: Json | None) -> Json:
        return {
            "id": self.id,
            "object": "realtime.response",
            "status": status,
            "status_details": details,
            "output": [self.session.snapshot(item) for item in self.output],
            "conversation_id": self.conversation_id,
            "output_modalities": list(self.modalities),
            "max_output_tokens": self.max_output_tokens,
            "audio": {"output": {"format": dict(self.format_object), "voice": self.voice}},
            "usage": usage,
            "metadata": self.metadata,
        }

    def _usage(self) -> Json:
        out = self._tokens_text + self._tokens_audio + self._tokens_reasoning
        details: Json = {"text_tokens": self._tokens_text, "audio_tokens": self._tokens_audio}
        if self.reasoning_tokens is not None:
            details["reasoning_tokens"] = self._tokens_reasoning
        return {
            "total_tokens": self.input_tokens + out,
            "input_tokens": self.input_tokens,
            "output_tokens": out,
            "input_token_details": {
                "text_tokens": self.input_tokens,
                "audio_tokens": 0,
                "image_tokens": 0,
                "cached_tokens": 0,
                "cached_tokens_details": {"text_tokens": 0, "audio_tokens": 0, "image_tokens": 0},
            },
            "output_token_details": details,
        }

    def _ids(self) -> Json:
        assert self._item is not None
        return {
            "response_id": self.id,
            "item_id": self._item["id"],
            "output_index": len(self.output) - 1,
            "content_index": 0,
        }

    def _over_budget(self, tokens: int) -> bool:
        cap = self.max_output_tokens
        spent = self._tokens_text + self._tokens_audio + self._tokens_reasoning
        return isinstance(cap, int) and spent + tokens > cap

    # -- streaming -------------------------------------------------------------------------

    def start(self) -> None:
        """Send ``response.created``; the caller then runs :meth:`stream` as a task."""
        s = self.session
        s.send(ev.ResponseCreatedEvent, response=self.response_object("in_progress", None, None))

    async def stream(self, plan: Plan, pace: Pace) -> None:
        """Stream ``plan`` step by step, each step's item closed before the next opens;
        ``pace(k, seconds_of_audio_so_far)`` is awaited between deltas."""
        try:
            if not self._reason():
                return
            step: Plan | None = plan
            while step is not None and not self.done:
                self._close_item("completed")
                self._plan = step
                if step.kind == "function_call":
                    await self._stream_call(step, pace)
                elif step.kind in ("mcp_call", "mcp_approval"):
                    await stream_mcp(self, step, pace)
                else:
                    await self._stream_message(step, pace)
                step = step.then
            self.finish("completed")
        except asyncio.CancelledError:
            pass  # finish() was called by whoever cancelled; nothing more is sent

    def _reason(self) -> bool:
        """Spend the reasoning tokens; False when they alone reach ``max_output_tokens`` (the
        response then ends ``incomplete`` with no output)."""
        tokens = self.reasoning_tokens or 0
        if self._over_budget(tokens):
            cap = self.max_output_tokens
            self._tokens_reasoning = cap if isinstance(cap, int) else tokens
            self.finish("incomplete", "max_output_tokens")
            return False
        self._tokens_reasoning = tokens
        return True

    def open_item(self, item: Json) -> None:
        """Add an output item (and, in the conversation, announce it there)."""
        s = self.session
        self._item = item
        self._item_closed = False
        self._part = None
        self._audio = bytearray()
        self._said = ""
        self._arguments = ""
        self.output.append(item)
        s.send(
            ev.ResponseOutputItemAddedEvent,
            response_id=self.id,
            output_index=len(self.output) - 1,
            item=s.snapshot(item),
        )
        if self.in_conversation:
            s.conversation_add(item)

    async def _stream_call(self, plan: Plan, pace: Pace) -> None:
        s = self.session
        item = {
            "id": s.new_id("item"),
            "object": "realtime.item",
            "type": "function_call",
            "status": "in_progress",
            "name": plan.call_name,
            "call_id": plan.call_id,
            "arguments": "",
        }
        self.open_item(item)
        args = plan.arguments
        step = max(1, math.ceil(len(args) / 3))
        for k, start in enumerate(range(0, len(args), step)):
            piece = args[start : start + step]
            tokens = _text_tokens(piece)
            if self._over_budget(tokens):
                self.finish("incomplete", "max_output_tokens")
                return
            self._tokens_text += tokens
            self._arguments += piece
            s.send(
                ev.ResponseFunctionCallArgumentsDeltaEvent,
                response_id=self.id,
                item_id=item["id"],
                output_index=len(self.output) - 1,
                call_id=plan.call_id,
                delta=piece,
            )
            await pace(k, 0.0)

    async def _stream_message(self, plan: Plan, pace: Pace) -> None:
        s = self.session
        item = {
            "id": s.new_id("item"),
            "object": "realtime.item",
            "type": "message",
            "status": "in_progress",
            "role": "assistant",
            "content": [],
        }
        self.open_item(item)
        audio = plan.audio if "audio" in self.modalities else None
        part: Json = (
            {"type": "audio", "transcript": ""}
            if audio is not None
            else {"type": "text", "text": ""}
        )
        s.send(ev.ResponseContentPartAddedEvent, **self._ids(), part=part)
        self._part = part["type"]
        words = _words(plan.text)
        if audio is None:
            for k in range(0, len(words), 3):
                piece = "".join(words[k : k + 3])
                tokens = _text_tokens(piece)
                if self._over_budget(tokens):
                    self.finish("incomplete", "max_output_tokens")
                    return
                self._tokens_text += tokens
                self._said += piece
                s.send(ev.ResponseOutputTextDeltaEvent, **self._ids(), delta=piece)
                await pace(k // 3, 0.0)
            return
        bpm = BYTES_PER_MS[self.out_fmt]
        chunk = max(bpm, s.chunk_ms * bpm)
        chunk -= chunk % (2 if self.out_fmt == "pcm16" else 1)
        n_chunks = max(1, math.ceil(len(audio) / chunk))
        view = memoryview(audio)
        for k in range(n_chunks):
            piece_bytes = view[k * chunk : (k + 1) * chunk]
            ms = len(piece_bytes) / bpm
            tokens = _audio_tokens_out(ms)
            if self._over_budget(tokens):
                self.finish("incomplete", "max_output_tokens")
                return
            self._tokens_audio += tokens
            if self._first_audio_at is None:
                self._first_audio_at = s.now()
            self._audio += piece_bytes
            self._audio_bytes += len(piece_bytes)
            s.audio_produced = True
            s.send(
                ev.ResponseOutputAudioDeltaEvent,
                **self._ids(),
                delta=b64encode(piece_bytes).decode("ascii"),
            )
            first = k * len(words) // n_chunks
            last = (k + 1) * len(words) // n_chunks
            if last > first:
                piece = "".join(words[first:last])
                self._said += piece
                s.send(ev.ResponseOutputAudioTranscriptDeltaEvent, **self._ids(), delta=piece)
            await pace(k, self._audio_bytes / bpm / 1000.0)

    # -- the end -----------------------------------------------------------------------------

    def _close_item(self, status: str) -> None:
        """The ``*.done`` events of the current output item (once)."""
        item = self._item
        if item is None or self._item_closed:
            return
        self._item_closed = True
        s = self.session
        item_status = "completed" if status == "completed" else "incomplete"
        if item["type"] == "function_call":
            item["arguments"] = self._arguments
            item["status"] = item_status
            s.send(
                ev.ResponseFunctionCallArgumentsDoneEvent,
                response_id=self.id,
                item_id=item["id"],
                output_index=len(self.output) - 1,
                call_id=item["call_id"],
                name=item["name"],
                arguments=self._arguments,
            )
        elif item["type"].startswith("mcp_"):
            close_mcp_item(self, item, self._plan, status == "completed")
        else:
            if self._part is not None:
                if self._part == "audio":
                    s.send(ev.ResponseOutputAudioDoneEvent, **self._ids())
                    s.send(
                        ev.ResponseOutputAudioTranscriptDoneEvent,
                        **self._ids(),
                        transcript=self._said,
                    )
                    part = {"type": "audio", "transcript": self._said}
                    content = {"type": "output_audio", "transcript": self._said}
                else:
                    s.send(ev.ResponseOutputTextDoneEvent, **self._ids(), text=self._said)
                    part = {"type": "text", "text": self._said}
                    content = {"type": "output_text", "text": self._said}
                s.send(ev.ResponseContentPartDoneEvent, **self._ids(), part=part)
                item["content"] = [content]
            item["status"] = item_status
            if self._audio:
                s.store_audio(item["id"], bytes(self._audio), self.out_fmt)
        if self.in_conversation:
            s.send(
                ev.ConversationItemDoneEvent,
                item=s.snapshot(item),
                previous_item_id=s.previous_of(item["id"]),
            )
        s.send(
            ev.ResponseOutputItemDoneEvent,
            response_id=self.id,
            output_index=len(self.output) - 1,
            item=s.snapshot(item),
        )

    def finish(self, status: str, reason: str | None = None) -> None:
        """End the response now with ``status`` (``completed``, ``cancelled``, ``incomplete``):
        the ``*.done`` events of what is open, then ``response.done`` and
        ``rate_limits.updated``. Idempotent; cancels the streaming task."""
        details: Json | None = None
        if status == "cancelled":
            details = {"type": "cancelled", "reason": reason or "client_cancelled"}
        elif status == "incomplete":
            details = {"type": "incomplete", "reason": reason or "max_output_tokens"}
        self._end(status, details)

    def fail(self, error: Json) -> None:
        """End the response ``failed`` with ``error`` (``type``, ``code``, ``message``) in its
        ``status_details``, as the service does for a response it cannot start."""
        self._end("failed", {"type": "failed", "error": dict(error)})

    def _end(self, status: str, details: Json | None) -> None:
        if self.done:
            return
        self.done = True
        s = self.session
        self._close_item(status)
        s.send(ev.ResponseDoneEvent, response=self.response_object(status, details, self._usage()))
        s.response_finished(self)
        task = self.task
        if task is not None and task is not asyncio.current_task():
            task.cancel()

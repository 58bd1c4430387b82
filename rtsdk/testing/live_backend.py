"""The Responses backend of a GPT-Live session of the local server (Responses delegation).

It keeps the backend's conversation (the delegated tasks as user messages, the client's
``response.item.create`` items, the calls it made) and streams each response it runs as
Responses events, each wrapped in ``response.event {event_id, delegation_id?, event}``:

``response.created`` (``in_progress``), ``response.in_progress``, then per output item
``response.output_item.added`` … ``response.output_item.done`` (a ``reasoning`` item first,
unless ``reasoning.effort`` is ``"none"``; then a message with its ``output_text`` deltas, or
function calls with their argument events), and ``response.completed`` with a ``usage``.
The lifecycle snapshots have ``output: []``, ``tools: []`` and no instructions, as the service
sends them, so clients must read the calls from ``response.output_item.done``. Every nested
event has its ``sequence_number``.

What it answers is the echo's (:func:`rtsdk.testing.echo.make_plan`): a task or typed user
message matching a :class:`~rtsdk.testing.FunctionCallScript` whose function tool is declared
in ``delegation.responses.tools`` calls it (every matching script, ``parallel_tool_calls``
permitting); otherwise the answer is text, "Local echo … you said: <text>", or, after
function outputs, "<name> returned <output>". A text answer is then spoken by the Live model.
A response that made calls waits: the client sends ``response.item.create`` with each
``function_call_output`` and ``response.create``, and the next response (same delegation)
answers with the outputs. Responses run one at a time, in order.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from .echo import input_tokens, make_plan
from .errors import Refusal
from .faults import FunctionCallScript
from .plan import Plan

__all__ = ["ResponsesBackend"]

Json = dict[str, Any]


def _user_message(text: str) -> Json:
    return {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}


class ResponsesBackend:
    """The backend of one session (see the module docstring). ``send(event, delegation_id)``
    wraps and sends one Responses event; ``config()`` is ``delegation.responses`` now;
    ``speak(text)`` has the Live model say a text answer."""

    def __init__(
        self,
        *,
        send: Callable[[Json, str | None], None],
        new_id: Callable[[str], str],
        config: Callable[[], Json],
        scripts: list[FunctionCallScript],
        speak: Callable[[str], None],
        pacing: Callable[[], str],
    ) -> None:
        self._send = send
        self._new_id = new_id
        self._config = config
        self._scripts = scripts
        self._speak = speak
        self._pacing = pacing
        #: The backend conversation, in order.
        self.items: list[Json] = []
        #: The delegation whose response made calls and waits for their outputs.
        self.waiting: str | None = None
        self._lock = asyncio.Lock()
        self._tasks: set[asyncio.Task[None]] = set()

    # -- what the client and the model hand in ----------------------------------------------

    def delegate(self, delegation_id: str, response_id: str, task: str) -> None:
        """Run a response for a task the Live model delegated."""
        self.items.append(_user_message(task))
        self._start(delegation_id, response_id)

    def item_create(self, item: Json) -> Refusal | None:
        """Add a client item (a ``function_call_output`` must answer a call made here)."""
        item = dict(item)
        kind = item.setdefault("type", "message")
        if kind == "function_call_output":
            calls = {i.get("call_id") for i in self.items if i.get("type") == "function_call"}
            if item.get("call_id") not in calls:
                return Refusal("live_unknown_call", {"call_id": item.get("call_id")})
            output = item["output"]
            if not isinstance(output, str):  # content parts: their text
                parts = output if isinstance(output, list) else []
                texts = [str(p.get("text", "")) for p in parts if isinstance(p, dict)]
                item["output"] = " ".join(texts)
        if kind == "message":  # the echo reads content parts: a string is one
            content = item["content"]
            if isinstance(content, str):
                content = [{"type": "input_text", "text": content}]
            item["content"] = (
                [p for p in content if isinstance(p, dict)] if isinstance(content, list) else []
            )
        self.items.append(item)
        return None

    def create(self) -> None:
        """``response.create``: continue the delegation waiting for outputs, or answer the
        conversation as it stands (no delegation)."""
        delegation_id, self.waiting = self.waiting, None
        self._start(delegation_id, self._new_id("resp"))

    def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()

    # -- one response -----------------------------------------------------------------------

    def _start(self, delegation_id: str | None, response_id: str) -> None:
        task = asyncio.get_running_loop().create_task(self._run(delegation_id, response_id))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _pause(self) -> None:
        await asyncio.sleep(0 if self._pacing() == "fast" else 0.01)

    async def _run(self, delegation_id: str | None, response_id: str) -> None:
        async with self._lock:
            config = self._config()
            plan = make_plan(
                self.items,
                audio={},
                scripts=self._scripts,
                new_id=self._new_id,
                out_fmt="pcm16",
                tools=config.get("tools") or [],
                tool_choice=config.get("tool_choice") or "auto",
                parallel_tool_calls=config.get("parallel_tool_calls") is not False,
            )
            seq = iter(range(1_000_000))
            snapshot: Json = {
                "id": response_id,
                "object": "response",
                "created_at": int(time.time()),
                "status": "in_progress",
                "model": config.get("model", ""),
                "output": [],
                "parallel_tool_calls": config.get("parallel_tool_calls") is not False,
                "tool_choice": config.get("tool_choice") or "auto",
                "tools": [],
                "instructions": None,
                "error": None,
                "incomplete_details": None,
                "usage": None,
            }

            def emit(kind: str, **fields: Any) -> None:
                self._send({"type": kind, "sequence_number": next(seq), **fields}, delegation_id)

            emit("response.created", response=dict(snapshot))
            emit("response.in_progress", response=dict(snapshot))
            await self._pause()
            outputs: list[Json] = []
            effort = (config.get("reasoning") or {}).get("effort")
            if effort != "none":
                outputs.append({"id": self._new_id("rs"), "type": "reasoning", "summary": []})
                emit("response.output_item.added", output_index=0, item=outputs[0])
                emit("response.output_item.done", output_index=0, item=outputs[0])
            step: Plan | None = plan
            said: list[str] = []
            while step is not None:
                index = len(outputs)
                if step.kind == "function_call":
                    outputs.append(self._call(step, emit, index))
                else:
                    outputs.append(self._message(step, emit, index))
                    said.append(step.text)
                await self._pause()
                step = step.then
            calls = [o for o in outputs if o["type"] == "function_call"]
            self.items.extend(o for o in outputs if o["type"] != "reasoning")
            out_tokens = sum(len(o.get("arguments", "")) for o in calls) // 4
            out_tokens += sum(len(t) for t in said) // 4
            reasoning = 16 if effort != "none" else 0
            snapshot["status"] = "completed"
            snapshot["usage"] = {
                "input_tokens": input_tokens(self.items),
                "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
                "output_tokens": out_tokens + reasoning,
                "output_tokens_details": {"reasoning_tokens": reasoning},
                "total_tokens": input_tokens(self.items) + out_tokens + reasoning,
            }
            emit("response.completed", response=snapshot)
            if calls:
                self.waiting = delegation_id
            for text in said:
                self._speak(text)

    def _call(self, step: Plan, emit: Callable[..., None], index: int) -> Json:
        item: Json = {
            "id": self._new_id("fc"),
            "type": "function_call",
            "status": "in_progress",
            "call_id": step.call_id,
            "name": step.call_name,
            "arguments": "",
        }
        emit("response.output_item.added", output_index=index, item=dict(item))
        ids = {"item_id": item["id"], "output_index": index}
        emit("response.function_call_arguments.delta", **ids, delta=step.arguments)
        emit("response.function_call_arguments.done", **ids, arguments=step.arguments)
        item.update(arguments=step.arguments, status="completed")
        emit("response.output_item.done", output_index=index, item=item)
        return item

    def _message(self, step: Plan, emit: Callable[..., None], index: int) -> Json:
        item: Json = {
            "id": self._new_id("msg"),
            "type": "message",
            "role": "assistant",
            "status": "in_progress",
            "content": [],
        }
        emit("response.output_item.added", output_index=index, item=dict(item))
        ids = {"item_id": item["id"], "output_index": index, "content_index": 0}
        part: Json = {"type": "output_text", "text": "", "annotations": []}
        emit("response.content_part.added", **ids, part=dict(part))
        words = step.text.split(" ")
        for k in range(0, len(words), 4):
            piece = " ".join(words[k : k + 4]) + (" " if k + 4 < len(words) else "")
            emit("response.output_text.delta", **ids, delta=piece, logprobs=[])
        emit("response.output_text.done", **ids, text=step.text, logprobs=[])
        part["text"] = step.text
        emit("response.content_part.done", **ids, part=part)
        item.update(status="completed", content=[part])
        emit("response.output_item.done", output_index=index, item=item)
        return item

"""What the echo assistant says: the plan of a response, from the conversation it sees.

The local server is plainly not a model. For the latest user turn (or tool result) in the
response's context it

- echoes committed caller audio back (converted to the output format), with a transcript
  saying how long and how loud it was;
- answers text with ``you said: <text>``; with audio output it speaks a sine tone
  (440 Hz, -18 dBFS RMS, 60 ms per word of the reply, 0.4-4 s) under that transcript;
- reports a tool result as ``<name> returned <output>``;
- calls a tool instead when a :class:`~rtsdk.testing.FunctionCallScript` matches the turn and
  the tool is declared (and ``tool_choice`` allows it).

Every reply starts with :data:`ECHO_PREFIX`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from . import audio as au
from .faults import FunctionCallScript
from .responses import ECHO_PREFIX, Plan

__all__ = ["input_tokens", "make_plan"]

Json = dict[str, Any]


def input_tokens(context: list[Json]) -> int:
    """The echo's stand-in for input token usage: a base plus a quarter token per JSON byte."""
    return 20 + sum(len(json.dumps(item)) // 4 for item in context)


def _say(what: str, out_fmt: str) -> Plan:
    text = f"{ECHO_PREFIX} {what}"
    ms = min(4000, max(400, 60 * len(text.split())))
    return Plan("message", text=text, audio=au.reply_tone(ms, out_fmt))


def _scripted_call(
    text: str | None,
    scripts: list[FunctionCallScript],
    new_id: Callable[[str], str],
    tools: Any,
    tool_choice: Any,
) -> Plan | None:
    if tool_choice == "none":
        return None
    forced = tool_choice.get("name") if isinstance(tool_choice, dict) else None
    declared = {
        t.get("name")
        for t in tools or []
        if isinstance(t, dict) and t.get("type", "function") == "function"
    }
    for script in scripts:
        if script.name in declared and forced in (None, script.name) and script.matches(text):
            script.fired += 1
            return Plan(
                "function_call",
                call_name=script.name,
                call_id=new_id("call"),
                arguments=script.arguments_json,
            )
    return None


def make_plan(
    context: list[Json],
    *,
    audio: dict[str, tuple[bytes, str]],
    scripts: list[FunctionCallScript],
    new_id: Callable[[str], str],
    out_fmt: str,
    tools: Any,
    tool_choice: Any,
) -> Plan:
    """The plan of a response over ``context`` (``audio``: item id -> (bytes, format))."""
    last: Json | None = None
    for item in reversed(context):
        if item.get("type") == "function_call_output" or (
            item.get("type") == "message" and item.get("role") == "user"
        ):
            last = item
            break
    if last is None:
        return _say("there is nothing to echo yet.", out_fmt)
    if last.get("type") == "function_call_output":
        name = next(
            (
                i.get("name", "?")
                for i in context
                if i.get("type") == "function_call" and i.get("call_id") == last.get("call_id")
            ),
            "the tool",
        )
        return _say(f"{name} returned {last.get('output', '')}", out_fmt)
    texts = [
        p.get("text", "")
        for p in last.get("content", [])
        if p.get("type", "input_text") == "input_text"
    ]
    text = " ".join(texts) if texts else None
    heard = audio.get(last.get("id", "")) if not texts else None
    call = _scripted_call(text, scripts, new_id, tools, tool_choice)
    if call is not None:
        return call
    if heard is not None:
        raw, in_fmt = heard
        pcm = au.decode_pcm16(raw, in_fmt)
        seconds = au.duration_ms(len(raw), in_fmt) / 1000
        say = (
            f"{ECHO_PREFIX} I heard {seconds:.2f} s of audio at {au.level_dbfs(pcm):.1f} dBFS; "
            "this is it played back."
        )
        return Plan("message", text=say, audio=au.convert(raw, in_fmt, out_fmt))
    if text is not None:
        return _say(f"you said: {text}", out_fmt)
    return _say("the last message had no text or audio to echo.", out_fmt)

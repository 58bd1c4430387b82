"""What the echo assistant says: the plan of a response, from the conversation it sees.

The local server is plainly not a model. For the latest user turn (or tool result) in the
response's context it

- echoes committed caller audio back (converted to the output format), with a transcript
  saying how long and how loud it was;
- answers text with ``you said: <text>``; with audio output it speaks a sine tone
  (440 Hz, -18 dBFS RMS, 60 ms per word of the reply, 0.4-4 s) under that transcript;
- reports a tool result as ``<name> returned <output>``;
- calls a tool instead when a :class:`~rtsdk.testing.FunctionCallScript` matches the turn and
  the tool is declared (and ``tool_choice`` allows it);
- calls a remote MCP tool when a :class:`~rtsdk.testing.McpCallScript` matches and its server
  label is declared (an approval request first unless ``require_approval`` says "never"; see
  :mod:`.mcp`), and after an ``mcp_approval_response`` makes the approved call or says it
  was denied.

Every reply starts with :data:`ECHO_PREFIX`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from . import audio as au
from .faults import FunctionCallScript
from .mcp import McpCallScript, mcp_tools, needs_approval, tool_allowed
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


def _mcp_call(
    script: McpCallScript | None,
    label: str,
    name: str,
    arguments: str,
    approval_request_id: str | None,
    out_fmt: str,
) -> Plan:
    output = script.output if script is not None else ""
    error = script.error if script is not None else None
    said = f"{name} on {label} failed: {error}" if error else f"{name} on {label} returned {output}"
    return Plan(
        "mcp_call",
        call_name=name,
        arguments=arguments,
        server_label=label,
        approval_request_id=approval_request_id,
        output=output,
        error=error,
        then=_say(said, out_fmt),
    )


def _scripted_mcp(
    text: str | None, scripts: list[McpCallScript], tools: Any, tool_choice: Any, out_fmt: str
) -> Plan | None:
    if tool_choice == "none" or not scripts:
        return None
    forced = tool_choice if isinstance(tool_choice, dict) else {}
    if forced and forced.get("type") != "mcp":
        return None
    declared = mcp_tools(tools)
    for script in scripts:
        tool = declared.get(script.server_label)
        if (
            tool is None
            or not tool_allowed(tool, script.name)
            or forced.get("server_label", script.server_label) != script.server_label
            or forced.get("name", script.name) != script.name
            or not script.matches(text)
        ):
            continue
        script.fired += 1
        if needs_approval(tool, script.name):
            return Plan(
                "mcp_approval",
                call_name=script.name,
                arguments=script.arguments_json,
                server_label=script.server_label,
            )
        label, name = script.server_label, script.name
        return _mcp_call(script, label, name, script.arguments_json, None, out_fmt)
    return None


def _after_approval(
    answer: Json, context: list[Json], scripts: list[McpCallScript], out_fmt: str
) -> Plan:
    request = next(
        (
            i
            for i in context
            if i.get("type") == "mcp_approval_request"
            and i.get("id") == answer.get("approval_request_id")
        ),
        None,
    )
    if request is None:
        return _say("there is no MCP approval request to act on.", out_fmt)
    label, name = str(request.get("server_label")), str(request.get("name"))
    if not answer.get("approve"):
        reason = answer.get("reason")
        why = f" ({reason})" if reason else ""
        return _say(f"the call to {name} on {label} was not approved{why}.", out_fmt)
    script = next((sc for sc in scripts if (sc.server_label, sc.name) == (label, name)), None)
    return _mcp_call(
        script, label, name, str(request.get("arguments", "")), str(request["id"]), out_fmt
    )


def make_plan(
    context: list[Json],
    *,
    audio: dict[str, tuple[bytes, str]],
    scripts: list[FunctionCallScript],
    new_id: Callable[[str], str],
    out_fmt: str,
    tools: Any,
    tool_choice: Any,
    mcp_scripts: list[McpCallScript] | None = None,
) -> Plan:
    """The plan of a response over ``context`` (``audio``: item id -> (bytes, format))."""
    mcp_scripts = mcp_scripts or []
    last: Json | None = None
    for item in reversed(context):
        if item.get("type") in ("function_call_output", "mcp_approval_response") or (
            item.get("type") == "message" and item.get("role") == "user"
        ):
            last = item
            break
    if last is None:
        return _say("there is nothing to echo yet.", out_fmt)
    if last.get("type") == "mcp_approval_response":
        return _after_approval(last, context, mcp_scripts, out_fmt)
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
    if call is None:
        call = _scripted_mcp(text, mcp_scripts, tools, tool_choice, out_fmt)
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

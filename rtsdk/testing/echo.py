"""What the echo assistant says: the plan of a response, from the conversation it sees.

The local server is plainly not a model. For the latest user turn (or tool result) in the
response's context it

- echoes committed caller audio back (converted to the output format), with a transcript
  saying how long and how loud it was;
- answers text with ``you said: <text>``; with audio output it speaks a sine tone
  (440 Hz, -18 dBFS RMS, 60 ms per word of the reply, 0.4-4 s) under that transcript;
- reports a tool result as ``<name> returned <output>``, and the results of several calls
  (every ``function_call_output`` after the latest user message) as ``<a> returned <x>; <b>
  returned <y>``, in the order of the calls; it answers whatever outputs are in, even before
  all calls have one;
- calls tools instead when :class:`~rtsdk.testing.FunctionCallScript` scripts match the turn
  and their tools are declared (and ``tool_choice`` allows them): every matching script in
  the one response, in script order, each ``count`` times and after its ``preamble`` (a
  message said as scripted), or only the first call when ``parallel_tool_calls`` is false;
- calls a remote MCP tool when a :class:`~rtsdk.testing.McpCallScript` matches and its server
  label is declared (an approval request first unless ``require_approval`` says "never"; see
  :mod:`.mcp`), and after an ``mcp_approval_response`` makes the approved call or says it
  was denied.

Every reply starts with :data:`ECHO_PREFIX`, except a script's preamble, said as scripted.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from typing import Any

from . import audio as au
from .faults import FunctionCallScript
from .mcp import McpCallScript, mcp_tools, needs_approval, tool_allowed
from .plan import Plan
from .responses import ECHO_PREFIX

__all__ = ["input_tokens", "make_plan", "speech_ms"]

Json = dict[str, Any]


def input_tokens(context: list[Json]) -> int:
    """The echo's stand-in for input token usage: a base plus a quarter token per JSON byte."""
    return 20 + sum(len(json.dumps(item)) // 4 for item in context)


def speech_ms(text: str) -> int:
    """How long the echo takes to say ``text``: 60 ms a word, 0.4 to 4 s."""
    return min(4000, max(400, 60 * len(text.split())))


def _speak(text: str, out_fmt: str) -> Plan:
    """A message saying ``text`` (a reply tone under it when the response outputs audio)."""
    return Plan("message", text=text, audio=au.reply_tone(speech_ms(text), out_fmt))


def _say(what: str, out_fmt: str) -> Plan:
    return _speak(f"{ECHO_PREFIX} {what}", out_fmt)


def _chain(steps: list[Plan]) -> Plan | None:
    """The steps linked through ``then``, in order (the first step, or None for none)."""
    for step, following in itertools.pairwise(steps):
        step.then = following
    return steps[0] if steps else None


def _scripted_call(
    text: str | None,
    scripts: list[FunctionCallScript],
    new_id: Callable[[str], str],
    tools: Any,
    tool_choice: Any,
    parallel_tool_calls: bool,
    out_fmt: str,
) -> Plan | None:
    """The calls of every script matching ``text`` (the first call only without parallel tool
    calls), each script's preamble before its calls; None when no script matches."""
    if tool_choice == "none":
        return None
    forced = tool_choice.get("name") if isinstance(tool_choice, dict) else None
    declared = {
        t.get("name")
        for t in tools or []
        if isinstance(t, dict) and t.get("type", "function") == "function"
    }
    steps: list[Plan] = []
    for script in scripts:
        if script.name in declared and forced in (None, script.name) and script.matches(text):
            script.fired += 1
            if script.preamble is not None:
                steps.append(_speak(script.preamble, out_fmt))
            calls = script.count if parallel_tool_calls else 1
            for _ in range(calls):
                steps.append(
                    Plan(
                        "function_call",
                        call_name=script.name,
                        call_id=new_id("call"),
                        arguments=script.arguments_json,
                    )
                )
            if not parallel_tool_calls:
                break
    return _chain(steps)


def _tool_results(last: Json, context: list[Json]) -> str:
    """What the echo says about the tool results after the latest user message: each
    ``function_call_output`` there, in the order of the calls (``get_a returned ...; get_b
    returned ...``)."""
    start = 0
    for i, item in enumerate(context):
        if item.get("type") == "message" and item.get("role") == "user":
            start = i + 1
    outputs = [i for i in context[start:] if i.get("type") == "function_call_output"]
    if not any(o is last for o in outputs):
        outputs = [last]
    calls = [i for i in context if i.get("type") == "function_call"]
    order = {str(c.get("call_id")): k for k, c in enumerate(calls)}
    names = {str(c.get("call_id")): str(c.get("name", "?")) for c in calls}
    outputs.sort(key=lambda o: order.get(str(o.get("call_id")), len(order)))
    return "; ".join(
        f"{names.get(str(o.get('call_id')), 'the tool')} returned {o.get('output', '')}"
        for o in outputs
    )


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
    parallel_tool_calls: bool = True,
) -> Plan:
    """The plan of a response over ``context`` (``audio``: item id -> (bytes, format)): its
    first step, the others following through :attr:`Plan.then`."""
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
        return _say(_tool_results(last, context), out_fmt)
    texts = [
        p.get("text", "")
        for p in last.get("content", [])
        if p.get("type", "input_text") == "input_text"
    ]
    text = " ".join(texts) if texts else None
    heard = audio.get(last.get("id", "")) if not texts else None
    call = _scripted_call(text, scripts, new_id, tools, tool_choice, parallel_tool_calls, out_fmt)
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

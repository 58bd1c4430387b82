"""Scripted remote MCP tools on the local server (it reaches no MCP server).

A :class:`McpCallScript` stands for one tool on one MCP server label. When a session declares
an MCP tool (``{"type": "mcp", "server_label": L, ...}``) this server lists the tools scripted
for ``L`` (``mcp_list_tools.in_progress``, the ``mcp_list_tools`` item added, then
``mcp_list_tools.completed`` and the item done with the tools, ``allowed_tools`` applied), once
per label and connection. When a user turn matches a script and the label is declared, the
response calls the tool:

- with approval required (``require_approval`` ``"always"``, the default, or a filter naming
  the tool): the response outputs an ``mcp_approval_request`` item and ends. The client answers
  with a ``conversation.item.create`` of an ``mcp_approval_response`` item, and the server goes
  on by itself with a new response (once the one that asked is done), as the agents SDKs
  expect of the service (they send no ``response.create`` after an approval);
- without (or once approved): an ``mcp_call`` item streams its arguments
  (``response.mcp_call_arguments.delta`` / ``.done``), then ``response.mcp_call.in_progress``
  and ``response.mcp_call.completed`` with the scripted ``output`` (or ``.failed`` with a
  ``tool_execution_error`` when the script has an ``error``); the same response then speaks
  the result in an assistant message, as a model would. A denied request gets a message
  saying so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..exceptions import ConfigurationError
from ..protocol import events as ev
from .faults import ScriptedCall
from .host import ResponseHost, SessionHost
from .plan import Pace, Plan

__all__ = [
    "McpCallScript",
    "close_mcp_item",
    "list_tools",
    "mcp_tools",
    "needs_approval",
    "stream_mcp",
    "tool_allowed",
]

Json = dict[str, Any]


@dataclass(slots=True, kw_only=True)
class McpCallScript(ScriptedCall):
    """A scripted tool ``name`` of MCP server ``server_label``.

    ``arguments`` (a dict sent as JSON, or a JSON string) is what the "model" passes;
    ``output`` is what the "server" returns, or ``error`` (a message) makes the call fail.
    ``when_text_contains`` matches (case-insensitively) the latest user text; ``None`` matches
    every user turn. ``times`` limits how often it fires (``None``: no limit).
    ``description`` and ``input_schema`` are what ``mcp_list_tools`` shows.
    """

    server_label: str
    name: str
    arguments: dict[str, Any] | str = field(default_factory=dict)
    output: str = ""
    error: str | None = None
    when_text_contains: str | None = None
    times: int | None = None
    description: str = "A tool scripted on rtsdk's local server (not a real MCP server)."
    input_schema: dict[str, Any] | None = None
    fired: int = 0

    def __post_init__(self) -> None:
        for name in ("server_label", "name"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value:
                raise ConfigurationError(f"McpCallScript.{name} must be a non-empty str")
        if not isinstance(self.output, str):
            raise ConfigurationError("McpCallScript.output must be a str")
        if self.error is not None and not isinstance(self.error, str):
            raise ConfigurationError("McpCallScript.error must be a str or None")
        self._check_trigger()

    def listing(self) -> Json:
        """This tool as ``mcp_list_tools`` shows it."""
        schema = self.input_schema
        if schema is None:
            args = self.arguments if isinstance(self.arguments, dict) else {}
            schema = {
                "type": "object",
                "properties": {k: {"type": _json_type(v)} for k, v in args.items()},
            }
        return {"name": self.name, "description": self.description, "input_schema": schema}


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "string"


def _names(spec: Any) -> list[str] | None:
    """Tool names of an ``allowed_tools`` / approval filter (None: no list given)."""
    if isinstance(spec, list):
        return [str(n) for n in spec]
    if isinstance(spec, dict) and isinstance(spec.get("tool_names"), list):
        return [str(n) for n in spec["tool_names"]]
    return None


def mcp_tools(tools: Any) -> dict[str, Json]:
    """The MCP tool objects of a ``tools`` list, by server label."""
    return {
        str(t["server_label"]): t
        for t in tools or []
        if isinstance(t, dict) and t.get("type") == "mcp" and "server_label" in t
    }


def tool_allowed(tool: Json, name: str) -> bool:
    """Whether ``allowed_tools`` of MCP tool object ``tool`` lets ``name`` through."""
    names = _names(tool.get("allowed_tools"))
    return names is None or name in names


def needs_approval(tool: Json, name: str) -> bool:
    """Whether calling ``name`` needs an approval (``require_approval``; default: always)."""
    rule = tool.get("require_approval", "always")
    if rule is None or rule == "always":
        return True
    if rule == "never":
        return False
    if isinstance(rule, dict):
        never = _names(rule.get("never"))
        if never is not None and name in never:
            return False
        always = _names(rule.get("always"))
        if always is not None and name in always:
            return True
    return True


def list_tools(s: SessionHost, tool: Json, scripts: list[McpCallScript]) -> None:
    """The tool listing of one newly declared MCP server label, as events."""
    label = str(tool["server_label"])
    item: Json = {"id": s.new_id("mcpl"), "type": "mcp_list_tools", "server_label": label}
    item["tools"] = []
    s.send(ev.McpListToolsInProgressEvent, item_id=item["id"])
    s.conversation_add(item)
    item["tools"] = [
        sc.listing() for sc in scripts if sc.server_label == label and tool_allowed(tool, sc.name)
    ]
    s.send(ev.McpListToolsCompletedEvent, item_id=item["id"])
    s.item_final(item)


async def stream_mcp(run: ResponseHost, plan: Plan, pace: Pace) -> None:
    """Open the ``mcp_approval_request`` or ``mcp_call`` item of ``plan`` and stream the
    call's arguments; :func:`close_mcp_item` ends it."""
    s = run.session
    if plan.kind == "mcp_approval":
        run.open_item(
            {
                "id": s.new_id("mcpr"),
                "type": "mcp_approval_request",
                "server_label": plan.server_label,
                "name": plan.call_name,
                "arguments": plan.arguments,
            }
        )
        return
    item: Json = {
        "id": s.new_id("mcp"),
        "type": "mcp_call",
        "server_label": plan.server_label,
        "name": plan.call_name,
        "arguments": "",
        "approval_request_id": plan.approval_request_id,
        "output": None,
        "error": None,
    }
    run.open_item(item)
    ids = {"response_id": run.id, "item_id": item["id"], "output_index": len(run.output) - 1}
    args = plan.arguments
    step = max(1, -(-len(args) // 3))
    for k, start in enumerate(range(0, len(args), step)):
        piece = args[start : start + step]
        item["arguments"] += piece
        s.send(ev.ResponseMcpCallArgumentsDeltaEvent, **ids, delta=piece)
        await pace(k, 0.0)


def close_mcp_item(run: ResponseHost, item: Json, plan: Plan | None, completed: bool) -> None:
    """The call's end events of an ``mcp_call`` item (nothing for an approval request):
    arguments done, in progress, then completed with the scripted output, or failed (the
    script's error, or a cancelled response)."""
    if item["type"] != "mcp_call":
        return
    s = run.session
    index = len(run.output) - 1
    ids = {"response_id": run.id, "item_id": item["id"], "output_index": index}
    s.send(ev.ResponseMcpCallArgumentsDoneEvent, **ids, arguments=item["arguments"])
    s.send(ev.ResponseMcpCallInProgressEvent, item_id=item["id"], output_index=index)
    error = plan.error if plan is not None else None
    if completed and error is None and plan is not None:
        item["output"] = plan.output
        s.send(ev.ResponseMcpCallCompletedEvent, item_id=item["id"], output_index=index)
        return
    message = error if error is not None else "The response was cancelled before the call ran."
    item["error"] = {"type": "tool_execution_error", "message": message}
    s.send(ev.ResponseMcpCallFailedEvent, item_id=item["id"], output_index=index)

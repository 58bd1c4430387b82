"""What a response of the local server is to say, step by step: :class:`Plan`, and
:data:`Pace`, how its streaming waits between deltas.

The echo (:mod:`.echo`) makes plans, a :class:`~rtsdk.testing.responses.ResponseRun` streams
them, and the MCP steps (:mod:`.mcp`) stream the MCP ones; all three take the plan from here.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

__all__ = ["Pace", "Plan"]


@dataclass(slots=True)
class Plan:
    """One step of a response, one output item: an assistant message (text, with audio when
    asked), a function call, an MCP approval request, or an MCP call. ``then`` is the next
    step in the same response (the message after an MCP call, the calls and preambles of
    parallel tool calls)."""

    kind: str  # "message" | "function_call" | "mcp_call" | "mcp_approval"
    text: str = ""
    audio: bytes | None = None  # in the response's output format
    call_name: str = ""
    call_id: str = ""
    arguments: str = ""
    server_label: str = ""  # MCP
    approval_request_id: str | None = None
    output: str = ""  # what the MCP tool returns
    error: str | None = None  # or why it failed
    then: Plan | None = None  # the next step (output item) of the same response


#: ``pace(k, audio_seconds_sent)``, awaited after each delta of a response.
Pace = Callable[[int, float], Awaitable[None]]

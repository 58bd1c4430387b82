"""Remote MCP tools: :class:`McpServer` for the session config, and the approval round trip.

The Realtime service itself calls remote MCP servers; the app declares them in ``tools`` and,
when a server's ``require_approval`` asks for it, approves or denies each call. The service
sends an ``mcp_approval_request`` item; the answer is an ``mcp_approval_response`` item
(:func:`~rtsdk.protocol.mcp_approval_response_item`), after which the service goes on by
itself (no ``response.create``, as the agents SDKs do it).

:class:`McpApprovalRequest` is what an approval handler receives. An approval policy is
``"approve"``, ``"deny"``, or a callable ``(request) -> decision`` (plain or async), where a
decision is a bool or ``(bool, reason)``; :func:`decide` applies one.
"""

from __future__ import annotations

import inspect
import json
import re
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import KW_ONLY, dataclass, field
from typing import Any, Literal, TypeAlias

from rtsdk.exceptions import ConfigurationError

__all__ = ["ApprovalPolicy", "McpApprovalRequest", "McpServer", "check_policy", "decide"]

Json = dict[str, Any]

_LABEL = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


@dataclass(frozen=True)
class McpServer(Mapping[str, Any]):
    """A remote MCP server for ``RealtimeAIOptions(tools=[...])`` (or ``tools=[server.tool]``).

    ``server_label`` names it in events (letters, digits, ``_`` and ``-``). Give exactly one of
    ``server_url`` (an ``https://`` MCP endpoint), ``tunnel_id`` (a Secure MCP Tunnel) and
    ``connector_id`` (a built-in connector such as ``"connector_googlecalendar"``; OpenAI
    deprecates it for models released after 2026-09-01 in favour of the other two).
    ``allowed_tools`` narrows the tools the model sees; ``require_approval``: ``"always"``,
    ``"never"``, or ``{"never": [names]}`` / ``{"always": [names]}`` (``None``: the service's
    default, which asks). ``authorization``
    (an OAuth token) and ``headers`` are secrets: never shown in ``repr``.

    It is a read-only mapping of its tool object (:attr:`tool`), so it goes straight into
    ``tools=[...]`` beside function tool dicts.
    """

    server_label: str
    server_url: str | None = None
    _: KW_ONLY
    connector_id: str | None = None
    tunnel_id: str | None = None
    allowed_tools: Sequence[str] | None = None
    require_approval: Literal["always", "never"] | Mapping[str, Sequence[str]] | None = None
    authorization: str | None = field(default=None, repr=False)
    headers: Mapping[str, str] | None = field(default=None, repr=False)
    description: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.server_label, str) or not _LABEL.match(self.server_label):
            raise ConfigurationError(
                "McpServer.server_label must be 1-64 letters, digits, '_' or '-', "
                f"got {self.server_label!r}"
            )
        given = [
            n for n in ("server_url", "tunnel_id", "connector_id") if getattr(self, n) is not None
        ]
        if len(given) != 1:
            raise ConfigurationError(
                "McpServer needs exactly one of server_url, tunnel_id and connector_id"
            )
        if self.tunnel_id is not None and not (isinstance(self.tunnel_id, str) and self.tunnel_id):
            raise ConfigurationError(
                f"McpServer.tunnel_id must be a non-empty str, got {self.tunnel_id!r}"
            )
        if self.server_url is not None and (
            not isinstance(self.server_url, str)
            or not self.server_url.startswith(("https://", "http://"))
        ):
            raise ConfigurationError(
                f"McpServer.server_url must be an http(s):// URL, got {self.server_url!r}"
            )
        if self.connector_id is not None and not (
            isinstance(self.connector_id, str) and self.connector_id.startswith("connector_")
        ):
            raise ConfigurationError(
                f"McpServer.connector_id must look like 'connector_...', got {self.connector_id!r}"
            )
        if self.allowed_tools is not None and (
            isinstance(self.allowed_tools, str)
            or not all(isinstance(n, str) and n for n in self.allowed_tools)
        ):
            raise ConfigurationError("McpServer.allowed_tools must be a list of tool names")
        rule = self.require_approval
        if rule is not None and rule not in ("always", "never"):
            if not isinstance(rule, Mapping) or not set(rule) <= {"always", "never"}:
                raise ConfigurationError(
                    "McpServer.require_approval must be 'always', 'never' or a mapping "
                    "{'always': [names], 'never': [names]}"
                )
            for key, names in rule.items():
                if isinstance(names, str) or not all(isinstance(n, str) for n in names):
                    raise ConfigurationError(
                        f"McpServer.require_approval[{key!r}] must be a list of tool names"
                    )
        if self.authorization is not None and not isinstance(self.authorization, str):
            raise ConfigurationError("McpServer.authorization must be a str")
        if self.headers is not None and not (
            isinstance(self.headers, Mapping)
            and all(isinstance(k, str) and isinstance(v, str) for k, v in self.headers.items())
        ):
            raise ConfigurationError("McpServer.headers must map str to str")
        if self.description is not None and not isinstance(self.description, str):
            raise ConfigurationError("McpServer.description must be a str")

    @property
    def tool(self) -> Json:
        """The GA ``{"type": "mcp", ...}`` tool object."""
        tool: Json = {"type": "mcp", "server_label": self.server_label}
        if self.server_url is not None:
            tool["server_url"] = self.server_url
        if self.connector_id is not None:
            tool["connector_id"] = self.connector_id
        if self.tunnel_id is not None:
            tool["tunnel_id"] = self.tunnel_id
        if self.allowed_tools is not None:
            tool["allowed_tools"] = list(self.allowed_tools)
        rule = self.require_approval
        if isinstance(rule, str):
            tool["require_approval"] = rule
        elif rule is not None:
            tool["require_approval"] = {k: {"tool_names": list(v)} for k, v in rule.items()}
        if self.authorization is not None:
            tool["authorization"] = self.authorization
        if self.headers is not None:
            tool["headers"] = dict(self.headers)
        if self.description is not None:
            tool["server_description"] = self.description
        return tool

    def __getitem__(self, key: str) -> Any:
        return self.tool[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.tool)

    def __len__(self) -> int:
        return len(self.tool)


@dataclass(frozen=True, slots=True)
class McpApprovalRequest:
    """An MCP call waiting for the app's approval.

    ``id``: the ``mcp_approval_request`` item's id (answer it with this). ``arguments``: the
    JSON string the model wrote; :attr:`parsed_arguments` decodes it (``None`` if it is not
    valid JSON).
    """

    id: str
    server_label: str
    name: str
    arguments: str
    response_id: str | None = None

    @property
    def parsed_arguments(self) -> Any:
        try:
            return json.loads(self.arguments) if self.arguments else {}
        except ValueError:
            return None

    @classmethod
    def from_item(
        cls, item: Mapping[str, Any], response_id: str | None = None
    ) -> McpApprovalRequest:
        """From an ``mcp_approval_request`` item of a server event."""
        return cls(
            id=str(item.get("id") or ""),
            server_label=str(item.get("server_label") or ""),
            name=str(item.get("name") or ""),
            arguments=str(item.get("arguments") or ""),
            response_id=response_id,
        )


#: An approval decision: approve or not, optionally with a reason.
Decision: TypeAlias = "bool | tuple[bool, str | None]"
#: ``"approve"``, ``"deny"``, or a callable ``(request) -> Decision`` (plain or async).
ApprovalPolicy: TypeAlias = (
    'Literal["approve", "deny"] | Callable[[McpApprovalRequest], Decision | Awaitable[Decision]]'
)


def check_policy(policy: object) -> None:
    """Raise :class:`ConfigurationError` unless ``policy`` is an approval policy (or None)."""
    if policy is None or policy in ("approve", "deny") or callable(policy):
        return
    raise ConfigurationError(
        "mcp_approval must be 'approve', 'deny', a callable(request) -> bool | (bool, reason), "
        f"or None, got {policy!r}"
    )


async def decide(policy: ApprovalPolicy, request: McpApprovalRequest) -> tuple[bool, str | None]:
    """``(approve, reason)`` of ``policy`` for ``request``.

    A callable's exception denies the call, with the exception's type as the reason (never
    its message, which may hold arguments); a result that is not a bool or ``(bool, reason)``
    denies it too.
    """
    if policy == "approve":
        return True, None
    if policy == "deny":
        return False, "denied by the app's policy"
    assert callable(policy)
    try:
        result: Any = policy(request)
        if inspect.isawaitable(result):
            result = await result
    except Exception as exc:
        return False, f"the approval handler failed ({type(exc).__name__})"
    if isinstance(result, bool):
        return result, None
    if (
        isinstance(result, tuple)
        and len(result) == 2
        and isinstance(result[0], bool)
        and (result[1] is None or isinstance(result[1], str))
    ):
        return result[0], result[1]
    return False, "the approval handler returned neither a bool nor (bool, reason)"

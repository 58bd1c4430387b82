"""McpServer (the tool object, checks, secrets kept out of repr) and approval policies."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from rtsdk.exceptions import ConfigurationError
from rtsdk.mcp import McpApprovalRequest, McpServer, check_policy, decide
from rtsdk.protocol import session_update
from tests.conformance import assert_client_event_valid


def test_server_is_a_ga_mcp_tool() -> None:
    server = McpServer(
        "docs",
        "https://mcp.example.com/sse",
        allowed_tools=["search"],
        require_approval={"never": ["search"]},
        authorization="tok-secret",
        headers={"X-Key": "hdr-secret"},
        description="Docs",
    )
    assert (
        dict(server)
        == server.tool
        == {
            "type": "mcp",
            "server_label": "docs",
            "server_url": "https://mcp.example.com/sse",
            "allowed_tools": ["search"],
            "require_approval": {"never": {"tool_names": ["search"]}},
            "authorization": "tok-secret",
            "headers": {"X-Key": "hdr-secret"},
            "server_description": "Docs",
        }
    )
    assert "secret" not in repr(server)
    event = session_update({"type": "realtime", "tools": [dict(server)]})
    assert_client_event_valid(event)
    connector = McpServer("cal", connector_id="connector_googlecalendar", require_approval="never")
    assert_client_event_valid(session_update({"type": "realtime", "tools": [dict(connector)]}))
    tunnel = McpServer("crm", tunnel_id="tun_42")
    assert tunnel.tool == {"type": "mcp", "server_label": "crm", "tunnel_id": "tun_42"}
    assert_client_event_valid(session_update({"type": "realtime", "tools": [dict(tunnel)]}))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"server_label": "bad label"}, "server_label"),
        ({"server_label": "a"}, "exactly one"),
        ({"server_label": "a", "server_url": "ftp://x"}, "server_url"),
        ({"server_label": "a", "connector_id": "dropbox"}, "connector_id"),
        ({"server_label": "a", "server_url": "https://x", "tunnel_id": "t"}, "exactly one"),
        ({"server_label": "a", "tunnel_id": ""}, "tunnel_id"),
        ({"server_label": "a", "server_url": "https://x", "allowed_tools": "x"}, "allowed_tools"),
        ({"server_label": "a", "server_url": "https://x", "require_approval": "ask"}, "require"),
        ({"server_label": "a", "server_url": "https://x", "headers": {"a": 1}}, "headers"),
    ],
)
def test_bad_servers_are_named(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(ConfigurationError, match=match):
        McpServer(**kwargs)


def test_policies() -> None:
    request = McpApprovalRequest.from_item(
        {"id": "mcpr_1", "server_label": "docs", "name": "search", "arguments": '{"q": 1}'}
    )
    assert request.parsed_arguments == {"q": 1}

    async def later(r: McpApprovalRequest) -> tuple[bool, str]:
        return r.name == "search", "fine"

    def boom(r: McpApprovalRequest) -> bool:
        raise RuntimeError("contains secret arguments")

    def run(policy: Any) -> tuple[bool, str | None]:
        return asyncio.run(decide(policy, request))

    assert run("approve") == (True, None)
    assert run("deny")[0] is False
    assert run(lambda r: True) == (True, None)
    assert run(later) == (True, "fine")
    denied, reason = run(boom)
    assert denied is False and reason is not None and "secret" not in reason
    assert run(lambda r: "yes")[0] is False
    for good in (None, "approve", "deny", later):
        check_policy(good)
    with pytest.raises(ConfigurationError, match="mcp_approval"):
        check_policy("sometimes")
    assert McpApprovalRequest("i", "l", "n", "{not json").parsed_arguments is None

"""Local server: scripted remote MCP tools (listing, approval round trip, call events).

Every frame the server sends is checked against the openai GA types at teardown (the MCP
items and events included), every frame the test client sends against the GA client types.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from rtsdk.exceptions import ConfigurationError
from rtsdk.testing import LocalRealtimeServer, McpCallScript
from tests.test_testing_server import MANUAL, check_sent, configure, open_client, subsequence

DOCS = {
    "type": "mcp",
    "server_label": "docs",
    "server_url": "https://mcp.example.invalid/docs",
    "allowed_tools": ["search_docs", "fetch_doc"],
}


@pytest.fixture
async def server() -> AsyncIterator[LocalRealtimeServer]:
    async with LocalRealtimeServer() as srv:
        srv.script_mcp_call(
            server_label="docs",
            name="search_docs",
            arguments={"query": "realtime"},
            output='{"hits": 3}',
            when_text_contains="search",
        )
        srv.script_mcp_call(server_label="docs", name="hidden_tool")  # not allowed
        yield srv
    for conn in srv.connections:
        check_sent(conn)


def user_text(text: str) -> dict[str, Any]:
    item = {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}
    return {"type": "conversation.item.create", "item": item}


def text_out(**kw: Any) -> dict[str, Any]:
    return {"type": "response.create", "response": {"output_modalities": ["text"], **kw}}


async def test_declaring_a_server_lists_its_tools_once(server: LocalRealtimeServer) -> None:
    client, conn = await open_client(server)
    await configure(client, {**MANUAL, "tools": [DOCS]})
    done = await client.until("conversation.item.done")
    listing = done["item"]
    assert listing["type"] == "mcp_list_tools" and listing["server_label"] == "docs"
    assert [t["name"] for t in listing["tools"]] == ["search_docs"]  # allowed_tools applied
    assert listing["tools"][0]["input_schema"] == {
        "type": "object",
        "properties": {"query": {"type": "string"}},
    }
    assert subsequence(
        [
            "session.updated",
            "mcp_list_tools.in_progress",
            "conversation.item.added",
            "mcp_list_tools.completed",
            "conversation.item.done",
        ],
        client.types(),
    )
    in_progress = next(f for f in client.frames if f["type"] == "mcp_list_tools.in_progress")
    assert in_progress["item_id"] == listing["id"]
    await configure(client, {"type": "realtime", "tools": [DOCS], "instructions": "again"})
    assert conn.counts_sent["mcp_list_tools.completed"] == 1
    await client.close()


TEXT = {"output_modalities": ["text"]}


async def test_approval_round_trip_then_the_call(server: LocalRealtimeServer) -> None:
    client, _ = await open_client(server)
    await configure(client, {**MANUAL, **TEXT, "tools": [DOCS]})
    await client.send(user_text("please search the docs"))
    await client.send(text_out())
    first = (await client.until("response.done"))["response"]
    (request,) = first["output"]
    assert request["type"] == "mcp_approval_request" and first["status"] == "completed"
    assert (request["server_label"], request["name"]) == ("docs", "search_docs")
    assert json.loads(request["arguments"]) == {"query": "realtime"}
    assert "response.mcp_call.in_progress" not in client.types()
    # an answer to an unknown request is refused
    bogus = {
        "type": "mcp_approval_response",
        "id": "mcpa_bogus",  # the GA types require an id on this item
        "approval_request_id": "mcpr_nope",
        "approve": True,
    }
    await client.send({"type": "conversation.item.create", "event_id": "b", "item": bogus})
    error = (await client.until("error"))["error"]
    assert (error["param"], error["event_id"]) == ("item.approval_request_id", "b")
    # approve; the server goes on by itself (no response.create)
    answer = {
        "type": "mcp_approval_response",
        "id": "mcpa_1",
        "approval_request_id": request["id"],
        "approve": True,
    }
    await client.send(
        {"type": "conversation.item.create", "item": answer, "previous_item_id": request["id"]}
    )
    added = await client.until("conversation.item.done")
    assert added["item"]["type"] == "mcp_approval_response" and added["item"]["approve"] is True
    assert added["previous_item_id"] == request["id"]
    second_created = await client.until("response.created")
    second = (await client.until("response.done"))["response"]
    call, message = second["output"]
    assert call["type"] == "mcp_call" and call["approval_request_id"] == request["id"]
    assert call["output"] == '{"hits": 3}' and call["error"] is None
    assert call["arguments"] == request["arguments"]
    said = message["content"][0]["text"]
    assert said.endswith('search_docs on docs returned {"hits": 3}')
    frames = client.frames
    deltas = [f["delta"] for f in frames if f["type"] == "response.mcp_call_arguments.delta"]
    assert "".join(deltas) == call["arguments"]
    assert subsequence(
        [
            "response.output_item.added",
            "response.mcp_call_arguments.delta",
            "response.mcp_call_arguments.done",
            "response.mcp_call.in_progress",
            "response.mcp_call.completed",
            "conversation.item.done",
            "response.output_item.done",
            "response.output_item.added",
            "response.output_text.done",
            "response.done",
        ],
        client.types()[client.frames.index(second_created) :],
    )
    assert all(
        f["item_id"] == call["id"] for f in frames if f["type"].startswith("response.mcp_call")
    )
    await client.close()


async def test_a_denied_request_is_said_so(server: LocalRealtimeServer) -> None:
    client, _ = await open_client(server)
    await configure(client, {**MANUAL, **TEXT, "tools": [DOCS]})
    await client.send(user_text("search for it"))
    await client.send(text_out())
    request = (await client.until("response.done"))["response"]["output"][0]
    answer = {
        "type": "mcp_approval_response",
        "id": "mcpa_2",
        "approval_request_id": request["id"],
        "approve": False,
        "reason": "not on a call",
    }
    await client.send({"type": "conversation.item.create", "item": answer})
    (message,) = (await client.until("response.done"))["response"]["output"]
    assert message["content"][0]["text"].endswith(
        "the call to search_docs on docs was not approved (not on a call)."
    )
    assert "response.mcp_call.in_progress" not in client.types()
    await client.close()


async def test_an_approval_during_another_response_continues_after_it(
    server: LocalRealtimeServer,
) -> None:
    client, conn = await open_client(server)
    await configure(client, {**MANUAL, **TEXT, "tools": [DOCS]})
    await client.send(user_text("search it"))
    await client.send(text_out())
    request = (await client.until("response.done"))["response"]["output"][0]
    server.pacing = "realtime"
    await client.send(user_text("meanwhile, talk about the weather for a while"))
    await client.send(text_out(tool_choice="none"))
    busy = await client.until("response.created")
    answer = {
        "type": "mcp_approval_response",
        "id": "mcpa_3",
        "approval_request_id": request["id"],
        "approve": True,
    }
    await client.send({"type": "conversation.item.create", "item": answer})
    first_done = await client.until("response.done")
    assert first_done["response"]["id"] == busy["response"]["id"]
    after = await client.until("response.done")
    assert after["response"]["output"][0]["type"] == "mcp_call"
    assert "error" not in client.types()
    assert conn.counts_sent["response.created"] == 3
    await client.close()


async def test_never_approval_calls_at_once_and_errors_fail_the_call(
    server: LocalRealtimeServer,
) -> None:
    server.script_mcp_call(
        server_label="flaky", name="lookup", error="upstream timed out", when_text_contains="flaky"
    )
    flaky = {
        "type": "mcp",
        "server_label": "flaky",
        "server_url": "https://x.invalid",
        "require_approval": "never",
    }
    docs = {**DOCS, "require_approval": {"never": {"tool_names": ["search_docs"]}}}
    client, _ = await open_client(server)
    await configure(client, {**MANUAL, "tools": [docs, flaky]})
    await client.send(user_text("search now"))
    await client.send(text_out())
    call, message = (await client.until("response.done"))["response"]["output"]
    assert call["type"] == "mcp_call" and call["approval_request_id"] is None
    assert call["output"] == '{"hits": 3}'
    await client.send(user_text("the flaky one"))
    await client.send(text_out())
    call, message = (await client.until("response.done"))["response"]["output"]
    assert call["error"] == {"type": "tool_execution_error", "message": "upstream timed out"}
    assert "response.mcp_call.failed" in client.types()
    assert message["content"][0]["text"].endswith("lookup on flaky failed: upstream timed out")
    # tool_choice "none" keeps the tools quiet
    await client.send(user_text("search again"))
    await client.send(text_out(tool_choice="none"))
    (message,) = (await client.until("response.done"))["response"]["output"]
    assert message["type"] == "message"
    await client.close()


async def test_response_level_mcp_tools_are_listed_then_used(
    server: LocalRealtimeServer,
) -> None:
    client, conn = await open_client(server)
    await configure(client, {**MANUAL, **TEXT})
    await client.send(user_text("search, just this once"))
    await client.send(text_out(tools=[{**DOCS, "require_approval": "never"}]))
    done = (await client.until("response.done"))["response"]
    assert done["output"][0]["type"] == "mcp_call"
    types = client.types()
    assert types.index("mcp_list_tools.completed") < types.index("response.created")
    assert conn.counts_sent["mcp_list_tools.completed"] == 1
    await client.close()


async def test_cancel_during_a_call_fails_it(server: LocalRealtimeServer) -> None:
    server.pacing = "realtime"
    client, _ = await open_client(server)
    docs = {**DOCS, "require_approval": "never"}
    await configure(client, {**MANUAL, "tools": [docs]})
    await client.send(user_text("search"))
    await client.send(text_out())
    await client.until("response.mcp_call_arguments.delta")
    await client.send({"type": "response.cancel"})
    done = (await client.until("response.done"))["response"]
    assert done["status"] == "cancelled"
    (call,) = done["output"]
    assert call["error"]["type"] == "tool_execution_error" and call["output"] is None
    await client.close()


def test_script_arguments_are_checked() -> None:
    with pytest.raises(ConfigurationError, match="server_label"):
        McpCallScript(server_label="", name="x")
    with pytest.raises(ConfigurationError, match="times"):
        McpCallScript(server_label="a", name="x", times=0)
    with pytest.raises(ConfigurationError, match="arguments"):
        McpCallScript(server_label="a", name="x", arguments=[1])  # type: ignore[arg-type]

"""``python -m rtsdk serve --function-call ... --mcp-call ...``: tools from the command line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from websockets.sync.client import ClientConnection, connect

from rtsdk.exceptions import ConfigurationError
from rtsdk.testing import LocalRealtimeServer
from rtsdk.testing.cli import add_scripts, serve_main
from tests.conformance import assert_client_event_valid, assert_server_event_valid
from tests.test_testing_cli import served

ROOT = Path(__file__).resolve().parents[1]
WEATHER = {"type": "function", "name": "get_weather", "parameters": {"type": "object"}}
DOCS = {
    "type": "mcp",
    "server_label": "docs",
    "server_url": "https://mcp.example.invalid",
    "require_approval": "never",
}


def _send(ws: ClientConnection, event: dict[str, Any]) -> None:
    assert_client_event_valid(event)
    ws.send(json.dumps(event))


def _until(ws: ClientConnection, kind: str) -> dict[str, Any]:
    while True:
        event = json.loads(ws.recv(10))
        assert_server_event_valid(event)
        if event["type"] == kind:
            return event


def _turn(ws: ClientConnection, text: str) -> list[dict[str, Any]]:
    item = {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}
    _send(ws, {"type": "conversation.item.create", "item": item})
    _send(ws, {"type": "response.create", "response": {"output_modalities": ["text"]}})
    output: list[dict[str, Any]] = _until(ws, "response.done")["response"]["output"]
    return output


def test_serve_scripts_a_function_call_and_an_mcp_call() -> None:
    function = json.dumps(
        {"name": "get_weather", "arguments": {"city": "Oslo"}, "when": "weather", "times": 1}
    )
    mcp = json.dumps({"server_label": "docs", "name": "search", "output": "3 hits"})
    with (
        served("--pacing", "fast", "--function-call", function, "--mcp-call", mcp) as url,
        connect(f"{url}?model=gpt-realtime-1.5", max_size=None) as ws,
    ):
        _until(ws, "session.created")
        session = {"type": "realtime", "tools": [WEATHER, DOCS]}
        _send(ws, {"type": "session.update", "session": session})
        listing = _until(ws, "conversation.item.done")["item"]
        assert [t["name"] for t in listing["tools"]] == ["search"]
        (call,) = _turn(ws, "what is the weather?")
        assert call["type"] == "function_call" and json.loads(call["arguments"]) == {"city": "Oslo"}
        mcp_call, said = _turn(ws, "anything else")
        assert (mcp_call["type"], mcp_call["output"]) == ("mcp_call", "3 hits")
        assert said["content"][0]["text"].endswith("search on docs returned 3 hits")


def test_shorthand_and_bad_specs() -> None:
    server = LocalRealtimeServer()
    add_scripts(server, ["lookup"], ["crm/find_customer"])
    assert [s.name for s in server.scripts] == ["lookup"]
    assert [(s.server_label, s.name) for s in server.mcp_scripts] == [("crm", "find_customer")]
    for functions, mcp, match in (
        (['{"name": "x", "nope": 1}'], [], "unknown key"),
        (["{not json"], [], "not valid JSON"),
        ([], ["no-slash"], "LABEL/TOOL"),
        ([], ['{"server_label": "a", "name": "b", "times": 0}'], "times"),
        (['{"name": ""}'], [], "name"),
    ):
        with pytest.raises(ConfigurationError, match=match):
            add_scripts(LocalRealtimeServer(), functions, mcp)
    assert serve_main(["--port", "0", "--mcp-call", "no-slash"]) == 2
    assert serve_main(["--port", "0", "--function-call", '{"name": 5}']) == 2

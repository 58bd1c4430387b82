"""Local server: several function calls in one response (every matching script, ``count``,
``parallel_tool_calls``), spoken preambles before the calls, the reply to several tool results,
and how such a response streams, ends on cancel or barge-in, and is paced.

Every frame the server sends is checked against the openai GA types at teardown (the
fixture), responses included (they nest, each is done); :func:`check_stream` checks the order
of a response's items on the wire.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from websockets.sync.client import connect

from rtsdk.exceptions import ConfigurationError
from rtsdk.testing import FunctionCallScript, LocalRealtimeServer, ServerConnection
from rtsdk.testing.cli import add_scripts, serve_main
from rtsdk.testing.responses import ECHO_PREFIX
from tests.conformance import assert_client_event_valid, assert_server_event_valid
from tests.test_testing_cli import served
from tests.test_testing_server import RawClient, audio_of, check_sent, configure, tone

ROOT = Path(__file__).resolve().parents[1]
REASONING = "gpt-realtime-2.1"  # takes parallel_tool_calls


def tool(name: str) -> dict[str, Any]:
    return {"type": "function", "name": name, "parameters": {"type": "object"}}


TOOLS = [tool("get_a"), tool("get_b"), tool("get_c")]
TEXT = {"output_modalities": ["text"]}
# no automatic responses: every response here is asked for
NO_AUTO = {"type": "server_vad", "create_response": False, "interrupt_response": True}


async def open_session(
    srv: LocalRealtimeServer, model: str = REASONING, **session: Any
) -> tuple[RawClient, ServerConnection]:
    client = await RawClient.connect(f"{srv.url}?model={model}")
    assert (await client.recv())["type"] == "session.created"
    await configure(
        client,
        {
            "type": "realtime",
            "tools": TOOLS,
            "audio": {"input": {"turn_detection": NO_AUTO}},
            **session,
        },
    )
    return client, srv.connections[-1]


def user_text(text: str) -> dict[str, Any]:
    item = {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}
    return {"type": "conversation.item.create", "item": item}


async def turn(client: RawClient, text: str, **response: Any) -> dict[str, Any]:
    """A typed turn and its response; the ``response.done`` event."""
    await client.send(user_text(text))
    await client.send({"type": "response.create", "response": response})
    return await client.until("response.done")


def calls_of(done: dict[str, Any]) -> list[dict[str, Any]]:
    return [i for i in done["response"]["output"] if i["type"] == "function_call"]


def frames_of(frames: list[dict[str, Any]], response_id: str) -> list[dict[str, Any]]:
    """The frames of one response, ``response.created`` to ``response.done``."""
    start = next(
        k
        for k, f in enumerate(frames)
        if f["type"] == "response.created" and f["response"]["id"] == response_id
    )
    end = next(
        k
        for k, f in enumerate(frames)
        if f["type"] == "response.done" and f["response"]["id"] == response_id
    )
    return frames[start : end + 1]


def check_stream(frames: list[dict[str, Any]], done: dict[str, Any]) -> list[str]:
    """Check that the items of the response ``done`` streamed one after the other: each
    item's events between its ``output_item.added`` and ``output_item.done``, with its
    ``output_index`` (0, 1, 2, ...) and id, every item closed, in the conversation after the
    one before it. Returns the item ids in order."""
    response = done["response"]
    ours = frames_of(frames, response["id"])
    opened: tuple[int, str] | None = None
    ids: list[str] = []
    for f in ours:
        kind = f["type"]
        if kind == "response.output_item.added":
            assert opened is None, f"{f['item']['id']} opened inside {opened}"
            assert f["output_index"] == len(ids), (f["output_index"], ids)
            opened = (f["output_index"], f["item"]["id"])
            ids.append(f["item"]["id"])
        elif kind == "response.output_item.done":
            assert opened == (f["output_index"], f["item"]["id"]), (opened, f)
            opened = None
        elif kind == "conversation.item.added":
            assert opened is not None and f["item"]["id"] == opened[1]
            assert f["previous_item_id"] == (ids[-2] if len(ids) > 1 else f["previous_item_id"])
        elif "output_index" in f:
            assert opened == (f["output_index"], f["item_id"]), (opened, f)
            assert f["response_id"] == response["id"]
    assert opened is None, f"{opened} never closed"
    assert [i["id"] for i in response["output"]] == ids
    return ids


# --------------------------------------------------------------------------------------------
# several calls in one response


async def test_every_matching_script_calls_in_the_same_response(
    server: LocalRealtimeServer,
) -> None:
    a = server.script_function_call(name="get_a", arguments={"q": 1}, when_text_contains="both")
    b = server.script_function_call(name="get_b", arguments='{"q":2}', when_text_contains="both")
    c = server.script_function_call(name="get_c", when_text_contains="never said")
    client, conn = await open_session(server)
    done = await turn(client, "Do BOTH please", **TEXT)
    assert done["response"]["status"] == "completed"
    first, second = done["response"]["output"]
    assert (first["name"], first["arguments"]) == ("get_a", '{"q":1}')
    assert (second["name"], second["arguments"]) == ("get_b", '{"q":2}')
    assert first["call_id"] != second["call_id"]
    assert first["status"] == second["status"] == "completed"
    ids = check_stream(client.frames, done)
    arg_done = [f for f in client.frames if f["type"] == "response.function_call_arguments.done"]
    assert [(f["output_index"], f["call_id"], f["name"]) for f in arg_done] == [
        (0, first["call_id"], "get_a"),
        (1, second["call_id"], "get_b"),
    ]
    deltas = [f for f in client.frames if f["type"] == "response.function_call_arguments.delta"]
    assert "".join(f["delta"] for f in deltas if f["output_index"] == 1) == '{"q":2}'
    assert [i["id"] for i in conn.logic.items[-2:]] == ids
    assert (a.fired, b.fired, c.fired) == (1, 1, 0)
    await client.close()


async def test_the_reply_to_several_results_names_each_in_call_order(
    server: LocalRealtimeServer,
) -> None:
    server.script_function_call(name="get_a", times=1)
    server.script_function_call(name="get_b", times=1)
    client, _ = await open_session(server)
    a, b = calls_of(await turn(client, "go", **TEXT))
    for call, out in ((b, "20"), (a, "10")):  # the outputs come in the other order
        item = {"type": "function_call_output", "call_id": call["call_id"], "output": out}
        await client.send({"type": "conversation.item.create", "item": item})
    await client.send({"type": "response.create", "response": TEXT})
    done = await client.until("response.done")
    (said,) = done["response"]["output"]
    assert said["content"][0]["text"] == f"{ECHO_PREFIX} get_a returned 10; get_b returned 20"
    await client.close()


async def test_a_reply_before_every_result_is_in_answers_what_is_there(
    server: LocalRealtimeServer,
) -> None:
    server.script_function_call(name="get_a", times=1)
    server.script_function_call(name="get_b", times=1)
    client, conn = await open_session(server)
    a, b = calls_of(await turn(client, "go", **TEXT))
    item = {"type": "function_call_output", "call_id": b["call_id"], "output": "only b"}
    await client.send({"type": "conversation.item.create", "item": item})
    await client.send({"type": "response.create", "event_id": "early", "response": TEXT})
    done = await client.until("response.done")
    assert done["response"]["status"] == "completed"
    assert done["response"]["output"][0]["content"][0]["text"].endswith("get_b returned only b")
    assert "error" not in client.types()
    # the late output: the next reply names both, in call order
    item = {"type": "function_call_output", "call_id": a["call_id"], "output": "a at last"}
    await client.send({"type": "conversation.item.create", "item": item})
    await client.send({"type": "response.create", "response": TEXT})
    done = await client.until("response.done")
    assert done["response"]["output"][0]["content"][0]["text"].endswith(
        "get_a returned a at last; get_b returned only b"
    )
    assert conn.logic.active is None
    await client.close()


async def test_count_calls_one_tool_several_times(server: LocalRealtimeServer) -> None:
    script = server.script_function_call(name="get_c", arguments={"n": 1}, count=3)
    client, _ = await open_session(server)
    done = await turn(client, "three please", **TEXT)
    calls = calls_of(done)
    assert [c["name"] for c in calls] == ["get_c"] * 3
    assert len({c["call_id"] for c in calls}) == 3
    assert {c["arguments"] for c in calls} == {'{"n":1}'}
    check_stream(client.frames, done)
    assert script.fired == 1  # one firing, three calls
    await client.close()


@pytest.mark.parametrize(
    ("session_value", "response_value", "parallel"),
    [
        (None, None, True),  # the default: parallel
        (False, None, False),
        (True, False, False),  # the response's own wins
        (False, True, True),
    ],
)
async def test_parallel_tool_calls_false_makes_only_the_first_call(
    server: LocalRealtimeServer,
    session_value: bool | None,
    response_value: bool | None,
    parallel: bool,
) -> None:
    a = server.script_function_call(name="get_a", count=2)
    b = server.script_function_call(name="get_b")
    session = {} if session_value is None else {"parallel_tool_calls": session_value}
    client, _ = await open_session(server, **session)
    response: dict[str, Any] = dict(TEXT)
    if response_value is not None:
        response["parallel_tool_calls"] = response_value
    done = await turn(client, "go", **response)
    names = [c["name"] for c in calls_of(done)]
    assert names == (["get_a", "get_a", "get_b"] if parallel else ["get_a"])
    assert (a.fired, b.fired) == ((1, 1) if parallel else (1, 0))
    check_stream(client.frames, done)
    await client.close()


# --------------------------------------------------------------------------------------------
# preambles


async def test_preambles_are_spoken_before_their_calls(server: LocalRealtimeServer) -> None:
    server.script_function_call(name="get_a", preamble="Let me look that up.")
    server.script_function_call(name="get_b", preamble="And check one more thing.", count=2)
    client, conn = await open_session(server)
    done = await turn(client, "go")  # audio output (the session's default)
    output = done["response"]["output"]
    kinds = [(i["type"], i.get("name")) for i in output]
    assert kinds == [
        ("message", None),
        ("function_call", "get_a"),
        ("message", None),
        ("function_call", "get_b"),
        ("function_call", "get_b"),
    ]
    ids = check_stream(client.frames, done)
    for item, words in (
        (output[0], "Let me look that up."),
        (output[2], "And check one more thing."),
    ):
        assert item["role"] == "assistant" and item["status"] == "completed"
        assert item["content"] == [{"type": "output_audio", "transcript": words}]
        assert len(audio_of(client.frames, item["id"])) > 0  # a tone under the words
        said = [
            f["delta"]
            for f in client.frames
            if f["type"] == "response.output_audio_transcript.delta" and f["item_id"] == item["id"]
        ]
        assert "".join(said) == words
    assert audio_of(client.frames, output[1]["id"]) == b""
    assert [i["id"] for i in conn.logic.items[-5:]] == ids
    await client.close()


async def test_a_preamble_is_text_in_a_text_response(server: LocalRealtimeServer) -> None:
    server.script_function_call(name="get_a", preamble="One moment.")
    client, _ = await open_session(server)
    done = await turn(client, "go", **TEXT)
    message, call = done["response"]["output"]
    assert message["content"] == [{"type": "output_text", "text": "One moment."}]
    assert call["name"] == "get_a"
    assert "response.output_audio.delta" not in client.types()
    check_stream(client.frames, done)
    await client.close()


async def test_without_parallel_calls_the_first_preamble_and_call_only(
    server: LocalRealtimeServer,
) -> None:
    server.script_function_call(name="get_a", preamble="First.", count=3)
    server.script_function_call(name="get_b", preamble="Second.")
    client, _ = await open_session(server, parallel_tool_calls=False)
    done = await turn(client, "go", **TEXT)
    assert [i["type"] for i in done["response"]["output"]] == ["message", "function_call"]
    assert done["response"]["output"][0]["content"][0]["text"] == "First."
    await client.close()


# --------------------------------------------------------------------------------------------
# ending early, pacing


@pytest.mark.parametrize("how", ["cancel", "barge-in"])
async def test_ending_a_multi_item_response_closes_what_is_open(how: str) -> None:
    long = "This preamble has enough words in it to take a good while to say out loud."
    async with LocalRealtimeServer(pacing="realtime") as srv:
        srv.script_function_call(name="get_a", preamble=long)
        srv.script_function_call(name="get_b", preamble=long)
        client, conn = await open_session(srv)
        await client.send(user_text("go"))
        await client.send({"type": "response.create"})
        third = None
        while third is None:  # the second preamble, once its audio has started
            frame = await client.until("response.output_audio.delta")
            if frame["output_index"] == 2:
                third = frame
        if how == "cancel":
            await client.send({"type": "response.cancel", "event_id": "c"})
            reason = "client_cancelled"
        else:
            await client.stream(tone(300))
            reason = "turn_detected"
        done = await client.until("response.done")
        response = done["response"]
        assert response["status"] == "cancelled"
        assert response["status_details"] == {"type": "cancelled", "reason": reason}
        output = response["output"]
        assert [i["type"] for i in output] == ["message", "function_call", "message"]
        assert [i["status"] for i in output] == ["completed", "completed", "incomplete"]
        check_stream(client.frames, done)
        assert output[2]["id"] == third["item_id"]
        transcript = output[2]["content"][0]["transcript"]
        assert long.startswith(transcript) and transcript != long
        assert not [f for f in client.frames if f.get("item", {}).get("name") == "get_b"]
        assert conn.logic.active is None
        await client.close()
    check_sent(conn)


async def test_the_call_comes_while_the_preamble_still_plays() -> None:
    preamble = " ".join(["word"] * 15)  # 60 ms a word: 0.9 s of audio
    lead_s = 0.4
    async with LocalRealtimeServer(pacing="realtime", realtime_lead_ms=int(lead_s * 1000)) as srv:
        srv.script_function_call(name="get_a", preamble=preamble)
        client, conn = await open_session(srv)
        await client.send(user_text("go"))
        await client.send({"type": "response.create"})
        loop = asyncio.get_running_loop()
        first_audio = await client.until("response.output_audio.delta")
        t0 = loop.time()
        while True:
            added = await client.until("response.output_item.added")
            if added["item"]["type"] == "function_call":
                break
        gap = loop.time() - t0
        done = await client.until("response.done")
        audio_s = len(audio_of(client.frames, first_audio["item_id"])) / 48000
        assert audio_s == pytest.approx(0.9, abs=0.01)
        # paced as audio plays (not all at once), and the call is out before the end of it
        assert audio_s - lead_s - 0.15 < gap < audio_s - 0.05, (gap, audio_s)
        check_stream(client.frames, done)
        await client.close()
    check_sent(conn)


# --------------------------------------------------------------------------------------------
# the script and the command line


def test_script_count_and_preamble_are_checked() -> None:
    assert FunctionCallScript(name="f").count == 1
    assert FunctionCallScript(name="f").preamble is None
    for bad in (0, -1, True, 1.5, "2", None):
        with pytest.raises(ConfigurationError, match="count"):
            FunctionCallScript(name="f", count=bad)  # type: ignore[arg-type]
    for bad_preamble in ("", "  ", 5):
        with pytest.raises(ConfigurationError, match="preamble"):
            FunctionCallScript(name="f", preamble=bad_preamble)  # type: ignore[arg-type]


def test_function_call_spec_takes_count_and_preamble() -> None:
    server = LocalRealtimeServer()
    add_scripts(server, ['{"name": "get_a", "count": 2, "preamble": "One moment."}', "get_b"], [])
    a, b = server.scripts
    assert (a.name, a.count, a.preamble) == ("get_a", 2, "One moment.")
    assert (b.name, b.count, b.preamble) == ("get_b", 1, None)
    for spec, match in (
        ('{"name": "x", "count": 0}', "count"),
        ('{"name": "x", "preamble": 1}', "preamble"),
    ):
        with pytest.raises(ConfigurationError, match=match):
            add_scripts(LocalRealtimeServer(), [spec], [])
    assert serve_main(["--port", "0", "--function-call", '{"name": "x", "count": "2"}']) == 2


def test_serve_makes_parallel_calls_with_preambles() -> None:
    specs = [
        json.dumps({"name": "get_a", "count": 2, "preamble": "Checking."}),
        json.dumps({"name": "get_b", "when": "b too"}),
    ]
    args = [arg for spec in specs for arg in ("--function-call", spec)]
    with (
        served("--pacing", "fast", *args) as url,
        connect(f"{url}?model=gpt-realtime-1.5", max_size=None) as ws,
    ):

        def send(event: dict[str, Any]) -> None:
            assert_client_event_valid(event)
            ws.send(json.dumps(event))

        def until_done() -> dict[str, Any]:
            while True:
                event = json.loads(ws.recv(10))
                assert_server_event_valid(event)
                if event["type"] == "response.done":
                    return event

        send({"type": "session.update", "session": {"type": "realtime", "tools": TOOLS}})
        for text, names in (
            ("a only", ["get_a", "get_a"]),
            ("a and b too", ["get_a", "get_a", "get_b"]),
        ):
            send(user_text(text))
            send({"type": "response.create", "response": TEXT})
            output = until_done()["response"]["output"]
            assert output[0]["content"] == [{"type": "output_text", "text": "Checking."}]
            assert [i["name"] for i in output[1:]] == names

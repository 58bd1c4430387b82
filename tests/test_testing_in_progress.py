"""Local server: client events against items and responses that are still in progress.

The real service accepts a truncate of an assistant audio item whose response is still
streaming (a client interrupting under server VAD sends no ``response.cancel``): the response
ends ``cancelled`` / ``client_cancelled``, the audio is cut, ``conversation.item.truncated``
follows. The siblings (delete, retrieve, cancel, create against what is in progress) are here
too. Every frame the server sends is checked against the GA types at teardown.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from typing import Any

import pytest

from rtsdk.testing import LocalRealtimeServer
from tests.test_testing_server import MANUAL, audio_of, check_sent, configure, open_client

WEATHER_TOOL = {
    "type": "function",
    "name": "get_weather",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
}
LONG = "please talk for a while about anything at all, the longer the better for this test"


@pytest.fixture
async def server() -> AsyncIterator[LocalRealtimeServer]:
    async with LocalRealtimeServer(pacing="realtime") as srv:
        yield srv
    for conn in srv.connections:
        check_sent(conn)


def user_text(text: str, **kw: Any) -> dict[str, Any]:
    item = {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}
    return {"type": "conversation.item.create", "item": item, **kw}


def truncate(item_id: str, ms: int, event_id: str = "t") -> dict[str, Any]:
    return {
        "type": "conversation.item.truncate",
        "event_id": event_id,
        "item_id": item_id,
        "content_index": 0,
        "audio_end_ms": ms,
    }


def index_of(frames: list[dict[str, Any]], kind: str, **match: Any) -> int:
    for i, frame in enumerate(frames):
        if frame["type"] == kind and all(frame.get(k) == v for k, v in match.items()):
            return i
    raise AssertionError(f"no {kind} {match} in {[f['type'] for f in frames]}")


async def test_truncate_of_a_streaming_audio_item_cancels_and_truncates(
    server: LocalRealtimeServer,
) -> None:
    client, conn = await open_client(server)
    await configure(client, MANUAL)
    await client.send(user_text(LONG))
    await client.send({"type": "response.create"})
    first = await client.until("response.output_audio.delta")
    item_id, response_id = first["item_id"], first["response_id"]
    await client.send(truncate(item_id, 40, "t1"))
    truncated = await client.until("conversation.item.truncated")
    assert (truncated["item_id"], truncated["content_index"], truncated["audio_end_ms"]) == (
        item_id,
        0,
        40,
    )
    frames = client.frames
    done_at = index_of(frames, "response.done")
    done = frames[done_at]["response"]
    assert done["id"] == response_id and done["status"] == "cancelled"
    assert done["status_details"] == {"type": "cancelled", "reason": "client_cancelled"}
    assert done["output"][0]["status"] == "incomplete"
    assert done_at < frames.index(truncated)  # the response ends, then the cut is confirmed
    assert "error" not in client.types()
    sent_audio = audio_of(frames, item_id)
    assert len(sent_audio) >= 40 * 48
    # nothing more of that response; the item holds the 40 ms that were heard
    await client.send({"type": "conversation.item.retrieve", "item_id": item_id})
    item = (await client.until("conversation.item.retrieved"))["item"]
    assert base64.b64decode(item["content"][0]["audio"]) == sent_audio[: 40 * 48]
    assert item["status"] == "incomplete"
    assert audio_of(client.frames, item_id) == sent_audio
    assert all(f.get("response_id") != response_id for f in client.frames[done_at + 1 :])
    # the conversation is free again: a new response starts
    await client.send({"type": "response.create", "event_id": "r2"})
    assert (await client.until("response.done"))["response"]["status"] == "completed"
    assert conn.counts_sent["error"] == 0
    await client.close()


async def test_truncate_of_a_streaming_item_is_bounded_by_the_audio_sent_so_far(
    server: LocalRealtimeServer,
) -> None:
    client, conn = await open_client(server)
    await configure(client, MANUAL)
    await client.send(user_text(LONG))
    await client.send({"type": "response.create"})
    first = await client.until("response.output_audio.delta")
    # far past anything generated yet: refused, and the response carries on
    await client.send(truncate(first["item_id"], 60_000, "t_far"))
    error = (await client.until("error"))["error"]
    assert (error["code"], error["param"], error["event_id"]) == (None, None, "t_far")
    assert error["message"].startswith("Audio content of ")
    done = (await client.until("response.done"))["response"]
    assert done["status"] == "completed"
    assert conn.counts_sent["conversation.item.truncated"] == 0
    await client.close()


async def test_truncate_before_any_audio_stays_refused(server: LocalRealtimeServer) -> None:
    client, conn = await open_client(server)
    await configure(client, {**MANUAL, "tools": [WEATHER_TOOL]})
    # a text response in progress: it has no audio at all
    await client.send(user_text(LONG))
    await client.send({"type": "response.create", "response": {"output_modalities": ["text"]}})
    delta = await client.until("response.output_text.delta")
    await client.send(truncate(delta["item_id"], 0, "t_text"))
    error = (await client.until("error"))["error"]
    assert (error["code"], error["event_id"]) == ("unsupported_content_type", "t_text")
    assert error["message"] == "Only model output audio messages can be truncated"
    assert (await client.until("response.done"))["response"]["status"] == "completed"
    # a function call in progress
    server.script_function_call(name="get_weather", arguments={"city": "Oslo"}, times=1)
    await client.send(user_text("weather?"))
    await client.send({"type": "response.create"})
    args = await client.until("response.function_call_arguments.delta")
    await client.send(truncate(args["item_id"], 0, "t_call"))
    error = (await client.until("error"))["error"]
    assert (error["code"], error["event_id"]) == ("unsupported_content_type", "t_call")
    assert (await client.until("response.done"))["response"]["status"] == "completed"
    assert conn.counts_sent["conversation.item.truncated"] == 0
    await client.close()


async def test_delete_of_a_streaming_item_ends_its_response_first(
    server: LocalRealtimeServer,
) -> None:
    client, conn = await open_client(server)
    await configure(client, MANUAL)
    await client.send(user_text(LONG))
    await client.send({"type": "response.create"})
    first = await client.until("response.output_audio.delta")
    item_id = first["item_id"]
    await client.send({"type": "conversation.item.delete", "event_id": "d", "item_id": item_id})
    deleted = await client.until("conversation.item.deleted")
    assert deleted["item_id"] == item_id
    frames = client.frames
    done_at = index_of(frames, "response.done")
    assert frames[done_at]["response"]["status_details"]["reason"] == "client_cancelled"
    item_done_at = next(
        i
        for i, f in enumerate(frames)
        if f["type"] == "conversation.item.done" and f["item"]["id"] == item_id
    )
    assert item_done_at < done_at < frames.index(deleted)
    assert all(f.get("item_id") != item_id for f in frames[frames.index(deleted) + 1 :])
    assert all(i["id"] != item_id for i in conn.logic.items)
    # gone: a retrieve or a second delete is an error naming the item
    await client.send({"type": "conversation.item.retrieve", "event_id": "g", "item_id": item_id})
    assert (await client.until("error"))["error"]["event_id"] == "g"
    await client.send({"type": "response.create"})
    assert (await client.until("response.done"))["response"]["status"] == "completed"
    await client.close()


async def test_retrieve_of_a_streaming_item_gives_it_as_it_stands(
    server: LocalRealtimeServer,
) -> None:
    client, _ = await open_client(server)
    await configure(client, MANUAL)
    await client.send(user_text(LONG))
    await client.send({"type": "response.create"})
    first = await client.until("response.output_audio.delta")
    item_id = first["item_id"]
    await client.send({"type": "conversation.item.retrieve", "item_id": item_id})
    retrieved = await client.until("conversation.item.retrieved")
    item = retrieved["item"]
    assert item["id"] == item_id and item["status"] == "in_progress"
    (part,) = item["content"]
    assert part["type"] == "output_audio"
    before = client.frames[: client.frames.index(retrieved)]
    assert base64.b64decode(part["audio"]) == audio_of(before, item_id)
    said = "".join(
        f["delta"] for f in before if f["type"] == "response.output_audio_transcript.delta"
    )
    assert part["transcript"] == said
    # the response was not disturbed
    done = (await client.until("response.done"))["response"]
    assert done["status"] == "completed"
    assert len(audio_of(client.frames, item_id)) > len(base64.b64decode(part["audio"]))
    await client.close()


async def test_retrieve_of_a_streaming_function_call_has_the_arguments_so_far(
    server: LocalRealtimeServer,
) -> None:
    server.script_function_call(name="get_weather", arguments={"city": "Reykjavik, Iceland"})
    client, _ = await open_client(server)
    await configure(client, {**MANUAL, "tools": [WEATHER_TOOL]})
    await client.send(user_text("weather?"))
    await client.send({"type": "response.create"})
    delta = await client.until("response.function_call_arguments.delta")
    await client.send({"type": "conversation.item.retrieve", "item_id": delta["item_id"]})
    retrieved = await client.until("conversation.item.retrieved")
    item = retrieved["item"]
    before = client.frames[: client.frames.index(retrieved)]
    so_far = "".join(
        f["delta"] for f in before if f["type"] == "response.function_call_arguments.delta"
    )
    assert item["type"] == "function_call" and item["status"] == "in_progress"
    assert item["arguments"] == so_far
    done = (await client.until("response.done"))["response"]
    assert done["output"][0]["arguments"] == '{"city":"Reykjavik, Iceland"}'
    await client.close()


async def test_cancel_and_create_against_responses_in_progress(
    server: LocalRealtimeServer,
) -> None:
    client, conn = await open_client(server)
    await configure(client, MANUAL)
    await client.send(user_text(LONG))
    await client.send({"type": "response.create", "event_id": "r1"})
    first = await client.until("response.output_audio.delta")
    main_id = first["response_id"]
    # a second default-conversation response is refused while one is active
    await client.send({"type": "response.create", "event_id": "r2"})
    error = (await client.until("error"))["error"]
    assert (error["code"], error["event_id"]) == (
        "conversation_already_has_active_response",
        "r2",
    )
    # an out-of-band one may run beside it, and be cancelled by its id alone
    await client.send(
        {
            "type": "response.create",
            "event_id": "r3",
            "response": {"conversation": "none", "metadata": {"k": "oob"}, "input": []},
        }
    )
    created = await client.until("response.created")
    oob_id = created["response"]["id"]
    assert oob_id != main_id and created["response"]["conversation_id"] is None
    await client.send({"type": "response.cancel", "event_id": "c1", "response_id": oob_id})
    oob_done = await client.until("response.done")
    assert oob_done["response"]["id"] == oob_id
    assert oob_done["response"]["status_details"]["reason"] == "client_cancelled"
    # an unknown id is an error; the default response is untouched by all of the above
    await client.send({"type": "response.cancel", "event_id": "c2", "response_id": "resp_nope"})
    error = (await client.until("error"))["error"]
    assert (error["code"], error["event_id"]) == ("response_cancel_not_active", "c2")
    done = (await client.until("response.done"))["response"]
    assert (done["id"], done["status"]) == (main_id, "completed")
    # an item inserted after the item still being generated lands right after it
    assert conn.counts_sent["response.done"] == 2
    await client.send(user_text(LONG))
    await client.send({"type": "response.create"})
    streaming = await client.until("response.output_audio.delta")
    await client.send(user_text("after it", previous_item_id=streaming["item_id"]))
    added = await client.until("conversation.item.added")
    assert added["previous_item_id"] == streaming["item_id"]
    await client.until("response.done")
    ids = [i["id"] for i in conn.logic.items]
    assert ids.index(added["item"]["id"]) == ids.index(streaming["item_id"]) + 1
    await client.close()

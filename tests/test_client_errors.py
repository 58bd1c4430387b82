"""The client routes on the service's error codes (the local server's catalogue): an item the
server no longer has, or a cancel with nothing active, is no problem of the session's — no
warning, no server error counted, the session goes on; the app's own item request still hears
of it, with the code."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import pytest

from rtsdk import AsyncRealtimeAIClient
from rtsdk.client.conversation import ItemRequestError
from rtsdk.testing import ERRORS, LocalRealtimeServer

from .client_helpers import Recorder
from .test_client import options


@pytest.fixture
async def server() -> AsyncIterator[LocalRealtimeServer]:
    async with LocalRealtimeServer(pacing="fast") as srv:
        yield srv


async def _started(server: LocalRealtimeServer) -> tuple[AsyncRealtimeAIClient, Recorder]:
    client = AsyncRealtimeAIClient(options(server, output_modality="text", turn_detection="none"))
    rec = Recorder()
    client.on("*", rec)
    await client.start()
    return client, rec


async def test_races_over_gone_items_are_not_the_sessions_problem(
    server: LocalRealtimeServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, "rtsdk")
    client, rec = await _started(server)
    await client.truncate("item_gone", 120)  # e.g. a barge-in after the item was deleted
    truncated = await rec.wait("error")
    assert truncated.error["code"] == ERRORS["item_truncate_missing"].code
    with pytest.raises(ItemRequestError) as refused:
        await client.delete_item("item_gone")
    assert refused.value.code == ERRORS["item_delete_missing"].code
    with pytest.raises(ItemRequestError, match="does not exist") as missing:
        await client.retrieve_item("item_gone")
    assert missing.value.code == ERRORS["item_retrieve_missing"].code
    await client.send_event({"type": "response.cancel"})  # nothing active
    cancel = await rec.wait("error", lambda e: e.error.get("code") == "response_cancel_not_active")
    assert cancel.error["code"] == ERRORS["response_cancel_not_active"].code
    await client.send_text("still here?")
    done = await rec.wait("response.done")
    assert done.response["status"] == "completed"
    assert client.stats()["errors"] == {"handler": 0, "protocol": 0, "server": 0}
    warned = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert warned == []
    assert client.failure is None and client.is_connected
    await client.stop()


async def test_a_real_problem_is_still_reported(
    server: LocalRealtimeServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, "rtsdk")
    client, rec = await _started(server)
    # an item placed after one that does not exist: a problem the app should see in its logs
    await client.send_event(
        {
            "type": "conversation.item.create",
            "item": {"type": "message", "role": "user", "content": [{"type": "input_text"}]},
            "previous_item_id": "item_gone",
        }
    )
    error = await rec.wait("error")
    assert error.error["code"] == ERRORS["item_create_missing_previous"].code
    await client.drain()
    assert client.stats()["errors"]["server"] == 1
    assert any("item_create_invalid_previous_item_id" in r.getMessage() for r in caplog.records)
    await client.stop()

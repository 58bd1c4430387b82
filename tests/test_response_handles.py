"""ResponseTracker: a requested response's events matched by its metadata tag, collected,
and handed to whoever awaits its handle."""

from __future__ import annotations

import asyncio

import pytest

from rtsdk.client.responses import REQUEST_KEY, ResponseError, ResponseTracker
from rtsdk.exceptions import ConfigurationError, ConnectionClosedError
from tests.test_transcripts import S


async def test_a_tagged_response_resolves_its_handle_with_text_audio_and_done() -> None:
    tracker = ResponseTracker()
    loop = asyncio.get_running_loop()
    handle, tagged = tracker.request({"conversation": "none", "metadata": {"k": "v"}}, loop)
    tag = tagged["metadata"][REQUEST_KEY]
    assert tagged["metadata"]["k"] == "v" and tagged["conversation"] == "none"
    other, _ = tracker.request({}, loop)
    created = {"id": "resp_1", "conversation_id": None, "metadata": {"k": "v", REQUEST_KEY: tag}}
    tracker.feed(S("response.created", response=created))
    tracker.feed(S("response.created", response={"id": "resp_vad"}))  # not ours
    assert handle.response_id == "resp_1" and tracker.wants_audio("resp_1")
    assert not tracker.wants_audio("resp_vad")
    ids = {"item_id": "item_1", "output_index": 0, "content_index": 0}
    tracker.feed(
        S("response.output_audio_transcript.delta", response_id="resp_1", delta="Hi", **ids)
    )
    tracker.feed(
        S("response.output_audio_transcript.delta", response_id="resp_vad", delta="x", **ids)
    )
    tracker.audio("resp_1", b"\x01\x02")
    tracker.audio("resp_vad", b"\x09")
    tracker.feed(
        S("response.output_audio_transcript.delta", response_id="resp_1", delta=" you", **ids)
    )
    tracker.audio("resp_1", b"\x03\x04")
    assert not handle.done()
    done = {
        **created,
        "status": "completed",
        "output": [{"id": "item_1"}],
        "usage": {"total_tokens": 3},
    }
    tracker.feed(S("response.done", response=done))
    result = await handle.result(1)
    assert (result.text, result.audio, result.status) == (
        "Hi you",
        b"\x01\x02\x03\x04",
        "completed",
    )
    assert result.metadata == {"k": "v"} and result.out_of_band
    assert result.output == [{"id": "item_1"}] and result.usage == {"total_tokens": 3}
    assert (await handle) is result
    assert not other.done()
    tracker.fail_all("closed")
    with pytest.raises(ConnectionClosedError, match="closed"):
        await other


async def test_refusals_fail_the_handle() -> None:
    tracker = ResponseTracker()
    loop = asyncio.get_running_loop()
    with pytest.raises(ConfigurationError, match="reserved"):
        tracker.request({"metadata": {REQUEST_KEY: "x"}}, loop)
    with pytest.raises(ConfigurationError, match="at most 15 pairs"):
        tracker.request({"metadata": {f"k{i}": "v" for i in range(16)}}, loop)
    handle, _ = tracker.request({"conversation": "none"}, loop)
    tracker.sent(handle.request_id, "evt_9")
    error = {
        "type": "invalid_request_error",
        "code": "invalid_value",
        "message": "bad",
        "event_id": "evt_9",
    }
    tracker.feed(S("error", error=error))
    with pytest.raises(ResponseError, match="invalid_value"):
        await handle

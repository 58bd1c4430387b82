"""The service's raw output-audio hook (RawAudioSink): deltas handed over undecoded."""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any

from rtsdk import AsyncRealtimeAIClient, RealtimeAIOptions, kernels
from rtsdk.testing import LocalRealtimeServer


class Sink:
    """Splices with the carrier kernel; records what it was asked to play."""

    def __init__(self) -> None:
        self.spliced = 0
        self.others = 0
        self.played: list[tuple[str, int, bytes]] = []

    def splice(self, frame: bytes) -> tuple[str, str, int, bytes] | None:
        got = kernels.delta_to_media(frame, "MZ1")
        if got is None:
            self.others += 1
        else:
            self.spliced += 1
        return got

    def play_spliced(self, item_id: str, nbytes: int, spliced: Any) -> None:
        self.played.append((item_id, nbytes, spliced))


async def test_deltas_reach_the_sink_undecoded_and_events_still_flow() -> None:
    async with LocalRealtimeServer(pacing="fast") as rt:
        opts = RealtimeAIOptions(url=rt.url, api_key=None, output_format="g711_ulaw")
        client = AsyncRealtimeAIClient(opts)
        sink = Sink()
        client.service.raw_audio = sink
        tapped: list[bytes] = []
        tap = client.service.audio_tap

        def tap_too(response_id: str, item_id: str, audio: bytes) -> None:
            tapped.append(audio)
            if tap is not None:
                tap(response_id, item_id, audio)

        client.service.audio_tap = tap_too
        client.service.audio_tap_wants = None  # every response's audio, not only a handle's
        done = asyncio.Event()
        client.on("response.done", lambda e: done.set())
        async with client:
            await client.send_text("hello there")
            await asyncio.wait_for(done.wait(), 10)
            conn = rt.connections[0]
        sent = [f for f in conn.sent if f.get("type") == "response.output_audio.delta"]
        assert sink.spliced == len(sent) > 0 and sink.others > 0
        heard = b"".join(
            base64.b64decode(json.loads(m)["media"]["payload"]) for *_, m in sink.played
        )
        assert heard == b"".join(base64.b64decode(f["delta"]) for f in sent)
        assert b"".join(tapped) == heard  # the tap still gets every delta, decoded
        assert [n for _, n, _ in sink.played] == [len(base64.b64decode(f["delta"])) for f in sent]
        item = sent[0]["item_id"]
        assert client.service.state.audio[item].received == len(heard)


async def test_a_malformed_delta_is_not_played_and_the_session_goes_on() -> None:
    async with LocalRealtimeServer(pacing="fast") as rt:
        opts = RealtimeAIOptions(url=rt.url, api_key=None, output_format="g711_ulaw")
        client = AsyncRealtimeAIClient(opts)
        sink = Sink()
        client.service.raw_audio = sink
        seen: list[Any] = []
        client.on("response.output_audio.delta", seen.append)
        done = asyncio.Event()
        client.on("response.done", lambda e: done.set())
        async with client:
            conn = rt.connections[0]
            bad = {
                "type": "response.output_audio.delta",
                "event_id": "e1",
                "response_id": "r",
                "item_id": "i",
                "output_index": 0,
                "content_index": 0,
                "delta": "not base64!",
            }
            await conn.send_raw(json.dumps(bad))
            for _ in range(200):
                if seen:
                    break
                await asyncio.sleep(0.01)
            assert seen and seen[0].delta == "not base64!"  # parsed and published as is
            assert sink.played == []  # never played
            await client.send_text("and now?")
            await asyncio.wait_for(done.wait(), 10)
            assert sink.played and client.is_connected

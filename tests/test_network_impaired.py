"""The client through a bad network (the impairment proxy between it and the local server):
one-way outages with the socket open, resets mid-response, a server that stops reading, and a
150 ms +- 50 ms path each way. Nothing the app sent is lost or sent twice into the
conversation; the app is told what happened."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from rtsdk import AsyncRealtimeAIClient, RealtimeAIOptions
from rtsdk.audio import AudioStreamOptions, PushSource, WavSink, read_wav
from rtsdk.testing import ImpairedLink, Impairment, LiveOptions, LocalRealtimeServer

from .client_helpers import (
    KEY,
    Recorder,
    barge_in_stop_ms,
    best_correlation,
    started_on_files,
    talk_over_the_reply,
)
from .conftest import REALTIME_ONCE

# the network is the thing tested, in real time: once, on the compiled kernels
pytestmark = REALTIME_ONCE


@pytest.fixture
async def server() -> AsyncIterator[LocalRealtimeServer]:
    async with LocalRealtimeServer(pacing="fast", api_key=KEY) as srv:
        yield srv


def options(url: str, **kw: Any) -> RealtimeAIOptions:
    base: dict[str, Any] = {
        "url": url,
        "api_key": KEY,
        "base_delay": 0.05,
        "max_delay": 0.2,
        "max_retries": 8,
        "ping_interval": 0.4,
        "ping_timeout": 0.4,
        "handshake_timeout": 5.0,
        "output_modality": "text",
        "turn_detection": "none",
    }
    base.update(kw)
    return RealtimeAIOptions(**base)


def texts_sent(server: LocalRealtimeServer, conn: int, text: str) -> int:
    """How many item creates on connection ``conn`` carry ``text``."""
    n = 0
    for frame in server.connections[conn].received:
        if isinstance(frame, dict) and frame.get("type") == "conversation.item.create":
            content = frame["item"].get("content") or [{}]
            n += any(part.get("text") == text for part in content)
    return n


def conversation_texts(client: AsyncRealtimeAIClient) -> list[str]:
    state = client.service.state
    out: list[str] = []
    for item_id in state.order:  # type: ignore[attr-defined]
        for part in state.items[item_id].get("content") or ():  # type: ignore[attr-defined]
            text = part.get("text") or part.get("transcript")
            if text:
                out.append(text)
    return out


async def test_one_way_outage_loses_nothing_and_sends_nothing_twice(
    server: LocalRealtimeServer,
) -> None:
    async with ImpairedLink.to_url(server.url) as link:
        client = AsyncRealtimeAIClient(options(link.rewrite(server.url)))
        rec = Recorder()
        client.on("*", rec)
        await client.start()
        await client.send_text("before the outage")
        await rec.wait("response.done")
        # the uplink goes silent with the socket open: what is written now never arrives
        link.blackhole(5.0, "up")
        t0 = time.monotonic()
        await client.send_text("during the outage")
        reconnected = await rec.wait("rtsdk.reconnected", timeout=10)
        noticed = time.monotonic() - t0
        assert noticed < 0.4 + 0.4 + 1.0  # ping interval + timeout, and the reconnect
        # told: the text and its response request went again on the new connection, once
        assert [e["type"] for e in reconnected.resent] == [
            "conversation.item.create",
            "response.create",
        ]
        assert reconnected.unsent == ()
        await rec.wait("response.done", lambda e: rec.of("response.done").index(e) >= 1, timeout=10)
        assert len(server.connections) == 2
        assert texts_sent(server, 1, "before the outage") == 1  # the replay
        assert texts_sent(server, 1, "during the outage") == 1  # sent again, once
        texts = conversation_texts(client)
        assert texts.count("before the outage") == 1 and texts.count("during the outage") == 1
        await client.stop()


async def test_reset_mid_response_loses_nothing(server: LocalRealtimeServer) -> None:
    server.pacing = "realtime"
    async with ImpairedLink.to_url(server.url) as link:
        client = AsyncRealtimeAIClient(options(link.rewrite(server.url), output_modality="audio"))
        rec = Recorder()
        client.on("*", rec)
        await client.start()
        await client.send_text("tell me a long story")
        await rec.wait("response.output_audio.delta", timeout=10)
        assert link.reset() == 1
        reconnected = await rec.wait("rtsdk.reconnected", timeout=10)
        assert reconnected.resent == () and reconnected.unsent == ()
        assert reconnected.replayed_items >= 1
        await client.send_text("after the reset")
        await rec.wait(
            "response.done",
            lambda e: e.response.get("status") == "completed",
            timeout=15,
        )
        assert texts_sent(server, 1, "tell me a long story") == 1  # replayed once
        assert texts_sent(server, 1, "after the reset") == 1
        assert client.failure is None
        await client.stop()


async def test_a_server_that_stops_reading_gets_the_text_once_and_ahead_of_the_audio(
    server: LocalRealtimeServer,
) -> None:
    async with ImpairedLink.to_url(server.url, up=Impairment(queue_bytes=8192)) as link:
        client = AsyncRealtimeAIClient(
            options(link.rewrite(server.url), ping_interval=1.0, ping_timeout=6.0, audio_window=1.0)
        )
        rec = Recorder()
        client.on("*", rec)
        await client.start()
        link.stall_reads(3.0, "client")
        frame = np.zeros(480, np.int16).tobytes()  # 20 ms
        sender = asyncio.get_running_loop().time()
        for i in range(150):  # 3 s of audio at real time
            await client.send_audio(frame)
            if i == 50:
                await client.send_text("said while the server was not reading")
            sender += 0.02
            await asyncio.sleep(max(0.0, sender - asyncio.get_running_loop().time()))
        await rec.wait("response.done", timeout=10)
        stats = client.stats()
        received = [f for f in server.connections[0].received if isinstance(f, dict)]
        kinds = [f["type"] for f in received]
        await client.stop()
    assert len(server.connections) == 1  # the connection held: pings got through in time
    assert texts_sent(server, 0, "said while the server was not reading") == 1
    text_at = next(i for i, f in enumerate(received) if f["type"] == "conversation.item.create")
    # the text did not wait behind the audio queued during the stall
    appends_before = kinds[:text_at].count("input_audio_buffer.append")
    assert appends_before < kinds.count("input_audio_buffer.append") - 25
    # what waited in the outbox (beyond what the kernels' buffers took) never waited longer
    # than audio_window; older appends were dropped and counted
    uplink = stats["link"]["uplink"]
    assert uplink["wait_high_water_ms"] <= 1000 + 100
    assert stats["audio"]["frames_dropped"] >= uplink["audio_dropped_late"]


async def test_conversation_over_a_150ms_jittered_path(tmp_path: Path) -> None:
    """150 +- 50 ms each way: the echo comes back, playback gaps are only what arrived late
    (counted), and a barge-in's truncate is within one 20 ms frame of what was heard."""
    out = tmp_path / "assistant.wav"
    source = PushSource(24000, realtime=True)
    sink = WavSink(out, sample_rate=24000, realtime=True)
    path = Impairment(delay_ms=150, jitter_ms=50)
    async with LocalRealtimeServer(pacing="realtime") as server:
        async with ImpairedLink.to_url(server.url, up=path, down=path, seed=7) as link:
            options = RealtimeAIOptions(url=link.rewrite(server.url), silence_duration_ms=200)
            client, rec = await started_on_files(options, source, sink)
            first = await talk_over_the_reply(source, rec, 0.8)
            await rec.wait("conversation.item.truncated", timeout=10)
            await asyncio.sleep(0.3)
            stream = client.stats()["audio"]["stream"]
            await client.stop()
            sent = [f for f in server.connections[0].received if isinstance(f, dict)]
        assert link.stats.max_hold_ms["down"] >= 100
    trunc = [f for f in sent if f["type"] == "conversation.item.truncate"]
    assert len(trunc) == 1 and trunc[0]["item_id"] == first.item_id
    heard, rate = read_wav(out)
    loud = np.flatnonzero(np.abs(heard) > 0.02)
    gaps = np.flatnonzero(np.diff(loud) > rate // 100)
    stop = loud[gaps[0]] if gaps.size else loud[-1]
    rendered_ms = (stop - loud[0] + 1) * 1000 / rate
    assert abs(trunc[0]["audio_end_ms"] - rendered_ms) <= 20, (trunc, rendered_ms)
    assert "underruns" in stream  # gaps counted (what arrived late)


async def test_gpt_live_outage_sends_the_unconfirmed_context_again_and_stays_muted() -> None:
    """GPT-Live: a one-way outage; the typed text and general context written into it go
    again on the new session (after its session.started), once; context for the old session's
    delegation is reported; a muted input stays muted."""
    async with LocalRealtimeServer(live=LiveOptions(pacing="fast")) as server:
        async with ImpairedLink.to_url(server.base_url) as link:
            client = AsyncRealtimeAIClient(
                RealtimeAIOptions(
                    model="gpt-live-1",
                    url=link.rewrite(server.base_url),
                    delegation="client",
                    base_delay=0.05,
                    max_delay=0.2,
                    ping_interval=0.4,
                    ping_timeout=0.4,
                )
            )
            rec = Recorder()
            client.on("*", rec)
            await client.start()
            await client.mute()
            await rec.wait("session.input_audio.muted")
            link.blackhole(5.0, "up")
            await client.send_text("typed during the outage")
            await client.delegation_reply(None, thinking="general context")
            await client.delegation_reply("item_old", thinking="for the old delegation")
            back = await rec.wait("rtsdk.reconnected", timeout=10)
            await asyncio.sleep(0.3)
            assert client.muted
            await client.stop()
        second = [f for f in server.connections[1].received if isinstance(f, dict)]
    kinds = [f["type"] for f in second]
    assert kinds[0] == "session.start"
    assert [e["type"] for e in back.resent] == [
        "session.input_audio.mute",
        "session.instructions.append",
        "session.thinking.append",
    ]
    assert [e.get("delegation_id") for e in back.unsent] == ["item_old"]
    contents = [f.get("content") for f in second]
    assert contents.count("The user typed: typed during the outage") == 1
    assert contents.count("general context") == 1 and "for the old delegation" not in contents
    assert "session.input_audio.mute" in kinds


async def test_a_phone_call_whose_realtime_leg_is_slow_then_cut_off() -> None:
    """The phone bridge's Realtime leg over 150 +- 50 ms each way: the caller hears the echo
    of what they said; then the leg goes silent with its socket open: the bridge notices,
    reconnects, and the next turn is answered on the same call."""
    from rtsdk.telephony import PhoneCall, PhoneServer
    from rtsdk.testing.caller import SimulatedCaller

    from .test_telephony_call import Handler, envelope, speech

    calls: list[PhoneCall] = []
    handlers: list[Handler] = []

    def factory() -> Handler:
        handlers.append(Handler(calls))
        return handlers[-1]

    path = Impairment(delay_ms=150, jitter_ms=50)
    said = speech()
    async with (
        LocalRealtimeServer(pacing="realtime") as rt,
        ImpairedLink.to_url(rt.url, up=path, down=path, seed=5) as link,
    ):
        options = RealtimeAIOptions(
            url=link.rewrite(rt.url),
            api_key=None,
            ping_interval=0.5,
            ping_timeout=0.5,
            base_delay=0.05,
            max_delay=0.2,
        )
        async with (
            PhoneServer(options, handler_factory=factory) as srv,
            SimulatedCaller(srv.url + "/media") as caller,
        ):
            while not calls:
                await asyncio.sleep(0.02)
            caller.say(said)
            await caller.wait_spoken()
            await caller.wait_heard(len(said) / 8 - 400, timeout=15)
            first = bytes(caller.recording)
            link.blackhole(5.0, "both")
            client = calls[0].client
            assert client is not None
            while client.metrics.reconnects == 0 or not client.is_connected:
                await asyncio.sleep(0.02)
            heard_before = caller.heard_ms
            caller.say(said)
            await caller.wait_spoken()
            await caller.wait_heard(heard_before + len(said) / 8 - 400, timeout=15)
            stats = calls[0].stats
    assert handlers[0].errors == [] and stats.errors == []
    # the bridge passes the leg's jitter on to the carrier, whose playout (simulated without a
    # jitter buffer) shows it as short gaps: the echo is still plainly what was said (0.84-0.86
    # against 0.9+ on a clean path)
    corr = best_correlation(envelope(said), envelope(first + b"\xff" * 4000))
    assert corr >= 0.8, corr
    assert len(rt.connections) == 2  # the leg came back once


async def test_gpt_live_over_a_150ms_jittered_path(tmp_path: Path) -> None:
    """GPT-Live, 150 +- 50 ms each way: the reply plays, and when the user talks over it the
    speaker is silent within the clean path's 300 ms plus the round trip (the model decides
    by itself, from what it hears, that it was interrupted)."""
    out = tmp_path / "both.wav"
    source = PushSource(24000, realtime=True)
    lead = np.zeros(int(24000 * 1.6), dtype=np.float32)
    t = np.arange(int(24000 * 0.8)) / 24000
    talk = (0.3 * np.sin(2 * np.pi * 300 * t)).astype(np.float32)
    source.push(np.concatenate([lead, talk, np.zeros(24000 * 4, np.float32)]))
    path = Impairment(delay_ms=150, jitter_ms=50)
    async with (
        LocalRealtimeServer(live=LiveOptions(pacing="realtime")) as server,
        ImpairedLink.to_url(server.base_url, up=path, down=path, seed=11) as link,
    ):
        client = AsyncRealtimeAIClient(
            RealtimeAIOptions(
                model="gpt-live-1", url=link.rewrite(server.base_url), delegation="client"
            ),
            stream_options=AudioStreamOptions(input_device=None, output_device=None),
            audio_source=source,
            audio_sink=WavSink(out, realtime=True, both_sides=True),
        )
        await client.start()
        words = " ".join(f"word{i}" for i in range(60))  # about 3.6 s of speech
        await client.delegation_reply(None, commentary=words)
        await asyncio.sleep(3.4)
        stream = client.stats()["audio"]["stream"]
        await client.stop()
    stop_ms = barge_in_stop_ms(out, 1.2)  # before the echo of the user comes back
    print(f"barge-in over 150+-50 ms: silent {stop_ms:.0f} ms after the onset; {stream}")
    assert stop_ms <= 300 + 2 * (150 + 50)
    assert stream["played_samples"] > 0

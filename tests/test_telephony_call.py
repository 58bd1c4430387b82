"""Phone calls end to end: simulated caller <-> PhoneServer/PhoneCall <-> local Realtime server."""

from __future__ import annotations

import asyncio
import functools
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from rtsdk import kernels
from rtsdk.session.options import RealtimeAIOptions
from rtsdk.telephony import CallInfo, DtmfEvent, PhoneCall, PhoneCallHandler, PhoneServer
from rtsdk.testing import LocalRealtimeServer
from rtsdk.testing.caller import SimulatedCaller, ulaw_from_wav
from tests.client_helpers import best_correlation
from tests.conftest import NO_EXTENSIONS

try:
    import picows  # noqa: F401

    HAVE_PICOWS = True
except ImportError:
    HAVE_PICOWS = False

HELLO = Path(__file__).resolve().parent.parent / "samples" / "assets" / "hello.wav"
only_compiled = pytest.mark.skipif(
    NO_EXTENSIONS, reason="call handling, not the kernels: run once, on the compiled backend"
)


@functools.lru_cache(maxsize=1)
def speech() -> bytes:
    """About 2 s of the sample's speech (one turn for a 500 ms VAD silence), 8 kHz u-law."""
    return ulaw_from_wav(str(HELLO))[:16000]


def short_speech() -> bytes:
    """The first 1.25 s of the sample: a shorter turn, for tests that need any reply."""
    return speech()[:10000]


def tone(ms: int, freq: float = 600.0) -> bytes:
    t = np.arange(ms * 8) / 8000
    pcm = (9000 * np.sin(2 * np.pi * freq * t)).astype(np.int16)
    return bytes(kernels.pcm16_to_ulaw(pcm))


def envelope(ulaw: bytes, block: int = 80) -> np.ndarray:
    """10 ms RMS envelope of u-law audio."""
    pcm = kernels.ulaw_to_pcm16(np.frombuffer(ulaw, np.uint8)).astype(np.float64)
    n = len(pcm) // block
    return np.sqrt((pcm[: n * block].reshape(n, block) ** 2).mean(axis=1))


class Handler(PhoneCallHandler):
    """Records what the call told the app."""

    def __init__(self, calls: list[PhoneCall], instructions: str | None = None) -> None:
        self.calls = calls
        self.instructions = instructions
        self.events: list[Any] = []
        self.dtmf: list[DtmfEvent] = []
        self.errors: list[Any] = []
        self.infos: list[CallInfo] = []
        self.ended = asyncio.Event()

    def configure(self, info: CallInfo, options: RealtimeAIOptions) -> RealtimeAIOptions:
        self.infos.append(info)
        name = info.custom_parameters.get("customer")
        if name:
            return options.with_changes(instructions=f"You are speaking with {name}.")
        return options

    def on_session(self, call: PhoneCall) -> None:
        self.calls.append(call)
        assert call.client is not None
        for etype in (
            "conversation.item.input_audio_transcription.completed",
            "response.output_audio_transcript.done",
            "input_audio_buffer.speech_started",
            "response.done",
        ):
            call.client.on(etype, self.events.append)

    async def on_dtmf(self, call: PhoneCall, event: DtmfEvent) -> None:
        self.dtmf.append(event)

    def on_error(self, call: PhoneCall, error: Any) -> None:
        self.errors.append(error)

    def on_end(self, call: PhoneCall) -> None:
        self.ended.set()


@pytest.fixture
async def rt() -> AsyncIterator[LocalRealtimeServer]:
    async with LocalRealtimeServer(pacing="realtime") as srv:
        yield srv


def _options(rt: LocalRealtimeServer, **kw: Any) -> RealtimeAIOptions:
    base: dict[str, Any] = {
        "url": rt.url,
        "api_key": None,
        "transcription_model": "gpt-transcribe",
        "max_retries": 0,
        "handshake_timeout": 5.0,
    }
    base.update(kw)
    return RealtimeAIOptions(**base)


@pytest.fixture
async def phone(
    rt: LocalRealtimeServer, request: pytest.FixtureRequest
) -> AsyncIterator[tuple[PhoneServer, list[Handler]]]:
    handlers: list[Handler] = []
    calls: list[PhoneCall] = []
    extra = getattr(request, "param", {})

    def factory() -> Handler:
        h = Handler(calls)
        handlers.append(h)
        return h

    async with PhoneServer(_options(rt), handler_factory=factory, **extra) as srv:
        yield srv, handlers


async def _wait(pred: Any, timeout: float = 10.0, what: str = "condition") -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not pred():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


async def _session_up(handlers: list[Handler]) -> None:
    await _wait(lambda: handlers and handlers[0].calls, what="the call's session")


async def _say(caller: SimulatedCaller, handlers: list[Handler], ulaw: bytes) -> None:
    """Once the call's session is up, say ``ulaw`` and wait until it has all been sent."""
    await _session_up(handlers)
    caller.say(ulaw)
    await caller.wait_spoken()


def _rtsdk_tasks() -> list[asyncio.Task[Any]]:
    return [
        t
        for t in asyncio.all_tasks()
        if not t.done() and (t.get_name().startswith(("rtsdk-", "caller-")))
    ]


@pytest.mark.parametrize(
    "phone",
    [
        pytest.param({}, id="default-engine"),
        pytest.param(
            {"engine": "websockets"},
            id="websockets-engine",
            marks=[
                only_compiled,
                pytest.mark.skipif(not HAVE_PICOWS, reason="websockets is the default already"),
            ],
        ),
    ],
    indirect=True,
)
async def test_a_call_end_to_end(
    rt: LocalRealtimeServer, phone: tuple[PhoneServer, list[Handler]]
) -> None:
    srv, handlers = phone
    said = speech()
    async with SimulatedCaller(srv.url + "/media") as caller:
        await _say(caller, handlers, said)
        # the echo reply is the committed audio: about as long as what was said
        await caller.wait_heard(len(said) / 8 - 400, timeout=15)
        handler = handlers[0]
        await _wait(
            lambda: any(e.type == "response.done" for e in handler.events), what="response.done"
        )
        # the whole reply played out (every mark echoed) before hanging up
        await _wait(lambda: handler.calls[0].downlink.idle, what="the reply to play out")
    await asyncio.wait_for(handler.ended.wait(), 10)
    # the echo is the committed turn, which ends with the last voiced block: the recording
    # may end (hang-up) before the silent tail of what was said, so pad it with silence
    heard = bytes(caller.recording) + b"\xff" * 4000
    corr = best_correlation(envelope(said), envelope(heard))
    assert corr >= 0.9, corr
    types = [e.type for e in handler.events]
    assert "conversation.item.input_audio_transcription.completed" in types
    assert "response.output_audio_transcript.done" in types
    call = handler.calls[0]
    assert call.stats.ended_by == "stop"
    assert call.stats.errors == [] and handler.errors == []
    assert call.stats.media_in > 100 and call.stats.out_of_order == 0
    assert call.stats.marks_echoed == call.stats.media_out > 0
    # stop ended the session: nothing of the call is left running
    conn = rt.connections[0]
    await conn.wait_closed(5)
    assert call.client is not None and not call.client.is_connected
    await _wait(lambda: not srv.calls and not _rtsdk_tasks(), 5, "the call's tasks to end")
    # caller audio went up untouched (spliced, no decode): the server got the same bytes
    assert rt.connections[0].counts_received["input_audio_buffer.append"] == call.stats.media_in


@only_compiled
@pytest.mark.parametrize("delay_ms", [0, 40], ids=["loopback", "40ms-each-way"])
async def test_barge_in_clears_and_truncates_at_what_the_caller_heard(
    rt: LocalRealtimeServer, phone: tuple[PhoneServer, list[Handler]], delay_ms: int
) -> None:
    """Also across a network: the caller hears on while the mark's echo and the clear travel
    (an 80 ms round trip is four frames), and the truncate counts that too."""
    srv, handlers = phone
    async with SimulatedCaller(srv.url + "/media", network_delay_ms=delay_ms) as caller:
        await _say(caller, handlers, speech())
        await caller.wait_heard(1000, timeout=15)  # 1 s into the reply: interrupt
        barge_tick = caller.tick
        caller.say(tone(600))
        conn = rt.connections[0]
        truncate = await conn.wait_for_received("conversation.item.truncate", timeout=5)
        await _wait(lambda: caller.clears, 5, "the clear")
        await caller.wait_spoken()
        heard_after_barge = caller.heard_bytes
        await asyncio.sleep(0.1)
    clear = caller.clears[0]
    # the reply stopped within one 20 ms chunk of the caller's clock after the clear
    assert heard_after_barge - clear.heard_bytes <= 160
    assert clear.dropped_bytes > 0  # there was buffered reply audio to drop
    # the truncate is at what the caller's recording holds of the reply (+-20 ms)
    heard_ms = clear.heard_bytes / 8
    assert abs(truncate["audio_end_ms"] - heard_ms) <= 20, (truncate, heard_ms)
    assert clear.tick >= barge_tick
    call = handlers[0].calls[0]
    assert call.stats.clears == 1 and call.stats.errors == []
    assert abs(call.downlink.rtt * 1000 - 2 * delay_ms) <= 25  # (give or take the frame wait)
    await asyncio.wait_for(handlers[0].ended.wait(), 10)  # the call is closed: its counters
    assert call.stats.carrier_rtt_ms == call.downlink.rtt * 1000


@only_compiled
@pytest.mark.parametrize("phone", [{"dtmf_to_model": True}], indirect=True)
async def test_dtmf_reaches_the_app_and_the_model(
    rt: LocalRealtimeServer, phone: tuple[PhoneServer, list[Handler]]
) -> None:
    srv, handlers = phone
    async with SimulatedCaller(srv.url + "/media") as caller:
        await _session_up(handlers)
        await caller.press("5")
        await caller.press("#")
        conn = rt.connections[0]
        item = await conn.wait_for_received("conversation.item.create", timeout=5)
        await conn.wait_for_received("response.create", timeout=5)
        await _wait(lambda: len(handlers[0].dtmf) == 2, what="the dtmf events")
        await caller.wait_heard(200, timeout=10)  # the model answered out loud
    assert [e.digit for e in handlers[0].dtmf] == ["5", "#"]
    assert "pressed 5" in json.dumps(item)
    assert handlers[0].calls[0].stats.dtmf == ["5", "#"]


@only_compiled
async def test_custom_parameters_reach_the_session_config(
    rt: LocalRealtimeServer, phone: tuple[PhoneServer, list[Handler]]
) -> None:
    srv, handlers = phone
    params = {"customer": "Ada", "plan": "gold"}
    async with SimulatedCaller(srv.url + "/media", custom_parameters=params) as caller:
        await _session_up(handlers)
        conn = await rt.wait_for_connection()
        update = await conn.wait_for_received("session.update", timeout=5)
    info = handlers[0].infos[0]
    assert info.custom_parameters == params
    assert info.stream_sid == caller.stream_sid and info.call_sid == caller.call_sid
    session = update["session"]
    assert session["instructions"] == "You are speaking with Ada."
    assert session["audio"]["input"]["format"] == {"type": "audio/pcmu"}
    assert session["audio"]["output"]["format"] == {"type": "audio/pcmu"}


@pytest.mark.parametrize("phone", [{"uplink_ms": 40}], indirect=True)
async def test_gathered_uplink_sends_every_byte_in_fewer_appends(
    rt: LocalRealtimeServer, phone: tuple[PhoneServer, list[Handler]]
) -> None:
    srv, handlers = phone
    said = short_speech()
    async with SimulatedCaller(srv.url + "/media") as caller:
        await _say(caller, handlers, said)
        for _ in range(3):  # a few chunks of silence; a half-gathered append is flushed at stop
            await asyncio.sleep(0.02)
    handler = handlers[0]
    await asyncio.wait_for(handler.ended.wait(), 10)
    call = handler.calls[0]
    conn = rt.connections[0]
    await conn.wait_closed(5)
    appends = [
        f for f in conn.received if isinstance(f, dict) and f["type"] == "input_audio_buffer.append"
    ]
    sizes = [len(kernels.b64decode(f["audio"].encode())) for f in appends]
    # every carrier chunk (160 bytes) went up, two to an append, the odd last one alone
    assert sum(sizes) == call.stats.media_in * 160
    assert set(sizes[:-1]) == {320} and sizes[-1] in (160, 320)
    assert said in b"".join(kernels.b64decode(f["audio"].encode()) for f in appends)
    assert call.stats.errors == [] and handler.errors == []


def test_uplink_ms_is_checked() -> None:
    opts = RealtimeAIOptions(url="ws://127.0.0.1:9/v1/realtime", api_key=None)
    for bad in (0, 19, 501, 40.0, "40"):
        with pytest.raises(ValueError, match="uplink_ms"):
            PhoneCall(None, opts, uplink_ms=bad)  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="uplink_ms"):
            PhoneServer(opts, uplink_ms=bad)


@only_compiled
async def test_hang_up_mid_response_closes_that_call_only(
    rt: LocalRealtimeServer, phone: tuple[PhoneServer, list[Handler]]
) -> None:
    srv, handlers = phone
    async with (
        SimulatedCaller(srv.url + "/media") as first,
        SimulatedCaller(srv.url + "/media") as second,
    ):
        await _wait(lambda: len(handlers) == 2 and all(h.calls for h in handlers), what="calls")
        first.say(short_speech())
        second.say(short_speech())
        await first.wait_heard(500, timeout=15)
        await first.hang_up(send_stop=False)  # gone mid-reply: no stop, socket closed
        await second.wait_heard(len(short_speech()) / 8 - 400, timeout=15)  # the other call goes on
        assert not second.clears
    by_sid = {h.infos[0].stream_sid: h for h in handlers}
    gone = by_sid[first.stream_sid]
    await asyncio.wait_for(gone.ended.wait(), 10)
    call = gone.calls[0]
    assert call.stats.ended_by == "carrier closed"
    assert [e.kind for e in call.stats.errors] == ["no_stop"]
    assert by_sid[second.stream_sid].errors == []
    await _wait(lambda: not srv.calls and not _rtsdk_tasks(), 10, "both calls to end")
    for conn in rt.connections:
        await conn.wait_closed(5)


@pytest.mark.parametrize("phone", [{"media_timeout": 0.5}], indirect=True)
async def test_bad_input_is_reported_and_the_call_goes_on(
    rt: LocalRealtimeServer, phone: tuple[PhoneServer, list[Handler]]
) -> None:
    srv, handlers = phone
    async with SimulatedCaller(srv.url + "/media") as caller:
        await _session_up(handlers)
        await caller.send_raw("not json")
        await caller.send_raw(json.dumps({"event": "media", "media": {"payload": "AAAA"}}))
        await caller.send_raw(
            json.dumps(
                {
                    "event": "media",
                    "sequenceNumber": "1",
                    "media": {"track": "inbound", "timestamp": "0", "payload": "AAAA"},
                }
            )
        )  # sequence number 1 again, long after the stream started: out of order
        await caller.send_raw(json.dumps({"event": "transfer", "to": "+15550100"}))
        await caller.send_raw(json.dumps({"event": "dtmf", "dtmf": {"digit": "55"}}))
        await _wait(lambda: len(handlers[0].errors) >= 5, what="the errors")
        caller.say(short_speech())  # and the call still works
        await caller.wait_heard(len(short_speech()) / 8 - 400, timeout=15)
        # then the carrier goes quiet without a stop: the call ends after media_timeout
        caller.go_silent()
        await asyncio.wait_for(handlers[0].ended.wait(), 10)
    kinds = [e.kind for e in handlers[0].calls[0].stats.errors]
    assert kinds[:5] == ["malformed", "malformed", "out_of_order", "unknown_event", "malformed"]
    assert kinds[-1] == "no_stop"
    stats = handlers[0].calls[0].stats
    assert stats.ended_by == "carrier silent"
    assert (stats.malformed, stats.out_of_order, stats.unknown_events) == (3, 1, 1)
    await rt.connections[0].wait_closed(5)


@only_compiled
async def test_a_wrong_media_format_is_refused_without_a_session(
    rt: LocalRealtimeServer, phone: tuple[PhoneServer, list[Handler]]
) -> None:
    srv, handlers = phone
    fmt = {"encoding": "audio/x-l16", "sampleRate": 16000, "channels": 1}
    caller = SimulatedCaller(srv.url + "/media", media_format=fmt)
    await caller.start()
    await caller.wait_closed(5)
    assert caller.closed_by_bridge
    await caller.hang_up()
    await _wait(lambda: srv.finished == 1, what="the call to end")
    assert handlers[0].errors[0].kind == "media_format"
    assert "audio/x-l16" in handlers[0].errors[0].message
    assert rt.connections == []  # no Realtime session was opened for it


@only_compiled
@pytest.mark.parametrize("phone", [{"start_timeout": 0.3}], indirect=True)
async def test_a_stream_without_start_is_closed(
    rt: LocalRealtimeServer, phone: tuple[PhoneServer, list[Handler]]
) -> None:
    from websockets.asyncio.client import connect

    srv, handlers = phone
    async with connect(srv.url + "/media") as ws:
        await ws.send(json.dumps({"event": "connected", "protocol": "Call", "version": "1.0.0"}))
        await ws.send(json.dumps({"event": "media", "media": {}}))
        await asyncio.wait_for(ws.wait_closed(), 5)
    await _wait(lambda: srv.finished == 1, what="the call to end")
    assert [e.kind for e in handlers[0].errors] == ["no_start", "no_start"]
    assert rt.connections == []


@only_compiled
async def test_a_refused_session_ends_the_call() -> None:
    async with LocalRealtimeServer(api_key="sk-right-key") as rt:
        handlers: list[Handler] = []
        calls: list[PhoneCall] = []

        def factory() -> Handler:
            handlers.append(Handler(calls))
            return handlers[-1]

        opts = _options(rt, api_key="sk-wrong-key")
        async with PhoneServer(opts, handler_factory=factory) as srv:
            caller = SimulatedCaller(srv.url + "/media")
            await caller.start()
            await caller.wait_closed(10)
            await caller.hang_up()
            await asyncio.wait_for(handlers[0].ended.wait(), 10)
    assert handlers[0].errors[0].kind == "session"
    assert "sk-wrong-key" not in repr(handlers[0].errors)
    assert calls[0].stats.ended_by == "session failed"


@only_compiled
async def test_the_app_hangs_up() -> None:
    async with LocalRealtimeServer(pacing="realtime") as rt:
        calls: list[PhoneCall] = []

        class HangUpOnHash(Handler):
            def on_dtmf(self, call: PhoneCall, event: DtmfEvent) -> None:  # type: ignore[override]
                if event.digit == "#":
                    call.hang_up()

        handler = HangUpOnHash(calls)
        async with PhoneServer(_options(rt), handler_factory=lambda: handler) as srv:
            caller = SimulatedCaller(srv.url + "/media")
            await caller.start()
            await _wait(lambda: calls, what="the call's session")
            await caller.press("#")
            await caller.wait_closed(5)
            assert caller.closed_by_bridge
            await caller.hang_up()
            await asyncio.wait_for(handler.ended.wait(), 10)
        assert calls[0].stats.ended_by == "hung up by the app"
        assert calls[0].stats.errors == []
        await rt.connections[0].wait_closed(5)

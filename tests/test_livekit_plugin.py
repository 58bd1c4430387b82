"""LiveKit's OpenAI plugin (``livekit-plugins-openai``) against the local server.

Its ``RealtimeModel`` session is driven directly, through its public API only (no LiveKit room,
no ``AgentSession``): session setup, a text turn, a voice turn with real speech, a tool call run
by LiveKit's function calling, interruption and truncate, the error paths and a clean close.
Every frame the plugin sends is validated against the ``openai`` GA types, every frame the
server sends too, and no test may log an error except the ones it expects.
See docs/livekit.md for what works and whose fault each failure is.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import wave
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from rtsdk.testing import LocalRealtimeServer
from rtsdk.testing.transcribe import TRANSCRIPT_PREFIX

from .client_helpers import KEY, best_correlation
from .conformance import assert_client_event_valid
from .test_testing_server import check_sent

aiohttp = pytest.importorskip("aiohttp")
rtc = pytest.importorskip("livekit.rtc")
llm = pytest.importorskip("livekit.agents.llm")
lk_realtime = pytest.importorskip("livekit.plugins.openai.realtime")
soxr = pytest.importorskip("soxr")
RealtimeReasoning = pytest.importorskip("openai.types.realtime").RealtimeReasoning

MODEL = "gpt-realtime-2.1"
HELLO = Path(__file__).resolve().parent.parent / "samples" / "assets" / "hello.wav"


@dataclass
class Reply:
    """What one generation brought: its messages (text, 24 kHz audio) and function calls."""

    text: str = ""
    audio: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))
    message_ids: list[str] = field(default_factory=list)
    calls: list[Any] = field(default_factory=list)


async def drain(gen: Any, timeout: float = 10.0) -> Reply:
    """Read a ``GenerationCreatedEvent`` to its end, as the agent's playout would."""

    async def run() -> Reply:
        out, chunks = Reply(), []
        async for msg in gen.message_stream:
            out.message_ids.append(msg.message_id)
            async for delta in msg.text_stream:
                out.text += delta
            async for frame in msg.audio_stream:
                assert frame.sample_rate == 24000 and frame.num_channels == 1
                chunks.append(np.frombuffer(frame.data, np.int16).astype(np.float32) / 32768)
        out.calls = [call async for call in gen.function_stream]
        if chunks:
            out.audio = np.concatenate(chunks)
        return out

    return await asyncio.wait_for(run(), timeout)


class Plugin:
    """A plugin model and session on the server, recording what the session emits: its own
    events (``"error"``, ``"generation_created"``...) and, as ``"<type"``, the raw server
    events it passes on (``openai_server_event_received``)."""

    def __init__(self, http: Any, base_url: str, **kw: Any) -> None:
        self.model = lk_realtime.RealtimeModel(
            model=MODEL, base_url=base_url, api_key=KEY, http_session=http, **kw
        )
        self.session = self.model.session()
        self.events: list[tuple[str, Any]] = []
        self._waiters: list[tuple[str, Callable[[Any], bool], asyncio.Future[Any]]] = []
        for name in (
            "generation_created",
            "error",
            "input_audio_transcription_completed",
            "input_speech_started",
            "input_speech_stopped",
        ):
            self.session.on(name, lambda ev, name=name: self._note(name, ev))
        self.session.on("openai_server_event_received", lambda ev: self._note(f"<{ev['type']}", ev))

    def _note(self, name: str, ev: Any) -> None:
        self.events.append((name, ev))
        for waiter in list(self._waiters):
            if waiter[0] == name and not waiter[2].done() and waiter[1](ev):
                waiter[2].set_result(ev)
                self._waiters.remove(waiter)

    def of(self, name: str) -> list[Any]:
        return [ev for n, ev in self.events if n == name]

    async def wait(self, name: str, pred: Callable[[Any], bool] = lambda ev: True) -> Any:
        """The first ``name`` event matching ``pred`` (already seen ones count)."""
        for ev in self.of(name):
            if pred(ev):
                return ev
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiters.append((name, pred, fut))
        try:
            return await asyncio.wait_for(fut, 10.0)
        except asyncio.TimeoutError:
            seen = [n for n, _ in self.events if not n.endswith(".delta")]
            raise AssertionError(f"no {name} within 10 s; saw {seen[-25:]}") from None

    async def say(self, text: str) -> Reply:
        """A text turn: the user message through ``update_chat_ctx``, then a reply."""
        ctx = self.session.chat_ctx.copy()
        ctx.add_message(role="user", content=text)
        await self.session.update_chat_ctx(ctx)
        return await drain(await self.session.generate_reply())

    async def long_reply(self) -> tuple[Any, Any]:
        """Start a reply of about 4 s (70 words): its generation and first message."""
        ctx = self.session.chat_ctx.copy()
        ctx.add_message(role="user", content=" ".join(["word"] * 70))
        await self.session.update_chat_ctx(ctx)
        gen = await self.session.generate_reply()
        return gen, await asyncio.wait_for(gen.message_stream.__anext__(), 5)

    async def aclose(self) -> None:
        await self.session.aclose()
        await self.model.aclose()


def check_traffic(server: LocalRealtimeServer, *, whole: bool = True) -> None:
    """Every client frame is valid GA; so is every server frame, and (``whole``: no session
    was closed mid-response) the responses nest."""
    for conn in server.connections:
        for frame in conn.received:
            assert isinstance(frame, dict), frame
            assert_client_event_valid(frame)
        if whole:
            check_sent(conn)


@pytest.fixture(autouse=True)
def logged(caplog: pytest.LogCaptureFixture) -> Any:
    """Fails the test on any ERROR logged (by the plugin or anyone) that it did not expect;
    a test expecting some takes them out with :func:`take_errors`."""
    caplog.set_level(logging.WARNING, logger="livekit")
    yield caplog
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, errors


def take_errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    caplog.clear()
    return errors


@pytest.fixture
async def server(request: pytest.FixtureRequest) -> AsyncIterator[LocalRealtimeServer]:
    """``fast`` pacing, or (indirect parameter) ``realtime``: response audio streamed at the
    rate it plays, so that a reply is still in progress to cut."""
    async with LocalRealtimeServer(pacing=getattr(request, "param", "fast"), api_key=KEY) as srv:
        yield srv
    check_traffic(srv)


REALTIME = pytest.mark.parametrize("server", ["realtime"], indirect=True)


@pytest.fixture
async def http() -> AsyncIterator[Any]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
async def plugin(server: LocalRealtimeServer, http: Any) -> AsyncIterator[Plugin]:
    p = Plugin(http, server.url)
    yield p
    await p.aclose()


def hello_pcm16() -> tuple[np.ndarray, int]:
    with wave.open(str(HELLO)) as w:
        assert w.getnchannels() == 1 and w.getsampwidth() == 2
        return np.frombuffer(w.readframes(w.getnframes()), np.int16), w.getframerate()


# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("form", ["ws_realtime_url", "http_base_url"])
async def test_session_setup(server: LocalRealtimeServer, http: Any, form: str) -> None:
    base = server.url if form == "ws_realtime_url" else f"http://127.0.0.1:{server.port}/v1"
    p = Plugin(http, base)
    try:
        updated = await p.wait("<session.updated")
        conn = server.connections[0]
        assert conn.path == f"/v1/realtime?model={MODEL}"
        assert conn.headers["Authorization"] == f"Bearer {KEY}"  # the server (api_key) checked
        assert conn.received[0]["type"] == "session.update"  # (the fixture validates it)
        s = updated["session"]
        assert s == conn.session and s["model"] == MODEL and s["output_modalities"] == ["audio"]
        pcm24k = {"type": "audio/pcm", "rate": 24000}
        assert s["audio"]["input"]["format"] == s["audio"]["output"]["format"] == pcm24k
        assert s["audio"]["output"]["voice"] == "marin"
        assert s["audio"]["input"]["turn_detection"]["type"] == "semantic_vad"
        assert s["audio"]["input"]["transcription"]["model"] == "gpt-4o-mini-transcribe"
        assert not p.of("error") and not p.of("generation_created")
    finally:
        await p.aclose()
    assert len(server.connections) == 1 and server.refused == []


async def test_text_turn(plugin: Plugin) -> None:
    reply = await plugin.say("hello from livekit")
    assert "you said: hello from livekit" in reply.text
    assert len(reply.message_ids) == 1 and reply.calls == []
    assert 0.4 <= len(reply.audio) / 24000 <= 4.0 and np.abs(reply.audio).max() > 0.05
    gen = plugin.of("generation_created")[0]
    assert gen.user_initiated
    roles = [(i.role, i.text_content) for i in plugin.session.chat_ctx.items]
    assert roles == [("user", "hello from livekit"), ("assistant", reply.text)]
    done = plugin.of("<response.done")[-1]["response"]
    assert done["status"] == "completed" and done["id"] == gen.response_id


async def test_generate_reply_without_instructions(
    plugin: Plugin, logged: pytest.LogCaptureFixture
) -> None:
    ctx = plugin.session.chat_ctx.copy()
    ctx.add_message(role="user", content="plain reply")
    await plugin.session.update_chat_ctx(ctx)
    try:
        reply = await drain(await plugin.session.generate_reply())
    finally:
        errors = take_errors(logged)
    assert "you said: plain reply" in reply.text and not errors


async def test_update_options_clears_reasoning(
    server: LocalRealtimeServer, http: Any, logged: pytest.LogCaptureFixture
) -> None:
    p = Plugin(http, server.url, reasoning=RealtimeReasoning(effort="low"))
    try:
        assert (await p.wait("<session.updated"))["session"]["reasoning"] == {"effort": "low"}
        p.session.update_options(reasoning=None)
        await p.say("after the update")  # the server answers events in order
    finally:
        await p.aclose()
        errors = take_errors(logged)
    assert len(p.of("<session.updated")) == 2 and not p.of("error") and not errors


async def test_voice_turn_with_real_speech(server: LocalRealtimeServer, plugin: Plugin) -> None:
    pcm, rate = hello_pcm16()
    assert rate == 16000  # pushed as is: the plugin resamples to 24 kHz itself
    await plugin.wait("<session.updated")
    sent = np.concatenate([pcm, np.zeros(rate * 3 // 2, np.int16)])
    step = rate // 100  # 10 ms frames, as a LiveKit audio track delivers them
    for i in range(0, len(sent) - step + 1, step):
        plugin.session.push_audio(rtc.AudioFrame(sent[i : i + step].tobytes(), rate, 1, step))
    gen = await plugin.wait("generation_created")
    assert not gen.user_initiated  # the server's VAD made this turn, not generate_reply
    reply = await drain(gen)
    assert plugin.of("input_speech_started") and plugin.of("input_speech_stopped")
    final = await plugin.wait("input_audio_transcription_completed", lambda e: e.is_final)
    assert final.transcript.startswith(TRANSCRIPT_PREFIX)
    said = soxr.resample(pcm.astype(np.float32) / 32768, rate, 24000)
    assert 2.0 < len(reply.audio) / 24000 <= len(said) / 24000 + 0.05
    corr = best_correlation(reply.audio, said)  # the echo is the speech, found inside it
    assert corr > 0.8, corr
    assert "I heard" in reply.text
    user, assistant = plugin.session.chat_ctx.items
    assert user.role == "user" and user.id == final.item_id and assistant.role == "assistant"


RAN: list[str] = []


@llm.function_tool
async def get_weather(city: str) -> str:
    """The weather in a city."""
    RAN.append(city)
    return f"sunny in {city}"


async def test_tool_call_run_by_livekit(server: LocalRealtimeServer, plugin: Plugin) -> None:
    RAN.clear()
    server.script_function_call(
        name="get_weather", arguments={"city": "Paris"}, when_text_contains="weather"
    )
    await plugin.session.update_tools([get_weather])
    assert list(plugin.session.tools.function_tools) == ["get_weather"]
    first = await plugin.say("what is the weather in Paris?")
    (call,) = first.calls
    assert call.name == "get_weather" and first.message_ids == []
    tools = server.connections[0].session["tools"]
    assert [(t["type"], t["name"]) for t in tools] == [("function", "get_weather")]
    assert tools[0]["parameters"]["required"] == ["city"]
    # LiveKit's function calling runs the call and hands the output back in the chat context
    tool_call = llm.FunctionToolCall(name=call.name, arguments=call.arguments, call_id=call.call_id)
    result = await llm.execute_function_call(tool_call, plugin.session.tools)
    assert RAN == ["Paris"] and not result.fnc_call_out.is_error
    ctx = plugin.session.chat_ctx.copy()
    ctx.items.append(result.fnc_call_out)
    await plugin.session.update_chat_ctx(ctx)
    second = await drain(await plugin.session.generate_reply())  # as LiveKit's agent does
    assert "get_weather returned sunny in Paris" in second.text and len(second.audio) > 0
    kinds = [i.type for i in plugin.session.chat_ctx.items]
    assert kinds == ["message", "function_call", "function_call_output", "message"]
    created = [f["item"] for f in server.connections[0].received if "item" in f]
    assert created[-1] == {
        "type": "function_call_output",
        "id": result.fnc_call_out.id,
        "call_id": call.call_id,
        "output": "sunny in Paris",
    }


@REALTIME
@pytest.mark.parametrize("cancel_first", [True, False], ids=["interrupt_then_truncate", "truncate"])
async def test_interrupt_and_truncate_a_reply_in_progress(
    server: LocalRealtimeServer, plugin: Plugin, cancel_first: bool
) -> None:
    p = plugin
    gen, msg = await p.long_reply()
    heard = 0
    async for frame in msg.audio_stream:  # "played" half a second, then cut it
        heard += frame.samples_per_channel
        if heard >= 12000:
            break
    assert p.session.has_active_generation
    if cancel_first:  # what LiveKit's agent does when the user barges in
        p.session.interrupt()
    p.session.truncate(message_id=msg.message_id, modalities=["audio"], audio_end_ms=300)
    heard += len((await drain(gen)).audio)  # the streams end: no hang
    done = (await p.wait("<response.done"))["response"]
    truncated = await p.wait("<conversation.item.truncated")
    assert done["status"] == "cancelled" and done["status_details"]["reason"] == "client_cancelled"
    assert heard < 2 * 24000, heard / 24000  # far less than the 4 s it was making
    assert truncated["item_id"] == msg.message_id and truncated["audio_end_ms"] == 300
    assert not p.session.has_active_generation
    # what the server kept: 300 ms of audio and the words of it (retrieve, as a raw event)
    p.session.send_event({"type": "conversation.item.retrieve", "item_id": msg.message_id})
    item = (await p.wait("<conversation.item.retrieved"))["item"]
    kept, said = item["content"][0], done["output"][0]["content"][0]
    assert item["status"] == "incomplete" and len(base64.b64decode(kept["audio"])) == 14400
    assert 0 < len(kept["transcript"]) < len(said["transcript"])
    sent = [f["type"] for f in server.connections[0].received]
    assert sent.count("response.cancel") == int(cancel_first)
    assert "you said: after the cut" in (await p.say("after the cut")).text  # it goes on
    assert not p.of("error")


@REALTIME
async def test_barge_in_by_voice(server: LocalRealtimeServer, plugin: Plugin) -> None:
    """The user speaks over a reply: the server's VAD cuts it and answers the new turn."""
    p = plugin
    first, msg = await p.long_reply()
    await asyncio.wait_for(msg.audio_stream.__anext__(), 5)
    pcm, rate = hello_pcm16()
    speech = np.concatenate([pcm, np.zeros(rate * 3 // 2, np.int16)])
    p.session.push_audio(rtc.AudioFrame(speech.tobytes(), rate, 1, len(speech)))
    await p.wait("input_speech_started")
    server.pacing = "fast"  # the rest need not take real time
    cut = await drain(first)
    done = p.of("<response.done")[0]["response"]
    assert done["status"] == "cancelled" and done["status_details"]["reason"] == "turn_detected"
    assert len(cut.audio) < 3 * 24000
    reply = await drain(await p.wait("generation_created", lambda g: not g.user_initiated))
    assert "I heard" in reply.text and len(reply.audio) > 24000
    assert not p.of("error")


async def test_error_paths(
    server: LocalRealtimeServer, plugin: Plugin, logged: pytest.LogCaptureFixture
) -> None:
    await plugin.wait("<session.updated")
    conn = server.connections[0]
    # interrupt with nothing active: the plugin sends nothing
    plugin.session.interrupt()
    # a raw cancel with nothing active: the service's "Cancellation failed: ..." which the
    # plugin knows and drops without an error (it matches on those words)
    plugin.session.send_event({"type": "response.cancel", "event_id": "evt_cancel"})
    # unknown items: retrieve (raw event), delete (truncate at 0 ms), truncate
    plugin.session.send_event(
        {"type": "conversation.item.retrieve", "item_id": "item_nope1", "event_id": "evt_get"}
    )
    plugin.session.truncate(message_id="item_nope2", modalities=["audio"], audio_end_ms=0)
    plugin.session.truncate(message_id="item_nope3", modalities=["audio"], audio_end_ms=200)
    await conn.wait_for_sent("error", nth=4)
    await plugin.wait("error", lambda _: len(plugin.of("error")) == 3)
    errors = plugin.of("error")
    cancel = next(f for f in conn.sent if f["type"] == "error")["error"]
    assert cancel["code"] == "response_cancel_not_active" and cancel["event_id"] == "evt_cancel"
    assert cancel["message"].startswith("Cancellation failed")
    assert [f["type"] for f in conn.received].count("response.cancel") == 1  # the raw one
    bodies = [e.error.body for e in errors]
    assert all(e.recoverable for e in errors) and len(bodies) == 3
    for n, verb in enumerate(("retrieving", "deleting", "truncating")):
        body = bodies[n]
        # (the code is left open: the service's item_*_invalid_item_id, or ours, invalid_value)
        assert body.type == "invalid_request_error" and isinstance(body.code, str)
        assert f"Error {verb} item" in body.message and f"'item_nope{n + 1}'" in body.message
    assert bodies[0].event_id == "evt_get" and bodies[2].event_id is None  # truncate had none
    logged_errors = take_errors(logged)
    assert len(logged_errors) == 3
    assert all(m.startswith("OpenAI Realtime API returned an error") for m in logged_errors)
    # none of it hurt the session
    reply = await plugin.say("still here")
    assert "you said: still here" in reply.text and len(plugin.of("error")) == 3


async def test_clean_close(
    server: LocalRealtimeServer, plugin: Plugin, logged: pytest.LogCaptureFixture
) -> None:
    await plugin.say("one turn first")
    conn = server.connections[0]
    await asyncio.wait_for(plugin.aclose(), 5)  # it awaits the session's task: raises if it did
    await conn.wait_closed(5)
    assert conn.close_code == 1000
    assert not plugin.of("error")
    assert [r.getMessage() for r in logged.records if r.levelno >= logging.WARNING] == []
    await plugin.aclose()  # twice is harmless


async def _samples(stream: Any) -> int:
    return sum([frame.samples_per_channel async for frame in stream])


async def test_close_mid_reply(http: Any, logged: pytest.LogCaptureFixture) -> None:
    async with LocalRealtimeServer(pacing="realtime", api_key=KEY) as server:
        p = Plugin(http, server.url)
        gen, msg = await p.long_reply()
        reading = asyncio.ensure_future(drain(gen))  # the rest of it: none
        heard = asyncio.ensure_future(_samples(msg.audio_stream))
        await asyncio.sleep(0.3)
        await asyncio.wait_for(p.aclose(), 5)
        # the streams of the discarded generation end
        assert (await reading).message_ids == [] and 0 < await heard < 2 * 24000
        conn = server.connections[0]
        await conn.wait_closed(5)
        assert conn.close_code == 1000
        warned = [r.getMessage() for r in logged.records if r.levelno == logging.WARNING]
        assert warned == ["in-progress generation discarded due to session closed"]
        assert not p.of("error")
    check_traffic(server, whole=False)  # its response could not end: no nesting check

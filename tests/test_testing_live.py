"""GPT-Live on the local server (``/v1/live/sessions``), driven by a plain websockets client.

Every frame each Live connection sent is validated, at teardown, against the ``openai`` 3.57
types (``openai.types.live.ServerEvent``, strict, and no key the types do not have, at any
depth; the Responses events inside ``response.event`` against ``ResponseStreamEvent``).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from typing import Any

import numpy as np
import pytest
import websockets
from openai.types.live.server_event import ServerEvent
from openai.types.responses import ResponseStreamEvent
from pydantic import BaseModel, TypeAdapter
from websockets.sync.client import connect

from rtsdk import kernels
from rtsdk.testing import Faults, LiveConnection, LiveOptions, LocalRealtimeServer

from .conftest import REALTIME_ONCE

SERVER_EVENT: TypeAdapter[Any] = TypeAdapter(ServerEvent)
RESPONSE_EVENT: TypeAdapter[Any] = TypeAdapter(ResponseStreamEvent)
FAST = LiveOptions(pacing="fast", usage_interval_s=0.2)
MODEL = "gpt-live-1.1"


def no_extra(model: Any, where: str) -> None:
    """No key the types do not declare, at any depth of a parsed model."""
    if isinstance(model, BaseModel):
        assert not model.model_extra, f"{where}: unknown keys {sorted(model.model_extra or {})}"
        for name in type(model).model_fields:
            no_extra(getattr(model, name), f"{where}.{name}")
    elif isinstance(model, (list, tuple)):
        for i, item in enumerate(model):
            no_extra(item, f"{where}[{i}]")


def check_live_event(frame: dict[str, Any]) -> None:
    parsed = SERVER_EVENT.validate_python(frame, strict=True)
    no_extra(parsed, frame["type"])
    if frame["type"] == "response.event":
        nested = RESPONSE_EVENT.validate_python(frame["event"])
        no_extra(nested, f"response.event/{frame['event']['type']}")
    if frame["type"] == "session.output_audio.delta":
        assert set(frame) == {"type", "delta"}  # the primary socket's shape: no ids, no times


def check_live_sent(conn: LiveConnection) -> None:
    for frame in conn.sent:
        if isinstance(frame, dict) and not frame["type"].startswith("rtsdk.local"):
            check_live_event(frame)


def tone(ms: int, rate: int = 24000, amp: float = 0.3) -> bytes:
    t = np.arange(rate * ms // 1000) / rate
    return (np.sin(2 * np.pi * 300 * t) * amp * 32767).astype("<i2").tobytes()


def silence(ms: int, rate: int = 24000) -> bytes:
    return bytes(2 * rate * ms // 1000)


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


class LiveClient:
    """A websockets client reading in the background: every frame, with its arrival time."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.frames: list[tuple[float, dict[str, Any]]] = []
        self.closed: asyncio.Future[tuple[int | None, str | None]] = (
            asyncio.get_running_loop().create_future()
        )
        self._new = asyncio.Event()
        self._cursor: dict[str, int] = {}
        self._task = asyncio.get_running_loop().create_task(self._read())

    @classmethod
    async def connect(cls, url: str, headers: dict[str, str] | None = None) -> LiveClient:
        ws = await websockets.connect(url, additional_headers=headers, max_size=None)
        return cls(ws)

    async def _read(self) -> None:
        try:
            async for message in self.ws:
                frame = json.loads(message)
                self.frames.append((time.monotonic(), frame))
                self._new.set()
        except websockets.ConnectionClosed:
            pass
        finally:
            if not self.closed.done():
                self.closed.set_result((self.ws.close_code, self.ws.close_reason))
            self._new.set()

    async def send(self, event: dict[str, Any]) -> None:
        await self.ws.send(json.dumps(event))

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [f for _, f in self.frames if f["type"] == kind]

    async def until(self, kind: str, timeout: float = 5.0) -> dict[str, Any]:
        """The next frame of ``kind`` not yet returned by ``until`` (waiting for it)."""
        deadline = time.monotonic() + timeout
        while True:
            seen = self.of(kind)
            n = self._cursor.get(kind, 0)
            if len(seen) > n:
                self._cursor[kind] = n + 1
                return seen[n]
            left = deadline - time.monotonic()
            if left <= 0 or self.closed.done():
                raise AssertionError(f"no {kind!r}: got {[f['type'] for _, f in self.frames]}")
            self._new.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._new.wait(), left)

    async def start(self, event_id: str = "e_start", **session: Any) -> dict[str, Any]:
        await self.send(
            {"type": "session.start", "event_id": event_id, "session": {"model": MODEL, **session}}
        )
        return await self.until("session.started")

    async def audio(self, raw: bytes, chunk_ms: int = 20, realtime: bool = False) -> None:
        step = 48 * chunk_ms
        for i in range(0, len(raw), step):
            await self.send({"type": "session.input_audio.append", "audio": b64(raw[i : i + step])})
            if realtime:
                await asyncio.sleep(chunk_ms / 1000)

    def output(self, after: float = 0.0) -> bytes:
        return b"".join(
            base64.b64decode(f["delta"])
            for t, f in self.frames
            if f["type"] == "session.output_audio.delta" and t >= after
        )

    def said(self) -> str:
        return "".join(f["delta"] for f in self.of("session.output_transcript.delta"))

    async def close(self) -> None:
        await self.ws.close()
        await self._task


@pytest.fixture
async def server() -> AsyncIterator[LocalRealtimeServer]:
    async with LocalRealtimeServer(live=FAST) as srv:
        yield srv
    for conn in srv.connections:
        assert isinstance(conn, LiveConnection)
        check_live_sent(conn)


async def started(srv: LocalRealtimeServer, **session: Any) -> tuple[LiveClient, LiveConnection]:
    client = await LiveClient.connect(srv.live_url)
    await client.start(**session)
    conn = srv.connections[-1]
    assert isinstance(conn, LiveConnection)
    return client, conn


async def error_of(client: LiveClient) -> dict[str, Any]:
    return (await client.until("error"))["error"]


# -- starting --------------------------------------------------------------------------------


async def test_started_carries_the_resolved_session(server: LocalRealtimeServer) -> None:
    assert server.base_url == f"ws://127.0.0.1:{server.port}/v1"
    assert server.live_url == f"{server.base_url}/live/sessions"
    client = await LiveClient.connect(f"{server.live_url}?model=ignored")
    before = time.time()
    event = await client.start(instructions="Be brief.", safety_identifier="u1")
    assert event["client_event_id"] == "e_start" and event["event_id"].startswith("event_")
    session = event["session"]
    assert session["id"].startswith("sess_") and session["status"] == "active"
    assert session["model"] == MODEL
    assert before + 7200 - 2 <= session["expires_at"] <= time.time() + 7200 + 2
    assert session["audio"] == {
        "format": {"type": "audio/pcm", "rate": 24000},
        "output": {"voice": "marin"},
    }
    assert session["delegation"] == {"type": "client", "acknowledgement_delay_ms": 0}
    assert session["instructions"] == "Be brief." and session["store"] is False
    conn = server.connections[0]
    assert conn.session == session and conn.path == "/v1/live/sessions?model=ignored"
    await client.close()


@pytest.mark.parametrize(
    ("session", "param"),
    [
        ({"foo": 1}, "session.foo"),
        (
            {"audio": {"format": {"type": "audio/pcm", "rate": 24000, "x": 1}}},
            "session.audio.format.x",
        ),
        ({"audio": {"output": {"voice": "marin", "speed": 1}}}, "session.audio.output.speed"),
        (
            {"delegation": {"type": "responses", "responses": {"model": "m", "temperature": 1}}},
            "session.delegation.responses.temperature",
        ),
        ({"delegation": {"type": "client", "extra": True}}, "session.delegation.extra"),
    ],
)
async def test_unknown_fields_are_named_and_no_session_starts(
    server: LocalRealtimeServer, session: dict[str, Any], param: str
) -> None:
    client = await LiveClient.connect(server.live_url)
    await client.send(
        {"type": "session.start", "event_id": "e1", "session": {"model": MODEL, **session}}
    )
    error = await error_of(client)
    assert error == {
        "type": "invalid_request_error",
        "code": "unknown_parameter",
        "message": f"Unknown parameter: '{param}'.",
        "param": param,
        "client_event_id": "e1",
    }
    await asyncio.sleep(0.05)
    assert not client.of("session.started") and not client.closed.done()
    await client.start()  # the socket stays usable: the client decides
    await client.close()


PCM = "audio/pcm"
RATE = "session.audio.format.rate"
ONE = {"role": "user", "content": [{"text": "hi"}]}


@pytest.mark.parametrize(
    ("session", "code", "param"),
    [
        ({"model": "gpt-realtime"}, "model_not_found", "session.model"),
        ({"audio": {"format": {"type": PCM, "rate": 8000}}}, "invalid_value", RATE),
        ({"audio": {"format": {"type": "audio/pcmu", "rate": 24000}}}, "invalid_value", RATE),
        ({"audio": {"output": {"voice": "nova"}}}, "invalid_value", "session.audio.output.voice"),
        ({"store": "yes"}, "invalid_type", "session.store"),
        ({"input": [ONE] * 129}, "array_above_max_length", "session.input"),
        (
            {"delegation": {"type": "responses"}},
            "missing_required_parameter",
            "session.delegation.responses",
        ),
    ],
)
async def test_values_are_checked(
    server: LocalRealtimeServer, session: dict[str, Any], code: str, param: str
) -> None:
    client = await LiveClient.connect(server.live_url)
    await client.send({"type": "session.start", "session": {"model": MODEL, **session}})
    error = await error_of(client)
    assert (error["code"], error["param"]) == (code, param)
    assert "client_event_id" not in error  # the command had no event_id
    await client.close()


async def test_other_formats_and_a_custom_voice(server: LocalRealtimeServer) -> None:
    for fmt in ({"type": "audio/pcm", "rate": 16000}, {"type": "audio/pcma", "rate": 8000}):
        client = await LiveClient.connect(server.live_url)
        session = (await client.start(audio={"format": fmt, "output": {"voice": {"id": "v1"}}}))[
            "session"
        ]
        assert session["audio"] == {"format": fmt, "output": {"voice": {"id": "v1"}}}
        await client.close()


async def test_commands_before_start_and_a_second_start(server: LocalRealtimeServer) -> None:
    client = await LiveClient.connect(server.live_url)
    await client.audio(silence(40))
    await client.send({"type": "session.commentary.append", "content": "x", "delegation_id": None})
    for _ in range(3):
        assert (await error_of(client))["code"] == "session_not_started"
    await client.start()
    await client.send({"type": "session.start", "event_id": "again", "session": {"model": MODEL}})
    error = await error_of(client)
    assert (error["code"], error["client_event_id"]) == ("session_already_started", "again")
    await client.send({"type": "session.nope", "event_id": "n"})
    error = await error_of(client)
    assert (error["code"], error["param"]) == ("invalid_value", "type")
    assert error["message"].startswith("Invalid value: 'session.nope'. Supported values are: ")
    await client.ws.send(b"\x00\x01")
    await client.ws.send("{not json")
    assert (await error_of(client))["code"] == "invalid_event"
    assert (await error_of(client))["code"] == "invalid_json"
    assert len(client.of("session.started")) == 1
    await client.close()


# -- audio in ----------------------------------------------------------------------------------


async def test_bad_audio_is_refused_and_the_session_goes_on(server: LocalRealtimeServer) -> None:
    client, conn = await started(server)
    await client.send({"type": "session.input_audio.append", "event_id": "a1", "audio": "%%%"})
    error = await error_of(client)
    assert (error["code"], error["param"], error["client_event_id"]) == (
        "invalid_value",
        "audio",
        "a1",
    )
    await client.send({"type": "session.input_audio.append", "audio": b64(b"\x00\x01\x02")})
    error = await error_of(client)
    assert error["code"] == "invalid_value" and "3 bytes" in error["message"]
    await client.send({"type": "session.input_audio.append", "audio": "", "event_id": "a3"})
    assert "empty bytes" in (await error_of(client))["message"]
    await client.audio(silence(100))
    await client.send({"type": "session.close"})
    closed = await client.until("session.closed")
    assert conn.live.audio_bytes == 4800 and conn.live.audio_ms == 100.0
    assert closed["reason"] == "close_requested" and await client.closed == (1000, "session closed")


async def test_records_leave_audio_out_when_asked() -> None:
    async with LocalRealtimeServer(live=FAST, record_audio=False) as srv:
        client, conn = await started(srv)
        await client.audio(tone(300) + silence(600))
        await client.until("session.input_transcript.delta")
        await client.close()
        await conn.wait_closed()
        kinds = {f["type"] for f in conn.sent + conn.received if isinstance(f, dict)}
        assert "session.input_audio.append" not in kinds
        assert "session.output_audio.delta" not in kinds
        assert conn.counts_received["session.input_audio.append"] == 45
        assert conn.counts_sent["session.output_audio.delta"] > 0


async def test_mute_makes_input_silence(server: LocalRealtimeServer) -> None:
    client, conn = await started(server)
    await client.send({"type": "session.input_audio.mute", "event_id": "m"})
    assert (await client.until("session.input_audio.muted"))["client_event_id"] == "m"
    await client.audio(tone(500) + silence(700))
    await client.send({"type": "session.input_audio.unmute"})
    unmuted = await client.until("session.input_audio.unmuted")
    assert "client_event_id" not in unmuted
    assert not client.of("session.input_transcript.delta") and conn.live.model is not None
    assert conn.live.model.utterances == 0
    await client.audio(tone(500) + silence(700))
    heard = await client.until("session.input_transcript.delta")
    assert heard["delta"].startswith("[local transcript, not a model: 0.50 s of audio")
    assert (heard["start_ms"], heard["end_ms"]) == (1200, 1700)  # on the session timeline
    await client.close()


# -- the model ----------------------------------------------------------------------------------


async def test_the_model_answers_after_the_user_pauses(server: LocalRealtimeServer) -> None:
    client, _ = await started(server)
    await client.audio(silence(400) + tone(800) + silence(400))
    await asyncio.sleep(0.1)
    assert not client.of("session.input_transcript.delta")  # 400 ms of silence: not yet
    await client.audio(silence(200))
    heard = await client.until("session.input_transcript.delta")
    assert (heard["start_ms"], heard["end_ms"]) == (400, 1200)
    assert "0.80 s of audio" in heard["delta"]
    said = await client.until("session.output_transcript.delta")
    assert said["start_ms"] >= 1200
    await asyncio.sleep(0.1)
    assert client.said().startswith("Local echo from rtsdk.testing (not a model): I heard 1.10 s")
    echo = client.output()
    assert len(echo) == 48 * 1100  # the utterance played back, from 300 ms before the speech
    assert echo[-48 * 800 :] == tone(800)
    await client.close()


async def test_a_commentary_greeting_is_spoken(server: LocalRealtimeServer) -> None:
    client, _ = await started(server)
    greeting = "Hello! I am the local echo. How can I help you today?"
    await client.send(
        {
            "type": "session.commentary.append",
            "event_id": "g",
            "content": greeting,
            "delegation_id": None,
        }
    )
    ack = await client.until("session.commentary.appended")
    assert (ack["client_event_id"], ack["start_ms"], ack["end_ms"]) == ("g", 0, 0)
    await client.until("session.output_transcript.delta")
    await asyncio.sleep(0.1)
    assert client.said() == greeting
    audio = np.frombuffer(client.output(), "<i2").astype(float)
    assert audio.size == 24 * 720  # 60 ms a word
    assert 20 * np.log10(np.sqrt(np.mean(audio**2)) / 32768) > -25  # audible
    await client.send(
        {"type": "session.instructions.append", "content": "Be kind.", "delegation_id": None}
    )
    await client.send(
        {"type": "session.thinking.append", "content": "Quiet.", "delegation_id": None}
    )
    await client.until("session.instructions.appended")
    await client.until("session.thinking.appended")
    await asyncio.sleep(0.05)
    assert client.said() == greeting  # neither is spoken
    await client.close()


@REALTIME_ONCE  # its 10-100 ms bounds are wall time: once, on the compiled kernels
async def test_output_is_paced_in_real_time_with_a_small_lead() -> None:
    options = LiveOptions(chunk_ms=40, lead_ms=80)
    async with LocalRealtimeServer(live=options) as srv:
        client, conn = await started(srv)
        words = " ".join(["word"] * 20)  # 1.2 s of speech
        t0 = time.monotonic()
        await client.send(
            {"type": "session.commentary.append", "content": words, "delegation_id": None}
        )
        await asyncio.sleep(1.5)
        deltas = [
            (t - t0, f) for t, f in client.frames if f["type"] == "session.output_audio.delta"
        ]
        assert len(deltas) == 30  # 40 ms each
        for k, (arrived, frame) in enumerate(deltas):
            assert len(base64.b64decode(frame["delta"])) == 48 * 40
            # chunk k leaves 80 ms before it plays: never earlier (no burst), barely later
            assert k * 0.04 - 0.08 - 0.01 <= arrived <= k * 0.04 - 0.08 + 0.1, (k, arrived)
        assert conn.live.model is not None and conn.live.model.mixer.skipped_ms == 0
        await client.close()
        check_live_sent(conn)


async def test_barge_in_stops_the_model_within_200_ms() -> None:
    async with LocalRealtimeServer(live=LiveOptions()) as srv:
        client, conn = await started(srv)
        words = " ".join(["word"] * 50)  # 3 s of speech
        await client.send(
            {"type": "session.commentary.append", "content": words, "delegation_id": None}
        )
        await client.audio(silence(600), realtime=True)  # the mic runs while the model speaks
        assert client.output()
        onset = time.monotonic()
        await client.audio(tone(400), realtime=True)  # the user speaks over it
        await client.audio(silence(600), realtime=True)
        model = conn.live.model
        assert model is not None and model.barge_ins == [600.0]
        heard_at, heard = next(
            (t, f) for t, f in client.frames if f["type"] == "session.input_transcript.delta"
        )
        assert (heard["start_ms"], heard["end_ms"]) == (600, 1000)
        # The client plays the output from its first delta on, in delivery order: how much of
        # what the model said (before answering again) would play after the user started?
        first = next(t for t, f in client.frames if f["type"] == "session.output_audio.delta")
        spoken = b"".join(
            base64.b64decode(f["delta"])
            for t, f in client.frames
            if f["type"] == "session.output_audio.delta" and t < heard_at
        )
        played_ms = (onset - first) * 1000
        assert played_ms >= 500  # the model was speaking ...
        # ... and stopped within 200 ms of the speech (50 ms to react, chunk rounding)
        after_ms = len(spoken) / 48 - played_ms
        assert 0 <= after_ms <= 200, (len(spoken) / 48, played_ms)
        assert len(spoken) / 48 < 1500  # not the 3 s it had to say
        # after the pause the model answers again: the barge-in played back
        await asyncio.sleep(1.2)
        answer = "".join(
            f["delta"]
            for t, f in client.frames
            if f["type"] == "session.output_transcript.delta" and t >= heard_at
        )
        assert "I heard 0.70 s" in answer
        await client.close()
        check_live_sent(conn)


async def test_a_fixture_plays_as_output_audio(server: LocalRealtimeServer) -> None:
    client, _ = await started(server, audio={"format": {"type": "audio/pcmu", "rate": 8000}})
    clip = tone(500)
    await client.send(
        {"type": "session.output_audio.fixture.play", "event_id": "f", "audio": b64(clip)}
    )
    assert (await client.until("session.output_audio.fixture.playing"))["client_event_id"] == "f"
    played = await client.until("session.output_audio.fixture.played")
    assert played["client_event_id"] == "f"
    assert len(client.output()) == 4000  # 0.5 s of G.711 at 8 kHz
    assert not client.of("session.output_transcript.delta")
    await client.send({"type": "session.output_audio.fixture.play", "audio": b64(silence(31000))})
    error = await error_of(client)
    assert (error["code"], error["param"]) == ("invalid_value", "audio")
    await client.close()


async def test_input_during_a_fixture_is_dropped() -> None:
    async with LocalRealtimeServer(live=LiveOptions(usage_interval_s=60)) as srv:
        client, conn = await started(srv)
        await client.send({"type": "session.output_audio.fixture.play", "audio": b64(tone(600))})
        await client.until("session.output_audio.fixture.playing")
        await client.audio(tone(300) + silence(600))
        await client.send(
            {"type": "session.thinking.append", "content": "x", "delegation_id": None}
        )
        await client.send({"type": "session.output_audio.fixture.play", "audio": b64(tone(50))})
        assert (await error_of(client))["code"] == "fixture_active"
        assert (await error_of(client))["code"] == "fixture_active"
        await client.until("session.output_audio.fixture.played")
        assert not client.of("session.input_transcript.delta")
        await client.close()
        check_live_sent(conn)


# -- session.update -----------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["model", "instructions", "audio", "input", "store"])
async def test_fields_fixed_at_startup_are_refused(server: LocalRealtimeServer, field: str) -> None:
    client, _ = await started(server)
    value = {"model": MODEL, "instructions": "x", "audio": {}, "input": [], "store": True}[field]
    await client.send({"type": "session.update", "event_id": "u", "session": {field: value}})
    error = await error_of(client)
    assert error["code"] == "immutable_field_update" and error["param"] == f"session.{field}"
    assert error["client_event_id"] == "u" and not client.of("session.updated")
    await client.close()


RESPONSES = {
    "type": "responses",
    "responses": {
        "model": "gpt-5.6-luna",
        "instructions": "Use the tools.",
        "tools": [
            {
                "type": "function",
                "name": "get_weather",
                "description": "The weather in a city.",
                "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
            }
        ],
    },
}


async def test_delegation_updates_keep_the_type_and_triggers_replace(
    server: LocalRealtimeServer,
) -> None:
    client, conn = await started(server, delegation=RESPONSES)
    await client.send({"type": "session.update", "session": {"delegation": {"type": "client"}}})
    error = await error_of(client)
    assert (error["code"], error["param"]) == ("immutable_field_update", "session.delegation.type")
    change = {"type": "responses", "acknowledgement_delay_ms": 250, "responses": {"model": "m2"}}
    await client.send(
        {"type": "session.update", "event_id": "u", "session": {"delegation": change}}
    )
    updated = await client.until("session.updated")
    delegation = updated["session"]["delegation"]
    assert (
        delegation["acknowledgement_delay_ms"] == 250 and delegation["responses"]["model"] == "m2"
    )
    assert delegation["responses"]["tools"] == RESPONSES["responses"]["tools"]  # kept
    trigger = {
        "type": "decisions",
        "event_type": "session.input_transcript.delta",
        "decisions": {"questions": [{"type": "predicate", "instructions": "Is it urgent?"}]},
    }
    await client.send({"type": "session.update", "session": {"triggers": [trigger]}})
    assert (await client.until("session.updated"))["session"]["triggers"] == [trigger]
    await client.send({"type": "session.update", "session": {"triggers": []}})
    assert (await client.until("session.updated"))["session"]["triggers"] == []
    assert conn.session["triggers"] == []
    await client.send({"type": "session.update", "session": {"bogus": 1}})
    assert (await error_of(client))["param"] == "session.bogus"
    await client.close()


# -- delegation ---------------------------------------------------------------------------------


async def test_client_delegation_waits_for_a_commentary(server: LocalRealtimeServer) -> None:
    script = server.script_delegation(heard="Book a table for two.")
    client, _ = await started(
        server, delegation={"type": "client", "acknowledgement_delay_ms": 200}
    )
    await client.audio(silence(400) + tone(600) + silence(600))
    heard = await client.until("session.input_transcript.delta")
    assert heard["delta"] == "Book a table for two." and script.fired == 1
    created = await client.until("session.delegation.created")
    delegation = created["delegation"]
    assert delegation["id"].startswith("item_") and delegation["target"] == "client"
    assert delegation["type"] == "delegation" and "response_id" not in delegation
    assert created["offset_ms"] == 1500  # 500 ms of silence after the speech
    await client.send(
        {"type": "session.commentary.append", "content": "No table.", "delegation_id": "item_x"}
    )
    error = await error_of(client)
    assert (error["code"], error["param"]) == ("invalid_value", "delegation_id")
    await client.send(
        {"type": "session.commentary.append", "event_id": "c", "content": "Your table is booked.",
         "delegation_id": delegation["id"]}
    )  # fmt: skip
    assert (await client.until("session.commentary.appended"))["client_event_id"] == "c"
    await asyncio.sleep(0.3)
    assert client.said() == "Your table is booked."  # the acknowledgement was cancelled
    assert not client.of("session.output_transcript.delta")[0]["delta"].startswith("Local")
    # the script is spent: the next utterance is echoed
    await client.audio(tone(300) + silence(600))
    await client.until("session.input_transcript.delta")
    await asyncio.sleep(0.05)
    assert "I heard" in client.said() and len(client.of("session.delegation.created")) == 1
    await client.close()


async def test_an_unanswered_delegation_is_acknowledged(server: LocalRealtimeServer) -> None:
    server.script_delegation()
    client, _ = await started(server)
    await client.audio(tone(300) + silence(600))
    await client.until("session.delegation.created")
    await client.until("session.output_transcript.delta")
    await asyncio.sleep(0.05)
    assert client.said() == "Local echo from rtsdk.testing (not a model): one moment."
    await client.close()


async def test_a_responses_delegation_calls_a_function_and_speaks_its_output(
    server: LocalRealtimeServer,
) -> None:
    server.script_delegation(heard="What is the weather in Paris?")
    server.script_function_call(
        name="get_weather", arguments={"city": "Paris"}, when_text_contains="weather"
    )
    client, _ = await started(server, delegation=RESPONSES)
    await client.audio(tone(300) + silence(600))
    created = (await client.until("session.delegation.created"))["delegation"]
    assert created["target"] == "responses" and created["response_id"].startswith("resp_")
    events = []
    while not events or events[-1]["type"] != "response.completed":
        wrapper = await client.until("response.event")
        assert wrapper["delegation_id"] == created["id"]
        events.append(wrapper["event"])
    kinds = [e["type"] for e in events]
    assert kinds[:2] == ["response.created", "response.in_progress"]
    assert events[0]["response"]["id"] == created["response_id"]
    assert events[0]["response"]["output"] == [] and events[-1]["response"]["output"] == []
    assert [e["sequence_number"] for e in events] == list(range(len(events)))
    done = [e["item"] for e in events if e["type"] == "response.output_item.done"]
    assert [i["type"] for i in done] == ["reasoning", "function_call"]
    call = done[1]
    assert call["name"] == "get_weather" and json.loads(call["arguments"]) == {"city": "Paris"}
    assert call["status"] == "completed" and call["call_id"].startswith("call_")
    assert events[-1]["response"]["usage"]["total_tokens"] > 0
    # the client runs the tool as soon as the call is done and continues the response
    output = {"type": "function_call_output", "call_id": call["call_id"], "output": "sunny, 21 C"}
    await client.send({"type": "response.item.create", "event_id": "i", "item": output})
    await client.send({"type": "response.create", "event_id": "r"})
    events = []
    while not events or events[-1]["type"] != "response.completed":
        wrapper = await client.until("response.event")
        assert wrapper["delegation_id"] == created["id"]
        events.append(wrapper["event"])
    text = next(e["text"] for e in events if e["type"] == "response.output_text.done")
    assert text.endswith("get_weather returned sunny, 21 C")
    await asyncio.sleep(0.1)
    assert client.said().endswith("one moment." + text) or text in client.said()
    await client.close()


async def test_responses_delegation_rules(server: LocalRealtimeServer) -> None:
    client, _ = await started(server, delegation=RESPONSES)
    await client.send(
        {"type": "session.commentary.append", "content": "x", "delegation_id": "item_1"}
    )
    error = await error_of(client)
    assert (error["code"], error["param"]) == ("invalid_value", "delegation_id")
    bad = {"type": "function_call_output", "call_id": "call_nope", "output": "x"}
    await client.send({"type": "response.item.create", "item": bad})
    error = await error_of(client)
    assert (error["param"], error["message"]) == (
        "item.call_id",
        "No tool call found for function call output with call_id call_nope.",
    )
    # typed input: a user message, then a response, spoken
    message = {"type": "message", "role": "user", "content": "hello there"}
    await client.send({"type": "response.item.create", "item": message})
    await client.send({"type": "response.create"})
    wrapper = await client.until("response.event")
    assert "delegation_id" not in wrapper  # no delegation: typed input
    await client.until("session.output_transcript.delta")
    await asyncio.sleep(0.1)
    assert client.said().endswith("you said: hello there")
    await client.close()


async def test_commands_this_session_does_not_take(server: LocalRealtimeServer) -> None:
    client, _ = await started(server)
    await client.send({"type": "response.create", "event_id": "r"})
    error = await error_of(client)
    assert error["code"] == "invalid_request" and error["client_event_id"] == "r"
    await client.send({"type": "decision.create", "event_id": "d1"})
    error = await error_of(client)
    assert error["code"] == "unsupported_event" and "decision.create" in error["message"]
    await client.close()


# -- usage, the end, the connection ---------------------------------------------------------------


async def test_usage_updates_and_close(server: LocalRealtimeServer) -> None:
    client, conn = await started(server)
    await client.audio(silence(2500))
    usage = await client.until("session.usage.updated")
    while usage["usage"]["seconds"] < 2:  # cumulative snapshots, every 0.2 s here
        usage = await client.until("session.usage.updated")
    assert usage["usage"] == {"seconds": 2.0}  # whole seconds: here the 2.5 s of input audio
    assert 0 < usage["context_window"]["usage_ratio"] < 0.01
    await client.send({"type": "session.close", "event_id": "bye"})
    closed = await client.until("session.closed")
    assert closed["client_event_id"] == "bye" and closed["reason"] == "close_requested"
    assert closed["usage"] == {"seconds": 2.0} and closed["session"] == conn.session
    assert closed["session"]["status"] == "active"
    assert await client.closed == (1000, "session closed")
    await conn.wait_closed()
    assert conn.close_code == 1000


async def test_expire_ends_the_session(server: LocalRealtimeServer) -> None:
    client, conn = await started(server)
    conn.expire()
    closed = await client.until("session.closed")
    assert closed["reason"] == "expired" and "client_event_id" not in closed
    assert await client.closed == (1000, "expired")


async def test_a_length_cap_fault_expires_a_live_session() -> None:
    async with LocalRealtimeServer(live=FAST, faults=Faults(session_max_seconds=0.3)) as srv:
        client, conn = await started(srv)
        closed = await client.until("session.closed", timeout=3)
        assert closed["reason"] == "expired"
        assert await client.closed == (1000, "expired")
        check_live_sent(conn)


@pytest.mark.parametrize("path", ["/v1/live/sessions", "/openai/v1/live/sessions"])
@pytest.mark.parametrize("style", ["bearer", "api-key"])
async def test_keys_on_both_paths(path: str, style: str) -> None:
    async with LocalRealtimeServer(api_key="sk-live", live=FAST) as srv:
        url = f"ws://127.0.0.1:{srv.port}{path}"
        for bad in ({}, {"Authorization": "Bearer sk-wrong"}):
            with pytest.raises(websockets.InvalidStatus) as refused:
                await websockets.connect(url, additional_headers=bad)
            assert refused.value.response.status_code == 401
            assert "sk-live" not in refused.value.response.body.decode()
        good = {"Authorization": "Bearer sk-live"} if style == "bearer" else {"api-key": "sk-live"}
        client = await LiveClient.connect(url, good)
        assert (await client.start())["session"]["model"] == MODEL
        await client.close()
        assert [status for status, _ in srv.refused] == [401, 401]
        assert isinstance(srv.connections[0], LiveConnection)


async def test_refused_auth_faults() -> None:
    async with LocalRealtimeServer(live=FAST) as srv:
        srv.faults_for_next_connections(Faults(refuse_auth=True))
        with pytest.raises(websockets.InvalidStatus):
            await websockets.connect(srv.live_url)
        srv.faults_for_next_connections(Faults(refuse_auth="error_event"))
        client = await LiveClient.connect(srv.live_url)
        error = await error_of(client)
        assert error["code"] == "invalid_api_key"
        assert (await client.closed)[0] == 1008
        assert not client.of("session.started")
        check_live_sent(srv.connections[0])


async def test_injected_faults_apply_to_live_connections() -> None:
    async with LocalRealtimeServer(live=FAST) as srv:
        srv.faults_for_next_connections(Faults(garbage_after_frames=1, garbage="error_event"))
        client, conn = await started(srv)
        error = await error_of(client)
        assert (error["type"], error["code"]) == ("server_error", "server_error")
        await client.close()
        check_live_sent(conn)
        srv.faults_for_next_connections(Faults(drop_after_frames=2))
        client, conn = await started(srv)
        await client.send(
            {"type": "session.commentary.append", "content": "a b c", "delegation_id": None}
        )
        assert (await client.closed)[0] == 1006
        assert conn.dropped


def test_serve_prints_the_base_url_and_serves_gpt_live() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "rtsdk", "serve", "--port", "0", "--pacing", "fast"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        realtime = proc.stdout.readline().strip()
        second = proc.stdout.readline().strip()
        base = realtime.removesuffix("/realtime")
        assert realtime.endswith("/v1/realtime")
        assert second == f"base URL {base} (GPT-Live: {base}/live/sessions)"
        with connect(f"{base}/live/sessions") as ws:
            ws.send(json.dumps({"type": "session.start", "session": {"model": MODEL}}))
            assert json.loads(ws.recv(5))["type"] == "session.started"
            ws.send(json.dumps({"type": "session.close"}))
            assert json.loads(ws.recv(5))["type"] == "session.closed"
    finally:
        proc.terminate()
        proc.wait(20)
        if proc.stdout is not None:
            proc.stdout.close()
    assert proc.returncode == 0


@pytest.mark.parametrize(
    "fmt", [{"type": "audio/pcm", "rate": 16000}, {"type": "audio/pcma", "rate": 8000}]
)
async def test_the_model_hears_and_answers_in_the_session_format(
    server: LocalRealtimeServer, fmt: dict[str, Any]
) -> None:
    client, _ = await started(server, audio={"format": fmt})
    rate = fmt["rate"]
    pcm = tone(600, rate) + silence(600, rate)
    if fmt["type"] == "audio/pcma":
        pcm = kernels.pcm16_to_alaw(np.frombuffer(pcm, "<i2").astype(np.int16)).tobytes()
    await client.send({"type": "session.input_audio.append", "audio": b64(pcm)})
    heard = await client.until("session.input_transcript.delta")
    assert (heard["start_ms"], heard["end_ms"]) == (0, 600) and "0.60 s" in heard["delta"]
    await client.until("session.output_transcript.delta")
    await asyncio.sleep(0.1)
    width = 2 if fmt["type"] == "audio/pcm" else 1
    assert len(client.output()) == 600 * rate // 1000 * width  # played back, same format
    await client.close()

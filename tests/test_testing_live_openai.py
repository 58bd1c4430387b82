"""The ``openai`` 3.57 package's own GPT-Live WebSocket client against the local server.

``AsyncOpenAI(base_url="http://127.0.0.1:PORT/v1")`` makes ``client.live.connect()`` open
``ws://127.0.0.1:PORT/v1/live/sessions``; the session is driven through the SDK's typed
resources (``session.start``, ``input_audio.append``, ``commentary.append``,
``response.item.create``, ``session.close``) and read back as the SDK's typed events.
"""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any

import openai
from openai.types.live import OutputAudioDeltaEvent, SessionClosedEvent, SessionStartedEvent

from rtsdk.testing import LiveConnection, LiveOptions, LocalRealtimeServer
from tests.test_testing_live import RESPONSES, check_live_sent, silence, tone


async def _until(connection: Any, kind: str, seen: list[Any], timeout: float = 5.0) -> Any:
    async def read() -> Any:
        while True:
            event = await connection.recv()
            seen.append(event)
            if event.type == kind:
                return event

    return await asyncio.wait_for(read(), timeout)


async def test_the_openai_live_client_completes_a_session() -> None:
    async with LocalRealtimeServer(api_key="sk-oai", live=LiveOptions(pacing="fast")) as srv:
        client = openai.AsyncOpenAI(api_key="sk-oai", base_url=f"http://127.0.0.1:{srv.port}/v1")
        seen: list[Any] = []
        async with client.live.connect() as connection:
            await connection.session.start(session={"model": "gpt-live-1"}, event_id="s1")
            started = await _until(connection, "session.started", seen)
            assert isinstance(started, SessionStartedEvent)
            assert started.session.model == "gpt-live-1" and started.client_event_id == "s1"
            await connection.session.commentary.append(content="Hi, I am here.", delegation_id=None)
            await _until(connection, "session.commentary.appended", seen)
            await asyncio.sleep(0.1)  # the greeting is said (at once: fast pacing)
            audio = tone(700) + silence(700)
            for i in range(0, len(audio), 4800):
                await connection.session.input_audio.append(
                    audio=base64.b64encode(audio[i : i + 4800]).decode()
                )
            heard = await _until(connection, "session.input_transcript.delta", seen)
            assert (heard.start_ms, heard.end_ms) == (0, 700)
            await _until(connection, "session.output_transcript.delta", seen)
            await asyncio.sleep(0.2)
            await connection.session.close(event_id="bye")
            closed = await _until(connection, "session.closed", seen)
        assert isinstance(closed, SessionClosedEvent)
        assert closed.reason == "close_requested" and closed.usage.seconds >= 0
        deltas = [e for e in seen if isinstance(e, OutputAudioDeltaEvent)]
        assert sum(len(base64.b64decode(e.delta)) for e in deltas) > 48 * 700
        said = "".join(e.delta for e in seen if e.type == "session.output_transcript.delta")
        assert said.startswith("Hi, I am here.") and "I heard" in said
        conn = srv.connections[0]
        assert isinstance(conn, LiveConnection)
        assert conn.path == "/v1/live/sessions"
        assert conn.headers["Authorization"] == "Bearer sk-oai"
        assert "OpenAI/Python" in conn.headers["User-Agent"]
        check_live_sent(conn)


async def test_the_openai_client_runs_a_delegated_function_call() -> None:
    async with LocalRealtimeServer(live=LiveOptions(pacing="fast")) as srv:
        srv.script_delegation(heard="Weather in Oslo?")
        srv.script_function_call(name="get_weather", arguments={"city": "Oslo"})
        client = openai.AsyncOpenAI(api_key="x", base_url=f"http://127.0.0.1:{srv.port}/v1")
        seen: list[Any] = []
        async with client.live.connect() as connection:
            await connection.session.start(
                session={"model": "gpt-live-1.1", "delegation": RESPONSES}
            )
            await _until(connection, "session.started", seen)
            audio = tone(400) + silence(600)
            await connection.session.input_audio.append(audio=base64.b64encode(audio).decode())
            while True:
                wrapper = await _until(connection, "response.event", seen)
                event = wrapper.event
                if event["type"] == "response.output_item.done" and event["item"]["type"] == (
                    "function_call"
                ):
                    call = event["item"]
                    break
            assert json.loads(call["arguments"]) == {"city": "Oslo"}
            await connection.response.item.create(
                item={"type": "function_call_output", "call_id": call["call_id"], "output": "snow"}
            )
            await connection.response.create()
            while True:
                wrapper = await _until(connection, "response.event", seen)
                if wrapper.event["type"] == "response.output_text.done":
                    assert wrapper.event["text"].endswith("get_weather returned snow")
                    break
            await connection.session.close()
            await _until(connection, "session.closed", seen)
        check_live_sent(srv.connections[0])  # type: ignore[arg-type]

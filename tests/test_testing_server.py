"""The local Realtime server over real sockets, driven by a plain ``websockets`` client.

Every frame the server sends in these tests is checked against the openai GA server types
(the ``server`` fixture does it at teardown), and every frame a well-behaved test client sends
against the GA client types.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
from typing import Any

import numpy as np
import pytest
import websockets
from websockets.asyncio.client import ClientConnection

from rtsdk.testing import LocalRealtimeServer, ServerConnection
from tests.conformance import (
    BETA_SERVER_MODELS,
    SERVER_MODELS,
    assert_beta_server_event_valid,
    assert_client_event_valid,
    assert_responses_well_formed,
    assert_server_event_valid,
)

#: A catalogue model with no shutdown date and no reasoning: the tests do not depend on the day
#: they run (a session of a model past its shutdown date fails every response).
MODEL = "gpt-realtime-1.5"

# --------------------------------------------------------------------------------------------
# helpers (also used by the other test_testing_* modules)


def tone(ms: int, amp: float = 0.3, rate: int = 24000, freq: float = 300.0) -> bytes:
    """PCM16 sine (``amp`` of full scale)."""
    t = np.arange(rate * ms // 1000) / rate
    return (np.sin(2 * np.pi * freq * t) * amp * 32767).astype("<i2").tobytes()


def silence(ms: int, rate: int = 24000) -> bytes:
    return bytes(2 * rate * ms // 1000)


def append(audio: bytes) -> dict[str, Any]:
    return {"type": "input_audio_buffer.append", "audio": base64.b64encode(audio).decode()}


class RawClient:
    """A plain websockets client that keeps every frame it receives."""

    def __init__(self, ws: ClientConnection, check: bool = True) -> None:
        self.ws = ws
        self.frames: list[dict[str, Any]] = []
        self.check = check
        self._read = 0

    @classmethod
    async def connect(
        cls, url: str, headers: dict[str, str] | None = None, check: bool = True
    ) -> RawClient:
        ws = await websockets.connect(
            url, additional_headers=headers, max_size=None, compression=None
        )
        return cls(ws, check)

    async def send(self, event: dict[str, Any]) -> None:
        if self.check:
            assert_client_event_valid(event)
        await self.ws.send(json.dumps(event))

    async def stream(self, audio: bytes, chunk_ms: int = 20, bytes_per_ms: int = 48) -> None:
        step = chunk_ms * bytes_per_ms
        for i in range(0, len(audio), step):
            await self.send(append(audio[i : i + step]))

    async def recv(self, timeout: float = 5.0) -> dict[str, Any]:
        frame = json.loads(await asyncio.wait_for(self.ws.recv(), timeout))
        self.frames.append(frame)
        return frame

    async def until(self, kind: str, timeout: float = 5.0) -> dict[str, Any]:
        """The next frame of ``kind`` (frames before it are kept in ``frames``)."""
        for frame in self.frames[self._read :]:
            self._read += 1
            if frame["type"] == kind:
                return frame
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            frame = await self.recv(max(0.01, deadline - loop.time()))
            self._read = len(self.frames)
            if frame["type"] == kind:
                return frame

    def types(self) -> list[str]:
        return [f["type"] for f in self.frames]

    async def close(self) -> None:
        await self.ws.close()


def subsequence(wanted: list[str], got: list[str]) -> bool:
    it = iter(got)
    return all(any(g == w for g in it) for w in wanted)


def check_sent(conn: ServerConnection) -> None:
    """Every frame the server sent validates against the GA (or beta) types; responses nest.

    Frames of types the types do not have (injected garbage) are skipped.
    """
    models = BETA_SERVER_MODELS if conn.beta else SERVER_MODELS
    check = assert_beta_server_event_valid if conn.beta else assert_server_event_valid
    events = [f for f in conn.sent if isinstance(f, dict) and f.get("type") in models]
    for event in events:
        check(event)
    assert_responses_well_formed(events)


def audio_of(frames: list[dict[str, Any]], item_id: str | None = None) -> bytes:
    return b"".join(
        base64.b64decode(f["delta"])
        for f in frames
        if f["type"] == "response.output_audio.delta" and item_id in (None, f["item_id"])
    )


async def open_client(srv: LocalRealtimeServer, **kw: Any) -> tuple[RawClient, ServerConnection]:
    client = await RawClient.connect(f"{srv.url}?model={MODEL}", **kw)
    first = await client.recv()
    assert first["type"] == "session.created"
    return client, srv.connections[-1]


async def configure(client: RawClient, session: dict[str, Any]) -> dict[str, Any]:
    await client.send({"type": "session.update", "event_id": "e_cfg", "session": session})
    return await client.until("session.updated")


MANUAL = {"type": "realtime", "audio": {"input": {"turn_detection": None}}}


# --------------------------------------------------------------------------------------------
# connecting


async def test_session_created_first_with_the_full_session(server: LocalRealtimeServer) -> None:
    client, conn = await open_client(server, headers={"OpenAI-Organization": "org_1"})
    created = client.frames[0]
    session = created["session"]
    assert session["type"] == "realtime" and session["object"] == "realtime.session"
    assert session["id"].startswith("sess_") and session["model"] == MODEL
    assert session["audio"]["input"]["format"] == {"type": "audio/pcm", "rate": 24000}
    assert session["audio"]["output"]["voice"]
    assert session["audio"]["input"]["turn_detection"]["type"] == "server_vad"
    assert conn.sent[0] == created and conn.session == session
    assert conn.headers["OpenAI-Organization"] == "org_1"
    assert conn.path == f"/v1/realtime?model={MODEL}" and conn.model == MODEL
    assert server.url == f"ws://127.0.0.1:{server.port}/v1/realtime"
    await client.close()
    await conn.wait_closed()
    assert conn.closed and conn.close_code == 1000


@pytest.mark.parametrize(
    ("path", "model"),
    [
        ("/v1/realtime?model=gpt-realtime", "gpt-realtime"),
        ("/openai/v1/realtime?model=my-deployment", "my-deployment"),
        ("/openai/realtime?api-version=2025-04-01-preview&deployment=dep1", "dep1"),
    ],
)
@pytest.mark.parametrize("style", ["bearer", "api-key"])
async def test_key_accepted_on_every_path_in_both_header_styles(
    path: str, model: str, style: str
) -> None:
    headers = (
        {"Authorization": "Bearer sk-test-1"} if style == "bearer" else {"api-key": "sk-test-1"}
    )
    async with LocalRealtimeServer(api_key="sk-test-1") as srv:
        client = await RawClient.connect(f"ws://127.0.0.1:{srv.port}{path}", headers)
        session = (await client.recv())["session"]
        # the preview path speaks beta, whose session names the model behind the deployment
        assert session["model"] == (model if "api-version" not in path else session["model"])
        await client.close()
        assert srv.connections[0].model == model and srv.refused == []
        assert srv.connections[0].beta == ("api-version" in path)


@pytest.mark.parametrize(
    "path",
    [
        "/v1/realtime?model=gpt-realtime",
        "/openai/v1/realtime?model=dep",
        "/openai/realtime?api-version=2025-04-01-preview&deployment=dep",
    ],
)
@pytest.mark.parametrize(
    "headers",
    [{"Authorization": "Bearer sk-wrong"}, {"api-key": "sk-wrong"}, {}],
    ids=["bearer", "api-key", "none"],
)
async def test_wrong_or_missing_key_is_refused_with_401(path: str, headers: dict[str, str]) -> None:
    async with LocalRealtimeServer(api_key="sk-right") as srv:
        with pytest.raises(websockets.InvalidStatus) as info:
            await websockets.connect(f"ws://127.0.0.1:{srv.port}{path}", additional_headers=headers)
        response = info.value.response
        assert response.status_code == 401
        body = response.body.decode()
        # the service's codes: a wrong key is invalid_api_key, no key at all has no code
        code = "invalid_api_key" if headers else None
        assert json.loads(body)["error"]["code"] == code
        assert "sk-wrong" not in body and "sk-right" not in body
        assert srv.connections == [] and srv.refused[0][0] == 401
        assert "sk-right" not in repr(srv)


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/v1/other", 404),
        ("/v1/realtime", 400),
        ("/openai/realtime?deployment=dep", 400),
        ("/openai/realtime?api-version=2025-04-01-preview", 400),
    ],
)
async def test_bad_path_or_query_is_refused(
    server: LocalRealtimeServer, path: str, status: int
) -> None:
    with pytest.raises(websockets.InvalidStatus) as info:
        await websockets.connect(f"ws://127.0.0.1:{server.port}{path}")
    assert info.value.response.status_code == status


# --------------------------------------------------------------------------------------------
# session.update


async def test_session_update_merges_and_answers_the_whole_session(
    server: LocalRealtimeServer,
) -> None:
    client, conn = await open_client(server)
    updated = await configure(
        client,
        {
            "type": "realtime",
            "instructions": "be brief",
            "audio": {"input": {"turn_detection": {"type": "server_vad", "threshold": 0.7}}},
        },
    )
    session = updated["session"]
    assert "event_id" not in updated["session"] and updated["event_id"] != "e_cfg"
    assert session["instructions"] == "be brief"
    td = session["audio"]["input"]["turn_detection"]
    assert td["threshold"] == 0.7 and td["silence_duration_ms"] == 500  # defaults filled
    again = await configure(client, {"type": "realtime", "audio": {"output": {"voice": "cedar"}}})
    assert again["session"]["instructions"] == "be brief"  # omitted = unchanged
    assert again["session"]["audio"]["output"]["voice"] == "cedar"
    assert again["session"]["audio"]["input"]["turn_detection"]["threshold"] == 0.7
    assert conn.session == again["session"]
    cleared = await configure(client, {"type": "realtime", "instructions": "", "tools": []})
    assert cleared["session"]["instructions"] == ""
    await client.close()


@pytest.mark.parametrize(
    ("session", "code", "param"),
    [
        ({"type": "realtime", "temperature": 0.8}, "unknown_parameter", "session.temperature"),
        (
            {
                "type": "realtime",
                "audio": {"input": {"format": {"type": "audio/pcm", "rate": 16000}}},
            },
            "integer_below_min_value",
            "session.audio.input.format.rate",
        ),
        ({"instructions": "x"}, "missing_required_parameter", "session.type"),
        ({"type": "realtime", "model": "other-model"}, "invalid_value", "session.model"),
    ],
)
async def test_bad_session_update_is_an_error_naming_param_and_event_id(
    server: LocalRealtimeServer, session: dict[str, Any], code: str, param: str
) -> None:
    client, conn = await open_client(server)
    client.check = False
    before = json.loads(json.dumps(conn.session))
    await client.send({"type": "session.update", "event_id": "evt_42", "session": session})
    error = (await client.until("error"))["error"]
    assert error["type"] == "invalid_request_error"
    assert (error["code"], error["param"], error["event_id"]) == (code, param, "evt_42")
    assert conn.session == before
    # the session goes on
    await configure(client, {"type": "realtime", "instructions": "still here"})
    await client.close()


async def test_unknown_event_type_and_malformed_frames_are_errors_not_closes(
    server: LocalRealtimeServer,
) -> None:
    client, conn = await open_client(server, check=False)
    await client.send({"type": "session.nope", "event_id": "e1"})
    assert (await client.until("error"))["error"]["event_id"] == "e1"
    await client.ws.send("{not json")
    assert (await client.until("error"))["error"]["code"] == "invalid_json"
    await client.send({"type": "input_audio_buffer.append", "audio": "***", "event_id": "e2"})
    error = (await client.until("error"))["error"]
    assert (error["param"], error["event_id"]) == ("audio", "e2")
    assert conn.received[1] == "{not json"
    await configure(client, {"type": "realtime"})
    await client.close()


# --------------------------------------------------------------------------------------------
# turns

VOICE_TURN = [
    "input_audio_buffer.speech_started",
    "input_audio_buffer.speech_stopped",
    "input_audio_buffer.committed",
    "conversation.item.added",
    "conversation.item.done",
    "response.created",
    "response.output_item.added",
    "conversation.item.added",
    "response.content_part.added",
    "response.output_audio.delta",
    "response.output_audio_transcript.delta",
    "response.output_audio.done",
    "response.output_audio_transcript.done",
    "response.content_part.done",
    "conversation.item.done",
    "response.output_item.done",
    "response.done",
    "rate_limits.updated",
]


async def test_voice_turn_with_server_vad(server: LocalRealtimeServer) -> None:
    client, conn = await open_client(server)
    await configure(
        client,
        {
            "type": "realtime",
            "audio": {
                "input": {
                    "turn_detection": {
                        "type": "server_vad",
                        "prefix_padding_ms": 200,
                        "silence_duration_ms": 300,
                    }
                }
            },
        },
    )
    speech = tone(700)
    await client.stream(silence(500) + speech + silence(400))
    done = await client.until("response.done")
    types = client.types()
    assert subsequence(VOICE_TURN[:-1], types), types
    started = next(f for f in client.frames if f["type"] == "input_audio_buffer.speech_started")
    stopped = next(f for f in client.frames if f["type"] == "input_audio_buffer.speech_stopped")
    committed = next(f for f in client.frames if f["type"] == "input_audio_buffer.committed")
    assert started["audio_start_ms"] == 500 - 200  # prefix padding included
    assert stopped["audio_end_ms"] == 1200
    assert started["item_id"] == stopped["item_id"] == committed["item_id"]
    user = next(f for f in client.frames if f["type"] == "conversation.item.added")["item"]
    assert user["role"] == "user" and user["content"] == [
        {"type": "input_audio", "transcript": None}
    ]
    # the echo speaks back exactly the committed audio (200 ms padding + speech)
    response = done["response"]
    assert response["status"] == "completed" and response["usage"]["output_tokens"] > 0
    (assistant,) = response["output"]
    echoed = audio_of(client.frames, assistant["id"])
    assert echoed == silence(200) + speech
    deltas = [f for f in client.frames if f["type"] == "response.output_audio.delta"]
    assert all(len(base64.b64decode(f["delta"])) == 80 * 48 for f in deltas[:-1])
    transcript = assistant["content"][0]["transcript"]
    assert transcript.startswith("Local echo") and "0.90 s" in transcript and "dBFS" in transcript
    pieces = "".join(
        f["delta"] for f in client.frames if f["type"] == "response.output_audio_transcript.delta"
    )
    assert pieces == transcript
    ids = {f.get("response_id") for f in client.frames if "response_id" in f}
    assert ids == {response["id"]}
    await client.until("rate_limits.updated")
    for event in conn.received:
        assert isinstance(event, dict)
        assert_client_event_valid(event)
    await client.close()


async def test_vad_threshold_and_silence_duration_are_honoured(
    server: LocalRealtimeServer,
) -> None:
    client, conn = await open_client(server)
    # -40 dBFS speech is under a 0.9 threshold (-16 dBFS): no turn at all
    await configure(
        client,
        {
            "type": "realtime",
            "audio": {"input": {"turn_detection": {"type": "server_vad", "threshold": 0.9}}},
        },
    )
    await client.stream(tone(400, amp=0.014) + silence(800))
    # with the default threshold, a 300 ms gap under a 500 ms silence_duration is one turn
    await configure(
        client,
        {
            "type": "realtime",
            "audio": {
                "input": {
                    "turn_detection": {
                        "type": "server_vad",
                        "silence_duration_ms": 500,
                        "create_response": False,
                    }
                }
            },
        },
    )
    await client.stream(tone(300) + silence(300) + tone(300) + silence(600))
    await client.until("conversation.item.done")
    await configure(client, {"type": "realtime"})  # a barrier: everything before is answered
    assert conn.counts_sent["input_audio_buffer.speech_started"] == 1
    assert conn.counts_sent["input_audio_buffer.committed"] == 1
    assert conn.counts_sent["response.created"] == 0  # create_response false
    stopped = next(f for f in client.frames if f["type"] == "input_audio_buffer.speech_stopped")
    started = next(f for f in client.frames if f["type"] == "input_audio_buffer.speech_started")
    assert stopped["audio_end_ms"] - started["audio_start_ms"] == 900 + 300  # one turn, padded
    await client.close()


async def test_manual_turn(server: LocalRealtimeServer) -> None:
    client, conn = await open_client(server)
    await configure(client, MANUAL)
    speech = tone(400)
    await client.stream(speech)
    await client.send({"type": "input_audio_buffer.commit", "event_id": "c1"})
    committed = await client.until("input_audio_buffer.committed")
    await client.until("conversation.item.done")
    await client.send({"type": "response.create", "event_id": "r1"})
    done = await client.until("response.done")
    assert "input_audio_buffer.speech_started" not in client.types()
    assert committed["previous_item_id"] is None
    assert done["response"]["status"] == "completed"
    assert audio_of(client.frames) == speech
    # nothing was ever created without a response.create
    assert conn.counts_sent["response.created"] == 1
    await client.close()


async def test_commit_too_short_and_clear(server: LocalRealtimeServer) -> None:
    client, _ = await open_client(server)
    await configure(client, MANUAL)
    await client.send({"type": "input_audio_buffer.commit", "event_id": "c0"})
    error = (await client.until("error"))["error"]
    assert error["code"] == "input_audio_buffer_commit_empty" and error["event_id"] == "c0"
    assert "0.00ms" in error["message"]
    await client.stream(tone(60))
    await client.send({"type": "input_audio_buffer.commit", "event_id": "c1"})
    error = (await client.until("error"))["error"]
    assert error["code"] == "input_audio_buffer_commit_empty" and "60.00ms" in error["message"]
    await client.send({"type": "input_audio_buffer.clear", "event_id": "x"})
    await client.until("input_audio_buffer.cleared")
    await client.stream(tone(100))
    await client.send({"type": "input_audio_buffer.commit"})
    await client.until("input_audio_buffer.committed")  # 100 ms after the clear is enough
    await client.close()


TEXT_TURN = [
    "conversation.item.added",
    "conversation.item.done",
    "response.created",
    "response.output_item.added",
    "conversation.item.added",
    "response.content_part.added",
    "response.output_text.delta",
    "response.output_text.done",
    "response.content_part.done",
    "conversation.item.done",
    "response.output_item.done",
    "response.done",
]


async def test_text_turn_text_out(server: LocalRealtimeServer) -> None:
    client, _ = await open_client(server)
    item = {
        "type": "message",
        "role": "user",
        "content": [{"type": "input_text", "text": "hello there"}],
    }
    await client.send({"type": "conversation.item.create", "event_id": "i1", "item": item})
    await client.send(
        {"type": "response.create", "event_id": "r1", "response": {"output_modalities": ["text"]}}
    )
    done = await client.until("response.done")
    assert subsequence(TEXT_TURN, client.types()), client.types()
    text = next(f for f in client.frames if f["type"] == "response.output_text.done")["text"]
    assert text.startswith("Local echo") and text.endswith("you said: hello there")
    deltas = "".join(f["delta"] for f in client.frames if f["type"] == "response.output_text.delta")
    assert deltas == text
    assert done["response"]["output"][0]["content"] == [{"type": "output_text", "text": text}]
    assert "response.output_audio.delta" not in client.types()
    await client.close()


async def test_text_turn_audio_out_is_a_tone_under_the_transcript(
    server: LocalRealtimeServer,
) -> None:
    client, _ = await open_client(server)
    item = {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "hi"}]}
    await client.send({"type": "conversation.item.create", "item": item})
    await client.send({"type": "response.create"})
    done = await client.until("response.done")
    pcm = np.frombuffer(audio_of(client.frames), "<i2")
    assert 0.4 <= pcm.size / 24000 <= 4.0
    assert 0.05 < np.sqrt(np.mean((pcm / 32768.0) ** 2)) < 0.3  # a -18 dBFS tone, no silence
    transcript = done["response"]["output"][0]["content"][0]["transcript"]
    assert transcript.endswith("you said: hi")
    await client.close()


async def test_keys_never_reach_the_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    for name in ("websockets", "rtsdk"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    try:
        async with LocalRealtimeServer(api_key="sk-server-secret-1") as srv:
            base = f"ws://127.0.0.1:{srv.port}"
            client = await RawClient.connect(
                f"{base}/v1/realtime?model=m", {"Authorization": "Bearer sk-server-secret-1"}
            )
            await client.recv()
            await client.close()
            for headers in (
                {"api-key": "sk-client-wrong-2"},
                {"Authorization": "Bearer sk-client-wrong-3"},
            ):
                with pytest.raises(websockets.InvalidStatus):
                    await websockets.connect(
                        f"{base}/v1/realtime?model=m", additional_headers=headers
                    )
            with pytest.raises(websockets.InvalidStatus):
                await websockets.connect(f"{base}/v1/realtime?model=m&api-key=sk-query-4")
    finally:
        for name in ("websockets", "rtsdk"):
            logging.getLogger(name).setLevel(logging.NOTSET)
    records = [r for r in caplog.records if r.name.startswith("websockets.server")]
    text = "\n".join(r.getMessage() for r in records)
    assert "Authorization" in text  # the handshake was logged, values hidden
    for secret in ("sk-server-secret-1", "sk-client-wrong-2", "sk-client-wrong-3", "sk-query-4"):
        assert secret not in text

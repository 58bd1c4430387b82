"""Realtime translation sessions on the local server (``/v1/realtime/translations``), driven by a
plain websockets client.

Every frame each translation connection sent is validated, at teardown, against the ``openai``
3.57 types (``RealtimeTranslationServerEvent``, strict, and no key the types do not have, at
any depth).
"""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
import websockets
from openai.types.realtime.realtime_translation_server_event import (
    RealtimeTranslationServerEvent,
)
from pydantic import TypeAdapter
from websockets.sync.client import connect

from rtsdk.testing import (
    Faults,
    LocalRealtimeServer,
    TranslationConnection,
    TranslationOptions,
)
from rtsdk.testing.process import server_process
from rtsdk.testing.translation import upgrade_refusal
from rtsdk.testing.translator import language_name
from tests.test_testing_live import LiveClient, b64, no_extra, silence, tone

SERVER_EVENT: TypeAdapter[Any] = TypeAdapter(RealtimeTranslationServerEvent)
MODEL = "gpt-realtime-translate"
FAST = TranslationOptions(pacing="fast")
APPEND = "session.input_audio_buffer.append"
OUT_AUDIO = "session.output_audio.delta"
OUT_TEXT = "session.output_transcript.delta"
IN_TEXT = "session.input_transcript.delta"
FRAME = 9600  # bytes of one 200 ms engine frame


def check_translation_event(frame: dict[str, Any]) -> None:
    parsed = SERVER_EVENT.validate_python(frame, strict=True)
    no_extra(parsed, frame["type"])
    if frame["type"] == OUT_AUDIO:
        assert (frame["format"], frame["sample_rate"], frame["channels"]) == ("pcm16", 24000, 1)
    if frame["type"] in (OUT_AUDIO, OUT_TEXT, IN_TEXT):
        assert frame["elapsed_ms"] % 200 == 0


def check_translation_sent(conn: TranslationConnection) -> None:
    for frame in conn.sent:
        if isinstance(frame, dict) and not frame["type"].startswith("rtsdk.local"):
            check_translation_event(frame)


@pytest.fixture
async def server() -> AsyncIterator[LocalRealtimeServer]:
    async with LocalRealtimeServer(translation=FAST) as srv:
        yield srv
    for conn in srv.connections:
        assert isinstance(conn, TranslationConnection)
        check_translation_sent(conn)


async def opened(
    srv: LocalRealtimeServer, model: str = MODEL, **session: Any
) -> tuple[LiveClient, TranslationConnection]:
    client = await LiveClient.connect(f"{srv.translation_url}?model={model}")
    await client.until("session.created")
    if session:
        await client.send({"type": "session.update", "session": session})
        await client.until("session.updated")
    conn = srv.connections[-1]
    assert isinstance(conn, TranslationConnection)
    return client, conn


async def append(client: LiveClient, raw: bytes, chunk: int = FRAME, **extra: Any) -> None:
    for i in range(0, len(raw), chunk):
        await client.send({"type": APPEND, "audio": b64(raw[i : i + chunk]), **extra})


async def close_session(client: LiveClient) -> None:
    await client.send({"type": "session.close"})
    await client.until("session.closed")
    assert (await client.closed)[0] == 1000


def text(client: LiveClient, kind: str) -> str:
    return "".join(f["delta"] for f in client.of(kind))


def elapsed(client: LiveClient, kind: str) -> list[int]:
    return [f["elapsed_ms"] for f in client.of(kind)]


TRANSCRIBED: dict[str, Any] = {"audio": {"input": {"transcription": {"model": "gpt-transcribe"}}}}


# -- the session ---------------------------------------------------------------------------------


async def test_created_comes_first_with_the_default_config(server: LocalRealtimeServer) -> None:
    assert server.translation_url == f"ws://127.0.0.1:{server.port}/v1/realtime/translations"
    before = time.time()
    client = await LiveClient.connect(f"{server.translation_url}?model={MODEL}")
    created = await client.until("session.created")
    assert client.frames[0][1] is created and created["event_id"].startswith("event_")
    session = created["session"]
    assert session["id"].startswith("sess_") and session["type"] == "translation"
    assert session["model"] == MODEL
    assert before + 3600 - 2 <= session["expires_at"] <= time.time() + 3600 + 2
    assert session["audio"] == {
        "input": {"noise_reduction": None, "transcription": None},
        "output": {"language": "en"},
    }
    conn = server.connections[0]
    assert isinstance(conn, TranslationConnection) and conn.session == session
    assert conn.model == MODEL and "TranslationConnection #0 open" in repr(conn)
    await close_session(client)


async def test_update_changes_language_transcription_and_noise_reduction(
    server: LocalRealtimeServer,
) -> None:
    client, conn = await opened(server)
    created = client.of("session.created")[0]["session"]
    await client.send(
        {
            "type": "session.update",
            "event_id": "u1",
            "session": {
                "audio": {
                    "input": {
                        "noise_reduction": {"type": "near_field"},
                        "transcription": {"model": "gpt-transcribe"},
                    },
                    "output": {"language": "pt-BR"},
                }
            },
        }
    )
    audio = (await client.until("session.updated"))["session"]["audio"]
    assert audio == {
        "input": {
            "noise_reduction": {"type": "near_field", "strength": 1.0},
            "transcription": {"model": "gpt-transcribe"},
        },
        "output": {"language": "pt-BR"},
    }
    steps = [
        ({"input": {"noise_reduction": {"type": "far_field", "strength": 0.4}}}, 0.4),
        ({"input": {"noise_reduction": {"type": "near_field"}}}, 0.4),  # strength kept
    ]
    for change, strength in steps:
        await client.send({"type": "session.update", "session": {"audio": change}})
        session = (await client.until("session.updated"))["session"]
        assert session["audio"]["input"]["noise_reduction"]["strength"] == strength
    await client.send(
        {
            "type": "session.update",
            "session": {
                "audio": {
                    "input": {"noise_reduction": None, "transcription": None},
                    "output": {"language": None},
                }
            },
        }
    )
    session = (await client.until("session.updated"))["session"]
    assert session == created  # all off again, the default language back
    assert conn.session == session
    await client.send({"type": "session.update", "session": {}})
    assert (await client.until("session.updated"))["session"] == created
    await close_session(client)


@pytest.mark.parametrize(
    ("change", "code", "param"),
    [
        ({"model": "gpt-realtime-2"}, "invalid_value", "session.model"),
        ({"type": "realtime"}, "invalid_value", "session.type"),
        ({"instructions": "be brief"}, "unknown_parameter", "session.instructions"),
        (
            {"audio": {"output": {"voice": "marin"}}},
            "unknown_parameter",
            "session.audio.output.voice",
        ),
        (
            {"audio": {"input": {"transcription": {"model": "m", "language": "fr"}}}},
            "unknown_parameter",
            "session.audio.input.transcription.language",
        ),
        (
            {"audio": {"input": {"noise_reduction": {"type": "studio"}}}},
            "invalid_value",
            "session.audio.input.noise_reduction.type",
        ),
        (
            {"audio": {"input": {"format": {"type": "audio/pcmu"}}}},
            "invalid_value",
            "session.audio.input.format",
        ),
        (
            {"audio": {"output": {"format": {"type": "audio/pcm", "rate": 16000}}}},
            "invalid_value",
            "session.audio.output.format",
        ),
        ({"audio": {"output": {"language": 7}}}, "invalid_type", "session.audio.output.language"),
        (
            {"audio": {"output": {"language": "French please"}}},
            "invalid_value",
            "session.audio.output.language",
        ),
    ],
)
async def test_a_refused_update_names_the_param_and_changes_nothing(
    server: LocalRealtimeServer, change: dict[str, Any], code: str, param: str
) -> None:
    client, conn = await opened(server)
    before = dict(conn.session)
    await client.send({"type": "session.update", "event_id": "bad", "session": change})
    error = (await client.until("error"))["error"]
    assert (error["code"], error["param"], error["event_id"]) == (code, param, "bad")
    assert error["type"] == "invalid_request_error"
    assert conn.session == before and client.of("session.updated") == []
    await client.send(
        {"type": "session.update", "session": {"audio": {"output": {"language": "de"}}}}
    )
    assert (await client.until("session.updated"))["session"]["audio"]["output"]["language"] == "de"
    await close_session(client)


async def test_g711_and_other_formats_are_refused_and_the_session_goes_on(
    server: LocalRealtimeServer,
) -> None:
    client, _ = await opened(server)
    update = {"type": "session.update", "event_id": "g711"}
    await client.send({**update, "session": {"audio": {"input": {"format": "g711_ulaw"}}}})
    error = (await client.until("error"))["error"]
    assert error["param"] == "session.audio.input.format" and "'g711_ulaw'" in error["message"]
    assert "24 kHz PCM16 mono" in error["message"] and error["event_id"] == "g711"
    cases: list[tuple[dict[str, Any], str]] = [
        ({"sample_rate": 8000}, "sample_rate"),
        ({"format": "audio/pcmu"}, "format"),
        ({"channels": 2}, "channels"),
    ]
    for extra, param in cases:
        await append(client, bytes(FRAME), event_id="a1", **extra)
        error = (await client.until("error"))["error"]
        assert (error["param"], error["event_id"]) == (param, "a1")
        assert "24 kHz PCM16 mono" in error["message"]
    bad = [
        ({"type": APPEND, "event_id": "a2", "audio": "%%%"}, "got an invalid value"),
        ({"type": APPEND, "event_id": "a3", "audio": b64(bytes(9601))}, "got 9601 bytes"),
        ({"type": APPEND, "event_id": "a4", "audio": ""}, "got empty bytes"),
    ]
    for event, words in bad:
        await client.send(event)
        error = (await client.until("error"))["error"]
        assert error["param"] == "audio" and words in error["message"]
        assert error["event_id"] == event["event_id"]
    conn = server.connections[0]
    assert isinstance(conn, TranslationConnection)
    assert conn.translation.audio_bytes == 0  # nothing refused was taken
    await append(client, tone(600) + silence(800))  # the session goes on
    await client.until(OUT_TEXT)
    await close_session(client)


# -- engine frames and the translator -----------------------------------------------------------


async def test_short_appends_wait_for_a_whole_frame_and_long_ones_are_split(
    server: LocalRealtimeServer,
) -> None:
    client, conn = await opened(server, **TRANSCRIBED)
    translator = conn.translation.translator
    assert translator is not None
    await append(client, tone(100), chunk=48 * 50)  # 100 ms in 50 ms appends: no frame yet
    await asyncio.sleep(0.05)
    assert translator.frames == 0 and len(conn.translation.pending) == 4800
    assert client.of(OUT_AUDIO) == []
    await append(client, tone(100), chunk=48 * 50)  # the frame is complete
    audio = await client.until(OUT_AUDIO)
    assert audio["elapsed_ms"] == 200 + 400 and translator.frames == 1
    await append(client, tone(1000) + silence(600), chunk=48 * 1600)  # one append, 8 frames
    await client.until(IN_TEXT)
    assert translator.frames == 9 and conn.translation.pending == bytearray()
    await asyncio.sleep(0.05)
    assert elapsed(client, OUT_AUDIO) == list(range(600, 2400, 200))
    deltas = [base64.b64decode(f["delta"]) for f in client.of(OUT_AUDIO)]
    assert {len(d) for d in deltas} == {FRAME}
    played = tone(200) + tone(1000) + silence(600)
    assert b"".join(deltas) == played[: len(b"".join(deltas))]  # the speech, frame by frame
    await close_session(client)


async def test_speech_is_translated_with_both_transcripts_and_close_flushes(
    server: LocalRealtimeServer,
) -> None:
    client, conn = await opened(
        server,
        audio={
            "input": {"transcription": {"model": "gpt-transcribe"}},
            "output": {"language": "fr"},
        },
    )
    # 200 ms of silence, 1 s of speech, 800 ms of silence, then 300 ms of speech left at close
    await append(client, silence(200) + tone(1000) + silence(800) + tone(300))
    assert (await client.until(IN_TEXT)) == {
        **client.of(IN_TEXT)[0],
        "delta": "[source] speech 1.0 s",
        "elapsed_ms": 1800,  # the frame where 500 ms of silence ended the utterance
    }
    await client.until(OUT_TEXT, timeout=5)
    await asyncio.sleep(0.05)
    first = client.of(OUT_TEXT)
    assert first[0]["delta"] == "[fr] French (local translator, not a model):"
    assert first[0]["elapsed_ms"] == 400 + 400  # the first voiced frame, 400 ms lag
    assert first[1] == {**first[1], "delta": " speech 1.0 s.", "elapsed_ms": 1800 + 400}
    pending = len(conn.translation.pending)
    assert pending == 4800  # 100 ms of the last tone waits for its frame
    await client.send({"type": "session.close"})
    await client.until("session.closed")
    assert text(client, IN_TEXT) == "[source] speech 1.0 s [source] speech 0.3 s"
    assert text(client, OUT_TEXT) == (
        "[fr] French (local translator, not a model): speech 1.0 s."
        " [fr] French (local translator, not a model): speech 0.3 s."
    )
    kinds = [f["type"] for _, f in client.frames]
    assert kinds[-1] == "session.closed" and kinds.count("session.closed") == 1
    last_audio = client.of(OUT_AUDIO)[-1]
    assert len(base64.b64decode(last_audio["delta"])) == pending  # the partial frame, as it was
    assert last_audio["elapsed_ms"] == 2400 + 400  # 11 frames, then the partial one
    assert (await client.closed)[0] == 1000
    assert conn.translation.translator is not None
    assert conn.translation.translator.utterances == 2


async def test_no_source_transcript_unless_configured_and_silence_is_not_played(
    server: LocalRealtimeServer,
) -> None:
    client, _ = await opened(server)
    await append(client, silence(1000))
    await append(client, tone(400) + silence(600))
    await client.until(OUT_TEXT)
    await close_session(client)
    assert client.of(IN_TEXT) == []
    assert elapsed(client, OUT_AUDIO)[0] == 1200 + 400  # nothing for the silence before
    assert text(client, OUT_TEXT).startswith("[en] English")


async def test_close_with_nothing_pending_closes_at_once_and_ignores_later_events(
    server: LocalRealtimeServer,
) -> None:
    client, conn = await opened(server)
    await client.send({"type": "session.close", "event_id": "bye"})
    await client.send({"type": "session.update", "session": {}})
    await client.until("session.closed")
    assert (await client.closed) == (1000, "session closed")
    assert [f["type"] for _, f in client.frames] == ["session.created", "session.closed"]
    assert conn.translation.closed


async def test_the_lag_is_an_option_and_realtime_pacing_holds_output_back() -> None:
    options = TranslationOptions(lag_ms=600, pacing="realtime")
    async with LocalRealtimeServer(translation=options) as srv:
        client, _ = await opened(srv)
        sent = time.monotonic()
        await append(client, tone(400) + silence(600))  # 5 frames at once
        first = await client.until(OUT_AUDIO)
        arrived = next(t for t, f in client.frames if f is first)
        assert 0.55 <= arrived - sent < 1.2  # 600 ms behind its frame
        assert first["elapsed_ms"] == 200 + 600
        await client.until(OUT_TEXT)
        await client.until(OUT_TEXT, timeout=5)  # the utterance's end, with its last frame
        times = [t for t, f in client.frames if f["type"] == OUT_AUDIO]
        assert len(times) == 5 and times[-1] - times[0] >= 0.75  # no faster than it plays
        await close_session(client)
        check_translation_sent(srv.connections[0])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="multiple of 200"):
        TranslationOptions(lag_ms=300)
    with pytest.raises(ValueError, match="pacing"):
        TranslationOptions(pacing="slow")
    with pytest.raises(ValueError, match="language"):
        TranslationOptions(language="French")


async def test_close_sends_the_waiting_output_at_once() -> None:
    async with LocalRealtimeServer(translation=TranslationOptions(lag_ms=2000)) as srv:
        client, _ = await opened(srv)
        await append(client, tone(800) + silence(600))
        await asyncio.sleep(0.2)
        assert client.of(OUT_AUDIO) == []  # 2 s of lag, real time: nothing yet
        started = time.monotonic()
        await client.send({"type": "session.close"})
        await client.until("session.closed")
        assert time.monotonic() - started < 1.0
        assert len(client.of(OUT_AUDIO)) == 7 and text(client, OUT_TEXT).endswith("0.8 s.")
        check_translation_sent(srv.connections[0])  # type: ignore[arg-type]


def test_language_names() -> None:
    assert language_name("fr") == "French" and language_name("pt-BR") == "Portuguese"
    assert language_name("zh_Hant") == "Chinese" and language_name("tlh") == "tlh"


# -- the upgrade, auth and faults ---------------------------------------------------------------


async def test_paths_models_and_keys_at_the_upgrade() -> None:
    async with LocalRealtimeServer(api_key="sk-t", translation=FAST) as srv:
        base = f"ws://127.0.0.1:{srv.port}"
        good = {"Authorization": "Bearer sk-t"}
        refused = [
            ("/v1/realtime/translations", good, 400, "missing_model"),
            ("/v1/realtime/translations?model=gpt-realtime-2", good, 400, "model_not_found"),
            ("/v1/realtime/translations?model=my-deployment", good, 400, "model_not_found"),
            (f"/v1/realtime/translations?model={MODEL}&intent=x", good, 400, "invalid_value"),
            (f"/v1/realtime/translations?model={MODEL}", {}, 401, None),
            (f"/v1/realtime/translations?model={MODEL}", {"api-key": "no"}, 401, "invalid_api_key"),
            ("/openai/v1/realtime/translations?model=gpt-live-1", good, 400, "model_not_found"),
        ]
        for path, headers, status, code in refused:
            with pytest.raises(websockets.InvalidStatus) as info:
                await websockets.connect(base + path, additional_headers=headers)
            response = info.value.response
            assert response.status_code == status, path
            assert response.headers["Content-Type"] == "application/json"
            body = response.body.decode()
            assert (f'"code": "{code}"' if code else '"code": null') in body, body
        opened_ok = [
            (f"/v1/realtime/translations?model={MODEL}", good),
            ("/v1/realtime/translations?model=gpt-realtime-translate-2026-05-01", good),
            ("/openai/v1/realtime/translations?model=my-deployment", {"api-key": "sk-t"}),
        ]
        for path, headers in opened_ok:
            client = await LiveClient.connect(base + path, headers)
            created = await client.until("session.created")
            assert created["session"]["model"] == path.split("model=")[1]
            await close_session(client)
        assert len(srv.connections) == 3 and len(srv.refused) == len(refused)
        for conn in srv.connections:
            check_translation_sent(conn)  # type: ignore[arg-type]
    assert upgrade_refusal("/v1/realtime/translations", MODEL, None) is None


async def test_faults_apply_to_translation_sessions() -> None:
    async with LocalRealtimeServer(translation=FAST) as srv:
        url = f"{srv.translation_url}?model={MODEL}"
        srv.faults_for_next_connections(Faults(refuse_auth="error_event"))
        client = await LiveClient.connect(url)
        error = (await client.until("error"))["error"]
        assert error["code"] == "invalid_api_key" and (await client.closed)[0] == 1008
        assert client.of("session.created") == []
        srv.faults_for_next_connections(Faults(refuse_auth=True))
        with pytest.raises(websockets.InvalidStatus):
            await websockets.connect(url)
        srv.faults_for_next_connections(Faults(session_max_seconds=0.3))
        client = await LiveClient.connect(url)
        await client.until("session.created")
        error = (await client.until("error"))["error"]
        assert error["code"] == "session_expired" and "0.3 seconds" in error["message"]
        await client.until("session.closed")
        assert (await client.closed) == (1000, "session expired")
        srv.faults_for_next_connections(Faults(garbage_after_frames=1, garbage="error_event"))
        client = await LiveClient.connect(url)
        error = (await client.until("error"))["error"]
        assert (error["type"], error["event_id"]) == ("server_error", None)
        await close_session(client)
        srv.faults_for_next_connections(Faults(drop_after_frames=2))
        client = await LiveClient.connect(url)
        await append(client, tone(400))
        assert (await client.closed)[0] == 1006
        srv.faults_for_next_connections(Faults(stall_after_frames=1, stall_seconds=0.3))
        client = await LiveClient.connect(url)
        await client.send({"type": "session.update", "session": {}})
        await client.until("session.updated")
        assert client.frames[1][0] - client.frames[0][0] >= 0.25
        await close_session(client)
        for conn in srv.connections:
            check_translation_sent(conn)  # type: ignore[arg-type]


async def test_frames_that_are_no_event_and_unknown_types(server: LocalRealtimeServer) -> None:
    client, _ = await opened(server)
    await client.ws.send(b"\x00\x01")
    assert (await client.until("error"))["error"]["code"] == "invalid_event"
    await client.ws.send("{oops")
    assert (await client.until("error"))["error"]["code"] == "invalid_json"
    await client.send({"type": "response.create", "event_id": "r1"})
    error = (await client.until("error"))["error"]
    assert (error["param"], error["event_id"]) == ("type", "r1")
    assert "'session.input_audio_buffer.append'" in error["message"]
    await close_session(client)


async def test_record_audio_false_counts_translation_audio_without_keeping_it() -> None:
    async with LocalRealtimeServer(translation=FAST, record_audio=False) as srv:
        client, conn = await opened(srv)
        await append(client, tone(400) + silence(600))
        await client.until(OUT_TEXT)
        await close_session(client)
        assert conn.counts_received[APPEND] == 5 and conn.counts_sent[OUT_AUDIO] >= 2
        kinds = {f["type"] for f in conn.sent + conn.received if isinstance(f, dict)}
        assert APPEND not in kinds and OUT_AUDIO not in kinds


def test_serve_prints_the_translation_url_on_a_third_line() -> None:
    with server_process("--pacing", "fast") as (proc, realtime):
        assert proc.stdout is not None
        base = realtime.removesuffix("/realtime")
        assert proc.stdout.readline().startswith(f"base URL {base} ")
        url = f"{base}/realtime/translations?model={MODEL}"
        assert proc.stdout.readline().strip() == f"Realtime translation: {url}"
        with connect(url) as ws:
            assert '"session.created"' in ws.recv(5)
            ws.send('{"type": "session.close"}')
            assert '"session.closed"' in ws.recv(5)
    assert proc.returncode == 0

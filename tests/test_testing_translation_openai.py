"""The ``openai`` 3.57 package's own Realtime translation client against the local server.

``AsyncOpenAI(base_url="http://127.0.0.1:PORT/v1")`` makes
``client.realtime.translations.connect(model=...)`` open
``ws://127.0.0.1:PORT/v1/realtime/translations?model=...``; the session is driven through the
SDK's typed resources (``session.update``, ``session.input_audio_buffer.append``,
``session.close``) and read back as the SDK's typed events. The package's managed
``AsyncTranslationSession`` (which validates ``session.closed`` strictly) completes one too.
"""

from __future__ import annotations

import asyncio
import base64
from typing import Any

import openai
from openai.lib.realtime_translation import AsyncTranslationSession
from openai.types.realtime import (
    RealtimeTranslationInputTranscriptDeltaEvent,
    RealtimeTranslationOutputAudioDeltaEvent,
    RealtimeTranslationOutputTranscriptDeltaEvent,
    RealtimeTranslationSessionClosedEvent,
    RealtimeTranslationSessionCreatedEvent,
    RealtimeTranslationSessionUpdatedEvent,
)

from rtsdk.testing import LocalRealtimeServer, TranslationConnection, TranslationOptions
from tests.test_testing_live import silence, tone
from tests.test_testing_live_openai import _until
from tests.test_testing_translation import MODEL, check_translation_sent

FAST = TranslationOptions(pacing="fast")


def _chunks(raw: bytes, size: int = 9600) -> list[str]:
    return [base64.b64encode(raw[i : i + size]).decode() for i in range(0, len(raw), size)]


async def test_the_openai_translation_client_completes_a_session() -> None:
    async with LocalRealtimeServer(api_key="sk-oai", translation=FAST) as srv:
        client = openai.AsyncOpenAI(api_key="sk-oai", base_url=f"http://127.0.0.1:{srv.port}/v1")
        seen: list[Any] = []
        async with client.realtime.translations.connect(model=MODEL) as connection:
            created = await _until(connection, "session.created", seen)
            assert isinstance(created, RealtimeTranslationSessionCreatedEvent)
            assert created.session.model == MODEL and created.session.type == "translation"
            await connection.session.update(
                session={
                    "audio": {
                        "input": {"transcription": {"model": "gpt-transcribe"}},
                        "output": {"language": "es"},
                    }
                },
                event_id="u1",
            )
            updated = await _until(connection, "session.updated", seen)
            assert isinstance(updated, RealtimeTranslationSessionUpdatedEvent)
            assert updated.session.audio.output is not None
            assert updated.session.audio.output.language == "es"
            for chunk in _chunks(tone(800) + silence(600) + tone(300)):
                await connection.session.input_audio_buffer.append(audio=chunk)
            await _until(connection, "session.input_transcript.delta", seen)
            await connection.session.close(event_id="bye")
            closed = await _until(connection, "session.closed", seen)
        assert isinstance(closed, RealtimeTranslationSessionClosedEvent)
        source = [e for e in seen if isinstance(e, RealtimeTranslationInputTranscriptDeltaEvent)]
        assert "".join(e.delta for e in source) == "[source] speech 0.8 s [source] speech 0.3 s"
        said = [e for e in seen if isinstance(e, RealtimeTranslationOutputTranscriptDeltaEvent)]
        assert "".join(e.delta for e in said).startswith("[es] Spanish")
        audio = [e for e in seen if isinstance(e, RealtimeTranslationOutputAudioDeltaEvent)]
        assert {(e.format, e.sample_rate, e.channels) for e in audio} == {("pcm16", 24000, 1)}
        assert sum(len(base64.b64decode(e.delta)) for e in audio) >= 48 * 1100
        conn = srv.connections[0]
        assert isinstance(conn, TranslationConnection)
        assert conn.path == f"/v1/realtime/translations?model={MODEL}"
        assert conn.headers["Authorization"] == "Bearer sk-oai"
        check_translation_sent(conn)


async def test_the_openai_managed_translation_session_ends_at_session_closed() -> None:
    async with LocalRealtimeServer(translation=FAST) as srv:
        client = openai.AsyncOpenAI(api_key="x", base_url=f"http://127.0.0.1:{srv.port}/v1")
        seen: list[Any] = []
        async with AsyncTranslationSession(client.realtime.translations, model=MODEL) as session:
            await session.send(
                {"type": "session.update", "session": {"audio": {"output": {"language": "fr"}}}}
            )
            for chunk in _chunks(tone(400) + silence(200)):
                await session.send({"type": "session.input_audio_buffer.append", "audio": chunk})
            await session.send({"type": "session.close"})
            while True:
                event = await asyncio.wait_for(session.recv(), 5)
                seen.append(event)
                if isinstance(event, RealtimeTranslationSessionClosedEvent):
                    break
        kinds = [e.type for e in seen]
        assert kinds[:2] == ["session.created", "session.updated"]
        assert kinds.count("session.output_audio.delta") == 3  # flushed: 400 ms of speech + 200
        said = "".join(e.delta for e in seen if e.type == "session.output_transcript.delta")
        assert said == "[fr] French (local translator, not a model): speech 0.4 s."
        check_translation_sent(srv.connections[0])  # type: ignore[arg-type]

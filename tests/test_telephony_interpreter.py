"""The phone interpreter: a carrier call bridged to a translation session (transcoded both
ways), against the local server's translator and a simulated carrier caller."""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np

from rtsdk import kernels
from rtsdk.session.options import RealtimeAIOptions
from rtsdk.telephony import PhoneServer
from rtsdk.telephony.interpreter import InterpreterCall
from rtsdk.testing import LocalRealtimeServer, TranslationOptions
from rtsdk.testing.caller import SimulatedCaller, ulaw_from_wav

from .conftest import REALTIME_ONCE

ROOT = Path(__file__).resolve().parents[1]
BUNDLED = ROOT / "samples" / "assets" / "hello.wav"


@REALTIME_ONCE
async def test_the_caller_hears_the_translation_of_what_they_said() -> None:
    said = ulaw_from_wav(BUNDLED)
    async with LocalRealtimeServer(translation=TranslationOptions(pacing="realtime")) as rt:
        options = RealtimeAIOptions(
            session_type="translation",
            target_language="fr",
            source_transcription_model="gpt-transcribe",
            url=rt.base_url,
        )
        async with PhoneServer(options) as phone:
            async with SimulatedCaller(phone.url + "/media") as caller:
                caller.say(said)
                await caller.wait_spoken()
                calls = list(phone.calls)
                await caller.wait_heard(len(said) / 8 * 0.6, timeout=20)
                await asyncio.sleep(0.3)
            await asyncio.sleep(0.3)
        conn = rt.connections[0]
    # the session was a translation session, fed 24 kHz PCM16 in 200 ms appends
    assert conn.received[0]["type"] == "session.update"
    appends = [f for f in conn.received if f.get("type") == "session.input_audio_buffer.append"]
    assert appends and len(appends[0]["audio"]) * 3 // 4 == 24000 * 2 // 5
    # what the caller heard is their speech played back by the translator (μ-law 8 kHz)
    heard = kernels.ulaw_to_pcm16(np.frombuffer(bytes(caller.recording), np.uint8))
    spoken = kernels.ulaw_to_pcm16(np.frombuffer(said, np.uint8))
    loud_heard = np.count_nonzero(np.abs(heard.astype(np.int32)) > 600)
    loud_said = np.count_nonzero(np.abs(spoken.astype(np.int32)) > 600)
    assert loud_heard >= 0.6 * loud_said
    assert len(calls) == 1 and isinstance(calls[0], InterpreterCall)
    assert not calls[0].stats.errors

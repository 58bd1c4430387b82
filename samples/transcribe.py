"""rtsdk sample: live captions from a transcription session (no assistant, just text).

    python samples/transcribe.py                          # the microphone
    python samples/transcribe.py --input talk.wav --output transcript.jsonl
    python samples/transcribe.py --url ws://127.0.0.1:8765/v1/realtime --language en

The current turn's caption is one line, rewritten in place as the words arrive; each finished
turn is kept as a line of its own with where it sits in the audio. ``--output FILE.jsonl``
writes one JSON object per finished turn (item id, text, start/end ms, language, and the
log probabilities with ``--logprobs``).

Where it talks to: as ``samples/main.py`` (``OPENAI_API_KEY``, Azure settings, ``--url``, or
else the local Realtime server started in this process, which has no speech recogniser: its
captions describe the audio it heard and say so). Without a microphone the bundled
``samples/assets/hello.wav`` is transcribed. Ctrl-C ends it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sys
from pathlib import Path
from typing import IO, Any

from main import (
    BUNDLED_WAV,
    Console,
    azure_settings,
    devices_present,
    local_server_unless_keyed,
    stop_on_signals,
)

from rtsdk import AsyncRealtimeAIClient, RealtimeAIOptions, RealtimeEventHandler
from rtsdk.audio import AudioStreamOptions, WavSource
from rtsdk.client.transcripts import Transcript
from rtsdk.exceptions import RtsdkError
from rtsdk.models import DEFAULT_TRANSCRIPTION_MODEL


class Captions(RealtimeEventHandler):
    """The caption being spoken, as one line redrawn in place."""

    def __init__(self, console: Console) -> None:
        self.c = console
        self.partial: dict[str, str] = {}
        self.pending: set[str] = set()  # turns committed, transcript not out yet
        self.speaking = False

    def on_connected(self, event: Any) -> None:
        self.c.state = "listening"
        self.c.line(f"connected to {event.url} (transcription session)")

    def on_input_audio_buffer_speech_started(self, event: Any) -> None:
        self.speaking = True
        self.c.state = "hearing you"
        self.c.status()

    def on_input_audio_buffer_speech_stopped(self, event: Any) -> None:
        self.speaking = False
        self.c.state = "transcribing"
        self.c.status()

    def on_input_audio_buffer_committed(self, event: Any) -> None:
        self.pending.add(event.item_id)

    def on_conversation_item_input_audio_transcription_delta(self, event: Any) -> None:
        text = self.partial.get(event.item_id, "") + (event.delta or "")
        self.partial[event.item_id] = text
        if self.c.tty:
            width = shutil.get_terminal_size().columns - 5
            sys.stdout.write(f"\r\x1b[2K  … {text[-width:]}")
            sys.stdout.flush()

    def on_error(self, event: Any) -> None:
        err = event.error if isinstance(event.error, dict) else {}
        self.c.line(f"server error: {err.get('code') or err.get('type')}: {err.get('message')}")

    def on_disconnected(self, event: Any) -> None:
        if event.error is not None:
            self.c.line(f"disconnected: {event.reason}")


def _stamp(ms: int | None) -> str:
    if ms is None:
        return "  --:--.-"
    return f"{ms // 60000:4d}:{ms % 60000 / 1000:04.1f}"


def show(console: Console, captions: Captions, t: Transcript, out: IO[str] | None) -> None:
    """A finished turn: its line kept on screen, its record in the JSONL file."""
    captions.partial.pop(t.item_id, None)
    captions.pending.discard(t.item_id)
    text = t.text.strip() if t.ok else f"(not transcribed: {(t.error or {}).get('message')})"
    console.line(f"[{_stamp(t.start_ms)} - {_stamp(t.end_ms)}] {text}")
    if out is not None:
        out.write(json.dumps(t.to_dict(), ensure_ascii=False) + "\n")
        out.flush()


def build_options(args: argparse.Namespace, url: str | None) -> RealtimeAIOptions:
    common: dict[str, Any] = {
        "session_type": "transcription",
        "transcription_model": args.model,
        "language": args.language,
        "include_logprobs": args.logprobs,
        "turn_detection": "server_vad",
        "silence_duration_ms": args.silence_ms,
    }
    if url is not None:
        return RealtimeAIOptions(url=url, **common)
    azure = azure_settings(args.model)
    return RealtimeAIOptions(**(azure or {}), **common)


async def run(args: argparse.Namespace) -> int:
    console = Console()
    loop = asyncio.get_running_loop()
    stop = stop_on_signals(loop)
    server, url = await local_server_unless_keyed(
        args.url,
        console,
        "It is not a speech recogniser: its captions describe the audio it heard.",
    )
    source = None
    if args.input:
        source = WavSource(args.input, realtime=True, append_silence_ms=1500)
    else:
        has_in, _, why = devices_present()
        if not has_in:
            console.line(f"No microphone ({why}): transcribing the bundled {BUNDLED_WAV.name}.")
            source = WavSource(BUNDLED_WAV, realtime=True, append_silence_ms=1500)
    captions = Captions(console)
    client = AsyncRealtimeAIClient(
        build_options(args, url),
        event_handler=captions,
        stream_options=AudioStreamOptions(
            input_device=None if source is not None else "default", output_device=None
        ),
        audio_source=source,
    )
    out = open(args.output, "w", encoding="utf-8") if args.output else None  # noqa: SIM115
    turns = 0
    try:
        try:
            await client.start()
        except RtsdkError as exc:
            console.line(f"could not start: {type(exc).__name__}: {exc}")
            return 1

        async def captions_loop() -> None:
            nonlocal turns
            async for transcript in client.transcripts():
                show(console, captions, transcript, out)
                turns += 1

        async def file_done() -> None:
            audio = client.audio
            assert audio is not None
            await audio.wait_input_ended()
            # the file's trailing silence ends its last turn: wait for every transcript
            quiet_since = loop.time()
            while loop.time() - quiet_since < 0.5:
                await asyncio.sleep(0.05)
                if captions.speaking or captions.pending:
                    quiet_since = loop.time()

        waits = [
            loop.create_task(stop.wait()),
            loop.create_task(client.wait_closed()),
            loop.create_task(captions_loop()),
        ]
        if source is not None:
            waits.append(loop.create_task(file_done()))
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        for task in waits:
            task.cancel()
        if client.failure is not None:
            console.line(f"session failed: {client.failure}")
            return 1
    finally:
        await client.stop(timeout=1.0)
        if server is not None:
            await server.stop()
        if out is not None:
            out.close()
        if console.tty:
            sys.stdout.write("\n")
        console.line(
            f"{turns} turn(s) transcribed" + (f", written to {args.output}" if out else "")
        )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="rtsdk live captions (transcription session)")
    parser.add_argument("--input", help="a WAV file to transcribe instead of the microphone")
    parser.add_argument("--output", help="write one JSON object per finished turn here (.jsonl)")
    parser.add_argument("--url", help="a ws:// Realtime endpoint (e.g. python -m rtsdk serve)")
    parser.add_argument(
        "--model", default=DEFAULT_TRANSCRIPTION_MODEL, help="the transcription model"
    )
    parser.add_argument("--language", default=None, help="ISO-639-1 hint, e.g. en")
    parser.add_argument("--logprobs", action="store_true", help="log probabilities in --output")
    parser.add_argument("--silence-ms", type=int, default=500, help="silence that ends a turn")
    args = parser.parse_args(argv)
    if args.input and not Path(args.input).is_file():
        parser.error(f"--input {args.input}: no such file")
    try:
        return asyncio.run(run(args))
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())

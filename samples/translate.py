"""rtsdk sample: live speech translation (a Realtime translation session).

    python samples/translate.py --to fr                   # microphone -> French on the speakers
    python samples/translate.py --to de --input talk.wav --output talk-de.wav
    python samples/translate.py --url ws://127.0.0.1:8765/v1 --to es

What you say is translated as you speak (continuous interpretation, not turn by turn): the
translated speech plays on the speakers (or goes to ``--output``), and both transcripts are
shown side by side, each line with where it sits in the input. Ctrl-C (or the end of the
``--input`` file) ends it; the session flushes what is still being translated first.

Where it talks to: as ``samples/main.py`` (``OPENAI_API_KEY``, Azure settings, ``--url``, or
else the local server started in this process, whose "translation" plays the speech back
tagged with the language and says so). Without a microphone the bundled
``samples/assets/hello.wav`` is the input; without a speaker the translation goes to
``rtsdk-translation.wav``.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
import textwrap
from typing import Any

from main import (
    BUNDLED_WAV,
    Console,
    azure_settings,
    devices_present,
    local_server_unless_keyed,
    stop_on_signals,
)

from rtsdk import AsyncRealtimeAIClient, LiveEventHandler, RealtimeAIOptions
from rtsdk.audio import AudioStreamOptions, WavSink, WavSource
from rtsdk.client.live_transcripts import TranscriptLine
from rtsdk.exceptions import RtsdkError
from rtsdk.models import DEFAULT_TRANSCRIPTION_MODEL, DEFAULT_TRANSLATION_MODEL

DEFAULT_OUTPUT = "rtsdk-translation.wav"


class Status(LiveEventHandler):
    """Connection and errors (the transcripts come through ``client.transcripts()``)."""

    def __init__(self, console: Console) -> None:
        self.c = console

    def on_connected(self, event: Any) -> None:
        self.c.state = "translating"
        self.c.line(f"connected to {event.url}")

    def on_reconnecting(self, event: Any) -> None:
        self.c.line(f"connection lost; reconnecting (attempt {event.attempt}) ...")

    def on_error(self, event: Any) -> None:
        err = event.error if isinstance(event.error, dict) else {}
        self.c.line(f"server error: {err.get('code') or err.get('type')}: {err.get('message')}")

    def on_disconnected(self, event: Any) -> None:
        if event.error is not None:
            self.c.line(f"disconnected: {event.reason}")


def _stamp(ms: int) -> str:
    return f"{ms // 60000:2d}:{ms % 60000 / 1000:04.1f}"


def side_by_side(line: TranscriptLine) -> str:
    """One transcript line, wrapped in its column: the source on the left, the translation on
    the right."""
    half = max(20, (shutil.get_terminal_size().columns - 9) // 2)
    rows = textwrap.wrap(line.text.strip(), half - 1) or [""]
    indent = "" if line.speaker == "source" else " " * half
    stamps = [_stamp(line.start_ms)] + [" " * 7] * (len(rows) - 1)
    return "\n".join(f"{stamp} {indent}{row}" for stamp, row in zip(stamps, rows, strict=True))


def build_options(args: argparse.Namespace, url: str | None) -> RealtimeAIOptions:
    common: dict[str, Any] = {
        "session_type": "translation",
        "target_language": args.to,
        "source_transcription_model": args.transcription_model,
    }
    if url is not None:
        return RealtimeAIOptions(url=url, model=args.model, **common)
    azure = azure_settings(args.model)
    if azure is not None:
        azure.pop("api_version", None)  # translation sessions use the v1 path
        return RealtimeAIOptions(**azure, **common)
    return RealtimeAIOptions(model=args.model, **common)


async def run(args: argparse.Namespace) -> int:
    console = Console()
    loop = asyncio.get_running_loop()
    stop = stop_on_signals(loop)
    server, url = await local_server_unless_keyed(
        args.url,
        console,
        "It is not a translator: it plays your speech back, tagged with the language.",
    )
    has_in, has_out, why = devices_present()
    source = sink = None
    if args.input:
        source = WavSource(args.input, realtime=True, append_silence_ms=1500)
    elif not has_in:
        console.line(f"No microphone ({why}): translating the bundled {BUNDLED_WAV.name}.")
        source = WavSource(BUNDLED_WAV, realtime=True, append_silence_ms=1500)
    output = args.output or (None if has_out else DEFAULT_OUTPUT)
    if output is not None:
        if args.output is None:
            console.line(f"No speaker ({why}): the translation goes to {output}.")
        sink = WavSink(output, realtime=True)
    client = AsyncRealtimeAIClient(
        build_options(args, url),
        event_handler=Status(console),
        stream_options=AudioStreamOptions(
            input_device=None if source is not None else "default",
            output_device=None if sink is not None else "default",
        ),
        audio_source=source,
        audio_sink=sink,
    )
    lines = 0
    try:
        try:
            await client.start()
        except RtsdkError as exc:
            console.line(f"could not start: {type(exc).__name__}: {exc}")
            return 1

        async def show() -> None:
            nonlocal lines
            async for line in client.transcripts():
                console.line(side_by_side(line))
                lines += 1

        shower = loop.create_task(show())
        ends = [loop.create_task(stop.wait()), loop.create_task(client.wait_closed())]
        if source is not None:
            audio = client.audio
            assert audio is not None
            ends.append(loop.create_task(audio.wait_input_ended()))
        await asyncio.wait(ends, return_when=asyncio.FIRST_COMPLETED)
        for task in ends:
            task.cancel()
        if client.failure is not None:
            console.line(f"session failed: {client.failure}")
            return 1
        # the session flushes what is still being translated; the last lines come meanwhile
        await client.stop(timeout=8.0)
        await asyncio.wait_for(shower, 2.0)
    except asyncio.TimeoutError:
        pass
    finally:
        await client.stop(timeout=1.0)
        if server is not None:
            await server.stop()
        if console.tty:
            sys.stdout.write("\n")
        console.line(
            f"{lines} transcript line(s)" + (f"; translation written to {output}" if output else "")
        )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="rtsdk live speech translation")
    parser.add_argument("--to", required=True, help="the target language, e.g. fr, de, pt-BR")
    parser.add_argument("--input", help="a WAV file to translate instead of the microphone")
    parser.add_argument("--output", help="a WAV file to write the translation to")
    parser.add_argument(
        "--url", help="a ws:// API base, e.g. ws://127.0.0.1:8765/v1 (python -m rtsdk serve)"
    )
    parser.add_argument("--model", default=DEFAULT_TRANSLATION_MODEL)
    parser.add_argument(
        "--transcription-model",
        default=DEFAULT_TRANSCRIPTION_MODEL,
        help="transcribes the source speech for the left column",
    )
    args = parser.parse_args(argv)
    try:
        return asyncio.run(run(args))
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())

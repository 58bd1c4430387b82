"""rtsdk sample: microphone -> assistant -> speakers, with live levels, transcripts and latency.

    python samples/main.py                      # devices, OpenAI if OPENAI_API_KEY is set
    python samples/main.py --input in.wav --output out.wav
    python samples/main.py --model gpt-live-1   # GPT-Live: the same audio, one stream
    python samples/main.py --url ws://127.0.0.1:8765/v1

Where it talks to:
- ``OPENAI_API_KEY`` set: the OpenAI service (``--model`` picks the model, and with it the API:
  the Realtime API, or GPT-Live for ``gpt-live-1`` / ``gpt-live-1.1``);
- ``AZURE_OPENAI_ENDPOINT`` + ``AZURE_OPENAI_DEPLOYMENT`` (+ ``AZURE_OPENAI_API_KEY``): Azure;
- neither: the local server (``rtsdk.testing``, both APIs) started in this process. It is an
  echo, not a model: it repeats what it hears and says so.

Audio: the default microphone and speakers. ``--input FILE.wav`` / ``--output FILE.wav``
replace them; where no audio device exists, the bundled ``samples/assets/hello.wav`` is the
input and the assistant goes to ``rtsdk-output.wav``. Ctrl-C ends it within a second.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

from rtsdk import AsyncRealtimeAIClient, RealtimeAIOptions, RealtimeEventHandler
from rtsdk.audio import AudioStreamOptions, WavSink, WavSource, list_devices
from rtsdk.exceptions import AudioDeviceError, RtsdkError
from rtsdk.models import DEFAULT_MODEL, DEFAULT_TRANSCRIPTION_MODEL, REASONING_EFFORTS, api_of

HERE = Path(__file__).resolve().parent
BUNDLED_WAV = HERE / "assets" / "hello.wav"
DEFAULT_OUTPUT = "rtsdk-output.wav"


class Console:
    """One status line (level meter, state) redrawn in place on a terminal; plain lines else."""

    def __init__(self) -> None:
        self.tty = sys.stdout.isatty()
        self.state = "connecting"
        self.level = -120.0
        self.echo = ""  # echo cancellation in the status line: "AEC 31 dB", "AEC off"
        self._open_line = False  # a transcript line is being written
        self._notes: list[str] = []

    def status(self) -> None:
        if not self.tty:
            return
        bars = max(0, min(30, int((self.level + 60) / 2)))
        meter = "#" * bars + "." * (30 - bars)
        echo = f"  {self.echo}" if self.echo else ""
        sys.stdout.write(f"\r\x1b[2K  mic [{meter}] {self.level:6.1f} dBFS{echo}  {self.state}")
        sys.stdout.flush()

    def note(self, text: str) -> None:
        """A line that waits for the transcript being streamed to end."""
        if self._open_line:
            self._notes.append(text)
        else:
            self.line(text)

    def line(self, text: str) -> None:
        if self.tty:
            sys.stdout.write("\r\x1b[2K")
        if self._open_line:
            sys.stdout.write("\n")
            self._open_line = False
        sys.stdout.write(text + "\n")
        sys.stdout.flush()
        self.status()

    def stream(self, prefix: str, text: str) -> None:
        if not self._open_line:
            if self.tty:
                sys.stdout.write("\r\x1b[2K")
            sys.stdout.write(prefix)
            self._open_line = True
        sys.stdout.write(text)
        sys.stdout.flush()

    def end_stream(self) -> None:
        if self._open_line:
            sys.stdout.write("\n")
            self._open_line = False
            self.status()
        notes, self._notes = self._notes, []
        for text in notes:
            self.line(text)


class Display(RealtimeEventHandler):
    """Shows what happens: states, transcripts as they stream, latency per turn."""

    def __init__(self, console: Console) -> None:
        self.c = console
        self.speech_end: float | None = None
        self.first_audio: float | None = None
        self.responses_done = 0
        self.response_active = False
        self.audio: Any = None  # the AudioStreamManager, once started
        self._played_at_first_audio = 0
        self._live_speaker: str | None = None

    def on_connected(self, event: Any) -> None:
        self.c.state = "listening"
        self.c.line(f"connected to {event.url}")

    def on_reconnecting(self, event: Any) -> None:
        self.c.line(f"connection lost; reconnecting (attempt {event.attempt}) ...")

    def on_reconnected(self, event: Any) -> None:
        self.c.line("reconnected; session restored")

    def on_disconnected(self, event: Any) -> None:
        self.c.state = "disconnected"
        if event.error is not None:
            self.c.line(f"disconnected: {event.reason}")

    def on_input_audio_buffer_speech_started(self, event: Any) -> None:
        self.c.state = "hearing you"
        self.c.end_stream()
        self.c.status()

    def on_input_audio_buffer_speech_stopped(self, event: Any) -> None:
        self.speech_end = time.monotonic()
        self.first_audio = None
        self.c.state = "thinking"
        self.c.status()

    def on_conversation_item_input_audio_transcription_completed(self, event: Any) -> None:
        self.c.line(f"you: {event.transcript.strip()}")

    def on_response_created(self, event: Any) -> None:
        self.response_active = True

    def on_response_output_audio_delta(self, event: Any) -> None:
        if self.first_audio is None:
            self.first_audio = time.monotonic()
            self.c.state = "speaking"
            if self.audio is not None:
                self._played_at_first_audio = self.audio.stats.played_samples
                asyncio.get_running_loop().create_task(self._watch_first_played())
            self.c.status()

    async def _watch_first_played(self) -> None:
        start = self.speech_end
        if start is None or self.audio is None:
            return
        for _ in range(200):
            if self.audio.stats.played_samples > self._played_at_first_audio:
                played = time.monotonic() - start + self.audio.output_latency
                first = (self.first_audio or time.monotonic()) - start
                self.c.note(
                    f"  latency: speech end -> first audio {first * 1000:.0f} ms, "
                    f"-> first audio played {played * 1000:.0f} ms"
                )
                return
            await asyncio.sleep(0.01)

    def on_response_output_audio_transcript_delta(self, event: Any) -> None:
        self.c.stream("assistant: ", event.delta)

    def on_response_output_text_delta(self, event: Any) -> None:
        self.c.stream("assistant: ", event.delta)

    def on_response_done(self, event: Any) -> None:
        self.c.end_stream()
        self.response_active = False
        self.responses_done += 1
        status = event.response.get("status")
        if status not in ("completed", None):
            self.c.line(f"  (response {status})")
        self.c.state = "listening"
        self.c.status()

    def on_error(self, event: Any) -> None:
        err = event.error if isinstance(event.error, dict) else {}
        self.c.line(f"server error: {err.get('code') or err.get('type')}: {err.get('message')}")

    def on_protocol_error(self, event: Any) -> None:
        self.c.line(f"unreadable frame from the server: {event.description}")

    def on_handler_error(self, event: Any) -> None:
        self.c.line(f"(display error on {event.event_type}: {event.error})")

    # GPT-Live (--model gpt-live-1): one continuous conversation, transcripts on a timeline
    def on_session_started(self, event: Any) -> None:
        self.c.line(f"GPT-Live session {event.session.get('id')} started")

    def on_session_input_transcript_delta(self, event: Any) -> None:
        self._live_stream("user", "you: ", event.delta)

    def on_session_output_transcript_delta(self, event: Any) -> None:
        self._live_stream("assistant", "assistant: ", event.delta)
        self.c.state = "speaking"

    def _live_stream(self, speaker: str, prefix: str, text: str) -> None:
        if self._live_speaker != speaker:
            self.c.end_stream()
            self._live_speaker = speaker
        self.c.stream(prefix, text)

    def on_session_delegation_created(self, event: Any) -> None:
        self.c.note(f"  (delegated to {event.delegation.get('target')})")

    def on_session_closed(self, event: Any) -> None:
        usage = event.usage.get("seconds") if isinstance(event.usage, dict) else None
        self.c.end_stream()
        self.c.line(f"GPT-Live session closed ({event.reason}; {usage} s billed)")


def devices_present() -> tuple[bool, bool, str]:
    """(have an input, have an output, why not) from what PortAudio sees."""
    try:
        devs = list_devices()
    except AudioDeviceError as exc:
        return False, False, str(exc)
    has_in = any(d.is_default_input and d.max_input_channels > 0 for d in devs)
    has_out = any(d.is_default_output and d.max_output_channels > 0 for d in devs)
    return has_in, has_out, "" if (has_in and has_out) else "no default audio device"


def azure_settings(deployment: str) -> dict[str, Any] | None:
    """The Azure OpenAI options from the environment, when Azure is set and OpenAI is not."""
    endpoint = os.environ.get("AZURE_OPENAI_ENDPOINT")
    if not endpoint or os.environ.get("OPENAI_API_KEY"):
        return None
    return {
        "azure_endpoint": endpoint,
        "azure_deployment": os.environ.get("AZURE_OPENAI_DEPLOYMENT", deployment),
        "api_version": os.environ.get("AZURE_OPENAI_API_VERSION") or None,
    }


def stop_on_signals(loop: asyncio.AbstractEventLoop) -> asyncio.Event:
    """An event that Ctrl-C (SIGINT) or SIGTERM sets."""
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    return stop


async def local_server_unless_keyed(
    url: str | None, console: Console, what_it_is: str
) -> tuple[Any, str | None]:
    """(server, url): the local Realtime server started here when no URL and no key is given."""
    have_service = bool(os.environ.get("OPENAI_API_KEY") or os.environ.get("AZURE_OPENAI_ENDPOINT"))
    if url is not None or have_service:
        return None, url
    from rtsdk.testing import LocalRealtimeServer

    server = LocalRealtimeServer(pacing="realtime")  # GPT-Live too, on the same port
    await server.start()
    console.line(
        "No OPENAI_API_KEY (or Azure settings): using the local server (all three APIs) "
        f"in this process. {what_it_is}"
    )
    return server, server.base_url


def build_options(args: argparse.Namespace, url: str | None) -> RealtimeAIOptions:
    common: dict[str, Any] = {"instructions": args.instructions}
    if api_of(args.model) != "live":  # GPT-Live has no turns: the model decides
        common.update(turn_detection="server_vad", silence_duration_ms=500)
    if args.voice:
        common["voice"] = args.voice
    if args.reasoning_effort:
        common["reasoning_effort"] = args.reasoning_effort
    if url is not None:
        return RealtimeAIOptions(url=url, model=args.model, **common)
    if api_of(args.model) != "live":
        common["transcription_model"] = DEFAULT_TRANSCRIPTION_MODEL
    azure = azure_settings(args.model)
    if azure is not None:
        return RealtimeAIOptions(**azure, **common)
    return RealtimeAIOptions(model=args.model, **common)


async def run(args: argparse.Namespace) -> int:
    console = Console()
    loop = asyncio.get_running_loop()
    stop = stop_on_signals(loop)
    server, url = await local_server_unless_keyed(
        args.url, console, "It is an echo, not a model: it repeats what you say."
    )

    has_in, has_out, why = devices_present()
    source = sink = None
    file_input = False
    if args.input:
        source = WavSource(args.input, realtime=True, append_silence_ms=1500)
        file_input = True
    elif not has_in:
        console.line(f"No microphone ({why}): using the bundled {BUNDLED_WAV.name} as input.")
        source = WavSource(BUNDLED_WAV, realtime=True, append_silence_ms=1500)
        file_input = True
    output_path = args.output
    if output_path is None and not has_out:
        output_path = DEFAULT_OUTPUT
        console.line(f"No speaker ({why}): the assistant goes to {output_path}.")
    if output_path is not None:
        sink = WavSink(output_path, realtime=True)

    stream_options = AudioStreamOptions(
        input_device=None if source is not None else "default",
        output_device=None if sink is not None else "default",
        echo_cancellation={"auto": "auto", "on": True, "off": False}[args.echo_cancellation],
    )
    display = Display(console)
    client = AsyncRealtimeAIClient(
        build_options(args, url),
        event_handler=display,
        stream_options=stream_options,
        audio_source=source,
        audio_sink=sink,
    )
    code = 0
    try:
        try:
            await client.start()
        except RtsdkError as exc:
            console.line(f"could not start: {type(exc).__name__}: {exc}")
            return 1
        display.audio = client.audio
        if client.audio is not None:
            console.line(echo_summary(client.audio.echo_stats))
        console.state = "listening"
        meter = loop.create_task(_meter(client, console))
        waits = [loop.create_task(stop.wait()), loop.create_task(client.wait_closed())]
        if file_input and client.audio is not None:
            waits.append(loop.create_task(_file_done(client, display)))
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        for task in (*waits, meter):
            task.cancel()
        if client.failure is not None:
            console.line(f"session failed: {client.failure}")
            code = 1
    finally:
        stats = client.stats()  # before stop: the audio counters go with the audio
        await client.stop(timeout=0.8)
        if server is not None:
            await server.stop()
        console.end_stream()
        if console.tty:
            sys.stdout.write("\n")
        lat = client.metrics.first_audio_latency("speech_stopped")
        if lat.p50 is not None:
            console.line(
                f"turns: {lat.count}, speech end -> first audio p50 {lat.p50 * 1000:.0f} ms"
            )
        stream = stats["audio"].get("stream")
        if stream is not None:
            console.line(
                f"audio: {stream['frames_sent']} frames sent "
                f"({stats['audio']['sent_ms'] / 1000:.1f} s), "
                f"{stats['audio']['received_ms'] / 1000:.1f} s received, "
                f"{stream['uplink_dropped_samples']} dropped samples, "
                f"{stream['underruns']} underruns, "
                f"{stream['input_xruns']}+{stream['output_xruns']} xruns (in+out); "
                f"{stats['link']['reconnects']} reconnects"
            )
        e = stats["audio"].get("echo")
        if isinstance(e, dict) and e.get("enabled"):
            console.line(
                f"echo cancellation: ERLE {_db(e.get('erle_db'))}, "
                f"{e.get('reference_overruns', 0)} reference overruns, {e.get('errors', 0)} errors"
            )
        if output_path is not None:
            console.line(f"assistant audio written to {output_path}")
    return code


def _db(value: object) -> str:
    return f"{value:.0f} dB" if isinstance(value, (int, float)) else "not measured yet"


def echo_summary(echo: dict[str, Any]) -> str:
    """One line: is echo cancellation on (and how), or why not."""
    if echo.get("enabled"):
        ns = ", noise suppression" if echo.get("noise_suppression") else ""
        return (
            f"echo cancellation: on ({echo.get('backend')} at {echo.get('sample_rate')} Hz{ns}; "
            "full duplex: talk over the assistant any time)"
        )
    return f"echo cancellation: {echo.get('reason', 'off')}"


async def _meter(client: AsyncRealtimeAIClient, console: Console) -> None:
    while True:
        audio = client.audio
        if audio is not None:
            level = audio.input_level_dbfs
            console.level = level if math.isfinite(level) else -120.0
            echo = audio.echo_stats
            if not echo.get("enabled"):
                console.echo = "AEC off"
            elif not echo.get("active"):
                console.echo = "AEC failed"
            else:
                console.echo = f"AEC {_db(echo.get('erle_db'))}"
            console.status()
        await asyncio.sleep(0.1)


async def _file_done(client: AsyncRealtimeAIClient, display: Display) -> None:
    """The file has been sent and every answer to it has been played."""
    audio = client.audio
    assert audio is not None
    await audio.wait_input_ended()
    # let the server finish the last turn: it starts once the trailing silence is seen
    quiet_since = time.monotonic()
    while time.monotonic() - quiet_since < 1.5:
        await asyncio.sleep(0.05)
        if display.response_active or client.service.state.response_active or audio.audible:
            quiet_since = time.monotonic()
    await audio.drain(timeout=10)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="rtsdk voice sample")
    parser.add_argument("--input", help="a WAV file to use instead of the microphone")
    parser.add_argument("--output", help="a WAV file to write the assistant to")
    parser.add_argument(
        "--url", help="a ws:// API base, e.g. ws://127.0.0.1:8765/v1 (python -m rtsdk serve)"
    )
    parser.add_argument(
        "--model",
        default=DEFAULT_MODEL,
        help=f"{DEFAULT_MODEL} (Realtime), or gpt-live-1 / gpt-live-1.1 for GPT-Live",
    )
    parser.add_argument(
        "--reasoning-effort",
        choices=REASONING_EFFORTS,
        default=None,
        help="how hard a reasoning model thinks before it speaks (service default: low)",
    )
    parser.add_argument("--voice", default=None)
    parser.add_argument(
        "--echo-cancellation",
        choices=("auto", "on", "off"),
        default="auto",
        help="auto: on with a microphone and speakers (full duplex on open speakers)",
    )
    parser.add_argument(
        "--instructions", default="You are a friendly voice assistant. Keep answers short."
    )
    args = parser.parse_args(argv)
    try:
        return asyncio.run(run(args))
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())

"""``python -m rtsdk phone``: the phone server, a multi-process launcher, and a local demo.

- ``phone [--host H] [--port P] [--workers N] ...``: carrier media streams on ``/media``, the
  webhook on ``/twiml``; with ``--workers N``, N processes share the port (``SO_REUSEPORT``).
  Sessions go to OpenAI (``OPENAI_API_KEY``), Azure, ``--url``, or with ``--local`` (the
  default when no key is set) to an in-process local Realtime server (an echo, not a model).
- SIGINT or SIGTERM stops it. With ``--drain S`` the first one only stops new calls (the port
  is closed) and lets the live ones go on for up to S seconds; a second one (half a second or
  more after the first: Ctrl-C reaches the workers and their launcher at once), or the end of
  the S seconds, hangs up whatever is left.
- ``phone --demo [--wav W] [--out O]``: one call, no carrier and no key: a simulated caller
  speaks ``W`` to the bridge, the local server echoes it, the caller's recording goes to ``O``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import sys
import wave
from pathlib import Path
from typing import Any

from rtsdk.link.workers import (
    StopSignals,
    add_drain_argument,
    add_loop_arguments,
    drain_calls,
    loop_runner,
    parse_server_args,
    reuse_port_supported,
    run_workers,
)

__all__ = ["phone_main"]

_SAMPLE_WAV = Path(__file__).resolve().parent.parent.parent / "samples" / "assets" / "hello.wav"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m rtsdk phone",
        description="Bridge phone calls (carrier media streams, Twilio format) to Realtime "
        "sessions, G.711 end to end. Prints the media and webhook URLs once listening.",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on")
    p.add_argument("--port", type=int, default=8080, help="port (0: any free port)")
    p.add_argument("--workers", type=int, default=1, help="processes sharing the port")
    p.add_argument("--public-url", default=None, help="wss://host the carrier reaches us at")
    p.add_argument("--url", default=None, help="Realtime endpoint (default: OpenAI)")
    p.add_argument("--local", action="store_true", help="use an in-process local server")
    p.add_argument("--model", default=None, help="Realtime model")
    p.add_argument("--voice", default=None, help="assistant voice")
    p.add_argument("--instructions", default=None, help="instructions for every call")
    p.add_argument("--dtmf-to-model", action="store_true", help="tell the model key presses")
    p.add_argument(
        "--translate-to",
        default=None,
        metavar="LANG",
        help="interpreter: each caller hears what they say translated into LANG (a translation "
        "session per call; --model then names the translation model)",
    )
    p.add_argument(
        "--auth-token",
        default=os.environ.get("TWILIO_AUTH_TOKEN"),
        help="carrier auth token: requests must carry its X-Twilio-Signature "
        "(default: $TWILIO_AUTH_TOKEN)",
    )
    p.add_argument("--lead-ms", type=int, default=200, help="most audio in flight at the carrier")
    p.add_argument(
        "--uplink-ms",
        type=int,
        default=20,
        help="caller audio per append (20: each carrier chunk at once; 40 saves CPU for 20 ms)",
    )
    add_drain_argument(p)
    p.add_argument("--demo", action="store_true", help="one simulated call, all local")
    p.add_argument("--wav", default=str(_SAMPLE_WAV), help="what the demo caller says")
    p.add_argument("--out", default="phone-demo-heard.wav", help="the demo caller's recording")
    add_loop_arguments(p)
    return p


def _options(args: argparse.Namespace, url: str | None) -> Any:
    from rtsdk.models import DEFAULT_TRANSCRIPTION_MODEL
    from rtsdk.session.options import RealtimeAIOptions

    kw: dict[str, Any] = {}
    if url is not None:
        kw.update(url=url, api_key=None)
    if args.translate_to is not None:
        if args.voice or args.instructions or args.dtmf_to_model:
            raise SystemExit(
                "rtsdk phone: --voice, --instructions and --dtmf-to-model do not apply to "
                "--translate-to (a translation session has no assistant)"
            )
        if args.model is not None:
            kw["model"] = args.model
        return RealtimeAIOptions(
            session_type="translation",
            target_language=args.translate_to,
            source_transcription_model=DEFAULT_TRANSCRIPTION_MODEL,
            **kw,
        )
    for name in ("model", "voice", "instructions"):
        value = getattr(args, name)
        if value is not None:
            kw[name] = value
    kw.setdefault("transcription_model", DEFAULT_TRANSCRIPTION_MODEL)
    return RealtimeAIOptions(**kw)


def _want_local(args: argparse.Namespace) -> bool:
    if args.local or args.demo:
        return True
    has_key = os.environ.get("OPENAI_API_KEY") or os.environ.get("AZURE_OPENAI_API_KEY")
    return args.url is None and not has_key


async def _serve(args: argparse.Namespace) -> None:
    from rtsdk.testing import LocalRealtimeServer

    from .server import PhoneServer

    signals = StopSignals()
    stop, now = signals.stop, signals.now  # now: a second signal, no more waiting for calls
    async with contextlib.AsyncExitStack() as stack:
        url = args.url
        where = args.url or "OpenAI/Azure"
        if _want_local(args):
            where = "local echo server, not a model"
            local = await stack.enter_async_context(
                LocalRealtimeServer(pacing="realtime", record=False)
            )
            url = local.url
        phone = PhoneServer(
            _options(args, url),
            args.host,
            args.port,
            public_url=args.public_url,
            reuse_port=args.workers > 1,
            auth_token=args.auth_token,
            dtmf_to_model=args.dtmf_to_model,
            lead_ms=args.lead_ms,
            uplink_ms=args.uplink_ms,
        )
        await stack.enter_async_context(phone)
        http = phone.url.replace("ws://", "http://", 1)
        print(f"phone server: media {phone.url}/media  webhook {http}/twiml  ({where})")
        if args.auth_token is None and args.host not in ("127.0.0.1", "::1", "localhost"):
            print(
                "warning: no --auth-token (or TWILIO_AUTH_TOKEN): anyone who reaches this "
                "server can open sessions on your key",
                file=sys.stderr,
            )
        sys.stdout.flush()
        await stop.wait()
        if args.drain > 0:
            await drain_calls(phone, args.drain, now)
        # leaving the stack: the phone server hangs up what is left, then the local server stops


async def _demo(args: argparse.Namespace) -> int:
    import numpy as np

    from rtsdk import kernels
    from rtsdk.testing import LocalRealtimeServer
    from rtsdk.testing.caller import SimulatedCaller, ulaw_from_wav

    from .call import PhoneCall, PhoneCallHandler
    from .server import PhoneServer

    calls: list[PhoneCall] = []

    class Show(PhoneCallHandler):
        def on_session(self, call: PhoneCall) -> None:
            calls.append(call)
            assert call.client is not None
            call.client.on(
                "conversation.item.input_audio_transcription.completed",
                lambda e: print(f"  caller (transcribed): {e.transcript}"),
            )
            call.client.on(
                "response.output_audio_transcript.done",
                lambda e: print(f"  assistant: {e.transcript}"),
            )
            if args.translate_to is not None:
                call.client.on(
                    "session.output_transcript.delta",
                    lambda e: print(f"  translation: {e.delta}"),
                )

    if not Path(args.wav).exists():
        print(f"rtsdk phone --demo: no such WAV file: {args.wav}", file=sys.stderr)
        return 2
    said = ulaw_from_wav(args.wav)
    async with contextlib.AsyncExitStack() as stack:
        rt = await stack.enter_async_context(LocalRealtimeServer(pacing="realtime", record=False))
        phone = await stack.enter_async_context(
            PhoneServer(_options(args, rt.url), handler_factory=Show)
        )
        print(f"local Realtime server {rt.url}; phone bridge {phone.url}/media")
        print(f"simulated caller says {args.wav} ({len(said) / 8000:.1f} s)")
        async with SimulatedCaller(phone.url + "/media", custom_parameters={"demo": "1"}) as c:
            c.say(said)
            await c.wait_spoken()
            with contextlib.suppress(asyncio.TimeoutError):
                await c.wait_heard(len(said) / 8 * 0.8, timeout=20)
            await asyncio.sleep(0.5)
        await asyncio.sleep(0.3)
    pcm = kernels.ulaw_to_pcm16(np.frombuffer(bytes(c.recording), np.uint8))
    with wave.open(args.out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(pcm.astype("<i2").tobytes())
    stats = calls[0].stats if calls else None
    what = "the translation" if args.translate_to is not None else "the assistant"
    print(f"caller heard {c.heard_ms / 1000:.2f} s of {what}; recording in {args.out}")
    if stats is not None:
        print(
            f"call: {stats.media_in} media up "
            f"({'transcoded' if args.translate_to else 'spliced, not decoded'}), "
            f"{stats.media_out} down, "
            f"{stats.marks_echoed} marks echoed, ended by {stats.ended_by}, "
            f"{len(stats.errors)} errors"
        )
    return 0 if c.heard_ms > 0 and stats is not None and not stats.errors else 1


def _run_workers(args: argparse.Namespace, argv: list[str]) -> int:
    if not reuse_port_supported():
        print("rtsdk phone: --workers needs SO_REUSEPORT (Linux, BSD, macOS)", file=sys.stderr)
        return 2
    return run_workers("phone", argv, host=args.host, port=args.port, workers=args.workers)


def phone_main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m rtsdk phone`` (see the module docstring). Exit status: 0
    after SIGINT/SIGTERM (or a good demo), 2 on bad arguments, 1 if it cannot listen."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parsed = parse_server_args("phone", _parser(), argv)
    if isinstance(parsed, int):
        return parsed
    args, worker = parsed
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING)
    try:
        run = loop_runner(args.loop)
    except ImportError:
        print(
            "rtsdk phone: --loop uvloop needs uvloop (pip install 'rtsdk[fast]')", file=sys.stderr
        )
        return 2
    if args.demo:
        return run(_demo(args))
    if args.workers > 1 and not worker:
        return _run_workers(args, argv)
    try:
        run(_serve(args))
    except OSError as exc:
        print(f"rtsdk phone: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        pass
    return 0

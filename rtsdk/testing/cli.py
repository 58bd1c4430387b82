"""``python -m rtsdk serve``: run the local server (Realtime, GPT-Live and Realtime translation)
until SIGINT/SIGTERM.

It prints the Realtime URL (``ws://HOST:PORT/v1/realtime``) on its first line, then a line
with the base URL (``ws://HOST:PORT/v1``) and the GPT-Live URL (``…/v1/live/sessions``), then
a line with the translation URL (``Realtime translation: …/v1/realtime/translations?model=…``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime
import json
import signal
import sys
from typing import Any

from ..exceptions import ConfigurationError
from ..link.workers import reuse_port_supported, run_workers
from ..models import DEFAULT_TRANSLATION_MODEL
from .arrivals import ArrivalLog
from .live import LiveOptions
from .server import LocalRealtimeServer
from .sip_cli import SipCommandLine, add_sip_arguments
from .translation import TranslationOptions

__all__ = ["add_scripts", "serve_main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m rtsdk serve",
        description="Run rtsdk's local Realtime, GPT-Live and Realtime translation server (an "
        "echo, not a model) until interrupted. Prints its Realtime ws:// URL on a line of its "
        "own once listening, then its base URL and GPT-Live URL on the next, then its "
        "translation URL.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="server processes sharing the port (SO_REUSEPORT), for load tests",
    )
    parser.add_argument(
        "--port", type=int, default=8765, help="port to listen on (0: any free port)"
    )
    parser.add_argument(
        "--api-key",
        default=None,
        help="require this key (Authorization: Bearer or api-key); default: accept any",
    )
    parser.add_argument(
        "--pacing",
        choices=("realtime", "fast"),
        default="realtime",
        help="stream reply audio (Realtime, GPT-Live and translation) at the rate it plays, or "
        "as fast as possible",
    )
    parser.add_argument(
        "--function-call",
        action="append",
        default=[],
        metavar="SPEC",
        help="script a function call (repeatable): a tool NAME, or a JSON object "
        '{"name": ..., "arguments": {...}, "when": "text", "times": N, "count": N, '
        '"preamble": "text"}; the call is made (count times, after saying the preamble) on '
        "matching user turns when the session declares a function tool of that name; every "
        "matching script fires in the same response",
    )
    parser.add_argument(
        "--mcp-call",
        action="append",
        default=[],
        metavar="SPEC",
        help="script a remote MCP tool (repeatable): LABEL/TOOL, or a JSON object "
        '{"server_label": ..., "name": ..., "arguments": {...}, "output": "...", '
        '"error": "...", "when": "text", "times": N}; used when the session declares an '
        "MCP tool with that server_label (listing, approval round trip, call events)",
    )
    parser.add_argument(
        "--arrivals",
        default=None,
        metavar="FILE",
        help="append a JSON line per frame a client sends, with the time it arrived "
        "(time.monotonic()), to FILE (created or truncated): for tests that run the server in "
        "another process; see rtsdk.testing.arrivals",
    )
    parser.add_argument(
        "--today",
        type=_date,
        default=None,
        metavar="YYYY-MM-DD",
        help="the date deciding which models have been shut down (default: the real date, "
        "UTC); sessions of a model past its shutdown date fail every response",
    )
    add_sip_arguments(parser)
    return parser


def _date(text: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date YYYY-MM-DD, got {text!r}") from None


_FUNCTION_KEYS = {"name", "arguments", "when", "times", "count", "preamble"}
_MCP_KEYS = {"server_label", "name", "arguments", "output", "error", "when", "times"}


def _spec(option: str, text: str, keys: set[str]) -> dict[str, Any] | None:
    """A JSON object spec (checked against ``keys``), or None when ``text`` is not JSON."""
    if not text.lstrip().startswith("{"):
        return None
    try:
        spec = json.loads(text)
    except ValueError as exc:
        raise ConfigurationError(f"{option}: not valid JSON ({exc})") from None
    if not isinstance(spec, dict):
        raise ConfigurationError(f"{option}: expected a JSON object")
    unknown = sorted(set(spec) - keys)
    if unknown:
        raise ConfigurationError(f"{option}: unknown key(s) {unknown}; known: {sorted(keys)}")
    return spec


def add_scripts(server: LocalRealtimeServer, functions: list[str], mcp: list[str]) -> None:
    """Add the ``--function-call`` / ``--mcp-call`` scripts to ``server`` (raises
    ``ConfigurationError`` naming the option on a bad spec)."""
    for text in functions:
        spec = _spec("--function-call", text, _FUNCTION_KEYS) or {"name": text}
        server.script_function_call(
            name=spec.get("name", ""),
            arguments=spec.get("arguments"),
            when_text_contains=spec.get("when"),
            times=spec.get("times"),
            count=spec.get("count", 1),
            preamble=spec.get("preamble"),
        )
    for text in mcp:
        label, _, name = text.partition("/")
        mcp_spec = _spec("--mcp-call", text, _MCP_KEYS) or {"server_label": label, "name": name}
        if not mcp_spec.get("server_label") or not mcp_spec.get("name"):
            raise ConfigurationError(f"--mcp-call: expected LABEL/TOOL or JSON, got {text!r}")
        server.script_mcp_call(
            server_label=mcp_spec["server_label"],
            name=mcp_spec["name"],
            arguments=mcp_spec.get("arguments"),
            output=mcp_spec.get("output", ""),
            error=mcp_spec.get("error"),
            when_text_contains=mcp_spec.get("when"),
            times=mcp_spec.get("times"),
        )


async def _serve(server: LocalRealtimeServer, sip: SipCommandLine | None = None) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    async with server:
        print(server.url, flush=True)
        print(f"base URL {server.base_url} (GPT-Live: {server.live_url})", flush=True)
        url = f"{server.translation_url}?model={DEFAULT_TRANSLATION_MODEL}"
        print(f"Realtime translation: {url}", flush=True)
        if sip is not None:
            await sip.started(server)
        await stop.wait()


def serve_main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m rtsdk serve [--host] [--port] [--api-key] [--pacing]
    [--today YYYY-MM-DD] [--arrivals FILE] [--function-call SPEC]... [--mcp-call SPEC]...``.

    Returns the exit status: 0 after SIGINT/SIGTERM, 2 on bad arguments, 1 if the server
    cannot listen.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    worker = "--worker" in argv  # one of the --workers processes (it launches none)
    if worker:
        argv.remove("--worker")
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:  # --help (0) or bad arguments (2): a status, not an exception
        return exc.code if isinstance(exc.code, int) else 2
    if args.workers < 1 or (args.workers > 1 and not reuse_port_supported()):
        print(
            "rtsdk serve: --workers must be >= 1 (more than 1 needs SO_REUSEPORT)",
            file=sys.stderr,
        )
        return 2
    if args.arrivals is not None and args.workers > 1:
        print("rtsdk serve: --arrivals takes one server process (--workers 1)", file=sys.stderr)
        return 2
    try:
        sip = SipCommandLine(args)
        server = LocalRealtimeServer(
            args.host,
            args.port,
            args.api_key,
            pacing=args.pacing,
            record=False,
            today=args.today,
            reuse_port=args.workers > 1,
            live=LiveOptions(pacing=args.pacing),
            translation=TranslationOptions(pacing=args.pacing),
            sip=sip.options,
        )
        add_scripts(server, args.function_call, args.mcp_call)
    except ValueError as exc:
        print(f"rtsdk serve: {exc}", file=sys.stderr)
        return 2
    if args.workers > 1 and not worker:
        return run_workers(
            "serve", argv, host=args.host, port=args.port, workers=args.workers, announce=True
        )
    arrivals = None
    if args.arrivals is not None:
        try:
            arrivals = ArrivalLog(args.arrivals)
        except OSError as exc:
            print(f"rtsdk serve: {exc}", file=sys.stderr)
            return 2
        server.on_received = arrivals.note
    try:
        asyncio.run(_serve(server, sip))
    except OSError as exc:
        print(f"rtsdk serve: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        pass
    finally:
        if arrivals is not None:
            arrivals.close()
    return 0

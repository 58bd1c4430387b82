"""``python -m rtsdk serve``: run the local Realtime server until SIGINT/SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys

from .server import LocalRealtimeServer

__all__ = ["serve_main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m rtsdk serve",
        description="Run rtsdk's local Realtime server (an echo, not a model) until "
        "interrupted. Prints its ws:// URL on a line of its own once listening.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
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
        help="stream reply audio at the rate it plays, or as fast as possible",
    )
    return parser


async def _serve(server: LocalRealtimeServer) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    async with server:
        print(server.url, flush=True)
        await stop.wait()


def serve_main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m rtsdk serve [--host] [--port] [--api-key] [--pacing]``.

    Returns the exit status: 0 after SIGINT/SIGTERM, 2 on bad arguments, 1 if the server
    cannot listen.
    """
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:  # --help (0) or bad arguments (2): a status, not an exception
        return exc.code if isinstance(exc.code, int) else 2
    try:
        server = LocalRealtimeServer(
            args.host, args.port, args.api_key, pacing=args.pacing, record=False
        )
    except ValueError as exc:
        print(f"rtsdk serve: {exc}", file=sys.stderr)
        return 2
    try:
        asyncio.run(_serve(server))
    except OSError as exc:
        print(f"rtsdk serve: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        pass
    return 0

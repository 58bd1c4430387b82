"""``python -m rtsdk sip``: the SIP webhook server, one process or several on one port.

- ``sip [--host H] [--port P] [--model M] [--instructions TEXT] [--voice V] [--workers N]
  [--drain S] [--webhook-secret whsec_...] [--api-base URL] [--loop auto|asyncio|uvloop]``:
  serves OpenAI's webhook at
  ``POST /webhook`` and a health check at ``GET /healthz``; each incoming call of the API the
  model selects is accepted with these options and steered over its sideband.
- The secret comes from ``OPENAI_WEBHOOK_SECRET`` (or ``--webhook-secret``; the environment
  keeps it out of process listings): without one the server refuses to start. The key comes
  from ``OPENAI_API_KEY``, the API base from ``OPENAI_BASE_URL`` (or ``--api-base``), which
  moves the REST calls and the sidebands to another host, such as the local server.
- SIGINT or SIGTERM stops it; with ``--drain S`` the first one only stops new calls (the port
  closes: with ``--workers`` the other processes take the deliveries) and lets live calls go
  on for up to S seconds; a second one, or the end of the S seconds, hangs up what is left.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from typing import Any

from rtsdk.exceptions import ConfigurationError
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

__all__ = ["sip_main"]


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m rtsdk sip",
        description="Answer OpenAI SIP calls: signed webhooks in, calls accepted and steered "
        "over sidebands (no audio passes through this process). Prints the webhook URL once "
        "listening.",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on")
    p.add_argument("--port", type=int, default=8080, help="port (0: any free port)")
    p.add_argument("--workers", type=int, default=1, help="processes sharing the port")
    p.add_argument(
        "--model",
        default=None,
        help="the model that answers (a Realtime model answers realtime.call.incoming, a "
        "gpt-live model live.transport.incoming; default: the default Realtime model)",
    )
    p.add_argument("--instructions", default=None, help="instructions for every call")
    p.add_argument("--voice", default=None, help="the assistant's voice")
    p.add_argument(
        "--webhook-secret",
        default=None,
        help="the webhook signing secret (default: $OPENAI_WEBHOOK_SECRET, which keeps it out "
        "of process listings)",
    )
    p.add_argument(
        "--api-base",
        default=None,
        help="the API base for call control and sidebands (default: $OPENAI_BASE_URL, else "
        "https://api.openai.com/v1)",
    )
    add_drain_argument(p)
    add_loop_arguments(p)
    return p


def _options(args: argparse.Namespace) -> Any:
    from rtsdk.session.options import RealtimeAIOptions

    kw: dict[str, Any] = {}
    for name in ("model", "instructions", "voice"):
        value = getattr(args, name)
        if value is not None:
            kw[name] = value
    return RealtimeAIOptions(**kw)


async def _serve(args: argparse.Namespace, secret: str) -> int:
    from .control import CallControl
    from .server import SipServer

    signals = StopSignals()
    stop, now = signals.stop, signals.now
    options = _options(args)
    control = CallControl(api_base=args.api_base)
    server = SipServer(
        options,
        args.host,
        args.port,
        secret=secret,
        control=control,
        reuse_port=args.workers > 1,
    )
    async with server:
        api = "GPT-Live" if server.api == "live" else "Realtime"
        print(
            f"sip server: webhook {server.url}{server.webhook_path}  health "
            f"{server.url}{server.health_path}  ({api} {options.model}, {control.api_base})",
            flush=True,
        )
        await stop.wait()
        if args.drain > 0:
            await drain_calls(server, args.drain, now)
        # leaving: the server hangs up what is left
    return 0


def sip_main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m rtsdk sip`` (see the module docstring). Exit status: 0
    after SIGINT/SIGTERM, 2 on bad arguments or a missing secret or key, 1 if it cannot
    listen."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parsed = parse_server_args("sip", _parser(), argv)
    if isinstance(parsed, int):
        return parsed
    args, worker = parsed
    secret = args.webhook_secret or os.environ.get("OPENAI_WEBHOOK_SECRET") or ""
    if not secret:
        print(
            "rtsdk sip: no webhook secret: set OPENAI_WEBHOOK_SECRET (the whsec_... secret of "
            "your webhook endpoint) or pass --webhook-secret; without it no call is accepted",
            file=sys.stderr,
        )
        return 2
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING)
    try:
        from .control import CallControl
        from .webhook import WebhookVerifier

        WebhookVerifier(secret)  # a malformed secret is refused before anything listens
        CallControl(api_base=args.api_base)  # the key and base, checked the same way
        options = _options(args)
        if options.session_type not in ("realtime", "live"):
            raise ConfigurationError(
                f"--model {options.model!r} is not a Realtime or GPT-Live model"
            )
    except ConfigurationError as exc:
        print(f"rtsdk sip: {exc}", file=sys.stderr)
        return 2
    if args.workers > 1 and not worker:
        if not reuse_port_supported():
            print("rtsdk sip: --workers needs SO_REUSEPORT (Linux, BSD, macOS)", file=sys.stderr)
            return 2
        return run_workers(
            "sip", argv, host=args.host, port=args.port, workers=args.workers, announce=True
        )
    try:
        run = loop_runner(args.loop)
    except ImportError:
        print("rtsdk sip: --loop uvloop needs uvloop (pip install 'rtsdk[fast]')", file=sys.stderr)
        return 2
    try:
        return run(_serve(args, secret))
    except OSError as exc:
        print(f"rtsdk sip: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0

"""The SIP options of ``python -m rtsdk serve``: webhooks, the secret, simulated calls.

- ``--sip-webhook URL``: post the incoming-call webhooks of simulated calls to ``URL``;
- ``--sip-secret whsec_…``: sign them with this secret (default: ``$OPENAI_WEBHOOK_SECRET``,
  which keeps it out of process listings; one of the two is needed with ``--sip-webhook``);
- ``--sip-retries N``: retry a delivery not answered 2xx up to ``N`` times (default 3);
- ``--sip-call WAV`` (repeatable): once listening, after ``--sip-call-delay`` seconds (1),
  ring one simulated call whose caller says ``WAV``;
- ``--sip-caller-pacing fast|realtime``: how the caller sends its audio (default realtime).

More calls can be rung while the server runs with ``POST /rtsdk/sip/calls`` (see
:mod:`.sip_rest`); the server prints that URL on a line of its own.
"""

from __future__ import annotations

import argparse
import asyncio
import os
from typing import Any

from ..exceptions import ConfigurationError
from .sip import SipOptions

__all__ = ["SipCommandLine", "add_sip_arguments"]


def add_sip_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the SIP options (see the module docstring) to ``serve``'s parser."""
    group = parser.add_argument_group("SIP calls (the local server plays OpenAI's side)")
    group.add_argument(
        "--sip-webhook",
        metavar="URL",
        default=None,
        help="post realtime.call.incoming and live.transport.incoming webhooks of simulated "
        "calls to URL",
    )
    group.add_argument(
        "--sip-secret",
        metavar="WHSEC",
        default=None,
        help="webhook signing secret, whsec_<base64> (default: $OPENAI_WEBHOOK_SECRET)",
    )
    group.add_argument(
        "--sip-retries",
        type=int,
        default=3,
        metavar="N",
        help="retries of a delivery not answered 2xx (after 0.5, 1, 2, 4... s; default 3)",
    )
    group.add_argument(
        "--sip-call",
        action="append",
        default=[],
        metavar="WAV",
        help="ring a simulated call whose caller says WAV, once listening (repeatable)",
    )
    group.add_argument(
        "--sip-call-delay",
        type=float,
        default=1.0,
        metavar="S",
        help="seconds after start before the --sip-call calls ring (default 1)",
    )
    group.add_argument(
        "--sip-caller-pacing",
        choices=("realtime", "fast"),
        default="realtime",
        help="send the caller's audio at the rate it plays, or its speech at once",
    )


class SipCommandLine:
    """The SIP part of parsed ``serve`` arguments: :attr:`options` for the server, and
    :meth:`started` once it listens. Raises ``ConfigurationError`` naming the option."""

    def __init__(self, args: argparse.Namespace) -> None:
        secret = args.sip_secret or os.environ.get("OPENAI_WEBHOOK_SECRET") or None
        if args.sip_webhook is not None and secret is None:
            raise ConfigurationError(
                "--sip-webhook needs --sip-secret or $OPENAI_WEBHOOK_SECRET (whsec_...)"
            )
        if (args.sip_call or args.sip_webhook) and getattr(args, "workers", 1) > 1:
            # a call lives in one process; another worker would answer its requests 404
            raise ConfigurationError("SIP calls take one server process (--workers 1)")
        if not 0 <= args.sip_retries <= 20:
            raise ConfigurationError("--sip-retries must be in [0, 20]")
        if not 0 <= args.sip_call_delay <= 3600:
            raise ConfigurationError("--sip-call-delay must be in [0, 3600] seconds")
        for wav in args.sip_call:
            if not os.path.isfile(wav):
                raise ConfigurationError(f"--sip-call: no such file {wav!r}")
        self.calls: list[str] = list(args.sip_call)
        self.delay = float(args.sip_call_delay)
        self.enabled = args.sip_webhook is not None or bool(self.calls)
        try:
            self.options = SipOptions(
                webhook_url=args.sip_webhook,
                webhook_secret=secret if args.sip_webhook is not None else None,
                retry_delays=tuple(0.5 * 2**i for i in range(args.sip_retries)),
                caller_pacing=args.sip_caller_pacing,
            )
        except ConfigurationError as exc:
            raise ConfigurationError(f"--sip-webhook / --sip-secret: {exc}") from None

    async def started(self, server: Any) -> None:
        """The server listens: say where the SIP side is, ring the ``--sip-call`` calls."""
        if not self.enabled:
            return
        base = server.base_url.replace("ws://", "http://", 1)
        target = self.options.webhook_url or "nowhere (no --sip-webhook)"
        print(
            f"SIP: webhooks to {target}; ring a call: POST {base[:-3]}/rtsdk/sip/calls", flush=True
        )
        if self.calls:
            asyncio.get_running_loop().call_later(self.delay, self._ring, server)

    def _ring(self, server: Any) -> None:
        for wav in self.calls:
            call = server.sip.ring(wav)
            print(f"SIP call {call.call_id} / {call.session_id} rings ({wav})", flush=True)

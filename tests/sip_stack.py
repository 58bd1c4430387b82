"""The whole SIP path on this machine: the local server playing OpenAI (webhooks, call
control, sidebands, a simulated caller) and an :class:`rtsdk.sip.SipServer` answering it."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from rtsdk import RealtimeAIOptions
from rtsdk.sip import CallControl, SipCall, SipCallHandler, SipServer
from rtsdk.testing import LiveOptions, LocalRealtimeServer, SipOptions
from rtsdk.testing.sip_webhook import new_webhook_secret

KEY = "sk-test-sip-0123456789"
MODELS = {"realtime": "gpt-realtime-2.1", "live": "gpt-live-1"}


@dataclass
class Stack:
    server: LocalRealtimeServer
    sip: SipServer
    secret: str
    taken: list[SipCall] = field(default_factory=list)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server.port}/v1"

    async def taken_call(self, n: int = 1, timeout: float = 5.0) -> SipCall:
        """The ``n``-th call the SIP server took (waiting for it)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while len(self.taken) < n:
            if loop.time() > deadline:
                raise asyncio.TimeoutError(f"{len(self.taken)} calls taken, wanted {n}")
            await asyncio.sleep(0.01)
        return self.taken[n - 1]


async def until(check: Callable[[], Any], timeout: float = 10.0, what: str = "") -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not check():
        if loop.time() > deadline:
            raise asyncio.TimeoutError(f"not within {timeout} s: {what}")
        await asyncio.sleep(0.01)


def fast_sip_server(secret: str) -> LocalRealtimeServer:
    """The local server with its SIP side on, paced fast, webhooks signed with ``secret`` and
    never retried."""
    return LocalRealtimeServer(
        api_key=KEY,
        pacing="fast",
        live=LiveOptions(pacing="fast"),
        sip=SipOptions(webhook_secret=secret, retry_delays=(), caller_pacing="fast"),
    )


@contextlib.asynccontextmanager
async def sip_stack(
    api: str,
    handler: Callable[[], SipCallHandler] | None = None,
    *,
    options: dict[str, Any] | None = None,
    **sip_options: Any,
) -> AsyncIterator[Stack]:
    secret = new_webhook_secret()
    server = fast_sip_server(secret)
    taken: list[SipCall] = []

    def factory() -> SipCallHandler:
        made = (handler or SipCallHandler)()
        own = made.on_session

        def on_session(call: SipCall) -> Any:
            taken.append(call)
            return own(call)

        made.on_session = on_session  # type: ignore[method-assign]
        return made

    async with server:
        control = CallControl(api_key=KEY, api_base=f"http://127.0.0.1:{server.port}/v1")
        opts = RealtimeAIOptions(api_key=KEY, model=MODELS[api], **(options or {}))
        sip = SipServer(opts, secret=secret, control=control, handler_factory=factory)
        async with sip:
            server.sip.options = SipOptions(
                webhook_url=f"{sip.url}/webhook",
                webhook_secret=secret,
                retry_delays=(),
                caller_pacing="fast",
                **sip_options,
            )
            yield Stack(server, sip, secret, taken)

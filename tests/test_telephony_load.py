"""Many phone calls at once: 100 concurrent calls for 20 s through one bridge, no errors.

The bridge under test runs here; the callers and the local Realtime server (the two far ends)
run in processes of their own, as a carrier and the service would.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from rtsdk.session.options import RealtimeAIOptions
from rtsdk.telephony import PhoneCall, PhoneCallHandler, PhoneServer
from tests.conftest import NO_EXTENSIONS

CALLS = int(os.environ.get("RTSDK_PHONE_LOAD_CALLS", "100"))
SECONDS = float(os.environ.get("RTSDK_PHONE_LOAD_SECONDS", "20"))

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(NO_EXTENSIONS, reason="a load test of the compiled path: run once"),
]


def _spawn(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, *args],
        stdout=subprocess.PIPE,
        text=True,
        env=dict(os.environ, PYTHONUNBUFFERED="1"),
    )


def _finish(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        proc.terminate()
    proc.wait(20)
    if proc.stdout is not None:
        proc.stdout.close()


@pytest.fixture
def realtime_url() -> Iterator[str]:
    proc = _spawn("-m", "rtsdk", "serve", "--port", "0", "--pacing", "realtime")
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        assert url.startswith("ws://"), url
        yield url
    finally:
        _finish(proc)


async def test_hundred_concurrent_calls(realtime_url: str) -> None:
    calls: list[PhoneCall] = []
    errors: list[Any] = []

    class Handler(PhoneCallHandler):
        def on_session(self, call: PhoneCall) -> None:
            calls.append(call)

        def on_error(self, call: PhoneCall, error: Any) -> None:
            errors.append(error)

    opts = RealtimeAIOptions(url=realtime_url, api_key=None, max_retries=2)
    loop = asyncio.get_running_loop()
    async with PhoneServer(opts, handler_factory=Handler) as srv:
        callers = _spawn(
            "-m", "rtsdk.testing.caller", srv.url + "/media",
            "--calls", str(CALLS), "--seconds", str(SECONDS),
        )  # fmt: skip
        try:
            assert callers.stdout is not None
            out = await loop.run_in_executor(None, callers.stdout.read)
            status = await loop.run_in_executor(None, callers.wait, 60)
        finally:
            _finish(callers)
        deadline = loop.time() + 30
        while srv.calls and loop.time() < deadline:
            await asyncio.sleep(0.1)
    summary = json.loads(out.strip().splitlines()[-1])
    assert status == 0 and summary["failures"] == [], summary["failures"][:5]
    assert errors == []
    assert len(calls) == CALLS
    assert all(c.stats.ended_by == "stop" and c.stats.errors == [] for c in calls)
    assert all(c.stats.out_of_order == 0 and c.stats.malformed == 0 for c in calls)
    assert min(summary["turns"]) >= 3, summary["turns"]
    print(
        f"\n{CALLS} calls for {SECONDS:g} s: {sum(summary['turns'])} turns, "
        f"{summary['heard_ms'] / 1000:.0f} s of replies heard, caller clock ticks late: "
        f"{summary['late_ticks']} of {summary['ticks']}"
    )

"""Load: 200 webhook deliveries at once while 50 calls are live on one SipServer; no call
lost, none accepted twice.

50 calls are accepted first and talk (their sidebands carry the sessions' events). Then, at
once: 50 more calls ring (the local server posts each one's ``realtime.call.incoming`` and
``live.transport.incoming``: 100 deliveries), and the test posts 100 more: for 50 of the new
calls a second delivery of the same call under a new ``webhook-id``, and 50 exact replays of
those. Every new call must be accepted once (the service would answer a second accept 409),
the other API's events ignored, every repeat answered 200 and dropped.
"""

from __future__ import annotations

import asyncio
import json
import time

import pytest

from rtsdk.sip import sign_webhook
from rtsdk.sip.http import HttpClient
from tests.conftest import REALTIME_ONCE

from .sip_stack import sip_stack, until
from .test_sip_calls import tone

pytestmark = pytest.mark.timeout(90)

LIVE = 50
BURST_CALLS = 50


@REALTIME_ONCE  # the server, not the kernels: once, on the compiled ones
async def test_a_burst_of_deliveries_with_calls_live() -> None:
    async with sip_stack("realtime") as stack:
        server, sip = stack.server, stack.sip
        first = [await server.sip.incoming_call() for _ in range(LIVE)]
        await until(
            lambda: (
                len(stack.taken) == LIVE
                and all(c.client is not None and c.client.is_connected for c in stack.taken)
            ),
            timeout=30,
            what=f"{LIVE} calls attached",
        )
        for phone in first:
            phone.say(tone(0.3))
        await until(
            lambda: sum(1 for p in first if p.recording_ms > 0) == LIVE,
            timeout=30,
            what="every live call answered its caller",
        )
        assert len(sip.calls) == LIVE
        http = HttpClient(timeout=10)
        url = f"{sip.url}/webhook"
        started = time.monotonic()
        burst = [server.sip.ring() for _ in range(BURST_CALLS)]
        posts = []
        for i, phone in enumerate(burst):
            body = json.dumps(
                {
                    "id": f"evt_again_{i}",
                    "object": "event",
                    "created_at": int(time.time()),
                    "type": "realtime.call.incoming",
                    "data": {"call_id": phone.call_id, "sip_headers": phone.sip_headers},
                }
            ).encode()
            headers = sign_webhook(stack.secret, f"wh_again_{i}", body)
            posts.append(http.request("POST", url, headers=headers, body=body))
            posts.append(http.request("POST", url, headers=headers, body=body))  # a replay
        answers = await asyncio.gather(*posts)
        for phone in burst:
            await phone.wait_deliveries(2, timeout=10)
        elapsed = time.monotonic() - started
        await until(
            lambda: all(p.state == "accepted" for p in burst), timeout=30, what="burst accepted"
        )
        await http.close()
        # all 200 were sent at once and answered (timing is for benchmarks/sip_calls.py to
        # measure, not for a test on a shared machine to assert)
        print(f"200 deliveries answered in {elapsed:.2f} s with {LIVE} calls live")
        assert all(a.status == 200 for a in answers)
        deliveries = [d for p in burst for d in p.deliveries]
        assert len(deliveries) == 2 * BURST_CALLS and all(d.status == 200 for d in deliveries)
        assert all(p.api == "realtime" for p in first + burst)
        counts = sip.counts
        assert counts["calls"] == LIVE + BURST_CALLS  # each call taken once
        assert counts["ignored"] == LIVE + BURST_CALLS  # the live.transport.incoming of each
        assert counts["duplicate"] == 2 * BURST_CALLS  # the repeats
        assert counts["refused"] == 0 and counts["failed"] == 0
        ids = [c.id for c in stack.taken]
        assert len(ids) == len(set(ids)) == LIVE + BURST_CALLS
        # every caller hangs up; every call ends for the server, none failed
        for phone in first + burst:
            phone.hangup()
        await until(lambda: not sip.calls, timeout=30, what="every call ended")
        assert counts["finished"] == LIVE + BURST_CALLS and counts["failed"] == 0
        assert all(c.ended_by == "remote" for c in stack.taken)

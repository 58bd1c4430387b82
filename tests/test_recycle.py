"""Session-length recycling: when the Recycler renews the connection."""

from __future__ import annotations

import asyncio

import pytest

from rtsdk.session import recycle
from rtsdk.session.recycle import Recycler


async def test_renews_at_the_limit_when_idle() -> None:
    started: list[str] = []
    r = Recycler(0.01, lambda: False, started.append)
    r.arm()
    await asyncio.sleep(0.2)
    assert started == ["session length limit (0.01 s)"]
    assert r.pending == ""


async def test_waits_for_the_running_response_then_renews_at_its_end() -> None:
    busy = True
    started: list[str] = []
    r = Recycler(0.01, lambda: busy, started.append)
    r.arm()
    await asyncio.sleep(0.2)
    assert started == [] and r.pending
    r.response_done()  # still busy (another response): keeps waiting
    assert started == []
    busy = False
    r.response_done()
    assert started == ["session length limit (0.01 s)"] and r.pending == ""
    r.cancel()


async def test_grace_period_ends_the_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(recycle, "RECYCLE_GRACE", 0.01)
    started: list[str] = []
    r = Recycler(0.01, lambda: True, started.append)
    r.arm()
    await asyncio.sleep(0.3)
    assert started == ["session length limit (0.01 s)"]


async def test_rearm_and_cancel_and_no_limit() -> None:
    started: list[str] = []
    r = Recycler(0.05, lambda: False, started.append)
    r.arm()
    r.arm()  # a reconnect restarts the clock: one timer, not two
    await asyncio.sleep(0.3)
    assert len(started) == 1
    r.arm()
    r.cancel()
    await asyncio.sleep(0.1)
    assert len(started) == 1
    none = Recycler(None, lambda: False, started.append)
    none.arm()
    none.response_done()
    await asyncio.sleep(0.05)
    assert len(started) == 1
    r.start("server ended the session")
    assert started[-1] == "server ended the session"

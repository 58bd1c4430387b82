"""The event dispatcher: who is called for which event, in order, and what is never queued."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from rtsdk.client.handler import RealtimeEventHandler
from rtsdk.protocol import ServerEvent, parse_server_event
from rtsdk.session.dispatch import EventDispatcher
from rtsdk.session.metrics import SessionMetrics

_n = 0


def E(kind: str, **fields: Any) -> ServerEvent:
    global _n
    _n += 1
    return parse_server_event(json.dumps({"type": kind, "event_id": f"event_{_n}", **fields}))


async def _run(d: EventDispatcher, events: list[ServerEvent]) -> None:
    task = asyncio.create_task(d.run())
    for event in events:
        d.publish(event)
    d.end()
    await asyncio.wait_for(task, 5)


async def test_an_event_nobody_is_called_for_is_not_queued() -> None:
    metrics = SessionMetrics()
    d = EventDispatcher(metrics)
    seen: list[str] = []
    for _ in range(3):
        d.publish(E("response.output_item.added", response_id="r", output_index=0, item={}))
    assert metrics.dispatch_queue_high_water == 0
    d.add_listener("response.done", lambda e: seen.append(e.type))
    d.publish(E("response.created", response={"id": "r"}))  # still nobody for this type
    assert metrics.dispatch_queue_high_water == 0
    await _run(d, [E("response.done", response={"id": "r"})])
    assert seen == ["response.done"]
    assert metrics.dispatch_queue_high_water == 1


async def test_listeners_handler_and_on_event_each_get_theirs_in_order() -> None:
    calls: list[str] = []

    class Handler(RealtimeEventHandler):
        async def on_response_created(self, event: Any) -> None:
            await asyncio.sleep(0)
            calls.append("method:" + event.type)

    class Everything(RealtimeEventHandler):
        def on_event(self, event: ServerEvent) -> None:
            calls.append("on_event:" + event.type)

    d = EventDispatcher(SessionMetrics())
    d.set_handler(Handler())
    d.add_listener("*", lambda e: calls.append("*:" + e.type))
    events = [
        E("response.created", response={"id": "r"}),
        E("rate_limits.updated", rate_limits=[]),
        E("response.done", response={"id": "r"}),
    ]
    await _run(d, events)
    assert calls == [
        "method:response.created",
        "*:response.created",
        "*:rate_limits.updated",
        "*:response.done",
    ]
    # a handler that overrides on_event hears every event, whatever its type
    calls.clear()
    d = EventDispatcher(SessionMetrics())
    d.set_handler(Everything())
    await _run(d, events)
    assert calls == [f"on_event:{e.type}" for e in events]


async def test_who_listens_is_looked_up_again_after_each_change() -> None:
    d = EventDispatcher(SessionMetrics())
    got: list[str] = []

    def listener(event: Any) -> None:
        got.append(event.event_id)

    task = asyncio.create_task(d.run())
    d.publish(E("response.done", response={"id": "r1"}))  # nobody yet
    d.add_listener("response.done", listener)
    second = E("response.done", response={"id": "r2"})
    d.publish(second)
    await asyncio.sleep(0.01)
    d.remove_listener("response.done", listener)
    d.publish(E("response.done", response={"id": "r3"}))  # nobody again
    d.end()
    await asyncio.wait_for(task, 5)
    assert got == [second.event_id]


async def test_iterators_get_every_event_even_unheard_ones() -> None:
    d = EventDispatcher(SessionMetrics())
    events = [E("response.created", response={"id": "r"}), E("response.done", response={"id": "r"})]
    got: list[str] = []

    async def consume() -> None:
        async for event in d.events():
            got.append(event.event_id)

    task = asyncio.create_task(consume())
    await asyncio.sleep(0)
    await _run(d, events)
    await asyncio.wait_for(task, 5)
    assert got == [e.event_id for e in events]

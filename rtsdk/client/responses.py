"""What one requested response produced, for the code that asked for it.

``client.generate_response(...)`` returns a :class:`ResponseHandle` at once; awaiting it gives
a :class:`ResponseResult` once that response's ``response.done`` has arrived: its text (output
text, or the transcript of its audio), its audio (the response's output format), its output
items and the ``response`` object of ``response.done``.

Requests are told apart by a metadata entry (:data:`REQUEST_KEY`) that the server echoes in
``response.created``; that is how an out-of-band response (``conversation="none"``, which may
run beside the conversation's own) is matched, and why ``metadata`` has room for 15 pairs of
the app's. :class:`ResponseTracker` does the matching and collecting; it is fed events (and the
audio the client's fast path decodes) on the client's loop.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Any

from rtsdk.exceptions import ConfigurationError, ConnectionClosedError, RtsdkError
from rtsdk.protocol import ServerEvent
from rtsdk.protocol import events as ev

__all__ = ["REQUEST_KEY", "ResponseError", "ResponseHandle", "ResponseResult", "ResponseTracker"]

Json = dict[str, Any]

#: The metadata key that ties a ``response.created`` to the request that asked for it.
REQUEST_KEY = "rtsdk_request"


class ResponseError(RtsdkError):
    """The server refused a requested response (its ``error`` event names why)."""


@dataclass(slots=True)
class ResponseResult:
    """A finished response: ``status`` (``completed``, ``cancelled``, ``incomplete``,
    ``failed``), ``text`` (output text, or the transcript of the audio), ``audio`` (raw, in
    the response's output format; empty for text responses), ``output`` (the items of
    ``response.done``), ``response`` (that whole object), ``metadata`` (the app's, without
    :data:`REQUEST_KEY`), ``usage``."""

    response_id: str
    status: str
    text: str
    audio: bytes
    output: list[Json]
    response: Json
    metadata: dict[str, str] = field(default_factory=dict)
    usage: Json | None = None
    out_of_band: bool = False


class ResponseHandle:
    """A requested response: ``await handle`` (or ``await handle.result(timeout)``) gives its
    :class:`ResponseResult`; :attr:`response_id` is known once the server created it."""

    def __init__(self, request_id: str, loop: asyncio.AbstractEventLoop) -> None:
        self.request_id = request_id
        self.response_id: str | None = None
        self._future: asyncio.Future[ResponseResult] = loop.create_future()

    def __repr__(self) -> str:
        state = "done" if self._future.done() else "pending"
        return f"<ResponseHandle {self.response_id or self.request_id} {state}>"

    def done(self) -> bool:
        return self._future.done()

    async def result(self, timeout: float | None = None) -> ResponseResult:
        """The result, waiting at most ``timeout`` s (``None``: no limit)."""
        return await asyncio.wait_for(asyncio.shield(self._future), timeout)

    def __await__(self) -> Generator[Any, None, ResponseResult]:
        return asyncio.shield(self._future).__await__()


@dataclass(slots=True)
class _Collecting:
    handle: ResponseHandle
    event_id: str | None = None
    out_of_band: bool = False
    text: list[str] = field(default_factory=list)
    audio: bytearray = field(default_factory=bytearray)


class ResponseTracker:
    """Matches requested responses to their events and resolves their handles."""

    def __init__(self) -> None:
        self._ids = itertools.count(1)
        self._by_request: dict[str, _Collecting] = {}
        self._by_response: dict[str, _Collecting] = {}

    def request(
        self, overrides: dict[str, Any], loop: asyncio.AbstractEventLoop
    ) -> tuple[ResponseHandle, dict[str, Any]]:
        """A handle for a new request, and its overrides with the tag in ``metadata``."""
        request_id = f"req_{next(self._ids)}"
        handle = ResponseHandle(request_id, loop)
        metadata = dict(overrides.get("metadata") or {})
        if REQUEST_KEY in metadata:
            raise ConfigurationError(f"metadata key {REQUEST_KEY!r} is reserved by rtsdk")
        if len(metadata) > 15:
            raise ConfigurationError(
                f"metadata: at most 15 pairs (got {len(metadata)}); the service takes 16 and "
                f"rtsdk uses one ({REQUEST_KEY!r}) to match the response to its request"
            )
        metadata[REQUEST_KEY] = request_id
        tagged = dict(overrides, metadata=metadata)
        self._by_request[request_id] = _Collecting(
            handle, out_of_band=overrides.get("conversation") == "none"
        )
        return handle, tagged

    def sent(self, request_id: str, event_id: str | None) -> None:
        """The ``response.create`` of ``request_id`` went out with ``event_id``."""
        entry = self._by_request.get(request_id)
        if entry is not None:
            entry.event_id = event_id

    def wants_audio(self, response_id: str) -> bool:
        return response_id in self._by_response

    def audio(self, response_id: str, data: bytes) -> None:
        """Decoded output audio of ``response_id`` (from the client's fast path)."""
        entry = self._by_response.get(response_id)
        if entry is not None:
            entry.audio += data

    def feed(self, event: ServerEvent) -> None:
        """Take one server event."""
        if isinstance(event, ev.ResponseCreatedEvent):
            response = event.response
            metadata = response.get("metadata") if isinstance(response, dict) else None
            tag = metadata.get(REQUEST_KEY) if isinstance(metadata, dict) else None
            entry = self._by_request.pop(tag, None) if isinstance(tag, str) else None
            rid = response.get("id")
            if entry is not None and isinstance(rid, str):
                entry.handle.response_id = rid
                self._by_response[rid] = entry
        elif isinstance(
            event, (ev.ResponseOutputTextDeltaEvent, ev.ResponseOutputAudioTranscriptDeltaEvent)
        ):
            entry = self._by_response.get(event.response_id)
            if entry is not None:
                entry.text.append(event.delta)
        elif isinstance(event, ev.ResponseOutputAudioDeltaEvent):
            pass  # audio comes through audio() (decoded once, on the fast path)
        elif isinstance(event, ev.ResponseDoneEvent):
            self._done(event.response)
        elif isinstance(event, ev.ErrorEvent):
            error = event.error if isinstance(event.error, dict) else {}
            blamed = error.get("event_id")
            for request_id, entry in list(self._by_request.items()):
                if blamed is not None and entry.event_id == blamed:
                    del self._by_request[request_id]
                    future = entry.handle._future
                    if not future.done():
                        future.set_exception(
                            ResponseError(
                                f"the server refused the response "
                                f"({error.get('code') or error.get('type')}): "
                                f"{error.get('message')}"
                            )
                        )
                        future.exception()  # retrieved: no warning if nobody awaits it

    def _done(self, response: Json) -> None:
        rid = response.get("id")
        entry = self._by_response.pop(rid, None) if isinstance(rid, str) else None
        if entry is None:
            return
        metadata = {k: v for k, v in (response.get("metadata") or {}).items() if k != REQUEST_KEY}
        result = ResponseResult(
            response_id=str(rid),
            status=str(response.get("status") or "completed"),
            text="".join(entry.text),
            audio=bytes(entry.audio),
            output=list(response.get("output") or []),
            response=response,
            metadata=metadata,
            usage=response.get("usage"),
            out_of_band=entry.out_of_band,
        )
        if not entry.handle._future.done():
            entry.handle._future.set_result(result)

    def fail_in_flight(self, reason: str) -> None:
        """A new connection: responses that were created or requested on the old one will
        never finish; their handles fail with ``ConnectionClosedError``. Requests still
        queued by the session (not sent yet) go out on the new connection and are kept."""
        lost = [
            *(e for e in self._by_request.values() if e.event_id is not None),
            *self._by_response.values(),
        ]
        self._by_response.clear()
        self._by_request = {k: e for k, e in self._by_request.items() if e.event_id is None}
        self._fail(lost, reason, None)

    def fail_all(self, reason: str, error: BaseException | None = None) -> None:
        """The session ended: every pending handle fails with ``ConnectionClosedError``."""
        entries = [*self._by_request.values(), *self._by_response.values()]
        self._by_request.clear()
        self._by_response.clear()
        self._fail(entries, f"the session ended before the response: {reason}", error)

    @staticmethod
    def _fail(entries: list[_Collecting], message: str, error: BaseException | None) -> None:
        for entry in entries:
            future = entry.handle._future
            if not future.done():
                exc = ConnectionClosedError(message)
                exc.__cause__ = error
                future.set_exception(exc)
                future.exception()  # retrieved: no warning if nobody awaits it

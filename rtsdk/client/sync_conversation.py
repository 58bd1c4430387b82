"""The synchronous twins of the conversation features (:mod:`rtsdk.client.conversation`),
mixed into :class:`~rtsdk.client.sync_client.RealtimeAIClient`: each runs its async twin on the
client's loop."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

from rtsdk.client.async_client import AsyncRealtimeAIClient
from rtsdk.client.blocking import blocking
from rtsdk.client.live_transcripts import iter_live_lines_sync
from rtsdk.client.responses import ResponseHandle, ResponseResult
from rtsdk.client.transcripts import iter_transcripts_sync
from rtsdk.exceptions import ConnectionClosedError
from rtsdk.protocol import ServerEvent

__all__ = ["SyncGaHelpers", "SyncResponseHandle"]

T = TypeVar("T")
Json = dict[str, Any]


class SyncResponseHandle:
    """A requested response, for synchronous code: :meth:`result` blocks until its
    ``response.done`` (see :class:`~rtsdk.client.responses.ResponseHandle`)."""

    def __init__(self, handle: ResponseHandle, loop: asyncio.AbstractEventLoop) -> None:
        self._handle = handle
        self._loop = loop

    def __repr__(self) -> str:
        return repr(self._handle)

    @property
    def response_id(self) -> str | None:
        return self._handle.response_id

    def done(self) -> bool:
        return self._handle.done()

    def result(self, timeout: float | None = None) -> ResponseResult:
        """The :class:`~rtsdk.client.responses.ResponseResult`, waiting at most ``timeout`` s
        (``TimeoutError`` after it)."""
        if not self._loop.is_running():
            raise ConnectionClosedError("the client is not running")
        future = asyncio.run_coroutine_threadsafe(self._handle.result(timeout), self._loop)
        try:
            return future.result()
        except asyncio.TimeoutError:
            raise TimeoutError(f"no response.done within {timeout} s") from None


class SyncGaHelpers:
    """Sync GA helpers (see the module docstring)."""

    _client: AsyncRealtimeAIClient
    _loop: asyncio.AbstractEventLoop | None

    if TYPE_CHECKING:  # RealtimeAIClient's own

        def _run(self, coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T: ...

        def events(self, timeout: float | None = None) -> Iterator[ServerEvent]: ...

    def transcripts(self, timeout: float | None = None) -> Iterator[Any]:
        """See :meth:`AsyncRealtimeAIClient.transcripts`; ``timeout``: the longest wait for
        one event, else ``TimeoutError``."""
        options = self._client.options
        if options.session_type in ("live", "translation"):
            return iter_live_lines_sync(self.events(timeout), options.session_type)
        language = options.language or options.transcription_language
        return iter_transcripts_sync(self.events(timeout), language=language)

    # GPT-Live (see rtsdk.client.live)
    mute = blocking(AsyncRealtimeAIClient.mute)

    unmute = blocking(AsyncRealtimeAIClient.unmute)

    play_fixture = blocking(AsyncRealtimeAIClient.play_fixture)

    drop_queued_output = blocking(AsyncRealtimeAIClient.drop_queued_output)

    delegation_reply = blocking(AsyncRealtimeAIClient.delegation_reply)

    @property
    def muted(self) -> bool:
        """See :attr:`AsyncRealtimeAIClient.muted`."""
        return self._client.muted

    @property
    def session_closed(self) -> Any:
        """See :attr:`AsyncRealtimeAIClient.session_closed`."""
        return self._client.session_closed

    send_image = blocking(AsyncRealtimeAIClient.send_image)

    def _tracked(self, overrides: dict[str, Any]) -> SyncResponseHandle:
        handle = self._run(self._client.generate_response(**overrides), 10)
        assert self._loop is not None
        return SyncResponseHandle(handle, self._loop)

    def retrieve_item(self, item_id: str, *, timeout: float = 10.0) -> Json:
        """See :meth:`AsyncRealtimeAIClient.retrieve_item`."""
        return self._run(self._client.retrieve_item(item_id, timeout=timeout), timeout + 1)

    def delete_item(self, item_id: str, *, timeout: float = 10.0) -> None:
        """See :meth:`AsyncRealtimeAIClient.delete_item`."""
        self._run(self._client.delete_item(item_id, timeout=timeout), timeout + 1)

    approve_mcp = blocking(AsyncRealtimeAIClient.approve_mcp)

"""The sync facade's methods made from the async client's: :func:`blocking`.

``send_text = blocking(AsyncRealtimeAIClient.send_text)`` in :class:`RealtimeAIClient`'s body
gives a method with the same parameters (checked by mypy through ``ParamSpec``) that runs the
coroutine on the client's loop and waits for it, so each signature and docstring is written
once, on the async client.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, Protocol, TypeVar

if TYPE_CHECKING:
    from rtsdk.client.async_client import AsyncRealtimeAIClient

__all__ = ["SyncOwner", "blocking"]

P = ParamSpec("P")
T = TypeVar("T")


class SyncOwner(Protocol):
    """What a blocking method needs of the sync client: the async client and the loop runner."""

    @property
    def _client(self) -> AsyncRealtimeAIClient: ...

    def _run(self, coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T: ...


def blocking(
    method: Callable[Concatenate[AsyncRealtimeAIClient, P], Coroutine[Any, Any, T]],
    timeout: float = 10.0,
) -> Callable[Concatenate[SyncOwner, P], T]:
    """A sync method that runs ``method`` on the client's loop and waits at most ``timeout``
    seconds for it (``TimeoutError`` after)."""

    def call(self: SyncOwner, /, *args: P.args, **kwargs: P.kwargs) -> T:
        return self._run(method(self._client, *args, **kwargs), timeout)

    call.__name__ = call.__qualname__ = method.__name__
    call.__doc__ = (
        f"Blocking :meth:`AsyncRealtimeAIClient.{method.__name__}` (run on the client's loop)."
        f"\n\n{method.__doc__ or ''}"
    )
    call.__wrapped__ = method  # type: ignore[attr-defined]
    return call

"""Session length: renew the connection before the server's cap, at a quiet moment.

The Realtime service ends a session after a fixed time. :class:`Recycler` arms a timer on every
open; when it fires with no response running the connection is renewed at once (the config and,
if asked, the conversation are replayed on the new one), else at that response's end, but not
later than a grace period.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

__all__ = ["RECYCLE_GRACE", "Recycler"]

#: Seconds a due recycle waits for a running response to finish.
RECYCLE_GRACE = 30.0


class Recycler:
    """When to renew: ``start(reason)`` renews; ``busy()`` is true while a response runs."""

    def __init__(
        self, limit: float | None, busy: Callable[[], bool], start: Callable[[str], None]
    ) -> None:
        self.limit = limit
        self.pending = ""
        self._busy = busy
        self._start = start
        self._timer: asyncio.TimerHandle | None = None

    def arm(self, *, within: float | None = None) -> None:
        """A connection opened: the clock starts again (``within``: the server announced the
        session's end, this many seconds from now; whichever comes first)."""
        self.cancel()
        self.pending = ""
        limits = [t for t in (self.limit, within) if t is not None]
        if not limits:
            return
        self._timer = asyncio.get_running_loop().call_later(min(limits), self._due)

    def cancel(self) -> None:
        """No renewal (the session ends)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def start(self, reason: str) -> None:
        """Renew now (for the timer, or because the server ended the session)."""
        self.pending = ""
        self._start(reason)

    def response_done(self) -> None:
        """A response ended: renew now if a renewal was waiting for it."""
        if self.pending and not self._busy():
            self.start(self.pending)

    def _due(self) -> None:
        reason = f"session length limit ({self.limit:g} s)" if self.limit else "session expiry"
        if not self._busy():
            self.start(reason)
            return
        # wait for the running response to finish, but not past the grace period
        self.pending = reason
        self._timer = asyncio.get_running_loop().call_later(RECYCLE_GRACE, self.start, reason)

"""When to reconnect: :class:`ReconnectPolicy`, exponential backoff with full jitter."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from rtsdk.exceptions import ConfigurationError

__all__ = ["ReconnectPolicy"]


@dataclass(frozen=True, slots=True)
class ReconnectPolicy:
    """Exponential backoff with full jitter.

    Attempt ``n`` (0-based) waits a uniformly random time in ``[0, min(max_delay, base_delay *
    2**n)]``. ``max_retries`` bounds the attempts after a drop (``None``: retry for ever; ``0``:
    never reconnect).
    """

    max_retries: int | None = 8
    base_delay: float = 0.25
    max_delay: float = 8.0

    def __post_init__(self) -> None:
        if self.max_retries is not None and self.max_retries < 0:
            raise ConfigurationError(f"max_retries must be >= 0 or None, got {self.max_retries}")
        if not self.base_delay > 0:
            raise ConfigurationError(f"base_delay must be > 0 seconds, got {self.base_delay}")
        if not self.max_delay >= self.base_delay:
            raise ConfigurationError(
                f"max_delay ({self.max_delay}) must be >= base_delay ({self.base_delay})"
            )

    def ceiling(self, attempt: int) -> float:
        """The largest delay attempt ``attempt`` can draw."""
        return min(self.max_delay, self.base_delay * 2.0 ** min(attempt, 62))

    def delay(self, attempt: int, rand: Callable[[], float] = random.random) -> float:
        """The delay before attempt ``attempt``: full jitter under :meth:`ceiling`."""
        return rand() * self.ceiling(attempt)

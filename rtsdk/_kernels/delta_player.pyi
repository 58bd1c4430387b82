"""Output audio deltas straight into a playback ring (compiled); see the twin for the contract."""

from collections.abc import Callable

from typing_extensions import Buffer

from rtsdk._kernels.resample import Resampler
from rtsdk._kernels.ring import SpscRing

__all__ = ["DeltaPlayer"]

class DeltaPlayer:
    """Plays the output audio deltas of one armed item straight into a playback ring."""

    high_water: int
    played: int
    declined: int
    def __init__(
        self,
        session_format: str,
        resampler: Resampler,
        ring: SpscRing,
        on_played: Callable[[int, int, int], object],
    ) -> None: ...
    @property
    def armed(self) -> bool:
        """True while deltas of the armed ids are played here."""
    def arm(
        self, response_id: str, item_id: str, counter: object | None = None, floor: int = 0
    ) -> None:
        """Play the following deltas of ``item_id`` in ``response_id`` here (counting their
        bytes in ``counter.received``); both ids empty: the id-less
        ``session.output_audio.delta`` frames instead."""
    def disarm(self) -> None:
        """Decline every delta until armed again."""
    def play(self, frame: Buffer) -> int:
        """Session samples played from the delta in ``frame``, or -1 (declined)."""

"""Records of rendered blocks in a lock-free ring (compiled); see rtsdk._reference.taprecords."""

import numpy as np
import numpy.typing as npt

__all__ = ["RecordRing"]

class RecordRing:
    """One record per rendered block, lock-free from a device callback to the loop."""

    @property
    def capacity(self) -> int: ...
    @property
    def max_block(self) -> int: ...
    @property
    def with_samples(self) -> bool: ...
    @property
    def samples_pushed(self) -> int:
        """Samples of every record pushed, dropped ones included."""
    @property
    def overruns(self) -> int:
        """Records dropped because the ring was full."""
    @property
    def readable(self) -> int:
        """Bytes waiting for the consumer."""
    def __init__(self, capacity: int, max_block: int, with_samples: bool = True) -> None: ...
    def push(
        self,
        block: npt.NDArray[np.float32],
        dac_time: float,
        mono_time: float,
        ring_start: int,
        ring_end: int,
    ) -> bool:
        """Write one record (producer); False when it did not fit (dropped and counted)."""
    def pull(self, out: npt.NDArray[np.float32]) -> tuple[int, int, float, float, int, int] | None:
        """The oldest record, its samples copied into ``out`` (consumer); None when none."""

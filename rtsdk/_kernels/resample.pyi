"""Streaming polyphase windowed-sinc resampler (compiled); see rtsdk._reference.resample."""

import numpy as np
import numpy.typing as npt

__all__ = ["Resampler"]

#: True when this process runs the AVX2+FMA inner loop.
USES_FMA: bool

def _use_portable(portable: bool) -> bool: ...

class Resampler:
    """Streaming polyphase windowed-sinc resampler, float32 in and out."""

    @property
    def in_rate(self) -> int: ...
    @property
    def out_rate(self) -> int: ...
    @property
    def channels(self) -> int: ...
    @property
    def quality(self) -> str: ...
    @property
    def delay(self) -> float: ...
    def __init__(
        self, in_rate: int, out_rate: int, channels: int = 1, quality: str = "high"
    ) -> None: ...
    def process(
        self, x: npt.NDArray[np.float32], last: bool = False
    ) -> npt.NDArray[np.float32]: ...
    def reset(self) -> None: ...

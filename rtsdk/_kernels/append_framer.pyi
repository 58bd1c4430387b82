"""App audio to an append frame in one call (compiled); see the twin for the contract."""

from typing import Any

from rtsdk._kernels.resample import Resampler

__all__ = ["AppendFramer"]

class AppendFramer:
    """Mono float32 audio at the app's rate -> one ``input_audio_buffer.append`` frame."""

    def __init__(
        self, session_format: str, resampler: Resampler, *, event_type: str | None = None
    ) -> None: ...
    def frame(self, x: Any) -> bytes:
        """The append frame of ``x`` (1-D C-contiguous float32 at the resampler's input rate)."""

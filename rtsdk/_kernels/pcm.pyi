"""Sample conversion float32 <-> PCM16 (compiled); see rtsdk._reference.pcm."""

import numpy as np
import numpy.typing as npt

__all__ = ["float32_to_pcm16", "pcm16_to_float32"]

def float32_to_pcm16(x: object, out: object = None) -> npt.NDArray[np.int16]:
    """Convert float32 samples (full scale 1.0) to int16: rint(x * 32768), saturating."""

def pcm16_to_float32(x: object, out: object = None) -> npt.NDArray[np.float32]:
    """Convert PCM16 (int16 array or little-endian bytes) to float32 samples: x / 32768."""

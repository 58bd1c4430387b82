"""ITU-T G.711 u-law and A-law (compiled); see rtsdk._reference.g711."""

import numpy as np
import numpy.typing as npt

__all__ = ["alaw_to_pcm16", "pcm16_to_alaw", "pcm16_to_ulaw", "ulaw_to_pcm16"]

def pcm16_to_ulaw(x: object, out: object = None) -> npt.NDArray[np.uint8]:
    """Encode PCM16 to G.711 u-law codes (one byte per sample)."""

def ulaw_to_pcm16(x: object, out: object = None) -> npt.NDArray[np.int16]:
    """Decode G.711 u-law codes to PCM16."""

def pcm16_to_alaw(x: object, out: object = None) -> npt.NDArray[np.uint8]:
    """Encode PCM16 to G.711 A-law codes (one byte per sample)."""

def alaw_to_pcm16(x: object, out: object = None) -> npt.NDArray[np.int16]:
    """Decode G.711 A-law codes to PCM16."""

"""The hot-path kernels: compiled (Cython) by default, NumPy/Python twins on request.

Set ``RTSDK_NO_EXTENSIONS=1`` in the environment to use the plain twins in
:mod:`rtsdk._reference`. Otherwise the compiled modules in :mod:`rtsdk._kernels` are used, and
if they cannot be imported this module raises ``ImportError`` at once: a broken build is never
hidden behind a slower fallback. :data:`BACKEND` says which one is live.

Public names (a contract other modules and tests rely on):

- :class:`SpscRing` — lock-free single-producer/single-consumer byte ring.
- :func:`float32_to_pcm16`, :func:`pcm16_to_float32` — sample conversion.
- :func:`pcm16_to_ulaw`, :func:`ulaw_to_pcm16`, :func:`pcm16_to_alaw`, :func:`alaw_to_pcm16` —
  ITU-T G.711.
- :class:`Resampler` — streaming polyphase windowed-sinc resampler.
- :func:`b64encode`, :func:`b64decode` — standard base64.
- :func:`encode_append`, :func:`decode_audio_delta`, :func:`decode_session_audio_delta` — audio
  event framing (Realtime's events, and GPT-Live's id-less ``session.*`` audio events).
- :func:`media_to_append`, :func:`delta_to_media` — carrier media-stream splicing (phone calls).
- :class:`AppendFramer` — app float32 audio to one append frame (resample, convert, frame).
- :class:`DeltaPlayer` — output audio deltas straight from the frame's text into a playback ring.
- :class:`EchoMeter`, :class:`TailGuard` — the echo stage's per-10 ms-block work (energies,
  ERLE powers, the residual-echo guard).
- :class:`RecordRing` — one record per rendered block (header and samples) from a device
  callback to the loop, over an :class:`SpscRing`.
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType
from typing import TYPE_CHECKING, Final, Literal

__all__ = [
    "BACKEND",
    "MODULES",
    "AppendFramer",
    "DeltaPlayer",
    "EchoMeter",
    "RecordRing",
    "Resampler",
    "SpscRing",
    "TailGuard",
    "alaw_to_pcm16",
    "b64decode",
    "b64encode",
    "decode_audio_delta",
    "decode_session_audio_delta",
    "delta_to_media",
    "encode_append",
    "float32_to_pcm16",
    "media_to_append",
    "pcm16_to_alaw",
    "pcm16_to_float32",
    "pcm16_to_ulaw",
    "ulaw_to_pcm16",
]

#: Which kernel module exports which public names. Compiled module ``rtsdk._kernels.<m>`` and its
#: twin ``rtsdk._reference.<m>`` export exactly these (``tests/test_kernels.py`` checks it).
MODULES: Final[dict[str, tuple[str, ...]]] = {
    "ring": ("SpscRing",),
    "pcm": ("float32_to_pcm16", "pcm16_to_float32"),
    "g711": ("pcm16_to_ulaw", "ulaw_to_pcm16", "pcm16_to_alaw", "alaw_to_pcm16"),
    "resample": ("Resampler",),
    "b64": ("b64encode", "b64decode"),
    "framing": ("encode_append", "decode_audio_delta", "decode_session_audio_delta"),
    "mediastream": ("media_to_append", "delta_to_media"),
    "delta_player": ("DeltaPlayer",),
    "append_framer": ("AppendFramer",),
    "echoblocks": ("EchoMeter", "TailGuard"),
    "taprecords": ("RecordRing",),
}


def _want_extensions() -> bool:
    return os.environ.get("RTSDK_NO_EXTENSIONS", "").strip().lower() in ("", "0", "false", "no")


def _load(package: str) -> dict[str, ModuleType]:
    mods: dict[str, ModuleType] = {}
    for name in MODULES:
        try:
            mods[name] = importlib.import_module(f"{package}.{name}")
        except ImportError as exc:
            if package == "rtsdk._kernels":
                raise ImportError(
                    f"rtsdk's compiled kernel {package}.{name} could not be imported ({exc}). "
                    "Build the extensions (`pip install .` or `pip install -e .`), or set "
                    "RTSDK_NO_EXTENSIONS=1 to run on the slower pure-Python twins."
                ) from exc
            raise
    return mods


BACKEND: Final[Literal["cython", "python"]] = "cython" if _want_extensions() else "python"
_MODS = _load("rtsdk._kernels" if BACKEND == "cython" else "rtsdk._reference")

if TYPE_CHECKING:
    from rtsdk._kernels.append_framer import AppendFramer
    from rtsdk._kernels.b64 import b64decode, b64encode
    from rtsdk._kernels.delta_player import DeltaPlayer
    from rtsdk._kernels.echoblocks import EchoMeter, TailGuard
    from rtsdk._kernels.framing import (
        decode_audio_delta,
        decode_session_audio_delta,
        encode_append,
    )
    from rtsdk._kernels.g711 import alaw_to_pcm16, pcm16_to_alaw, pcm16_to_ulaw, ulaw_to_pcm16
    from rtsdk._kernels.mediastream import delta_to_media, media_to_append
    from rtsdk._kernels.pcm import float32_to_pcm16, pcm16_to_float32
    from rtsdk._kernels.resample import Resampler
    from rtsdk._kernels.ring import SpscRing
    from rtsdk._kernels.taprecords import RecordRing
else:
    for _mod_name, _names in MODULES.items():
        for _n in _names:
            globals()[_n] = getattr(_MODS[_mod_name], _n)
    del _mod_name, _names, _n

"""The echo stage's per-10 ms-block work (compiled); see rtsdk._reference.echoblocks."""

import numpy as np
import numpy.typing as npt

__all__ = ["EchoMeter", "TailGuard"]

class TailGuard:
    """Attenuates residual echo at onsets and in tails (see :mod:`rtsdk.audio.tailguard`)."""

    @property
    def block(self) -> int: ...
    @property
    def rate(self) -> int:
        """Hz: where the frequency bands lie (100 blocks a second unless told)."""
    @property
    def bands(self) -> int:
        """Frequency bands of the user's evidence (16)."""
    @property
    def fft_size(self) -> int:
        """The size of the band analysis' transform."""
    @property
    def lead(self) -> int:
        """Blocks from a reference onset to its echo's arrival (+2): the median of the recent."""
    @property
    def lead_lo(self) -> int:
        """The earliest recent arrival within 5 blocks of the median (+2)."""
    @property
    def lead_hi(self) -> int:
        """The latest recent arrival within 5 blocks of the median (+2)."""
    @property
    def warmup(self) -> int: ...
    @property
    def coupling(self) -> float:
        """Echo / reference energy at the microphone (1.0 until measured)."""
    @property
    def decay(self) -> float: ...
    @property
    def floor(self) -> float:
        """The gain of a guarded block."""
    @property
    def guarded_blocks(self) -> int:
        """Blocks attenuated."""
    @property
    def user_blocks(self) -> int:
        """Blocks let through on the user's evidence while echo could be present."""
    @property
    def mic_blocks(self) -> int:
        """Of those, blocks sent from the microphone: the canceller held down a user well over
        the echo."""
    @property
    def lead_ms(self) -> int:
        """The measured delay from a reference onset to its echo (plus 20 ms), in ms."""
    def __init__(
        self,
        block: int,
        *,
        rate: int | None = None,
        rt60: float = 0.7,
        depth_db: float = 30.0,
        default_lead_ms: int = 150,
        warmup_ms: int = 1000,
    ) -> None: ...
    def reset(self) -> None:
        """Forget the coupling, the lead and the warm-up."""
    def band_coupling(self) -> npt.NDArray[np.float64]:
        """The echo / reference energy ratio learnt per band (1.0 where not learnt yet)."""
    def process(
        self,
        mic: npt.NDArray[np.float32],
        ref: npt.NDArray[np.float32],
        out: npt.NDArray[np.float32],
    ) -> None:
        """Guard ``out`` (the canceller's output for ``mic``/``ref``, whole blocks) in place."""

class EchoMeter:
    """Block energies, the smoothed ERLE powers and the tail guard in one call per frame."""

    @property
    def block(self) -> int: ...
    @property
    def guard(self) -> TailGuard | None: ...
    @property
    def active(self) -> float: ...
    @property
    def alpha(self) -> float: ...
    @property
    def mic_power(self) -> float:
        """Smoothed microphone power in blocks where the reference was audible."""
    @property
    def out_power(self) -> float:
        """The same of the canceller's output."""
    @property
    def stage_power(self) -> float:
        """The same after the guard: what leaves the stage."""
    @property
    def active_blocks(self) -> int:
        """Blocks measured while the reference was audible."""
    def __init__(
        self,
        block: int,
        guard: TailGuard | None = None,
        *,
        active: float = 1e-6,
        alpha: float = 0.02,
    ) -> None: ...
    def reset(self) -> None:
        """Zero the powers and the count; reset the guard."""
    def measure(
        self,
        mic: npt.NDArray[np.float32],
        ref: npt.NDArray[np.float32],
        out: npt.NDArray[np.float32],
    ) -> int:
        """Measure one call's blocks, guard ``out`` in place; the number of audible blocks."""

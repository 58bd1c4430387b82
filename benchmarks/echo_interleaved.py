"""The echo stage per 20 ms frame beside the bare backend call, interleaved in one process.

``python -m benchmarks.echo_interleaved [ROUNDS]``: at 16, 24 and 48 kHz, the same frames of the
room of ``benchmarks/test_bench_echo.py`` go through

- ``bare``: ``pywebrtc_audio.AudioProcessor.process(mic, ref)``, the reference ready-aligned;
- ``rtsdk``: the whole echo stage of the uplink (render tap pushed and pulled, reference
  aligned on the timestamps, carry framing, ERLE estimate, tail guard);
- ``no-guard``: the same without the tail guard;
- ``ours``: the ``rtsdk`` stage with the backend swapped for a copy of the microphone frame,
  i.e. our own work alone (framing, alignment, tap, ERLE, guard), and ``ours-no-guard``;
- with ``--before REV``: ``before`` and ``ours-before``, the same two with the echo stage's
  kernel (``EchoMeter``, ``TailGuard``) of the git commit ``REV``, compiled beside today's
  (``benchmarks/echo_before.py``), and the ratio of today's stage to that one per round.

Each round runs every variant for ``FRAMES`` frames in turn, in alternating order (A B C, then
C B A; this VM's speed drifts by 15-30 % within minutes, so only neighbours are compared), and
the ratio to ``bare`` is taken per round; the table gives the medians over rounds (time per frame
in µs, and the overhead over ``bare`` in %) and the quartiles of that ratio.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from types import ModuleType

import numpy as np

from benchmarks.test_bench_echo import _bare, _stage
from rtsdk.audio.align import EchoStage

FRAMES = 200
RATES = (16_000, 24_000, 48_000)


class _CopyBackend:
    """Stands in for ``pywebrtc_audio.AudioProcessor``: returns a copy of the microphone."""

    stream_delay_ms = 0

    def process(self, mic: np.ndarray, ref: np.ndarray) -> np.ndarray:
        return mic.copy()

    def reset(self) -> None:
        pass


def _ours(rate: int, guard: bool) -> Callable[[int], np.ndarray]:
    step = _stage(rate, guard)
    cells = step.__closure__ or ()
    (stage,) = (c.cell_contents for c in cells if isinstance(c.cell_contents, EchoStage))
    stage.canceller._ap = _CopyBackend()  # type: ignore[attr-defined]
    return step


def _with_kernel(
    step: Callable[[int], np.ndarray], kernel: ModuleType
) -> Callable[[int], np.ndarray]:
    """``step``'s stage with the block kernel of ``kernel`` (another commit's echoblocks)."""
    cells = step.__closure__ or ()
    (stage,) = (c.cell_contents for c in cells if isinstance(c.cell_contents, EchoStage))
    ec = stage.canceller
    guard = kernel.TailGuard(ec.block)
    ec._guard = guard  # type: ignore[attr-defined]
    ec._meter = kernel.EchoMeter(ec.block, guard, active=1e-6, alpha=0.02)  # type: ignore[attr-defined]
    return step


def measure(
    rounds: int, before: ModuleType | None = None
) -> dict[int, dict[str, tuple[float, float, float, float]]]:
    """``{rate: {variant: (µs per frame, % of bare, its lower and upper quartile)}}`` (medians
    over the rounds; the % from the per-round ratios); with ``before``, also
    ``"rtsdk/before"``: today's whole stage over ``before``'s, per round."""
    result: dict[int, dict[str, tuple[float, float, float, float]]] = {}
    for rate in RATES:
        variants: dict[str, Callable[[int], np.ndarray]] = {
            "bare": _bare(rate),
            "rtsdk": _stage(rate, True),
            "no-guard": _stage(rate, False),
            "ours": _ours(rate, True),
            "ours-no-guard": _ours(rate, False),
        }
        if before is not None:
            variants["before"] = _with_kernel(_stage(rate, True), before)
            variants["ours-before"] = _with_kernel(_ours(rate, True), before)
        for step in variants.values():  # two seconds: converged
            for i in range(100):
                step(i)
        times: dict[str, list[float]] = {k: [] for k in variants}
        i0 = 100
        order = list(variants.items())
        for _ in range(rounds):
            for name, step in order:
                t0 = time.perf_counter_ns()
                for i in range(i0, i0 + FRAMES):
                    step(i)
                times[name].append((time.perf_counter_ns() - t0) / FRAMES / 1000)
            i0 += FRAMES
            order.reverse()
        bare = times["bare"]
        result[rate] = {}
        for name, t in times.items():
            pct = [100 * x / b for x, b in zip(t, bare, strict=True)]
            q1, q2, q3 = statistics.quantiles(pct, n=4)
            result[rate][name] = (statistics.median(t), q2, q1, q3)
        if before is not None:
            pct = [100 * x / b for x, b in zip(times["rtsdk"], times["before"], strict=True)]
            q1, q2, q3 = statistics.quantiles(pct, n=4)
            result[rate]["rtsdk/before"] = (statistics.median(times["rtsdk"]), q2, q1, q3)
    return result


def main() -> None:
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("rounds", nargs="?", type=int, default=15)
    ap.add_argument("--before", metavar="REV", help="also the stage with REV's echo kernel")
    args = ap.parse_args()
    rounds = args.rounds
    before = None
    if args.before:
        from benchmarks.echo_before import kernel_at

        before = kernel_at(args.before)
    res = measure(rounds, before)
    print(f"echo stage per 20 ms frame, {rounds} interleaved rounds of {FRAMES} frames (medians)")
    print("(rtsdk, no-guard, before: over bare; ours: our own work alone, as a share of bare;")
    print(" rtsdk/before: today's whole stage over the one with the --before kernel)")
    print(f"{'rate':>6} {'variant':>14} {'us/frame':>9} {'vs bare':>9} {'quartiles':>17}")
    for rate, row in res.items():
        for name, (us, pct, q1, q3) in row.items():
            if name == "bare":
                rel = q = ""
            elif name == "rtsdk/before":
                rel, q = f"{pct - 100:+.1f} %", f"{q1 - 100:+.1f} .. {q3 - 100:+.1f} %"
            elif name.startswith("ours"):
                rel, q = f"{pct:.1f} %", f"{q1:.1f} .. {q3:.1f} %"
            else:
                rel, q = f"{pct - 100:+.1f} %", f"{q1 - 100:+.1f} .. {q3 - 100:+.1f} %"
            print(f"{rate // 1000:>5}k {name:>14} {us:9.1f} {rel:>9} {q:>17}")


if __name__ == "__main__":
    main()

"""GPT-Live against Realtime per 20 ms frame, interleaved in one process.

``python -m benchmarks.live_interleaved [ROUNDS]``: the pairs of ``benchmarks/test_bench_live.py``
(uplink framer, ``send_audio``'s ``Uplink.frames``, the delta decoders, the armed
``DeltaPlayer``, the service's whole receive path), each built once per protocol. Each round
runs Realtime and GPT-Live ``REPS`` times each for ``FRAMES`` frames, in alternating order (A B,
then B A: this VM's speed drifts by 15-30 % within minutes, so only neighbours are compared) and
keeps each one's fastest block (what another process's time slice did not hit); the ratio
GPT-Live / Realtime is taken per round. The table gives the medians over rounds (time per frame)
and the median and quartiles of that ratio.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable

from benchmarks.test_bench_live import (
    APIS,
    Step,
    decode_delta,
    downlink_player,
    downlink_service,
    uplink_framer,
    uplink_send_audio,
)

FRAMES = 400
REPS = 6
WARM = 200

PAIRS: dict[str, Callable[[str], Step]] = {
    "uplink framer (AppendFramer.frame)": uplink_framer,
    "uplink send_audio (Uplink.frames)": uplink_send_audio,
    "decode delta": decode_delta,
    "downlink DeltaPlayer (armed)": lambda api: downlink_player(api)[0],
    "downlink service (link filter, _on_frame, Playback, render)": lambda api: downlink_service(
        api
    )[0],
}


def measure(rounds: int) -> dict[str, tuple[float, float, float, float, float]]:
    """``{pair: (Realtime ns, GPT-Live ns, ratio median, lower and upper quartile)}``."""
    result = {}
    for name, build in PAIRS.items():
        steps = {api: build(api) for api in APIS}
        for step in steps.values():
            for i in range(WARM):
                step(i)
        times: dict[str, list[float]] = {api: [] for api in APIS}
        order = list(steps.items())
        i0 = WARM
        for _ in range(rounds):
            best = dict.fromkeys(APIS, float("inf"))
            for _ in range(REPS):
                for api, step in order:
                    t0 = time.perf_counter_ns()
                    for i in range(i0, i0 + FRAMES):
                        step(i)
                    best[api] = min(best[api], (time.perf_counter_ns() - t0) / FRAMES)
                i0 += FRAMES
                order.reverse()
            for api in APIS:
                times[api].append(best[api])
        realtime, live = times[APIS[0]], times[APIS[1]]
        ratios = [b / a for a, b in zip(realtime, live, strict=True)]
        q1, q2, q3 = statistics.quantiles(ratios, n=4)
        result[name] = (statistics.median(realtime), statistics.median(live), q2, q1, q3)
    return result


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 31
    res = measure(rounds)
    print(
        f"per 20 ms frame, {rounds} interleaved rounds (each the best of {REPS} blocks of "
        f"{FRAMES} frames; medians over rounds)"
    )
    print(f"{'path':<60} {'Realtime':>9} {'GPT-Live':>9} {'ratio':>6} {'quartiles':>13}")
    for name, (rt, live, ratio, q1, q3) in res.items():
        print(f"{name:<60} {rt / 1000:7.2f}µs {live / 1000:7.2f}µs {ratio:6.3f} {q1:.3f}..{q3:.3f}")


if __name__ == "__main__":
    main()

"""Print the ratio table of a pytest-benchmark JSON file.

Every benchmark tags itself with ``extra_info["impl"]``; within one group, each implementation's
median is divided by the median of ``"rtsdk"`` (our compiled kernel), so ``12.0x`` means "rtsdk is
twelve times faster than this". Usage::

    python benchmarks/ratios.py bench-results/latest.json [--markdown]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path

__all__ = ["load_groups", "main", "render"]

BASELINE = "rtsdk"


def _fmt_time(seconds: float) -> str:
    if seconds < 1e-6:
        return f"{seconds * 1e9:.0f} ns"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.2f} µs"
    return f"{seconds * 1e3:.2f} ms"


def load_groups(path: Path) -> dict[str, dict[str, float]]:
    """Map group -> impl -> median seconds."""
    data = json.loads(path.read_text())
    groups: dict[str, dict[str, float]] = defaultdict(dict)
    for bench in data["benchmarks"]:
        impl = bench.get("extra_info", {}).get("impl") or bench["name"]
        group = bench.get("group") or bench["name"]
        groups[group][impl] = bench["stats"]["median"]
    return dict(groups)


def render(groups: dict[str, dict[str, float]], markdown: bool = False) -> str:
    """The table: one row per (group, impl), ``rtsdk`` first, then the others by speed."""
    rows: list[tuple[str, str, str, str]] = []
    for group in sorted(groups):
        impls = groups[group]
        base = impls.get(BASELINE)
        order = sorted(impls, key=lambda name: (name != BASELINE, impls[name]))
        for name in order:
            ratio = "" if base is None or name == BASELINE else f"{impls[name] / base:.1f}x"
            rows.append((group, name, _fmt_time(impls[name]), ratio))
    head = ("group", "impl", "median", "vs rtsdk")
    if markdown:
        lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        lines += ["| " + " | ".join(r) + " |" for r in rows]
        return "\n".join(lines)
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(4)]
    out = ["  ".join(h.ljust(w) for h, w in zip(head, widths, strict=True))]
    prev = None
    for r in rows:
        if prev is not None and r[0] != prev:
            out.append("")
        prev = r[0]
        out.append("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)))
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("json", type=Path)
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args(argv)
    print(render(load_groups(args.json), markdown=args.markdown))
    return 0


if __name__ == "__main__":
    sys.exit(main())

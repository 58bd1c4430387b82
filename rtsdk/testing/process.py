"""The local Realtime server in a process of its own, for load tests and benchmarks.

A server in its own process keeps its CPU out of the measured process (and off its core, with
``cpu``): ``with serve_in_subprocess("--pacing", "realtime") as url: ...``.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Callable, Iterator

__all__ = ["serve_in_subprocess", "server_process"]


@contextlib.contextmanager
def serve_in_subprocess(
    *args: str, cpu: int | None = None, stop_timeout: float = 30.0
) -> Iterator[str]:
    """Run ``python -m rtsdk serve --port 0 ARGS...`` and yield the ``ws://`` URL it prints.

    ``cpu`` pins the server to that CPU (where the OS can). The server is terminated on exit.
    """
    with server_process(*args, cpu=cpu, stop_timeout=stop_timeout) as (_, url):
        yield url


@contextlib.contextmanager
def server_process(
    *args: str, cpu: int | None = None, stop_timeout: float = 30.0
) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """As :func:`serve_in_subprocess`, yielding the process too (to read its CPU time)."""
    pin: Callable[[], None] | None = None
    if cpu is not None and hasattr(os, "sched_setaffinity"):

        def pin() -> None:
            os.sched_setaffinity(0, {cpu})

    proc = subprocess.Popen(
        [sys.executable, "-m", "rtsdk", "serve", "--port", "0", *args],
        stdout=subprocess.PIPE,
        text=True,
        preexec_fn=pin,
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        if not url.startswith("ws://"):
            raise RuntimeError(f"the local server did not print its URL: {url!r}")
        yield proc, url
    finally:
        proc.terminate()
        proc.wait(stop_timeout)
        if proc.stdout is not None:
            proc.stdout.close()

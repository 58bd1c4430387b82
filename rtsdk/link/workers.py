"""Several processes listening on one port: what ``--workers N`` of the command line runs.

:func:`run_workers` starts N copies of ``python -m rtsdk COMMAND ...`` with ``--worker`` (so
they do not launch workers themselves), all on one port with ``SO_REUSEPORT`` (the kernel
spreads connections across them), forwards SIGINT/SIGTERM to them and waits for all. With
``port=0`` it reserves a free port first and holds it until the workers are done. With
``announce`` it prints the first line each worker prints (the URL it listens on) once, when
every worker has printed it: the same line a single process prints.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import socket
import subprocess
import sys
from collections.abc import Callable, Coroutine
from typing import Any, Protocol, TypeVar, cast

__all__ = [
    "StopSignals",
    "add_drain_argument",
    "add_loop_arguments",
    "drain_calls",
    "loop_runner",
    "parse_server_args",
    "reserve_port",
    "reuse_port_supported",
    "run_workers",
]

T = TypeVar("T")


class _Draining(Protocol):
    calls: Any

    async def drain(self, timeout: float | None = None) -> int: ...


def add_drain_argument(p: argparse.ArgumentParser) -> None:
    """A server command's ``--drain SECONDS`` (checked by :func:`parse_server_args`)."""
    p.add_argument(
        "--drain",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="on SIGINT/SIGTERM take no new calls and let live ones go on this long before "
        "hanging up (a second signal hangs up at once; default 0)",
    )


def add_loop_arguments(p: argparse.ArgumentParser) -> None:
    """A server command's ``--loop`` (for :func:`loop_runner`) and ``--verbose``."""
    p.add_argument(
        "--loop",
        choices=("auto", "asyncio", "uvloop"),
        default="auto",
        help="event loop (auto: uvloop when installed, the `fast` extra)",
    )
    p.add_argument("--verbose", "-v", action="store_true", help="log at INFO")


def parse_server_args(
    command: str, parser: argparse.ArgumentParser, argv: list[str]
) -> tuple[argparse.Namespace, bool] | int:
    """A server command's arguments (``--workers N`` and ``--drain S`` checked) and whether
    this process is one of its workers (``--worker``, removed from ``argv`` in place); or the
    exit status (2) after saying what was wrong."""
    worker = "--worker" in argv
    if worker:
        argv.remove("--worker")
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 2
    if args.workers < 1:
        print(f"rtsdk {command}: --workers must be >= 1", file=sys.stderr)
        return 2
    if not args.drain >= 0:
        print(f"rtsdk {command}: --drain must be >= 0 seconds", file=sys.stderr)
        return 2
    return args, worker


def loop_runner(choice: str) -> Callable[[Coroutine[Any, Any, T]], T]:
    """``asyncio.run``, or ``uvloop.run`` (``auto``: when uvloop is installed; ``uvloop``
    without it raises :class:`ImportError`)."""
    if choice != "asyncio":
        try:
            import uvloop
        except ImportError:
            if choice == "uvloop":
                raise
        else:
            return cast("Callable[[Coroutine[Any, Any, T]], T]", uvloop.run)
    return asyncio.run


async def drain_calls(server: _Draining, seconds: float, now: asyncio.Event) -> None:
    """Let ``server``'s live calls end on their own for up to ``seconds`` (until ``now`` is
    set: a second signal), saying so; what is left is the caller's to hang up."""
    if not await server.drain(0):  # the port is closed at once; nothing is live
        return
    print(
        f"draining: {len(server.calls)} live calls, up to {seconds:g} s "
        "(signal again to hang up now)",
        flush=True,
    )
    waiting = asyncio.ensure_future(server.drain(seconds))
    hurry = asyncio.ensure_future(now.wait())
    await asyncio.wait({waiting, hurry}, return_when=asyncio.FIRST_COMPLETED)
    for task in (waiting, hurry):
        task.cancel()
    left = len(server.calls)
    if left:
        print(f"hanging up {left} calls", flush=True)


class StopSignals:
    """SIGINT and SIGTERM on the running loop, for a server that drains: the first sets
    :attr:`stop` (finish what runs, take nothing new), a later one :attr:`now` (stop waiting).

    One stop request can arrive twice: Ctrl-C signals the whole process group and a
    ``--workers`` launcher forwards it too (as does systemd's default KillMode), so signals
    within half a second of the first are that same request.
    """

    def __init__(self) -> None:
        self.stop = asyncio.Event()
        self.now = asyncio.Event()
        self._loop = asyncio.get_running_loop()
        self._first = 0.0
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                self._loop.add_signal_handler(sig, self._signalled)

    def _signalled(self) -> None:
        if not self.stop.is_set():
            self._first = self._loop.time()
            self.stop.set()
        elif self._loop.time() - self._first >= 0.5:
            self.now.set()


def reuse_port_supported() -> bool:
    """True where several processes can listen on one port (Linux, BSD, macOS)."""
    return hasattr(socket, "SO_REUSEPORT")


def reserve_port(host: str) -> socket.socket:
    """A socket bound (not listening) to a free port with ``SO_REUSEPORT``: holds the port."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, 0))
    return sock


def run_workers(
    command: str,
    argv: list[str],
    *,
    host: str,
    port: int,
    workers: int,
    announce: bool = False,
) -> int:
    """Run ``workers`` processes of ``python -m rtsdk COMMAND ARGV --port P --workers N
    --worker`` and return the worst exit status (see the module docstring)."""
    holder = None
    if port == 0:
        holder = reserve_port(host)
        port = holder.getsockname()[1]
    args = [*argv, "--port", str(port), "--workers", str(workers), "--worker"]
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "rtsdk", command, *args],
            stdout=subprocess.PIPE if announce else None,
            text=True,
        )
        for _ in range(workers)
    ]

    def forward(signum: int, frame: Any) -> None:
        for proc in procs:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGTERM)

    signal.signal(signal.SIGINT, forward)
    signal.signal(signal.SIGTERM, forward)
    if announce:
        lines = [proc.stdout.readline().strip() if proc.stdout else "" for proc in procs]
        if all(lines):
            print(lines[0], flush=True)
    status = 0
    for proc in procs:
        status = max(status, proc.wait())
        if proc.stdout is not None:
            proc.stdout.close()
    if holder is not None:
        holder.close()
    return status

"""A real network that a test can make bad: the local server inside a network namespace.

``.ci/netns.sh`` makes the namespace and its veth pair (10.231.x.y/30, nothing else on the
machine sees it); the local server runs inside it (``ip netns exec NAME python -m rtsdk serve
--host <namespace address> --arrivals FILE``), and the test's client reaches it from the root
namespace through the veth pair, where the kernel's token bucket (tc tbf) sets the bandwidth
and the queue of either direction: :meth:`NetLab.shape`.

A test module declares the fixture in two lines (an imported fixture would shadow its
arguments)::

    @pytest.fixture
    def netlab(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[NetLab]:
        yield from netlab_for(request, tmp_path)

and ``@pytest.mark.parametrize("netlab", [{"pacing": "realtime"}], indirect=True)`` passes
server options (``pacing``, ``serve_args``). Where namespaces cannot be
made (not root, no ``ip`` / ``tc``, no tbf in the kernel) the test is skipped with the reason,
and fails instead under ``RTSDK_REQUIRE_NETNS=1`` (CI). The server is killed and the namespace
removed at teardown, whatever the test did.
"""

from __future__ import annotations

import contextlib
import os
import select
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pytest

import rtsdk
from rtsdk.testing.arrivals import Arrival, read_arrivals

__all__ = ["NetLab", "netlab_for", "netlab_unavailable", "open_netlab", "require_netlab"]

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / ".ci" / "netns.sh"
#: CI sets it: a missing namespace is then a failure, not a skip
REQUIRED = os.environ.get("RTSDK_REQUIRE_NETNS", "").strip() == "1"
_SERVER_START_S = 20.0  # two busy cores, a cold interpreter importing rtsdk

Direction = Literal["uplink", "downlink"]


def netlab_unavailable() -> str | None:
    """Why no namespace can be made here, or None."""
    if not sys.platform.startswith("linux"):
        return f"network namespaces are Linux only (this is {sys.platform})"
    if os.geteuid() != 0:
        return "network namespaces and tc need root"
    for tool in ("ip", "tc", "bash", "flock"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (iproute2, util-linux)"
    return None


def _script(*args: str, timeout: float = 20.0) -> str:
    """Run ``.ci/netns.sh ARGS``; its stdout, or RuntimeError with its stderr."""
    done = subprocess.run(
        ["bash", str(SCRIPT), *args], capture_output=True, text=True, timeout=timeout
    )
    if done.returncode != 0:
        raise RuntimeError(
            f"netns.sh {' '.join(args)} failed ({done.returncode}): {done.stderr.strip()}"
        )
    return done.stdout


def _exports(text: str) -> dict[str, str]:
    """The ``export NAME=value`` lines of ``netns.sh up`` (plain values: names, addresses)."""
    out = {}
    for line in text.splitlines():
        if line.startswith("export ") and "=" in line:
            key, _, value = line[7:].partition("=")
            out[key] = value
    return out


@dataclass
class NetLab:
    """One namespace with the local server inside; see the module."""

    name: str  #: the namespace (rtsdk-XXXXXX)
    host_addr: str  #: the root-namespace end of the veth pair (the client's side)
    ns_addr: str  #: the end inside the namespace (where the server listens)
    url: str = ""  #: the server's Realtime URL, ``ws://NS_ADDR:PORT/v1/realtime``
    arrivals_path: Path = Path()  #: the server's ``--arrivals`` file
    server: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    shaped: dict[str, str] = field(default_factory=dict)  #: direction -> the tc arguments

    @property
    def base_url(self) -> str:
        """``ws://NS_ADDR:PORT/v1`` (GPT-Live and translation add their paths)."""
        return self.url.rsplit("/", 1)[0]

    @property
    def port(self) -> int:
        return int(self.url.split(":")[2].split("/")[0])

    def shape(
        self,
        direction: Direction,
        rate: str,
        latency_ms: int = 400,
        burst: int | None = None,
    ) -> None:
        """A token bucket on ``direction``: ``rate`` as tc writes it (``"128kbit"``), a queue of
        ``latency_ms`` at that rate (packets waiting longer are dropped), ``burst`` bytes (default
        10 ms at ``rate``, at least two full frames). Replaces what was there."""
        args = [direction, rate, str(latency_ms)] + ([str(burst)] if burst is not None else [])
        _script("shape", self.name, *args)
        self.shaped[direction] = " ".join(args[1:])

    def unshape(self, direction: Direction) -> None:
        """Back to an unshaped ``direction``."""
        _script("unshape", self.name, direction)
        self.shaped.pop(direction, None)

    def qdisc(self, direction: Direction) -> str:
        """``tc -s qdisc show`` of ``direction``'s sending end (drops, backlog, ...)."""
        dev = f"rt{'h' if direction == 'uplink' else 'n'}-{self.name.removeprefix('rtsdk-')}"
        cmd = ["tc", "-s", "qdisc", "show", "dev", dev]
        if direction == "downlink":
            cmd = ["ip", "netns", "exec", self.name, *cmd]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=10).stdout

    def arrivals(self) -> list[Arrival]:
        """What the server has received so far, with arrival times (see
        :mod:`rtsdk.testing.arrivals`)."""
        return read_arrivals(self.arrivals_path)

    def send_queue(self) -> int:
        """Bytes the kernel holds unsent (or unacknowledged) on the root namespace's TCP
        sockets to the server: what sits below the SDK, in the socket send buffers."""
        done = subprocess.run(
            ["ss", "-tnH", "state", "established", "dst", f"{self.ns_addr}:{self.port}"],
            capture_output=True,
            text=True,
            timeout=10,
        )
        total = 0
        for line in done.stdout.splitlines():
            parts = line.split()
            if len(parts) >= 2 and parts[1].isdigit():
                total += int(parts[1])  # Recv-Q Send-Q Local Peer (state filtered out)
        return total

    def server_log(self) -> str:
        """The server's stderr so far."""
        path = self.arrivals_path.with_suffix(".log")
        return path.read_text(errors="replace") if path.exists() else ""


def _read_line(proc: subprocess.Popen[bytes], timeout: float) -> str:
    """The first line ``proc`` prints (within ``timeout``), or ``""`` if it ended first."""
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    deadline = time.monotonic() + timeout
    data = b""
    while b"\n" not in data:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError(f"the server printed no URL within {timeout} s")
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            chunk = os.read(fd, 4096)
            if not chunk:
                return ""
            data += chunk
    return data.split(b"\n", 1)[0].decode()


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
    if proc.stdout is not None:
        proc.stdout.close()


@contextlib.contextmanager
def open_netlab(
    workdir: Path, *, pacing: str = "fast", serve_args: Sequence[str] = ()
) -> Iterator[NetLab]:
    """Make a namespace, start the server in it (``pacing``, more ``serve_args``), yield the
    :class:`NetLab`; remove both on the way out. Raises ``RuntimeError`` when either cannot
    be made."""
    lab = NetLab(**_lab_fields(_exports(_script("up"))))
    try:
        lab.arrivals_path = workdir / f"{lab.name}.arrivals.jsonl"
        log = open(lab.arrivals_path.with_suffix(".log"), "wb")  # noqa: SIM115 - closed below
        package_root = Path(rtsdk.__file__).resolve().parents[1]  # serve this very rtsdk
        cmd = ["ip", "netns", "exec", lab.name, sys.executable, "-m", "rtsdk", "serve"]
        cmd += ["--host", lab.ns_addr, "--port", "0", "--pacing", pacing]
        cmd += ["--arrivals", str(lab.arrivals_path), *serve_args]
        with log:
            lab.server = subprocess.Popen(
                cmd, cwd=package_root, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=log
            )
        url = _read_line(lab.server, _SERVER_START_S)
        if not url.startswith("ws://"):
            raise RuntimeError(
                f"the server in {lab.name} did not start (status {lab.server.poll()}): "
                f"{url!r} {lab.server_log()[-2000:]}"
            )
        lab.url = url
        yield lab
    finally:
        if lab.server is not None:
            _stop(lab.server)
        _script("down", lab.name)


def _lab_fields(env: dict[str, str]) -> dict[str, Any]:
    try:
        return {
            "name": env["RTSDK_NETNS"],
            "host_addr": env["RTSDK_NETNS_HOST_ADDR"],
            "ns_addr": env["RTSDK_NETNS_ADDR"],
        }
    except KeyError as exc:
        raise RuntimeError(f"netns.sh up printed no {exc.args[0]}") from None


def require_netlab() -> None:
    """Skip the test (with the reason) where namespaces cannot be made; fail it instead under
    ``RTSDK_REQUIRE_NETNS=1``."""
    why = netlab_unavailable()
    if why is not None:
        if REQUIRED:
            pytest.fail(f"RTSDK_REQUIRE_NETNS=1 but {why}")
        pytest.skip(why)


def netlab_for(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[NetLab]:
    """The body of a ``netlab`` fixture: a :class:`NetLab` (server options from an indirect
    parametrize: ``pacing``, ``serve_args``); skipped where namespaces cannot be made, failed
    under ``RTSDK_REQUIRE_NETNS=1``."""
    params: dict[str, Any] = dict(getattr(request, "param", None) or {})
    require_netlab()
    lab_cm = open_netlab(tmp_path, **params)
    try:
        lab = lab_cm.__enter__()
    except RuntimeError as exc:
        if REQUIRED:
            pytest.fail(f"RTSDK_REQUIRE_NETNS=1 but no network namespace: {exc}")
        pytest.skip(f"no network namespace: {exc}")
    try:
        yield lab
    finally:
        lab_cm.__exit__(None, None, None)

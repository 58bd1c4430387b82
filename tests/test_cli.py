"""``python -m rtsdk``: info by default, usage on unknown commands."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

from rtsdk import __version__, kernels


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "rtsdk", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=dict(os.environ),
        check=False,
    )


def test_info_is_the_default_and_names_backend_and_version() -> None:
    out = _run()
    assert out.returncode == 0, out.stderr
    assert f"rtsdk {__version__}" in out.stdout
    assert f"kernel backend: {kernels.BACKEND}" in out.stdout
    assert "audio devices" in out.stdout or "device" in out.stdout.lower()


def test_unknown_command_is_refused_with_usage() -> None:
    out = _run("frobnicate")
    assert out.returncode == 2
    assert "unknown command 'frobnicate'" in out.stderr
    assert "usage:" in out.stderr


def test_help() -> None:
    out = _run("--help")
    assert out.returncode == 0
    assert "serve" in out.stdout


def test_models_lists_the_catalogue_with_dates() -> None:
    out = _run("models")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert any(line.startswith("gpt-realtime-2.1 *") and " yes " in line for line in lines)
    old = next(line for line in lines if line.startswith("gpt-realtime "))
    assert "2027-01-20 (gpt-realtime-2.1)" in old
    assert any(line.startswith("gpt-transcribe *") for line in lines)
    assert "models" in _run("--help").stdout


def test_serve_prints_its_url_and_exits_0_on_sigint() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "rtsdk", "serve", "--port", "0", "--pacing", "fast"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        assert line.startswith("ws://127.0.0.1:") and line.endswith("/v1/realtime"), line
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err

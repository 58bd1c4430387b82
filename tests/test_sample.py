"""samples/main.py as a user runs it: no key (local echo server), WAV in, WAV out, Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from rtsdk.audio import read_wav

from .client_helpers import best_correlation
from .conftest import REALTIME_ONCE

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "samples" / "main.py"
BUNDLED = ROOT / "samples" / "assets" / "hello.wav"


def run_sample(
    script: Path, tmp_path: Path, *args: str, timeout: float = 90
) -> subprocess.CompletedProcess[str]:
    """``python <script> <args>`` as a user runs it, in ``tmp_path``, without any key."""
    return subprocess.run(
        [sys.executable, str(script), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=_env(),
        cwd=tmp_path,
        check=False,
    )


def _env() -> dict[str, str]:
    env = dict(os.environ)
    for name in ("OPENAI_API_KEY", "AZURE_OPENAI_ENDPOINT", "AZURE_OPENAI_API_KEY"):
        env.pop(name, None)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def test_sample_echoes_the_bundled_speech_into_a_wav(tmp_path: Path) -> None:
    assert BUNDLED.exists(), "the sample's bundled speech WAV is missing"
    out = tmp_path / "assistant.wav"
    proc = subprocess.run(
        [sys.executable, str(SAMPLE), "--input", str(BUNDLED), "--output", str(out)],
        capture_output=True,
        text=True,
        timeout=90,
        env=_env(),
        cwd=tmp_path,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "local server" in proc.stdout
    assert "not a model" in proc.stdout
    assert "assistant:" in proc.stdout and "latency" in proc.stdout
    assert "echo cancellation: off (not a device microphone and speaker)" in proc.stdout
    said, rate_in = read_wav(BUNDLED)
    heard, rate_out = read_wav(out)
    assert rate_out in (16000, 24000, 44100, 48000)
    assert len(heard) / rate_out >= 0.9 * len(said) / rate_in
    # the echo is the speech: resample the input to the output rate and find it in the output
    if rate_in != rate_out:
        t_out = np.arange(int(len(said) * rate_out / rate_in)) / rate_out
        said = np.interp(t_out, np.arange(len(said)) / rate_in, said).astype(np.float32)
    assert best_correlation(said, heard) > 0.8


@REALTIME_ONCE
def test_sample_on_gpt_live(tmp_path: Path) -> None:
    """``--model gpt-live-1``: the same sample, devices and files on GPT-Live (the local
    server's GPT-Live echo)."""
    out = tmp_path / "assistant.wav"
    args = ("--model", "gpt-live-1", "--input", str(BUNDLED), "--output", str(out))
    proc = run_sample(SAMPLE, tmp_path, *args)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "GPT-Live session sess_" in proc.stdout and "/v1/live/sessions" in proc.stdout
    assert "you: " in proc.stdout and "assistant: " in proc.stdout
    assert "GPT-Live session closed (close_requested" in proc.stdout
    said, rate_in = read_wav(BUNDLED)
    heard, rate_out = read_wav(out)
    if rate_in != rate_out:
        t_out = np.arange(int(len(said) * rate_out / rate_in)) / rate_out
        said = np.interp(t_out, np.arange(len(said)) / rate_in, said).astype(np.float32)
    assert best_correlation(said, heard) > 0.8


def test_sample_without_devices_falls_back_to_the_bundled_wav(tmp_path: Path) -> None:
    from rtsdk.audio import list_devices
    from rtsdk.exceptions import AudioDeviceError

    try:
        if any(d.max_input_channels or d.max_output_channels for d in list_devices()):
            pytest.skip("this machine has audio devices: the fallback is not taken")
    except AudioDeviceError:
        pass
    proc = subprocess.run(
        [sys.executable, str(SAMPLE)],
        capture_output=True,
        text=True,
        timeout=90,
        env=_env(),
        cwd=tmp_path,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "No microphone" in proc.stdout and "No speaker" in proc.stdout
    heard, _ = read_wav(tmp_path / "rtsdk-output.wav")
    assert np.abs(heard).max() > 0.05


def test_ctrl_c_during_a_turn_ends_cleanly_within_a_second(tmp_path: Path) -> None:
    assert BUNDLED.exists()
    proc = subprocess.Popen(
        [sys.executable, str(SAMPLE), "--input", str(BUNDLED), "--output", str(tmp_path / "o.wav")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(),
        cwd=tmp_path,
    )
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + 30
        for line in proc.stdout:  # wait until the session is up and audio is flowing
            if line.startswith("connected to"):
                break
            assert time.monotonic() < deadline
        time.sleep(0.4)
        t0 = time.monotonic()
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=10)
        elapsed = time.monotonic() - t0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert elapsed < 1.0 + 0.5  # within a second (plus process exit)
    assert "Traceback" not in err

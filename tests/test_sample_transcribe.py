"""samples/transcribe.py as a user runs it: no key (local server), a WAV in, captions out,
a JSON Lines transcript written."""

from __future__ import annotations

import json
import subprocess
import wave
from pathlib import Path

import numpy as np

from rtsdk.testing.transcribe import TRANSCRIPT_PREFIX, describe

from .test_sample import run_sample

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "samples" / "transcribe.py"
BUNDLED = ROOT / "samples" / "assets" / "hello.wav"


def _run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_sample(SAMPLE, tmp_path, *args)


def test_two_turns_become_two_captions_and_two_jsonl_records(tmp_path: Path) -> None:
    rate = 24000
    t = np.arange(int(0.6 * rate)) / rate
    burst = (0.4 * np.sin(2 * np.pi * 300 * t) * 32767).astype("<i2")
    gap = np.zeros(int(0.7 * rate), dtype="<i2")
    pcm = np.concatenate([burst, gap, burst[: int(0.4 * rate)]])
    path = tmp_path / "two.wav"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())
    out = tmp_path / "t.jsonl"
    proc = _run(tmp_path, "--input", str(path), "--output", str(out), "--logprobs")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "not a speech recogniser" in proc.stdout and "Traceback" not in proc.stderr
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(r["start_ms"], r["end_ms"]) for r in records] == [(0, 600), (1000, 1700)]
    raw = pcm.tobytes()
    assert records[0]["text"] == describe(raw[: 600 * 48], "pcm16")
    assert records[1]["text"] == describe(raw[1000 * 48 : 1700 * 48], "pcm16")
    for r in records:
        assert "".join(lp["token"] for lp in r["logprobs"]) == r["text"]
    captions = [line for line in proc.stdout.splitlines() if TRANSCRIPT_PREFIX in line]
    assert len(captions) == 2 and captions[1].startswith("[   0:01.0 -    0:01.7]")
    assert "2 turn(s) transcribed" in proc.stdout


def test_the_bundled_speech_and_a_missing_file(tmp_path: Path) -> None:
    proc = _run(tmp_path, "--input", str(BUNDLED))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.count(TRANSCRIPT_PREFIX) >= 1
    missing = _run(tmp_path, "--input", str(tmp_path / "nope.wav"))
    assert missing.returncode == 2 and "no such file" in missing.stderr

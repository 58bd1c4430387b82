"""samples/translate.py as a user runs it: no key (the local translator), WAV in, WAV out."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from rtsdk.audio import read_wav

from .conftest import REALTIME_ONCE
from .test_sample import run_sample

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "samples" / "translate.py"
BUNDLED = ROOT / "samples" / "assets" / "hello.wav"


@REALTIME_ONCE
def test_translate_sample_plays_the_translation_into_a_wav(tmp_path: Path) -> None:
    out = tmp_path / "translated.wav"
    args = ("--to", "fr", "--input", str(BUNDLED), "--output", str(out))
    proc = run_sample(SAMPLE, tmp_path, *args)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "/v1/realtime/translations" in proc.stdout
    assert "[source]" in proc.stdout and "[fr]" in proc.stdout
    assert "translation written to" in proc.stdout
    heard, rate = read_wav(out)
    assert rate > 0 and np.count_nonzero(np.abs(heard) > 0.02) / rate > 1.0

"""Input transcription on the local server: an honest stand-in for a speech recogniser.

The server has no speech recogniser, so what it "transcribes" is a description of what it
heard: how long the turn was, how loud, and a fingerprint of the audio (the first 8 hex digits
of a BLAKE2b hash of the PCM16 samples), prefixed by :data:`TRANSCRIPT_PREFIX`, which says it is
not a model. The same audio always gives the same text, and different audio different text.

Per committed turn it sends ``conversation.item.input_audio_transcription.delta`` events (three
words each) then ``.completed`` with the whole text and a usage (``duration`` for
``whisper-1``, ``tokens`` for the other models). With ``include:
["item.input_audio_transcription.logprobs"]`` every delta and the completed event carry one
log probability per word (0.0: the text is certain, being a measurement). The language
models that report languages (``gpt-transcribe``, ``gpt-live-transcribe``) get ``languages``:
the configured language, else an empty list ("no language could be reliably detected").
``gpt-4o-transcribe-diarize`` adds one ``.segment`` event per voiced stretch of the turn (gaps
of 300 ms or more split them), timed in seconds from the start of the item's audio, all
from speaker ``"A"`` (this server cannot tell voices apart). A turn whose transcription was
made to fail (``LocalRealtimeServer.fail_next_transcriptions``) gets ``.failed`` instead, and
so does every turn while the transcription model is past its shutdown date (the error the
service gives for a model it does not serve: ``invalid_request_error``, ``model_not_found``).
A transcription config that names no model uses the catalogue's default
(:data:`rtsdk.models.DEFAULT_TRANSCRIPTION_MODEL`).
"""

from __future__ import annotations

import asyncio
import hashlib
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

from ..models import DEFAULT_TRANSCRIPTION_MODEL
from ..protocol import events as ev
from . import audio as au
from .catalogue import failure
from .host import SessionHost
from .vad import threshold_dbfs

__all__ = [
    "TRANSCRIPT_PREFIX",
    "describe",
    "describe_pcm",
    "transcribe_turn",
    "transcription_events",
    "voiced_spans",
]

Json = dict[str, Any]

#: How every transcript of the local server starts.
TRANSCRIPT_PREFIX = "[local transcript, not a model:"

LOGPROBS = "item.input_audio_transcription.logprobs"
_LANGUAGE_MODELS = frozenset({"gpt-transcribe", "gpt-live-transcribe"})
_DIARIZE = "gpt-4o-transcribe-diarize"
_BLOCK_MS = 10
_GAP_MS = 300
#: Time between transcription deltas when the server paces in real time.
_TRANSCRIPT_DELTA_S = 0.03


def _fingerprint(pcm: npt.NDArray[np.int16]) -> str:
    return hashlib.blake2b(pcm.astype("<i2", copy=False).tobytes(), digest_size=4).hexdigest()


def fingerprint(raw: bytes, fmt: str) -> str:
    """8 hex digits identifying the audio (of its PCM16 samples, whatever the wire format)."""
    return _fingerprint(au.decode_pcm16(raw, fmt))


def describe_pcm(pcm: npt.NDArray[np.int16], rate: int) -> str:
    """The transcript of PCM16 samples at ``rate``: duration, level and fingerprint."""
    return (
        f"{TRANSCRIPT_PREFIX} {pcm.size / rate:.2f} s of audio at {au.level_dbfs(pcm):.1f} "
        f"dBFS, fingerprint {_fingerprint(pcm)}]"
    )


def describe(raw: bytes, fmt: str) -> str:
    """The transcript of one turn: duration, level and fingerprint of its audio."""
    return describe_pcm(au.decode_pcm16(raw, fmt), au.RATES[fmt])


def voiced_spans(raw: bytes, fmt: str, threshold: float = 0.5) -> list[tuple[float, float]]:
    """``(start_s, end_s)`` of each voiced stretch (10 ms blocks at the VAD's level for
    ``threshold``), stretches closer than 300 ms merged."""
    pcm = au.decode_pcm16(raw, fmt).astype(np.float64)
    block = au.RATES[fmt] * _BLOCK_MS // 1000
    n = pcm.size // block
    if n == 0:
        return []
    frames = pcm[: n * block].reshape(n, block)
    level = np.einsum("ij,ij->i", frames, frames) / block / (32768.0 * 32768.0)
    voiced = level >= 10.0 ** (threshold_dbfs(threshold) / 10.0)
    spans: list[list[int]] = []
    for i in np.flatnonzero(voiced).tolist():
        if spans and (i - spans[-1][1]) * _BLOCK_MS < _GAP_MS:
            spans[-1][1] = i + 1
        else:
            spans.append([i, i + 1])
    return [(a * _BLOCK_MS / 1000, b * _BLOCK_MS / 1000) for a, b in spans]


def _pieces(text: str) -> list[str]:
    words = text.split(" ")
    words = [w if i == 0 else " " + w for i, w in enumerate(words)]
    return ["".join(words[k : k + 3]) for k in range(0, len(words), 3)]


def _logprobs(piece: str) -> list[Json]:
    tokens = [t if i == 0 else " " + t for i, t in enumerate(piece.split(" "))]
    tokens = [t for t in tokens if t]
    return [{"token": t, "bytes": list(t.encode("utf-8")), "logprob": 0.0} for t in tokens]


def _usage(model: str, seconds: float, text: str, prompt: str | None) -> Json:
    if model == "whisper-1":
        return {"type": "duration", "seconds": round(seconds, 3)}
    audio_tokens = math.ceil(seconds * 10)
    text_tokens = math.ceil(len(prompt) / 4) if prompt else 0
    out = math.ceil(len(text) / 4)
    return {
        "type": "tokens",
        "input_tokens": audio_tokens + text_tokens,
        "output_tokens": out,
        "total_tokens": audio_tokens + text_tokens + out,
        "input_token_details": {"audio_tokens": audio_tokens, "text_tokens": text_tokens},
    }


def transcription_events(
    *,
    item_id: str,
    raw: bytes,
    fmt: str,
    config: Json,
    include: list[str] | None,
    threshold: float = 0.5,
    new_id: Callable[[str], str],
) -> list[tuple[type[ev.ServerEvent], Json]]:
    """The transcription events of one committed turn, in order, as ``(class, fields)``.

    ``config`` is the session's ``audio.input.transcription`` object. The caller sends them
    (all at once, or paced).
    """
    model = str(config.get("model") or DEFAULT_TRANSCRIPTION_MODEL)
    text = describe(raw, fmt)
    seconds = au.duration_ms(len(raw), fmt) / 1000
    want_logprobs = bool(include) and LOGPROBS in (include or [])
    ids = {"item_id": item_id, "content_index": 0}
    out: list[tuple[type[ev.ServerEvent], Json]] = []
    if model == _DIARIZE:
        for start, end in voiced_spans(raw, fmt, threshold):
            a, b = int(start * 1000 * au.BYTES_PER_MS[fmt]), int(end * 1000 * au.BYTES_PER_MS[fmt])
            if fmt == "pcm16":
                a, b = a - a % 2, b - b % 2
            part = raw[a:b]
            pcm = au.decode_pcm16(part, fmt)
            out.append(
                (
                    ev.InputAudioTranscriptionSegmentEvent,
                    {
                        **ids,
                        "id": new_id("seg"),
                        "text": f"[{end - start:.2f} s at {au.level_dbfs(pcm):.1f} dBFS]",
                        "start": round(start, 3),
                        "end": round(end, 3),
                        "speaker": "A",
                    },
                )
            )
    for piece in _pieces(text):
        fields: Json = {**ids, "delta": piece}
        if want_logprobs:
            fields["logprobs"] = _logprobs(piece)
        out.append((ev.InputAudioTranscriptionDeltaEvent, fields))
    done: Json = {
        **ids,
        "transcript": text,
        "usage": _usage(model, seconds, text, config.get("prompt")),
    }
    if want_logprobs:
        done["logprobs"] = [lp for piece in _pieces(text) for lp in _logprobs(piece)]
    if model in _LANGUAGE_MODELS:
        language = config.get("language")
        done["languages"] = [{"code": language}] if isinstance(language, str) else []
    out.append((ev.InputAudioTranscriptionCompletedEvent, done))
    return out


def transcribe_turn(s: SessionHost, item: Json, raw: bytes, fmt: str) -> asyncio.Task[None] | None:
    """The input transcription of a committed turn, when the session asks for one: all at
    once with ``"fast"`` pacing; with ``"realtime"``, deltas 30 ms apart from a task (returned
    for the session to keep and cancel)."""
    config = s.session["audio"]["input"].get("transcription")
    if not isinstance(config, dict):
        return None
    model = str(config.get("model") or DEFAULT_TRANSCRIPTION_MODEL)
    if s.model_retired(model):
        s.send(
            ev.InputAudioTranscriptionFailedEvent,
            item_id=item["id"],
            content_index=0,
            error=failure("transcription_model_not_found", model=model),
        )
        return None
    if s.transcription_failures:
        s.transcription_failures.pop()
        s.send(
            ev.InputAudioTranscriptionFailedEvent,
            item_id=item["id"],
            content_index=0,
            error=failure("transcription_failed", item_id=item["id"]),
        )
        return None
    params = s.buffer.params
    events = transcription_events(
        item_id=item["id"],
        raw=raw,
        fmt=fmt,
        config=config,
        include=s.session.get("include"),
        threshold=params["threshold"] if params else 0.5,
        new_id=s.new_id,
    )
    item["content"][0]["transcript"] = events[-1][1]["transcript"]
    if s.pacing != "realtime":
        for cls, fields in events:
            s.send(cls, **fields)
        return None

    async def paced() -> None:
        for k, (cls, fields) in enumerate(events):
            if k:
                await asyncio.sleep(_TRANSCRIPT_DELTA_S)
            s.send(cls, **fields)

    return asyncio.get_running_loop().create_task(paced())

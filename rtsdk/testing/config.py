"""The local server's session object: defaults, ``session.update`` merging, and what it means.

The session is kept in the full GA shape the real service sends in ``session.created`` /
``session.updated`` (``object``, ``id``, ``expires_at`` included). A ``session.update`` that
passed :func:`rtsdk.protocol.client_event_problems` is merged by :func:`merge_session`: only
the keys present change; ``audio``, ``audio.input`` and ``audio.output`` merge key by key; every
other value (``turn_detection``, ``format``, ``transcription``, ``tools``, ...) is replaced
whole, and a new ``turn_detection`` or ``format`` object gets the defaults of its type for the
keys it leaves out.

The session knows the model catalogue (:mod:`rtsdk.models`): a reasoning model's session starts
with ``reasoning: {"effort": "low"}`` (the service's documented default), and the reasoning
fields (``reasoning``, ``parallel_tool_calls``) are refused on a catalogue model that does not
reason (:func:`reasoning_problem`). A model the catalogue does not know (an Azure deployment
name, say) is taken at its word: nothing is refused for it.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from ..models import DEFAULT_TRANSCRIPTION_MODEL, model_info, reasons
from ..protocol.session import format_name
from .errors import Refusal

__all__ = [
    "DEFAULT_REASONING_EFFORT",
    "SEMANTIC_SILENCE_MS",
    "VadDefaults",
    "default_session",
    "default_transcription_session",
    "input_format",
    "merge_session",
    "output_format",
    "reasoning_problem",
    "turn_detection_defaults",
    "vad_parameters",
]

Json = dict[str, Any]

#: Silence (ms) that ends a turn under ``semantic_vad``, by eagerness: this server has no
#: semantics, so semantic_vad runs the energy VAD with these silences.
SEMANTIC_SILENCE_MS: dict[str, int] = {"low": 1200, "medium": 600, "auto": 600, "high": 300}

#: The reasoning effort a reasoning model's session starts with (the service's default).
DEFAULT_REASONING_EFFORT = "low"

_DEFAULT_INSTRUCTIONS = (
    "Local echo server (rtsdk.testing): it repeats what it hears and is not a model."
)


@dataclass(frozen=True, slots=True)
class VadDefaults:
    """What a ``server_vad`` object leaves out gets these (and ``session.created`` shows them).

    ``turn_detection=None`` starts sessions with manual turns.
    """

    turn_detection: str | None = "server_vad"
    threshold: float = 0.5
    prefix_padding_ms: int = 300
    silence_duration_ms: int = 500
    create_response: bool = True
    interrupt_response: bool = True


def turn_detection_defaults(kind: str, vad: VadDefaults) -> Json:
    """A complete turn_detection object of ``kind`` with this server's defaults."""
    if kind == "semantic_vad":
        return {
            "type": "semantic_vad",
            "eagerness": "auto",
            "create_response": vad.create_response,
            "interrupt_response": vad.interrupt_response,
        }
    return {
        "type": "server_vad",
        "threshold": vad.threshold,
        "prefix_padding_ms": vad.prefix_padding_ms,
        "silence_duration_ms": vad.silence_duration_ms,
        "idle_timeout_ms": None,
        "create_response": vad.create_response,
        "interrupt_response": vad.interrupt_response,
    }


def _format(value: Json) -> Json:
    kind = value.get("type", "audio/pcm")
    return {"type": "audio/pcm", "rate": 24000} if kind == "audio/pcm" else {"type": kind}


def default_session(
    *, session_id: str, model: str, expires_at: int, vad: VadDefaults, voice: str = "marin"
) -> Json:
    """The full session of ``session.created`` (with ``reasoning`` for a reasoning model)."""
    turn = None if vad.turn_detection is None else turn_detection_defaults(vad.turn_detection, vad)
    session: Json = {
        "type": "realtime",
        "object": "realtime.session",
        "id": session_id,
        "model": model,
        "output_modalities": ["audio"],
        "instructions": _DEFAULT_INSTRUCTIONS,
        "tools": [],
        "tool_choice": "auto",
        "max_output_tokens": "inf",
        "tracing": None,
        "truncation": "auto",
        "prompt": None,
        "expires_at": expires_at,
        "audio": {
            "input": {
                "format": {"type": "audio/pcm", "rate": 24000},
                "transcription": None,
                "noise_reduction": None,
                "turn_detection": turn,
            },
            "output": {
                "format": {"type": "audio/pcm", "rate": 24000},
                "voice": voice,
                "speed": 1.0,
            },
        },
        "include": None,
    }
    if reasons(model):
        session["reasoning"] = {"effort": DEFAULT_REASONING_EFFORT}
    return session


def reasoning_problem(model: object, given: Json, where: str) -> Refusal | None:
    """The refusal (``unsupported_parameter``) of reasoning fields on a model that does not
    reason, or None.

    ``given`` is a session update or a ``response.create``'s ``response``; ``where`` is
    ``"session"`` or ``"response"`` (the start of the ``param``). Only a model the catalogue
    knows, and knows not to reason, is refused. The wording is the service's for reasoning
    fields sent to a non-reasoning model in its other APIs (nothing public shows what the
    Realtime API says; this server assumes it says the same).
    """
    if model_info(model if isinstance(model, str) else None) is None or reasons(model):
        return None
    for key, name in (
        ("reasoning", "reasoning.effort"),
        ("parallel_tool_calls", "parallel_tool_calls"),
    ):
        if given.get(key) is not None:  # null clears: nothing to refuse
            return Refusal("unsupported_parameter", {"param": f"{where}.{name}", "name": name})
    return None


def default_transcription_session(*, session_id: str, expires_at: int, vad: VadDefaults) -> Json:
    """The full session of ``session.created`` on a ``?intent=transcription`` connection."""
    turn = None
    if vad.turn_detection is not None:
        turn = turn_detection_defaults(vad.turn_detection, vad)
        for key in ("create_response", "interrupt_response", "idle_timeout_ms"):
            turn.pop(key, None)  # nothing to respond with in a transcription session
    return {
        "type": "transcription",
        "object": "realtime.transcription_session",
        "id": session_id,
        "expires_at": expires_at,
        "audio": {
            "input": {
                "format": {"type": "audio/pcm", "rate": 24000},
                "transcription": {
                    "model": DEFAULT_TRANSCRIPTION_MODEL,
                    "language": None,
                    "prompt": "",
                },
                "noise_reduction": None,
                "turn_detection": turn,
            }
        },
        "include": None,
    }


def _merge_input(current: Json, update: Json, vad: VadDefaults) -> None:
    for key, value in update.items():
        if key == "format":
            current[key] = _format(value)
        elif key == "turn_detection" and isinstance(value, dict):
            full = turn_detection_defaults(str(value["type"]), vad)
            full.update(value)
            current[key] = full
        else:
            current[key] = copy.deepcopy(value)


def _merge_output(current: Json, update: Json) -> None:
    for key, value in update.items():
        current[key] = _format(value) if key == "format" else copy.deepcopy(value)


def merge_session(
    current: Json, update: Json, *, vad: VadDefaults, voice_locked: bool
) -> tuple[Json, Refusal | None]:
    """``(new session, None)``, or ``(current, refusal)`` when the update must be refused (a
    :class:`~rtsdk.testing.errors.Refusal`: the catalogue error to send).

    ``update`` has passed the schema check. Refused here: changing ``type`` or ``model``,
    reasoning fields on a model that does not reason (:func:`reasoning_problem`), changing
    ``tracing`` once it is enabled (the reference fixes an enabled tracing configuration for
    the rest of the session), and changing the voice once the session has produced audio (as
    the real service does).
    """
    kind = update.get("type", current["type"])
    if kind != current["type"]:
        # the real service's words (and code) for a session update of the other kind
        to = (
            "session_type_to_realtime"
            if current["type"] == "realtime"
            else "session_type_to_transcription"
        )
        return current, Refusal(to)
    if "model" in update and update["model"] != current["model"]:
        return current, Refusal("session_model_change")
    if current["type"] == "realtime":
        problem = reasoning_problem(current.get("model"), update, "session")
        if problem is not None:
            return current, problem
    tracing = current.get("tracing")
    if tracing is not None and "tracing" in update and update["tracing"] != tracing:
        return current, Refusal("tracing_locked")
    new = copy.deepcopy(current)
    for key, value in update.items():
        if key == "audio":
            audio = new["audio"]
            if "input" in value:
                _merge_input(audio["input"], value["input"], vad)
            if "output" in value:
                _merge_output(audio["output"], value["output"])
        elif key == "reasoning" and value is None:
            # null puts the model's default back (none on a model that does not reason)
            if reasons(new.get("model")):
                new["reasoning"] = {"effort": DEFAULT_REASONING_EFFORT}
            else:
                new.pop("reasoning", None)
        elif key != "type":
            new[key] = copy.deepcopy(value)
    if new["type"] == "transcription":
        audio_in = new["audio"]["input"]
        model = (audio_in.get("transcription") or {}).get("model")
        if model == "gpt-realtime-whisper" and audio_in.get("turn_detection") is not None:
            return current, Refusal("transcription_turn_detection")
        turn = audio_in.get("turn_detection")
        given = ((update.get("audio") or {}).get("input") or {}).get("turn_detection")
        if isinstance(turn, dict) and isinstance(given, dict):
            for key in ("create_response", "interrupt_response", "idle_timeout_ms"):
                if key not in given:
                    turn.pop(key, None)  # defaults of a conversation, not of this session
        return new, None
    if voice_locked and new["audio"]["output"]["voice"] != current["audio"]["output"]["voice"]:
        return current, Refusal("voice_locked")
    return new, None


def input_format(session: Json) -> str:
    """Format name (``pcm16``, ``g711_ulaw``, ``g711_alaw``) of the session's input audio."""
    return format_name(session["audio"]["input"]["format"])


def output_format(session: Json) -> str:
    """Format name of the session's output audio."""
    return format_name(session["audio"]["output"]["format"])


def vad_parameters(session: Json) -> Json | None:
    """``{idle_timeout_ms, threshold, prefix_padding_ms, silence_duration_ms, create_response,
    interrupt_response}`` of the session's turn detection, or None for manual turns."""
    turn = session["audio"]["input"].get("turn_detection")
    if not isinstance(turn, dict):
        return None
    if session.get("type") == "transcription":  # turns are transcribed, never answered
        turn = {**turn, "create_response": False, "interrupt_response": False}
        turn.pop("idle_timeout_ms", None)
    if turn.get("type") == "semantic_vad":
        return {
            "idle_timeout_ms": None,
            "threshold": 0.5,
            "prefix_padding_ms": 300,
            "silence_duration_ms": SEMANTIC_SILENCE_MS.get(str(turn.get("eagerness")), 600),
            "create_response": turn.get("create_response", True),
            "interrupt_response": turn.get("interrupt_response", True),
        }
    idle = turn.get("idle_timeout_ms")
    return {
        "idle_timeout_ms": int(idle) if isinstance(idle, int) and idle > 0 else None,
        "threshold": float(turn.get("threshold", 0.5)),
        "prefix_padding_ms": int(turn.get("prefix_padding_ms", 300)),
        "silence_duration_ms": int(turn.get("silence_duration_ms", 500)),
        "create_response": turn.get("create_response", True),
        "interrupt_response": turn.get("interrupt_response", True),
    }

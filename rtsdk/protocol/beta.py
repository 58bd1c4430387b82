"""GA client events in the beta shapes, for endpoints that still speak beta (Azure's preview path).

rtsdk builds every client event in the GA shape. :func:`to_beta_client_event` rewrites the few
that differ (``session.update``'s nested session, ``response.create``'s response options, GA
assistant content types); everything else is passed through. Server events from such an
endpoint are normalised to GA by the parser, so the rest of the SDK sees GA only.
"""

from __future__ import annotations

from typing import Any

from .session import format_name

__all__ = ["to_beta_client_event", "to_beta_session"]

Json = dict[str, Any]

_GA_TO_BETA_PARTS = {"output_text": "text", "output_audio": "audio"}


def _modalities(ga: object) -> list[str]:
    # beta had no audio-only mode: audio output always came with its text
    if isinstance(ga, list) and "audio" in ga:
        return ["text", "audio"]
    return ["text"]


def _sub(obj: Json, key: str) -> Json:
    value = obj.get(key)
    return value if isinstance(value, dict) else {}


def to_beta_session(session: Json) -> Json:
    """The flat beta session for a GA ``session`` object (keys it does not know are kept)."""
    out: Json = {}
    for key, value in session.items():
        if key == "type":
            continue
        if key == "output_modalities":
            out["modalities"] = _modalities(value)
        elif key == "max_output_tokens":
            out["max_response_output_tokens"] = value
        elif key == "audio" and isinstance(value, dict):
            inp = _sub(value, "input")
            outp = _sub(value, "output")
            if "format" in inp:
                out["input_audio_format"] = format_name(inp["format"])
            if "transcription" in inp:
                out["input_audio_transcription"] = inp["transcription"]
            if "noise_reduction" in inp:
                out["input_audio_noise_reduction"] = inp["noise_reduction"]
            if "turn_detection" in inp:
                out["turn_detection"] = inp["turn_detection"]
            if "format" in outp:
                out["output_audio_format"] = format_name(outp["format"])
            for name in ("voice", "speed"):
                if name in outp:
                    out[name] = outp[name]
        else:
            out[key] = value
    return out


def _beta_response(response: Json) -> Json:
    out: Json = {}
    for key, value in response.items():
        if key == "output_modalities":
            out["modalities"] = _modalities(value)
        elif key == "max_output_tokens":
            out["max_response_output_tokens"] = value
        elif key == "audio" and isinstance(value, dict):
            outp = _sub(value, "output")
            if "format" in outp:
                out["output_audio_format"] = format_name(outp["format"])
            if "voice" in outp:
                out["voice"] = outp["voice"]
        elif key == "input" and isinstance(value, list):
            out[key] = [_beta_item(i) if isinstance(i, dict) else i for i in value]
        else:
            out[key] = value
    return out


def _beta_item(item: Json) -> Json:
    content = item.get("content")
    if not isinstance(content, list):
        return item
    parts = [
        dict(p, type=_GA_TO_BETA_PARTS[p["type"]])
        if isinstance(p, dict) and p.get("type") in _GA_TO_BETA_PARTS
        else p
        for p in content
    ]
    return dict(item, content=parts)


def to_beta_client_event(event: Json) -> Json:
    """``event`` (a GA client event dict) in the beta shape; a new dict when anything changed."""
    kind = event.get("type")
    if kind == "session.update" and isinstance(event.get("session"), dict):
        return dict(event, session=to_beta_session(event["session"]))
    if kind == "response.create" and isinstance(event.get("response"), dict):
        return dict(event, response=_beta_response(event["response"]))
    if kind == "conversation.item.create" and isinstance(event.get("item"), dict):
        return dict(event, item=_beta_item(event["item"]))
    return event

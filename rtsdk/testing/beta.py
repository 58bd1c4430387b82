"""The beta event shapes, for connections that speak them (Azure's preview path, or a client
sending ``OpenAI-Beta: realtime=v1``).

The session logic works in GA only: :func:`client_event_to_ga` turns a beta client event into
GA on the way in (flat session -> nested, ``modalities`` -> ``output_modalities``, response
voice/format/token options, beta assistant content types; ``temperature`` has no GA place and
is dropped), and :func:`server_event_to_beta` turns each GA server event into what a beta
server sends (type names, the flat session, the beta response and item shapes), or ``None``
for events beta servers did not send (``conversation.item.done``).
"""

from __future__ import annotations

from typing import Any

from ..protocol.codec import BETA_SERVER_TYPE_ALIASES
from ..protocol.session import AUDIO_FORMATS, format_name, normalize_item, normalize_session

__all__ = ["client_event_to_ga", "server_event_to_beta"]

Json = dict[str, Any]

_GA_TO_BETA_TYPES = {
    ga: beta
    for beta, ga in BETA_SERVER_TYPE_ALIASES.items()
    if not beta.startswith("transcription_session.")
}
_PREVIEW_MODEL = "gpt-4o-realtime-preview-2024-12-17"
_GA_TO_BETA_PARTS = {"output_text": "text", "output_audio": "audio"}
_ITEM_EVENTS = frozenset(
    {
        "conversation.item.created",
        "conversation.item.retrieved",
        "response.output_item.added",
        "response.output_item.done",
    }
)


def _beta_modalities(ga: object) -> list[str]:
    return ["text", "audio"] if isinstance(ga, list) and "audio" in ga else ["text"]


def _ga_modalities(beta: object) -> list[str]:
    return ["audio"] if isinstance(beta, list) and "audio" in beta else ["text"]


def _ga_response(response: Json) -> Json:
    out: Json = {}
    output: Json = {}
    for key, value in response.items():
        if key == "modalities":
            out["output_modalities"] = _ga_modalities(value)
        elif key == "max_response_output_tokens":
            out["max_output_tokens"] = value
        elif key == "output_audio_format":
            output["format"] = dict(AUDIO_FORMATS.get(str(value), {"type": str(value)}))
        elif key == "voice":
            output["voice"] = value
        elif key == "temperature":
            continue
        elif key == "input" and isinstance(value, list):
            out[key] = [normalize_item(i) if isinstance(i, dict) else i for i in value]
        else:
            out[key] = value
    if output:
        out["audio"] = {"output": output}
    return out


def client_event_to_ga(event: Json) -> Json:
    """A beta client event in the GA shape (a GA-shaped event passes through unchanged)."""
    kind = event.get("type")
    if kind == "session.update" and isinstance(event.get("session"), dict):
        session = dict(normalize_session(event["session"]))
        session.pop("temperature", None)
        session.setdefault("type", "realtime")
        return dict(event, session=session)
    if kind == "response.create" and isinstance(event.get("response"), dict):
        return dict(event, response=_ga_response(event["response"]))
    if kind == "conversation.item.create" and isinstance(event.get("item"), dict):
        return dict(event, item=normalize_item(event["item"]))
    return event


def _beta_item(item: Json) -> Json:
    content = item.get("content")
    if not isinstance(content, list):
        return item
    parts = [
        dict(p, type=_GA_TO_BETA_PARTS[p["type"]]) if p.get("type") in _GA_TO_BETA_PARTS else p
        for p in content
    ]
    return dict(item, content=parts)


def _beta_session(session: Json) -> Json:
    out: Json = {}
    for key, value in session.items():
        if key == "type":
            continue
        if key == "output_modalities":
            out["modalities"] = _beta_modalities(value)
        elif key == "max_output_tokens":
            out["max_response_output_tokens"] = value
        elif key == "model":
            # the preview path names a deployment; the session shows the model behind it
            out[key] = value if str(value).startswith("gpt-4o") else _PREVIEW_MODEL
        elif key == "audio":
            inp, outp = value["input"], value["output"]
            out["input_audio_format"] = format_name(inp["format"])
            out["input_audio_transcription"] = inp.get("transcription")
            out["input_audio_noise_reduction"] = inp.get("noise_reduction")
            out["turn_detection"] = inp.get("turn_detection")
            out["output_audio_format"] = format_name(outp["format"])
            out["voice"] = outp.get("voice")
            out["speed"] = outp.get("speed")
        else:
            out[key] = value
    out["temperature"] = 0.8
    return out


def _beta_response(response: Json) -> Json:
    out: Json = {}
    for key, value in response.items():
        if key == "output_modalities":
            out["modalities"] = _beta_modalities(value)
        elif key == "audio":
            output = value.get("output", {})
            out["output_audio_format"] = format_name(output.get("format"))
            out["voice"] = output.get("voice")
        elif key == "output":
            out[key] = [_beta_item(i) for i in value]
        else:
            out[key] = value
    return out


def server_event_to_beta(event: Json) -> Json | None:
    """What a beta server sends for this GA event; None when it sends nothing."""
    kind = event["type"]
    if kind == "conversation.item.done":
        return None
    kind = _GA_TO_BETA_TYPES.get(kind, kind)
    if kind != event["type"]:
        event = dict(event, type=kind)
    if kind in ("session.created", "session.updated"):
        return dict(event, session=_beta_session(event["session"]))
    if kind in ("response.created", "response.done"):
        return dict(event, response=_beta_response(event["response"]))
    if kind in _ITEM_EVENTS:
        return dict(event, item=_beta_item(event["item"]))
    return event

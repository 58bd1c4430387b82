"""Replay after a reconnect: a conversation as the ``conversation.item.create`` frames that
rebuild it as text, and what an item costs of the replay budget (:func:`item_chars`).

User and assistant audio are replayed as their transcripts (there is no way to give the server
assistant audio back), function calls and their outputs as they were.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from . import builders as b

__all__ = ["item_chars", "replay_frames"]

Json = dict[str, Any]


def replay_frames(items: Iterable[Json]) -> list[Json]:
    """``conversation.item.create`` frames rebuilding ``items`` (in conversation order) as
    text; an output whose call is not among them is left out (the server would refuse it)."""
    frames: list[Json] = []
    calls: set[object] = set()
    for kept in items:
        item = _replay_item(kept)
        if item is None:
            continue
        if item["type"] == "function_call":
            calls.add(item["call_id"])
        elif item["type"] == "function_call_output" and item["call_id"] not in calls:
            continue  # its call was let go (replay budget): the server would refuse it
        frames.append(b.conversation_item_create(item))
    return frames


def _replay_item(item: Json) -> Json | None:
    kind = item.get("type")
    if kind == "function_call":
        call_id, name = item.get("call_id"), item.get("name")
        if isinstance(call_id, str) and isinstance(name, str):
            return b.function_call_item(call_id, name, str(item.get("arguments") or ""))
        return None
    if kind == "function_call_output":
        call_id, output = item.get("call_id"), item.get("output")
        if isinstance(call_id, str) and isinstance(output, str):
            return b.function_call_output_item(call_id, output)
        return None
    if kind != "message":
        return None
    texts: list[str] = []
    for part in item.get("content") or ():
        if not isinstance(part, dict):
            continue
        text = part.get("text")
        if not isinstance(text, str):
            text = part.get("transcript")
        if isinstance(text, str) and text:
            texts.append(text)
    if not texts:
        return None
    text = " ".join(texts)
    role = item.get("role")
    if role == "user":
        return b.user_text_item(text)
    if role == "assistant":
        return b.assistant_text_item(text)
    if role == "system":
        return b.system_message_item(text)
    return None


def item_chars(item: Json) -> int:
    """Characters of text an item holds (what its replay would send)."""
    n = sum(len(str(item.get(key) or "")) for key in ("arguments", "output", "name"))
    for part in item.get("content") or ():
        if isinstance(part, dict):
            n += len(str(part.get("text") or part.get("transcript") or ""))
    return n

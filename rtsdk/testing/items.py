"""``conversation.item.create/truncate/delete/retrieve`` on the local server.

Each handler takes the session (a :class:`~rtsdk.testing.host.SessionHost`: the
:class:`~rtsdk.testing.session.RealtimeSession`), the client event (already checked against
the schema) and its ``event_id``, and answers with the reply event or an ``error`` of the
catalogue (:mod:`.catalogue`: ``item_retrieve_invalid_item_id``, ``unsupported_content_type``,
...) carrying that ``event_id``.
"""

from __future__ import annotations

import copy
from typing import Any

from ..kernels import b64decode, b64encode
from ..protocol import events as ev
from . import audio as au
from .host import SessionHost

__all__ = [
    "item_create",
    "item_delete",
    "item_retrieve",
    "item_truncate",
    "response_context",
]

Json = dict[str, Any]

_DEFAULT_PART = {"user": "input_text", "system": "input_text", "assistant": "output_text"}


def _server_item(s: SessionHost, given: Json, event_id: str | None) -> Json | None:
    """The item as the server keeps it, with any audio stored aside; None after an error."""
    item = copy.deepcopy(given)
    item.setdefault("id", s.new_id("item"))
    if item["type"].startswith("mcp_"):
        return item  # MCP items have neither ``object`` nor ``status``
    item["object"] = "realtime.item"
    item.setdefault("status", "completed")
    if item["type"] == "function_call":
        item.setdefault("call_id", s.new_id("call"))
    if item["type"] != "message":
        return item
    role = item["role"]
    parts: list[Json] = []
    for i, part in enumerate(item["content"]):
        part = dict(part)
        kind = part.setdefault("type", _DEFAULT_PART.get(role, "input_text"))
        if role == "assistant" and kind == "output_audio":
            # the service cannot populate assistant audio: it asks for the text instead
            s.fail("item_create_assistant_audio", event_id=event_id, index=i)
            return None
        if kind == "input_audio":
            try:
                raw = b64decode(part.pop("audio", ""))
            except ValueError:
                s.fail("item_create_bad_audio", event_id=event_id, index=i)
                return None
            s.store_audio(item["id"], raw, s.buffer.fmt)
            part.setdefault("transcript", None)
        parts.append(part)
    item["content"] = parts
    return item


def item_create(s: SessionHost, data: Json, event_id: str | None) -> None:
    """``conversation.item.create`` -> ``conversation.item.added`` + ``conversation.item.done``."""
    given = data["item"]
    if "id" in given and s.find(given["id"]) >= 0:
        s.fail("item_create_duplicate_id", event_id=event_id, item_id=given["id"])
        return
    previous = data.get("previous_item_id")
    if previous not in (None, "root") and s.find(previous) < 0:
        s.fail("item_create_missing_previous", event_id=event_id, previous_item_id=previous)
        return
    if given["type"] == "mcp_approval_response":
        request = s.find(str(given.get("approval_request_id")))
        if request < 0 or s.items[request].get("type") != "mcp_approval_request":
            s.fail(
                "mcp_approval_unknown_request",
                event_id=event_id,
                request_id=given.get("approval_request_id"),
            )
            return
    item = _server_item(s, given, event_id)
    if item is None:
        return
    s.conversation_add(
        item, after=previous if previous != "root" else None, root=previous == "root"
    )
    s.item_final(item)
    if item["type"] == "mcp_approval_response":
        s.continue_after_approval()


def item_truncate(s: SessionHost, data: Json, event_id: str | None) -> None:
    """``conversation.item.truncate`` with the bounds check of the real service.

    Only assistant audio can be truncated, never past the audio generated for the item; the
    transcript keeps the share of words that was heard. An item still being generated ends its
    response first (``cancelled``, ``client_cancelled``), as nothing after the cut can be heard.
    """
    item_id = data["item_id"]
    index = s.find(item_id)
    if index < 0:
        s.fail("item_truncate_missing", event_id=event_id, item_id=item_id)
        return
    item = s.items[index]
    run = s.generating(item_id)
    if run is not None:
        # still streaming: its content is filled in when the response ends, so ask the
        # response whether audio has started (before the first audio byte there is none)
        audible = run.part_kind == "audio" and len(run.audio_so_far) > 0
    else:
        audible = item.get("role") == "assistant" and any(
            p.get("type") in ("output_audio", "audio") for p in item.get("content") or []
        )
    if not audible:
        s.fail("truncate_not_audio", event_id=event_id)
        return
    held = s.item_audio(item_id)
    raw, fmt = held if held is not None else (b"", "pcm16")
    length_ms = int(au.duration_ms(len(raw), fmt))
    end_ms = data["audio_end_ms"]
    if end_ms > length_ms:
        s.fail("truncate_past_audio", event_id=event_id, length=length_ms, end=end_ms)
        return
    s.end_response_of(item_id)
    keep = int(end_ms * au.BYTES_PER_MS[fmt])
    keep -= keep % (2 if fmt == "pcm16" else 1)
    s.store_audio(item_id, raw[:keep], fmt)
    for part in item.get("content", []):
        transcript = part.get("transcript")
        if isinstance(transcript, str) and length_ms > 0:
            words = transcript.split(" ")
            part["transcript"] = " ".join(words[: len(words) * end_ms // length_ms])
    s.send(
        ev.ConversationItemTruncatedEvent,
        item_id=item_id,
        content_index=data["content_index"],
        audio_end_ms=end_ms,
    )


def item_delete(s: SessionHost, data: Json, event_id: str | None) -> None:
    """``conversation.item.delete`` -> ``conversation.item.deleted``.

    An item still being generated ends its response first (``cancelled``,
    ``client_cancelled``: its ``*.done`` events and ``response.done`` come before
    ``conversation.item.deleted``), so that no event about the item follows its deletion.
    """
    item_id = data["item_id"]
    index = s.find(item_id)
    if index < 0:
        s.fail("item_delete_missing", event_id=event_id, item_id=item_id)
        return
    s.end_response_of(item_id)
    index = s.find(item_id)
    del s.items[index]
    s.forget_audio(item_id)
    s.send(ev.ConversationItemDeletedEvent, item_id=item_id)


def item_retrieve(s: SessionHost, data: Json, event_id: str | None) -> None:
    """``conversation.item.retrieve`` -> ``conversation.item.retrieved`` with the audio.

    An item still being generated comes as it stands: ``in_progress``, with the transcript,
    text or arguments and the audio generated so far; its response carries on.
    """
    item_id = data["item_id"]
    index = s.find(item_id)
    if index < 0:
        s.fail("item_retrieve_missing", event_id=event_id, item_id=item_id)
        return
    run = s.generating(item_id)
    item = run.item_so_far() if run is not None else None
    if item is None:
        item = s.snapshot(s.items[index])
    held = s.item_audio(item_id)
    if held is not None:
        for part in item.get("content", []):
            if part.get("type") in ("input_audio", "output_audio"):
                part["audio"] = b64encode(held[0]).decode("ascii")
    s.send(ev.ConversationItemRetrievedEvent, item=item)


def response_context(s: SessionHost, given: Any, event_id: str | None) -> list[Json] | None:
    """The items a response sees: the conversation, or ``response.input`` with its
    ``item_reference`` entries resolved (None after an error for an unknown id)."""
    if given is None:
        return s.items
    context: list[Json] = []
    for i, entry in enumerate(given):
        if entry.get("type") == "item_reference":
            found = s.find(entry["id"])
            if found < 0:
                s.fail(
                    "response_input_unknown_item", event_id=event_id, index=i, item_id=entry["id"]
                )
                return None
            context.append(s.items[found])
        else:
            context.append(entry)
    return context

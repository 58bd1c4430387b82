"""Client-event builders: each returns a dict the live server accepts, ready for ``encode_event``.

Every control event gets an ``event_id`` (``evt_rtsdk_<n>`` from a process-wide counter unless
one is passed); ``input_audio_buffer.append`` has none unless passed. Builders check their result
against :mod:`.schema` and raise ``ConfigurationError`` (naming the parameter) rather than
produce something the server would reject.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from typing import Any

from ..exceptions import ConfigurationError
from .schema import client_event_problems
from .session import SessionSettings, format_object
from .transcription import TranscriptionSettings

__all__ = [
    "EventIds",
    "assistant_text_item",
    "conversation_item_create",
    "conversation_item_delete",
    "conversation_item_retrieve",
    "conversation_item_truncate",
    "function_call_item",
    "function_call_output_item",
    "input_audio_buffer_append",
    "input_audio_buffer_clear",
    "input_audio_buffer_commit",
    "mcp_approval_response_item",
    "next_event_id",
    "response_cancel",
    "response_create",
    "session_update",
    "system_message_item",
    "user_audio_item",
    "user_image_item",
    "user_text_item",
]

Json = dict[str, Any]


class EventIds:
    """Counter-based client ``event_id`` source: ``evt_rtsdk_1``, ``evt_rtsdk_2``, ..."""

    __slots__ = ("_counter", "prefix")

    def __init__(self, prefix: str = "evt_rtsdk_") -> None:
        self.prefix = prefix
        self._counter = itertools.count(1)

    def __call__(self) -> str:
        return f"{self.prefix}{next(self._counter)}"


_IDS = EventIds()


def next_event_id() -> str:
    """A fresh ``evt_rtsdk_<n>`` from the process-wide counter."""
    return _IDS()


def _checked(event: Json) -> Json:
    problems = client_event_problems(event)
    if problems:
        first = problems[0]
        raise ConfigurationError(
            f"{event['type']}: {first.param}: {first.message} ({first.code})"
            + (f" and {len(problems) - 1} more" if len(problems) > 1 else "")
        )
    return event


def _control(kind: str, event_id: str | None, **fields: Any) -> Json:
    event: Json = {"type": kind, "event_id": event_id if event_id is not None else _IDS()}
    event.update(fields)
    return _checked(event)


# --------------------------------------------------------------------------------------------
# session and input audio


def session_update(
    settings: SessionSettings | TranscriptionSettings | Mapping[str, Any],
    *,
    event_id: str | None = None,
) -> Json:
    """``session.update`` from :class:`SessionSettings`, :class:`TranscriptionSettings` or a
    GA ``session`` mapping (``type`` "realtime" unless it says otherwise)."""
    if isinstance(settings, (SessionSettings, TranscriptionSettings)):
        session = settings.to_session()
    else:
        session = dict(settings)
        session.setdefault("type", "realtime")
    return _control("session.update", event_id, session=session)


def input_audio_buffer_append(audio_b64: str, *, event_id: str | None = None) -> Json:
    """``input_audio_buffer.append`` with base64 audio (no ``event_id`` unless given).

    Not schema-checked (hot path); the audio fast path (``rtsdk.kernels.encode_append``) builds
    the same frame without a dict.
    """
    if not isinstance(audio_b64, str):
        raise ConfigurationError("input_audio_buffer.append: audio must be a base64 str")
    event: Json = {"type": "input_audio_buffer.append", "audio": audio_b64}
    if event_id is not None:
        event["event_id"] = event_id
    return event


def input_audio_buffer_commit(*, event_id: str | None = None) -> Json:
    """``input_audio_buffer.commit`` (manual turns: turn the buffer into a user item)."""
    return _control("input_audio_buffer.commit", event_id)


def input_audio_buffer_clear(*, event_id: str | None = None) -> Json:
    """``input_audio_buffer.clear`` (discard the uncommitted input audio)."""
    return _control("input_audio_buffer.clear", event_id)


# --------------------------------------------------------------------------------------------
# items


def _item(kind: str, item_id: str | None, **fields: Any) -> Json:
    item: Json = {"type": kind}
    if item_id is not None:
        item["id"] = item_id
    item.update(fields)
    return item


def user_text_item(text: str, *, item_id: str | None = None) -> Json:
    """A user message item with one ``input_text`` part."""
    content = [{"type": "input_text", "text": text}]
    return _item("message", item_id, role="user", content=content)


def user_audio_item(
    audio_b64: str, *, transcript: str | None = None, item_id: str | None = None
) -> Json:
    """A user message item with one ``input_audio`` part (base64 in the session input format)."""
    part: Json = {"type": "input_audio", "audio": audio_b64}
    if transcript is not None:
        part["transcript"] = transcript
    return _item("message", item_id, role="user", content=[part])


_IMAGE_DETAILS = ("auto", "low", "high")


def user_image_item(
    image_url: str,
    *,
    detail: str | None = None,
    text: str | None = None,
    item_id: str | None = None,
) -> Json:
    """A user message item with one ``input_image`` part (``image_url``: a ``data:`` URL,
    see :func:`rtsdk.client.media.image_data_url`), after an ``input_text`` part when ``text``."""
    if not isinstance(image_url, str) or not image_url.startswith("data:image/"):
        raise ConfigurationError("input_image: image_url must be a data:image/... URL")
    if detail is not None and detail not in _IMAGE_DETAILS:
        raise ConfigurationError(
            f"input_image: detail must be one of {list(_IMAGE_DETAILS)}, got {detail!r}"
        )
    part: Json = {"type": "input_image", "image_url": image_url}
    if detail is not None:
        part["detail"] = detail
    content: list[Json] = [] if text is None else [{"type": "input_text", "text": text}]
    content.append(part)
    return _item("message", item_id, role="user", content=content)


_APPROVAL_IDS = EventIds("mcpa_rtsdk_")


def mcp_approval_response_item(
    approval_request_id: str,
    approve: bool,
    *,
    reason: str | None = None,
    item_id: str | None = None,
) -> Json:
    """The answer to an ``mcp_approval_request`` item. It always carries an ``id`` (the GA
    types require one on this item): ``mcpa_rtsdk_<n>`` unless ``item_id`` is given."""
    if not isinstance(approval_request_id, str) or not approval_request_id:
        raise ConfigurationError("mcp_approval_response: approval_request_id must be a str")
    if not isinstance(approve, bool):
        raise ConfigurationError(f"mcp_approval_response: approve must be a bool, got {approve!r}")
    if reason is not None and not isinstance(reason, str):
        raise ConfigurationError("mcp_approval_response: reason must be a str or None")
    item: Json = {
        "type": "mcp_approval_response",
        "id": item_id if item_id is not None else _APPROVAL_IDS(),
        "approval_request_id": approval_request_id,
        "approve": approve,
    }
    if reason is not None:
        item["reason"] = reason
    return item


def system_message_item(text: str, *, item_id: str | None = None) -> Json:
    """A system message item."""
    content = [{"type": "input_text", "text": text}]
    return _item("message", item_id, role="system", content=content)


def assistant_text_item(text: str, *, item_id: str | None = None) -> Json:
    """An assistant message item (``output_text``; clients cannot create assistant audio)."""
    content = [{"type": "output_text", "text": text}]
    return _item("message", item_id, role="assistant", content=content)


def function_call_item(
    call_id: str, name: str, arguments: str, *, item_id: str | None = None
) -> Json:
    """A function call item (for replaying a conversation); ``arguments`` is a JSON string."""
    return _item("function_call", item_id, call_id=call_id, name=name, arguments=arguments)


def function_call_output_item(call_id: str, output: str, *, item_id: str | None = None) -> Json:
    """The output of function call ``call_id`` (a string, usually JSON)."""
    if not isinstance(output, str):
        raise ConfigurationError("function_call_output: output must be a str (JSON-encode it)")
    return _item("function_call_output", item_id, call_id=call_id, output=output)


def conversation_item_create(
    item: Mapping[str, Any],
    *,
    previous_item_id: str | None = None,
    event_id: str | None = None,
) -> Json:
    """``conversation.item.create``; ``previous_item_id`` ``"root"`` inserts at the start."""
    fields: Json = {"item": dict(item)}
    if previous_item_id is not None:
        fields["previous_item_id"] = previous_item_id
    return _control("conversation.item.create", event_id, **fields)


def conversation_item_truncate(
    item_id: str, audio_end_ms: int, *, event_id: str | None = None
) -> Json:
    """``conversation.item.truncate`` of an assistant audio item at ``audio_end_ms`` (>= 0)."""
    if isinstance(audio_end_ms, bool) or not isinstance(audio_end_ms, int) or audio_end_ms < 0:
        raise ConfigurationError(f"audio_end_ms must be an int >= 0, got {audio_end_ms!r}")
    return _control(
        "conversation.item.truncate",
        event_id,
        item_id=item_id,
        content_index=0,
        audio_end_ms=audio_end_ms,
    )


def conversation_item_delete(item_id: str, *, event_id: str | None = None) -> Json:
    """``conversation.item.delete``."""
    return _control("conversation.item.delete", event_id, item_id=item_id)


def conversation_item_retrieve(item_id: str, *, event_id: str | None = None) -> Json:
    """``conversation.item.retrieve`` (the reply carries the item's audio)."""
    return _control("conversation.item.retrieve", event_id, item_id=item_id)


# --------------------------------------------------------------------------------------------
# responses

_RESPONSE_KEYS = frozenset(
    {
        "output_modalities",
        "instructions",
        "audio",
        "tools",
        "tool_choice",
        "max_output_tokens",
        "metadata",
        "conversation",
        "input",
        "prompt",
        "reasoning",
        "parallel_tool_calls",
    }
)


def response_create(
    *,
    event_id: str | None = None,
    voice: str | None = None,
    output_format: str | None = None,
    output_modality: str | None = None,
    input: Iterable[Mapping[str, Any]] | None = None,
    **overrides: Any,
) -> Json:
    """``response.create``; keyword overrides are GA ``response`` keys for this response only.

    Conveniences: ``voice`` / ``output_format`` (``"pcm16"``, ``"g711_ulaw"``, ``"g711_alaw"``)
    fill ``audio.output``, ``output_modality="text"`` sets ``output_modalities``,
    ``reasoning="high"`` stands for ``reasoning={"effort": "high"}`` (reasoning models).
    Out-of-band: ``conversation="none"`` (with ``metadata`` to tell it apart). Unknown keys raise.
    """
    unknown = sorted(set(overrides) - _RESPONSE_KEYS)
    if unknown:
        raise ConfigurationError(
            f"response.create: unknown override {unknown[0]!r}; known: {sorted(_RESPONSE_KEYS)}"
        )
    response: Json = {k: v for k, v in overrides.items()}
    if isinstance(response.get("reasoning"), str):
        response["reasoning"] = {"effort": response["reasoning"]}
    if output_modality is not None:
        response["output_modalities"] = [output_modality]
    if voice is not None or output_format is not None:
        audio = dict(response.get("audio") or {})
        out = dict(audio.get("output") or {})
        if voice is not None:
            out["voice"] = voice
        if output_format is not None:
            out["format"] = format_object(output_format)
        audio["output"] = out
        response["audio"] = audio
    if input is not None:
        response["input"] = [dict(item) for item in input]
    if response:
        return _control("response.create", event_id, response=response)
    return _control("response.create", event_id)


def response_cancel(response_id: str | None = None, *, event_id: str | None = None) -> Json:
    """``response.cancel`` (of ``response_id``, or of the active default-conversation response)."""
    if response_id is None:
        return _control("response.cancel", event_id)
    return _control("response.cancel", event_id, response_id=response_id)

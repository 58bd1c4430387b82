"""Which server events show that the server got a client event, and what becomes of the client
events a dead connection may have lost: Realtime (:func:`acknowledges`,
:func:`sort_unacknowledged`) and GPT-Live (:func:`live_acknowledges`,
:func:`sort_live_unacknowledged`).

The link remembers the control events written on a connection (:mod:`rtsdk.link.backlog`);
the session asks :func:`acknowledges` of every server event. A Realtime server handles a
connection's events in order, so an answer to one event vouches for every event written
before it. The answers used:

=================================  ==================================================
client event                       acknowledged by
=================================  ==================================================
``session.update``                 ``session.updated``
``conversation.item.create``       ``conversation.item.added`` / ``.created`` of the same item
                                   (its ``id`` when the client set one, else its type, role
                                   and first content type, or its ``call_id``)
``response.create``                ``response.created``
``input_audio_buffer.commit``      ``input_audio_buffer.committed``
``input_audio_buffer.clear``       ``input_audio_buffer.cleared``
``conversation.item.truncate``     ``conversation.item.truncated``
``conversation.item.delete``       ``conversation.item.deleted``
``conversation.item.retrieve``     ``conversation.item.retrieved``
any                                an ``error`` naming its ``event_id``
=================================  ==================================================

After a reconnect (a new Realtime session), :func:`sort_unacknowledged` splits what the old
connection never confirmed: items and response requests are sent again (once, after the
replayed conversation), the session config is superseded by the new connection's own, and
the rest (truncate, delete, commit, clear, cancel, retrieve: about state the old session
took with it) is reported to the app as not sent.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "acknowledges",
    "live_acknowledges",
    "sort_live_unacknowledged",
    "sort_unacknowledged",
]

Json = dict[str, Any]

_ACKS: dict[str, frozenset[str]] = {
    "session.update": frozenset({"session.updated"}),
    "transcription_session.update": frozenset({"session.updated", "transcription_session.updated"}),
    "conversation.item.create": frozenset({"conversation.item.added", "conversation.item.created"}),
    "response.create": frozenset({"response.created"}),
    "input_audio_buffer.commit": frozenset({"input_audio_buffer.committed"}),
    "input_audio_buffer.clear": frozenset({"input_audio_buffer.cleared"}),
    "conversation.item.truncate": frozenset({"conversation.item.truncated"}),
    "conversation.item.delete": frozenset({"conversation.item.deleted"}),
    "conversation.item.retrieve": frozenset({"conversation.item.retrieved"}),
}
_RESEND = frozenset({"conversation.item.create", "response.create"})
_SUPERSEDED = frozenset({"session.update", "transcription_session.update"})


def acknowledges(event: Any, sent: Json) -> bool:
    """Whether the server event ``event`` shows the server got the client event ``sent``."""
    kind = event.type
    if kind == "error":
        error = getattr(event, "error", None)
        blamed = error.get("event_id") if isinstance(error, dict) else None
        return blamed is not None and blamed == sent.get("event_id")
    answers = _ACKS.get(sent.get("type", ""))
    if answers is None or kind not in answers:
        return False
    if kind in ("conversation.item.added", "conversation.item.created"):
        return _same_item(sent.get("item"), getattr(event, "item", None))
    return True


def _same_item(sent: Any, got: Any) -> bool:
    if not isinstance(sent, dict) or not isinstance(got, dict):
        return False
    if "id" in sent:
        return bool(got.get("id") == sent["id"])
    kind = sent.get("type")
    if got.get("type") != kind:
        return False
    if kind in ("function_call", "function_call_output"):
        return bool(got.get("call_id") == sent.get("call_id"))
    if got.get("role") != sent.get("role"):
        return False
    ours, theirs = sent.get("content") or (), got.get("content") or ()
    if not ours or not theirs or not isinstance(theirs[0], dict) or not isinstance(ours[0], dict):
        return not ours and not theirs
    return bool(theirs[0].get("type") == ours[0].get("type"))


def sort_unacknowledged(sent: list[Json], *, calls: set[str]) -> tuple[list[Json], list[Json]]:
    """Split client events a dead connection never confirmed into (send again, report).

    Items go again without ``previous_item_id`` (the old ids are gone); a function output
    whose call is not in the new conversation (``calls``) is reported instead.
    """
    again: list[Json] = []
    lost: list[Json] = []
    for event in sent:
        kind = event.get("type")
        if kind in _SUPERSEDED or kind == "response.cancel":
            continue  # the new connection sends its own config; the response is gone
        if kind not in _RESEND:
            lost.append(event)
            continue
        if kind == "conversation.item.create":
            item = event.get("item")
            if (
                isinstance(item, dict)
                and item.get("type") == "function_call_output"
                and item.get("call_id") not in calls
            ):
                lost.append(event)
                continue
            if "previous_item_id" in event:
                event = {k: v for k, v in event.items() if k != "previous_item_id"}
        again.append(event)
    return again, lost


# -- GPT-Live ----------------------------------------------------------------------------------

_LIVE_ACKS: dict[str, frozenset[str]] = {
    "session.update": frozenset({"session.updated"}),
    "session.commentary.append": frozenset({"session.commentary.appended"}),
    "session.thinking.append": frozenset({"session.thinking.appended"}),
    "session.instructions.append": frozenset({"session.instructions.appended"}),
    "session.input_audio.mute": frozenset({"session.input_audio.muted"}),
    "session.input_audio.unmute": frozenset({"session.input_audio.unmuted"}),
    "session.output_audio.fixture.play": frozenset({"session.output_audio.fixture.playing"}),
    "transport.dtmf.send": frozenset({"transport.dtmf.sent"}),
    "session.close": frozenset({"session.closed"}),
}


def live_acknowledges(event: Any, sent: Json) -> bool:
    """Whether the GPT-Live server event ``event`` shows the server got ``sent``.

    An answer naming a client event (``client_event_id``, an error's ``client_event_id`` or
    ``event_id``) matches only that event; a ``response.event`` carrying the backend's
    ``response.created`` answers a ``response.create`` (and, in order, the items before it).
    """
    kind = event.type
    ours = sent.get("event_id")
    if kind == "error":
        error = getattr(event, "error", None)
        if not isinstance(error, dict):
            return False
        blamed = error.get("client_event_id") or error.get("event_id")
        return blamed is not None and blamed == ours
    if kind == "response.event":
        inner = getattr(event, "event", None)
        return (
            sent.get("type") == "response.create"
            and isinstance(inner, dict)
            and inner.get("type") == "response.created"
        )
    answers = _LIVE_ACKS.get(sent.get("type", ""))
    if answers is None or kind not in answers:
        return False
    named = getattr(event, "client_event_id", None)
    return named is None or named == ours


_LIVE_RESEND_CONTEXT = frozenset(
    {"session.commentary.append", "session.thinking.append", "session.instructions.append"}
)


def sort_live_unacknowledged(sent: list[Json]) -> tuple[list[Json], list[Json]]:
    """Split GPT-Live client events a dead connection never confirmed into (send again on the
    new session, report).

    General context and typed user messages go again (a ``response.create`` with the message
    before it); what belonged to the old session goes in the report: context for one of its
    delegations, function outputs for its backend runs (and their ``response.create``), a
    fixture, DTMF. Its config and mute state are the new session's own (``session.start``
    and the core's mute), so they are neither.
    """
    again: list[Json] = []
    lost: list[Json] = []
    message_before = False
    for event in sent:
        kind = event.get("type")
        if kind in ("session.update", "session.input_audio.mute", "session.input_audio.unmute"):
            continue
        if kind in _LIVE_RESEND_CONTEXT and event.get("delegation_id") is None:
            again.append(event)
        elif kind == "response.item.create" and _is_message(event.get("item")):
            again.append(event)
            message_before = True
            continue
        elif kind == "response.create" and message_before:
            again.append(event)
        else:
            lost.append(event)
        message_before = False
    return again, lost


def _is_message(item: Any) -> bool:
    return isinstance(item, dict) and item.get("type") == "message"

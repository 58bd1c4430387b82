"""Traffic checks against the official GA types (section 13 of the protocol reference).

The ``openai`` package (pinned in the ``test`` extra) is an independent oracle: for each event
pick the model whose ``type`` literal matches among the members of
``openai.types.realtime.RealtimeClientEvent`` / ``RealtimeServerEvent`` and call
``model_validate_json(line, strict=True)``. For client events, any key that lands in a
``model_extra`` anywhere in the tree is an error too (the models keep unknown keys; the live
server rejects them). Also checked, as the types cannot: append audio is valid base64 of at
most 15 MiB, ``audio_end_ms`` is not negative, and (:func:`assert_responses_well_formed`) at
most one default-conversation response is active at a time.

Import it as ``from tests.conformance import ...`` (or ``from conformance import ...``); the
module skips the importing test module when ``openai`` is not installed.
"""

from __future__ import annotations

import base64
import binascii
import json
import typing
from collections.abc import Iterable
from typing import Any

import pytest

realtime = pytest.importorskip("openai.types.realtime")
beta_realtime = pytest.importorskip("openai.types.beta.realtime")
pydantic = pytest.importorskip("pydantic")

__all__ = [
    "BETA_CLIENT_MODELS",
    "BETA_SERVER_MODELS",
    "CLIENT_MODELS",
    "SERVER_MODELS",
    "assert_beta_client_event_valid",
    "assert_beta_server_event_valid",
    "assert_client_event_valid",
    "assert_responses_well_formed",
    "assert_server_event_valid",
    "model_extras",
]

MAX_APPEND_BYTES = 15 * 1024 * 1024


def _models(union: Any) -> dict[str, Any]:
    args = typing.get_args(union)
    if args and typing.get_args(args[0]):  # Annotated[Union[...], PropertyInfo(...)]
        args = typing.get_args(args[0])
    return {typing.get_args(m.model_fields["type"].annotation)[0]: m for m in args}


#: Event type -> GA pydantic model (11 client types, 46 server types in openai 3.57.0).
CLIENT_MODELS: dict[str, Any] = _models(realtime.RealtimeClientEvent)
SERVER_MODELS: dict[str, Any] = _models(realtime.RealtimeServerEvent)
#: The same for the beta shapes (``openai.types.beta.realtime``: Azure's preview path).
BETA_CLIENT_MODELS: dict[str, Any] = _models(beta_realtime.RealtimeClientEvent)
BETA_SERVER_MODELS: dict[str, Any] = _models(beta_realtime.RealtimeServerEvent)


def model_extras(node: Any, path: str = "") -> list[str]:
    """Dotted paths of every key a validated model tree kept in a ``model_extra``."""
    found: list[str] = []
    if isinstance(node, pydantic.BaseModel):
        for key in node.model_extra or {}:
            found.append(f"{path}.{key}" if path else key)
        for name in type(node).model_fields:
            found += model_extras(getattr(node, name), f"{path}.{name}" if path else name)
    elif isinstance(node, (list, tuple)):
        for i, element in enumerate(node):
            found += model_extras(element, f"{path}[{i}]")
    elif isinstance(node, dict):
        for key, value in node.items():
            found += model_extras(value, f"{path}.{key}")
    return found


def _line(event: dict[str, Any]) -> str:
    assert isinstance(event, dict), f"an event must be a JSON object, got {type(event).__name__}"
    return json.dumps(event, allow_nan=False)


def assert_client_event_valid(event: dict[str, Any]) -> None:
    """Fail unless ``event`` is a client event the GA types accept strictly, with no key they
    do not know, and with the value rules they cannot express."""
    line = _line(event)
    kind = event.get("type")
    assert kind in CLIENT_MODELS, f"unknown client event type {kind!r}"
    model = CLIENT_MODELS[kind].model_validate_json(line, strict=True)
    extras = model_extras(model)
    assert not extras, f"{kind}: keys the GA types do not know: {extras}"
    if kind == "input_audio_buffer.append":
        try:
            raw = base64.b64decode(event["audio"], validate=True)
        except (binascii.Error, ValueError) as exc:
            raise AssertionError(f"append audio is not valid base64: {exc}") from None
        assert len(raw) <= MAX_APPEND_BYTES, f"append of {len(raw)} bytes is over 15 MiB"
    if kind == "conversation.item.truncate":
        assert event["audio_end_ms"] >= 0, "audio_end_ms is negative"


def assert_server_event_valid(event: dict[str, Any]) -> None:
    """Fail unless ``event`` is a server event the GA types accept strictly."""
    line = _line(event)
    kind = event.get("type")
    assert kind in SERVER_MODELS, f"unknown server event type {kind!r}"
    SERVER_MODELS[kind].model_validate_json(line, strict=True)


def assert_beta_client_event_valid(event: dict[str, Any]) -> None:
    """:func:`assert_client_event_valid` against the beta types."""
    kind = event.get("type")
    assert kind in BETA_CLIENT_MODELS, f"unknown beta client event type {kind!r}"
    model = BETA_CLIENT_MODELS[kind].model_validate_json(_line(event), strict=True)
    extras = model_extras(model)
    assert not extras, f"{kind}: keys the beta types do not know: {extras}"


def assert_beta_server_event_valid(event: dict[str, Any]) -> None:
    """:func:`assert_server_event_valid` against the beta types."""
    kind = event.get("type")
    assert kind in BETA_SERVER_MODELS, f"unknown beta server event type {kind!r}"
    BETA_SERVER_MODELS[kind].model_validate_json(_line(event), strict=True)


def assert_responses_well_formed(sent: Iterable[dict[str, Any] | str]) -> None:
    """Fail unless the server's responses nest properly: at most one default-conversation
    response active at a time, every response event between its ``response.created`` and
    ``response.done``, and every ``response.created`` ended by a ``response.done``."""
    active: dict[str, bool] = {}  # response id -> in the default conversation
    for event in sent:
        if not isinstance(event, dict):
            continue
        kind = event.get("type", "")
        if kind == "response.created":
            response = event["response"]
            default = response.get("conversation_id") is not None
            if default:
                others = [r for r, d in active.items() if d]
                assert not others, f"{response['id']} created while {others} active"
            active[response["id"]] = default
        elif kind == "response.done":
            rid = event["response"]["id"]
            assert rid in active, f"response.done for {rid} that is not active"
            del active[rid]
        elif kind.startswith("response.") and "response_id" in event:
            assert event["response_id"] in active, f"{kind} for inactive {event['response_id']}"
    assert not active, f"responses never done: {sorted(active)}"

"""Classification of server ``error`` events: what each one means for the session."""

from __future__ import annotations

import enum
from typing import Any

__all__ = [
    "AUTH_CODES",
    "BENIGN_CODES",
    "RECONNECT_CODES",
    "ErrorKind",
    "classify_error",
]


class ErrorKind(enum.Enum):
    """What an ``error`` event means for the session.

    - ``BENIGN``: expected in normal races (cancel after the end, a create while one is active,
      an empty commit); log at debug, never end the session.
    - ``AUTH``: the credentials were refused; fatal, never retried.
    - ``RECONNECT``: the session is over on the server side (``session_expired``); open a new
      connection and replay.
    - ``REPORT``: anything else; hand it to the app, the session goes on.
    """

    BENIGN = "benign"
    AUTH = "auth"
    RECONNECT = "reconnect"
    REPORT = "report"


BENIGN_CODES: frozenset[str] = frozenset(
    {
        "response_cancel_not_active",
        "conversation_already_has_active_response",
        "input_audio_buffer_commit_empty",
        # an item the server no longer has: a barge-in's truncate racing the item's end, a
        # delete or retrieve of an id already gone (the app's own request hears of it)
        "item_truncate_invalid_item_id",
        "item_delete_invalid_item_id",
        "item_retrieve_invalid_item_id",
    }
)
AUTH_CODES: frozenset[str] = frozenset(
    {
        "invalid_api_key",
        "invalid_authentication",
        "authentication_error",
        "insufficient_permissions",
        "invalid_client_secret",
        "expired_client_secret",
        "unauthorized",
    }
)
RECONNECT_CODES: frozenset[str] = frozenset({"session_expired"})
_AUTH_TYPES = frozenset({"authentication_error", "permission_error"})


def classify_error(error: dict[str, Any] | None) -> ErrorKind:
    """Kind of the ``error`` object of an ``error`` event (the inner dict, open strings)."""
    if not isinstance(error, dict):
        return ErrorKind.REPORT
    code = error.get("code")
    kind = error.get("type")
    if code in BENIGN_CODES:
        return ErrorKind.BENIGN
    if code in AUTH_CODES or kind in _AUTH_TYPES:
        return ErrorKind.AUTH
    if code in RECONNECT_CODES:
        return ErrorKind.RECONNECT
    return ErrorKind.REPORT

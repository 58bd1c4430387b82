"""Every error the local server sends, as OpenAI's Realtime service sends it: :data:`ERRORS`.

One :class:`~rtsdk.testing.errors.ErrorEntry` per error, keyed by a stable name, in the order
of ``docs/server-errors.md`` (which :mod:`.catalogue_doc` writes). Each says what causes it, the
``type`` / ``code`` / ``param`` / ``message`` it carries, whether its ``event_id`` is the
client's, and its source: a public capture of the service, a conformance test run against it,
an issue thread quoting it, or a client library routing on the code. Where nothing public
shows an error, its entry says so (``evidence="not seen"``) and names the documented
behaviour it is closest to. The server sends exactly what an entry says
(:meth:`RealtimeSession.fail <rtsdk.testing.session.RealtimeSession.fail>`,
:meth:`ErrorEntry.render <rtsdk.testing.errors.ErrorEntry.render>`);
``tests/test_testing_errors.py`` provokes every entry over a real socket.

Run ``python -m rtsdk.testing.catalogue_doc > docs/server-errors.md`` to rewrite the table.
"""

from __future__ import annotations

from typing import Any

from .catalogue_requests import REQUEST_ERRORS
from .catalogue_wire import WIRE_ERRORS
from .errors import ErrorEntry

__all__ = ["ENTRIES", "ERRORS", "failure"]

#: Every error of the local server, in table order.
ENTRIES: tuple[ErrorEntry, ...] = REQUEST_ERRORS + WIRE_ERRORS


#: Every error of the local server, by key, in table order.
ERRORS: dict[str, ErrorEntry] = {e.key: e for e in ENTRIES}
if len(ERRORS) != len(ENTRIES):  # pragma: no cover - a key used twice
    raise RuntimeError("duplicate key in the error catalogue")


def failure(key: str, **fields: Any) -> dict[str, Any]:
    """The error object of catalogue entry ``key`` for an event other than ``error`` (a failed
    ``response.done``, a failed input transcription, a refused upgrade's body)."""
    entry = ERRORS[key]
    if entry.carrier == "error":
        raise ValueError(f"{key} is sent as an error event: use RealtimeSession.fail")
    return entry.render(**fields)

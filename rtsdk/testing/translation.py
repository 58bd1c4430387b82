"""Realtime translation on the local server: the paths, the upgrade's checks, and a connection
that speaks it.

:class:`LocalRealtimeServer <rtsdk.testing.LocalRealtimeServer>` serves translation sessions on
the same port as Realtime and GPT-Live, at :data:`TRANSLATION_PATHS` (OpenAI's
``/v1/realtime/translations`` and Azure's ``/openai/v1/realtime/translations``), with the same
key rules and HTTP refusals, and these of its own (:func:`upgrade_refusal`):

- no ``?model=``: HTTP 400 ``missing_model``;
- on OpenAI's path a model that is not a translation model (by rtsdk's catalogue,
  :mod:`rtsdk.models`, or a name ending in ``-translate``), on Azure's path (where the model is
  a deployment name) a model the catalogue knows for another API: HTTP 400 ``model_not_found``;
- an ``?intent=``: HTTP 400 (the ``openai`` client refuses one before connecting).

A :class:`TranslationConnection` is a :class:`~rtsdk.testing.ServerConnection` (the same
records, waits, stalls, drops, garbage and close faults) whose protocol is
:class:`~rtsdk.testing.translation_session.TranslationSession`:

- ``Faults(refuse_auth="error_event")`` sends the ``invalid_api_key`` error (no
  ``session.created``) and closes 1008; ``"http"`` refuses the upgrade with 401.
- ``Faults(session_max_seconds=T)`` and :meth:`TranslationConnection.expire` end the session:
  the ``session_expired`` error, ``session.closed``, then a close frame 1000.
- ``Faults(garbage="error_event")`` injects the Realtime ``server_error``.
- ``record_audio=False`` leaves ``session.input_audio_buffer.append`` and
  ``session.output_audio.delta`` out of the records (they are still counted).
"""

from __future__ import annotations

from typing import Any, Protocol, cast

from ..models import api_of
from .connection import ServerConnection, ServerHost, SessionLogic
from .faults import Faults
from .translation_options import TranslationOptions
from .translation_session import TranslationSession

__all__ = [
    "TRANSLATION_PATHS",
    "TranslationConnection",
    "TranslationHost",
    "TranslationOptions",
    "upgrade_refusal",
]

Json = dict[str, Any]

#: Request paths of translation sessions: OpenAI and Azure.
TRANSLATION_PATHS = ("/v1/realtime/translations", "/openai/v1/realtime/translations")


def upgrade_refusal(path: str, model: str | None, intent: str | None) -> tuple[str, Json] | None:
    """The catalogue key (and its fields) refusing an upgrade on translation path ``path``
    with query ``model`` / ``intent``, or None when it may go on to the key checks."""
    if intent is not None:
        return "http_translation_intent", {}
    if not model:
        return "http_translation_missing_model", {}
    api = api_of(model)
    azure = path.startswith("/openai/")
    if api != "translation" and not (azure and api is None):
        return "http_translation_model", {"model": model[:64]}
    return None


class TranslationHost(ServerHost, Protocol):
    """What a translation connection uses of its server, beyond a Realtime connection's."""

    @property
    def translation(self) -> TranslationOptions:
        """The translation options (read per session, and per chunk for ``pacing``)."""


class TranslationConnection(ServerConnection):
    """One accepted translation connection (see the module docstring). :attr:`translation`
    (also ``logic``) is its :class:`~rtsdk.testing.translation_session.TranslationSession`;
    ``model`` is the ``?model=`` of the URL; ``session`` the session as last announced."""

    audio_types = frozenset({"session.input_audio_buffer.append", "session.output_audio.delta"})

    def _make_logic(
        self, server: ServerHost, model: str, faults: Faults, intent: str | None
    ) -> SessionLogic:
        host = cast(TranslationHost, server)
        return TranslationSession(
            send=self._enqueue,
            close_socket=self._close_after_queued,
            ids=server.ids,
            model=model,
            options=lambda: host.translation,
            session_seconds=faults.session_max_seconds,
        )

    @property
    def translation(self) -> TranslationSession:
        """The translation session of this connection."""
        logic = self.logic
        assert isinstance(logic, TranslationSession)
        return logic

    def __repr__(self) -> str:
        state = "closed" if self.closed else "open"
        return (
            f"<TranslationConnection #{self.index} {state} model={self.model!r} "
            f"sent={self.frames_sent}>"
        )

    def _close_after_queued(self, code: int, reason: str) -> None:
        self._queue.put_nowait(("close", (code, reason), None))

    def expire(self) -> None:
        """End the session at its length cap: ``session_expired``, ``session.closed``, 1000."""
        self.translation.expire()

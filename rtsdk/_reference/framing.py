"""Audio event framing: the plain twin of ``rtsdk._kernels.framing``.

:func:`encode_append` builds the whole ``input_audio_buffer.append`` text frame (or an append of
another type: GPT-Live's ``session.input_audio.append``, a translation session's
``session.input_audio_buffer.append``); :func:`decode_audio_delta` pulls the PCM out of a
``response.output_audio.delta`` frame (or its beta name ``response.audio.delta``) and returns
``None`` for every other event; :func:`decode_session_audio_delta` does the same for the id-less
``session.output_audio.delta`` of GPT-Live and translation sessions.

Semantics are those of :func:`json.loads` followed by a dict lookup, for both backends: duplicate
keys keep the last value, ``NaN``/``Infinity`` literals are accepted (as :func:`json.loads` does)
wherever they appear, a UTF-8 BOM is accepted on ``bytes`` and refused on ``str``. Malformed input
raises :class:`ValueError` naming the problem (never quoting the whole frame).
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any, Final

from rtsdk._reference.b64 import b64decode, b64encode
from rtsdk.exceptions import AudioFormatError

if TYPE_CHECKING:
    from typing_extensions import Buffer

__all__ = ["decode_audio_delta", "decode_session_audio_delta", "encode_append"]

#: The server's limit on the audio of one ``input_audio_buffer.append`` (before base64).
MAX_APPEND_BYTES: Final = 15 * 1024 * 1024
#: Event types whose ``delta`` is base64 audio (GA name, then the beta name).
DELTA_TYPES: Final = ("response.output_audio.delta", "response.audio.delta")
#: The id-less output audio event of GPT-Live and translation sessions (``delta`` is base64).
SESSION_DELTA_TYPE: Final = "session.output_audio.delta"

#: What the type of an append frame may be (``encode_append(event_type=...)``).
_EVENT_TYPE = re.compile(r"[A-Za-z0-9_.]{1,64}")
#: ``{"type":"<event_type>","audio":"`` per event type asked for (at most _MAX_HEADS kept);
#: the compiled kernels look their heads up here too.
APPEND_HEADS: Final[dict[str, bytes]] = {}
_MAX_HEADS: Final = 64


def _audio_nbytes(audio: Buffer, sample_width: int) -> memoryview:
    if sample_width not in (1, 2):
        raise ValueError(f"sample_width must be 1 (G.711) or 2 (PCM16), got {sample_width!r}")
    view = memoryview(audio)
    if not view.c_contiguous:
        raise AudioFormatError("audio must be a C-contiguous buffer")
    if sample_width == 2 and view.nbytes % 2:
        raise AudioFormatError(
            f"PCM16 audio must hold a whole number of samples, got an odd byte count "
            f"({view.nbytes})"
        )
    if view.nbytes > MAX_APPEND_BYTES:
        raise ValueError(
            f"one append carries at most {MAX_APPEND_BYTES} bytes of audio, got {view.nbytes}"
        )
    return view


def append_head(event_type: object) -> bytes:
    """``{"type":"<event_type>","audio":"``: the start of an append frame of that type.

    ``event_type`` is 1 to 64 of ``A-Z a-z 0-9 _ .`` (else :class:`ValueError` naming it). The
    heads are kept in :data:`APPEND_HEADS`, so the next frame of a type costs a dict lookup.
    """
    head = APPEND_HEADS.get(event_type) if type(event_type) is str else None
    if head is not None:
        return head
    if not isinstance(event_type, str) or _EVENT_TYPE.fullmatch(event_type) is None:
        raise ValueError(
            f"event_type must be 1 to 64 of A-Z a-z 0-9 _ . (an event type such as "
            f"'session.input_audio.append'), got {event_type!r:.80}"
        )
    head = b'{"type":"' + event_type.encode("ascii") + b'","audio":"'
    if len(APPEND_HEADS) < _MAX_HEADS:
        APPEND_HEADS[str(event_type)] = head
    return head


_DEFAULT_HEAD: Final = b'{"type":"input_audio_buffer.append","audio":"'
_AUDIO_KEY: Final = b',"audio":"'  # how every head ends


def encode_append(
    audio: Buffer,
    event_id: str | None = None,
    *,
    sample_width: int = 2,
    event_type: str | None = None,
) -> bytes:
    """Return the UTF-8 text frame ``{"type":"input_audio_buffer.append","audio":"<base64>"}``.

    ``audio`` is any C-contiguous buffer (bytes, an int16 or uint8 array, a memoryview): PCM16
    (``sample_width=2``, an even byte count) or G.711 bytes (``sample_width=1``). With
    ``event_id`` the frame also carries ``"event_id"`` (any ``str``, JSON-escaped), after the
    type. ``event_type`` (1 to 64 of ``A-Z a-z 0-9 _ .``) replaces the type: GPT-Live's
    ``"session.input_audio.append"``, a translation session's
    ``"session.input_audio_buffer.append"``; ``None`` is ``input_audio_buffer.append``. Raises
    :class:`~rtsdk.exceptions.AudioFormatError` for an odd PCM16 byte count,
    :class:`ValueError` above the server's 15 MiB limit or for a malformed ``event_type``.
    """
    head = _DEFAULT_HEAD if event_type is None else append_head(event_type)
    view = _audio_nbytes(audio, sample_width)
    if event_id is not None:
        if not isinstance(event_id, str):
            raise TypeError(f"event_id must be a str or None, got {type(event_id).__name__}")
        head = (
            head[: -len(_AUDIO_KEY)]
            + b',"event_id":'
            + json.dumps(event_id).encode("ascii")
            + _AUDIO_KEY
        )
    return head + b64encode(view) + b'"}'


def _loads(frame: str | bytes) -> Any:
    try:
        return json.loads(frame)
    except RecursionError:
        raise ValueError("event frame is nested too deeply to parse") from None
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError
        raise ValueError(f"event frame is not valid JSON: {exc}") from None


def _event_type(event: Any) -> str:
    """The ``type`` of a parsed event (ValueError for a non-object, a missing or non-string
    ``type``)."""
    if not isinstance(event, dict):
        raise ValueError(f"event frame must be a JSON object, got {type(event).__name__}")
    etype = event.get("type")
    if not isinstance(etype, str):
        if etype is None and "type" not in event:
            raise ValueError("event has no 'type'")
        raise ValueError(f"event 'type' must be a string, got {type(etype).__name__}")
    return etype


def _string_fields(event: dict[str, Any], etype: str, keys: tuple[str, ...]) -> list[str]:
    """The values of ``keys`` in ``event`` (ValueError when one is missing or not a string)."""
    fields: list[str] = []
    for key in keys:
        if key not in event:
            raise ValueError(f"{etype} event has no {key!r}")
        value = event[key]
        if not isinstance(value, str):
            raise ValueError(f"{etype} event: {key!r} must be a string, got {type(value).__name__}")
        fields.append(value)
    return fields


def _delta_fields(event: Any) -> tuple[str, str, str, str] | None:
    """``(type, response_id, item_id, delta)`` of a parsed audio delta event, else ``None``.

    Raises :class:`ValueError` for a non-object, a missing or non-string ``type``, or a delta
    whose ``response_id``/``item_id``/``delta`` is missing or not a string.
    """
    etype = _event_type(event)
    if etype not in DELTA_TYPES:
        return None
    fields = _string_fields(event, etype, ("response_id", "item_id", "delta"))
    return etype, fields[0], fields[1], fields[2]


def _session_delta(event: Any) -> str | None:
    """The base64 ``delta`` of a parsed ``session.output_audio.delta`` event, else ``None``.

    Raises :class:`ValueError` as :func:`_delta_fields` does (its ``delta`` missing or not a
    string); every other key is ignored.
    """
    if _event_type(event) != SESSION_DELTA_TYPE:
        return None
    return _string_fields(event, SESSION_DELTA_TYPE, ("delta",))[0]


def _pcm(etype: str, delta: str) -> bytes:
    try:
        return b64decode(delta)
    except ValueError as exc:
        raise ValueError(f"{etype} event: 'delta' is not valid base64 ({exc})") from None


def audio_from_event(event: Any) -> tuple[str, str, bytes] | None:
    """The ``(response_id, item_id, pcm)`` of a parsed audio delta event, else ``None``."""
    found = _delta_fields(event)
    if found is None:
        return None
    etype, response_id, item_id, delta = found
    return response_id, item_id, _pcm(etype, delta)


def decode_audio_delta(frame: str | bytes) -> tuple[str, str, bytes] | None:
    """Return ``(response_id, item_id, pcm_bytes)`` of an output audio delta frame, else ``None``.

    ``frame`` is the text of one server event (``str``, or UTF-8 ``bytes``). Any valid event of
    another type gives ``None``. Raises :class:`ValueError` for invalid JSON, a non-object, a
    missing or non-string ``type``, or an audio delta whose ``response_id``/``item_id``/``delta``
    is missing, not a string, or (``delta``) not valid base64.
    """
    return audio_from_event(_loads(frame))


def decode_session_audio_delta(frame: str | bytes) -> tuple[str, str, bytes] | None:
    """Return ``("", "", pcm_bytes)`` of a ``session.output_audio.delta`` frame, else ``None``.

    The output audio of GPT-Live and of Realtime translation sessions carries no ids: only
    ``delta`` counts, every other key (``event_id``, a sideband copy's ``start_ms``/``end_ms``)
    is ignored. ``frame`` is the text of one server event (``str``, or UTF-8 ``bytes``); any
    valid event of another type (a Realtime delta too) gives ``None``. Raises
    :class:`ValueError` for invalid JSON, a non-object, a missing or non-string ``type``, or a
    session audio delta whose ``delta`` is missing, not a string or not valid base64. An odd
    byte count is returned as decoded (the caller's to judge).
    """
    delta = _session_delta(_loads(frame))
    if delta is None:
        return None
    return "", "", _pcm(SESSION_DELTA_TYPE, delta)

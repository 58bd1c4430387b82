"""Audio event framing: the plain twin of ``rtsdk._kernels.framing``.

:func:`encode_append` builds the whole ``input_audio_buffer.append`` text frame;
:func:`decode_audio_delta` pulls the PCM out of a ``response.output_audio.delta`` frame (or its
beta name ``response.audio.delta``) and returns ``None`` for every other event.

Semantics are those of :func:`json.loads` followed by a dict lookup, for both backends: duplicate
keys keep the last value, ``NaN``/``Infinity`` literals are accepted (as :func:`json.loads` does)
wherever they appear, a UTF-8 BOM is accepted on ``bytes`` and refused on ``str``. Malformed input
raises :class:`ValueError` naming the problem (never quoting the whole frame).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Final

from rtsdk._reference.b64 import b64decode, b64encode
from rtsdk.exceptions import AudioFormatError

if TYPE_CHECKING:
    from typing_extensions import Buffer

__all__ = ["decode_audio_delta", "encode_append"]

#: The server's limit on the audio of one ``input_audio_buffer.append`` (before base64).
MAX_APPEND_BYTES: Final = 15 * 1024 * 1024
#: Event types whose ``delta`` is base64 audio (GA name, then the beta name).
DELTA_TYPES: Final = ("response.output_audio.delta", "response.audio.delta")


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


def encode_append(audio: Buffer, event_id: str | None = None, *, sample_width: int = 2) -> bytes:
    """Return the UTF-8 text frame ``{"type":"input_audio_buffer.append","audio":"<base64>"}``.

    ``audio`` is any C-contiguous buffer (bytes, an int16 or uint8 array, a memoryview): PCM16
    (``sample_width=2``, an even byte count) or G.711 bytes (``sample_width=1``). With
    ``event_id`` the frame also carries ``"event_id"`` (any ``str``, JSON-escaped). Raises
    :class:`~rtsdk.exceptions.AudioFormatError` for an odd PCM16 byte count and
    :class:`ValueError` above the server's 15 MiB limit.
    """
    view = _audio_nbytes(audio, sample_width)
    head = b'{"type":"input_audio_buffer.append",'
    if event_id is not None:
        if not isinstance(event_id, str):
            raise TypeError(f"event_id must be a str or None, got {type(event_id).__name__}")
        head += b'"event_id":' + json.dumps(event_id).encode("ascii") + b","
    return head + b'"audio":"' + b64encode(view) + b'"}'


def _loads(frame: str | bytes) -> Any:
    try:
        return json.loads(frame)
    except RecursionError:
        raise ValueError("event frame is nested too deeply to parse") from None
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError
        raise ValueError(f"event frame is not valid JSON: {exc}") from None


def _delta_fields(event: Any) -> tuple[str, str, str, str] | None:
    """``(type, response_id, item_id, delta)`` of a parsed audio delta event, else ``None``.

    Raises :class:`ValueError` for a non-object, a missing or non-string ``type``, or a delta
    whose ``response_id``/``item_id``/``delta`` is missing or not a string.
    """
    if not isinstance(event, dict):
        raise ValueError(f"event frame must be a JSON object, got {type(event).__name__}")
    etype = event.get("type")
    if not isinstance(etype, str):
        if etype is None and "type" not in event:
            raise ValueError("event has no 'type'")
        raise ValueError(f"event 'type' must be a string, got {type(etype).__name__}")
    if etype not in DELTA_TYPES:
        return None
    fields: list[str] = []
    for key in ("response_id", "item_id", "delta"):
        if key not in event:
            raise ValueError(f"{etype} event has no {key!r}")
        value = event[key]
        if not isinstance(value, str):
            raise ValueError(f"{etype} event: {key!r} must be a string, got {type(value).__name__}")
        fields.append(value)
    return etype, fields[0], fields[1], fields[2]


def audio_from_event(event: Any) -> tuple[str, str, bytes] | None:
    """The ``(response_id, item_id, pcm)`` of a parsed audio delta event, else ``None``."""
    found = _delta_fields(event)
    if found is None:
        return None
    etype, response_id, item_id, delta = found
    try:
        pcm = b64decode(delta)
    except ValueError as exc:
        raise ValueError(f"{etype} event: 'delta' is not valid base64 ({exc})") from None
    return response_id, item_id, pcm


def decode_audio_delta(frame: str | bytes) -> tuple[str, str, bytes] | None:
    """Return ``(response_id, item_id, pcm_bytes)`` of an output audio delta frame, else ``None``.

    ``frame`` is the text of one server event (``str``, or UTF-8 ``bytes``). Any valid event of
    another type gives ``None``. Raises :class:`ValueError` for invalid JSON, a non-object, a
    missing or non-string ``type``, or an audio delta whose ``response_id``/``item_id``/``delta``
    is missing, not a string, or (``delta``) not valid base64.
    """
    return audio_from_event(_loads(frame))

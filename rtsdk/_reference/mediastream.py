"""Carrier media-stream splicing: the plain twin of ``rtsdk._kernels.mediastream``.

A phone carrier (the Twilio Media Streams wire format) and a Realtime session in ``g711_ulaw``
both carry the same 8 kHz μ-law bytes as standard base64 in JSON strings. These two functions
move that base64 text from one JSON frame into the other without decoding the audio:

- :func:`media_to_append`: a carrier ``media`` message (the caller's audio) becomes an
  ``input_audio_buffer.append`` frame (or an append of another type, such as GPT-Live's
  ``session.input_audio.append``);
- :func:`delta_to_media`: a ``response.output_audio.delta`` frame (or its beta name
  ``response.audio.delta``, or the id-less ``session.output_audio.delta`` of GPT-Live and
  translation sessions) becomes an outbound carrier ``media`` message for one stream.

Semantics are those of :func:`json.loads` and a dict lookup, for both backends (duplicate keys
keep the last value); the base64 is checked as strictly as :func:`rtsdk.kernels.b64decode`
does. Malformed input raises :class:`ValueError` naming the problem (never quoting the frame).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any, Final

from rtsdk._reference.framing import (
    MAX_APPEND_BYTES,
    SESSION_DELTA_TYPE,
    _delta_fields,
    _loads,
    _session_delta,
    append_head,
)

__all__ = ["delta_to_media", "media_to_append"]

#: What an append frame from :func:`media_to_append` starts with (its base64 follows, then
#: ``"}``); the compiled kernel writes the same bytes.
APPEND_HEAD = b'{"type":"input_audio_buffer.append","audio":"'

#: Largest value of a carrier counter (sequence number, timestamp) the splicers return.
MAX_COUNTER: Final = 10**18 - 1
_DIGITS = re.compile(r"[0-9]{1,18}")


def _b64_len(text: str, what: str) -> int:
    """Decoded length of strict standard base64 ``text`` (ValueError naming ``what`` if not)."""
    try:
        raw = text.encode("ascii")
    except UnicodeEncodeError:
        raise ValueError(f"{what} is not valid base64 (non-ASCII characters)") from None
    try:
        return len(base64.b64decode(raw, validate=True))
    except binascii.Error as exc:
        raise ValueError(f"{what} is not valid base64 ({exc})") from None


def _counter(value: Any, what: str) -> int:
    """A carrier counter: a decimal digit string (as Twilio sends) or a JSON integer."""
    if isinstance(value, str):
        if _DIGITS.fullmatch(value) is None:
            raise ValueError(f"carrier {what} must be 1-18 decimal digits, got {value[:24]!r}")
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_COUNTER:
        return value
    raise ValueError(f"carrier {what} must be a digit string or an integer 0..{MAX_COUNTER}")


def _event_name(message: Any) -> str:
    if not isinstance(message, dict):
        raise ValueError(f"carrier message must be a JSON object, got {type(message).__name__}")
    name = message.get("event")
    if not isinstance(name, str):
        if "event" not in message:
            raise ValueError("carrier message has no 'event'")
        raise ValueError(f"carrier message 'event' must be a string, got {type(name).__name__}")
    return name


def media_to_append(
    frame: str | bytes, *, event_type: str | None = None
) -> tuple[int, int, bytes] | None:
    """``(sequence_number, timestamp_ms, append_frame)`` of a carrier ``media`` message.

    ``frame`` is one carrier message (``str``, or UTF-8 ``bytes``). ``append_frame`` is the
    UTF-8 text ``{"type":"input_audio_buffer.append","audio":"<payload>"}`` with the payload's
    base64 as it came (``event_type``: another type, as :func:`rtsdk.kernels.encode_append`
    takes it; a malformed one raises :class:`ValueError` whatever the frame). ``None`` for any
    other valid message and for media of a track other than ``"inbound"`` (not the caller's
    audio). Raises :class:`ValueError` for invalid JSON,
    a non-object, a missing or non-string ``event``, or a media message whose ``media``,
    ``sequenceNumber``, ``media.timestamp`` or ``media.payload`` is missing or malformed
    (counters: digit strings or integers; payload: non-empty standard base64, at most the
    15 MiB of one append).
    """
    head = APPEND_HEAD if event_type is None else append_head(event_type)
    message = _loads(frame)
    if _event_name(message) != "media":
        return None
    media = message.get("media")
    if not isinstance(media, dict):
        raise ValueError("carrier media message: 'media' must be an object")
    track = media.get("track", "inbound")
    if not isinstance(track, str):
        raise ValueError("carrier media message: 'media.track' must be a string")
    if track != "inbound":
        return None
    if "sequenceNumber" not in message:
        raise ValueError("carrier media message has no 'sequenceNumber'")
    seq = _counter(message["sequenceNumber"], "sequenceNumber")
    if "timestamp" not in media:
        raise ValueError("carrier media message has no 'media.timestamp'")
    timestamp = _counter(media["timestamp"], "media.timestamp")
    payload = media.get("payload")
    if not isinstance(payload, str):
        raise ValueError("carrier media message: 'media.payload' must be a base64 string")
    n = _b64_len(payload, "carrier media payload")
    if n == 0:
        raise ValueError("carrier media message: 'media.payload' is empty")
    if n > MAX_APPEND_BYTES:
        raise ValueError(f"carrier media payload is over the {MAX_APPEND_BYTES}-byte append limit")
    return seq, timestamp, head + payload.encode("ascii") + b'"}'


def delta_to_media(frame: str | bytes, stream_sid: str) -> tuple[str, str, int, bytes] | None:
    """``(response_id, item_id, nbytes, media_message)`` of an output audio delta frame.

    ``media_message`` is the UTF-8 text ``{"event":"media","streamSid":<stream_sid>,
    "media":{"payload":"<delta>"}}`` with the delta's base64 as it came; ``nbytes`` is the
    audio it carries. A ``session.output_audio.delta`` (GPT-Live, translation) has no ids:
    ``("", "", nbytes, media_message)``. ``None`` for any other valid event. Raises
    :class:`ValueError` as :func:`rtsdk.kernels.decode_audio_delta` and
    :func:`rtsdk.kernels.decode_session_audio_delta` do (invalid JSON, no string ``type``, a
    delta without string ``response_id``/``item_id``/``delta``, or ``delta`` not valid base64),
    and :class:`TypeError` when ``stream_sid`` is not a ``str``.
    """
    if not isinstance(stream_sid, str):
        raise TypeError(f"stream_sid must be a str, got {type(stream_sid).__name__}")
    event = _loads(frame)
    found = _delta_fields(event)
    if found is not None:
        etype, response_id, item_id, delta = found
    else:
        session_delta = _session_delta(event)
        if session_delta is None:
            return None
        etype, response_id, item_id, delta = SESSION_DELTA_TYPE, "", "", session_delta
    nbytes = _b64_len(delta, f"{etype} event: 'delta'")
    sid = json.dumps(stream_sid).encode("ascii")
    message = (
        b'{"event":"media","streamSid":'
        + sid
        + b',"media":{"payload":"'
        + delta.encode("ascii")
        + b'"}}'
    )
    return response_id, item_id, nbytes, message

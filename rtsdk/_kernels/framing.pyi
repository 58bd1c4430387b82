"""Audio event framing (compiled); see rtsdk._reference.framing."""

from typing_extensions import Buffer

__all__ = ["decode_audio_delta", "decode_session_audio_delta", "encode_append"]

def encode_append(
    audio: Buffer,
    event_id: str | None = None,
    *,
    sample_width: int = 2,
    event_type: str | None = None,
) -> bytes:
    """Return the UTF-8 text frame ``{"type":"input_audio_buffer.append","audio":"<base64>"}``
    (``event_type``: another type, such as ``"session.input_audio.append"``)."""

def decode_audio_delta(frame: str | bytes) -> tuple[str, str, bytes] | None:
    """``(response_id, item_id, pcm_bytes)`` of an output audio delta frame, else ``None``."""

def decode_session_audio_delta(frame: str | bytes) -> tuple[str, str, bytes] | None:
    """``("", "", pcm_bytes)`` of a ``session.output_audio.delta`` frame, else ``None``."""

"""Carrier media-stream splicing (compiled); see rtsdk._reference.mediastream."""

__all__ = ["delta_to_media", "media_to_append"]

def media_to_append(
    frame: str | bytes, *, event_type: str | None = None
) -> tuple[int, int, bytes] | None:
    """``(sequence_number, timestamp_ms, append_frame)`` of a carrier ``media`` message."""

def delta_to_media(frame: str | bytes, stream_sid: str) -> tuple[str, str, int, bytes] | None:
    """``(response_id, item_id, nbytes, media_message)`` of an output audio delta frame
    (``("", "", ...)`` for an id-less ``session.output_audio.delta``)."""

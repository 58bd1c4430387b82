"""Images for the conversation: PNG or JPEG bytes (or a file) to the ``data:`` URL an
``input_image`` part carries, checked first.

The type is read from the bytes (their signature), not from a file name; anything else is
refused with the reason. ``max_bytes`` (default :data:`MAX_IMAGE_BYTES`, 10 MiB) is this SDK's
guard: base64 makes the frame a third larger, and the service documents no image limit for
Realtime, so a size a photo rarely exceeds is kept.
"""

from __future__ import annotations

import base64
import os
from pathlib import Path

from rtsdk.exceptions import ConfigurationError

__all__ = ["MAX_IMAGE_BYTES", "image_data_url", "image_type"]

#: The largest image (in bytes, before base64) :func:`image_data_url` accepts by default.
MAX_IMAGE_BYTES = 10 * 1024 * 1024

_SIGNATURES = ((b"\x89PNG\r\n\x1a\n", "image/png"), (b"\xff\xd8\xff", "image/jpeg"))


def image_type(data: bytes) -> str | None:
    """``"image/png"`` or ``"image/jpeg"`` from the bytes' signature; None for anything else."""
    for signature, mime in _SIGNATURES:
        if data.startswith(signature):
            return mime
    return None


def _read(source: bytes | bytearray | memoryview | str | os.PathLike[str]) -> tuple[bytes, str]:
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source), "the image bytes"
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        try:
            return path.read_bytes(), str(path)
        except OSError as exc:
            raise ConfigurationError(f"cannot read the image file {str(path)!r}: {exc}") from None
    raise ConfigurationError(
        f"an image is PNG/JPEG bytes or a file path, got {type(source).__name__}"
    )


def image_data_url(
    source: bytes | bytearray | memoryview | str | os.PathLike[str],
    *,
    max_bytes: int = MAX_IMAGE_BYTES,
) -> str:
    """``data:image/png;base64,...`` (or ``image/jpeg``) of PNG/JPEG bytes or a file.

    Raises :class:`~rtsdk.exceptions.ConfigurationError` saying what is wrong: an unreadable
    file, no data, a type other than PNG or JPEG (with what the data starts with), or more
    than ``max_bytes``.
    """
    data, what = _read(source)
    if not data:
        raise ConfigurationError(f"{what}: empty; an image must be PNG or JPEG data")
    mime = image_type(data)
    if mime is None:
        raise ConfigurationError(
            f"{what}: not a PNG or JPEG image (it starts with {data[:8]!r}); convert it first"
        )
    if len(data) > max_bytes:
        raise ConfigurationError(
            f"{what}: {len(data)} bytes is larger than the {max_bytes}-byte limit; "
            "scale it down (or raise max_bytes)"
        )
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"

"""Standard base64 (compiled); see rtsdk._reference.b64."""

from typing_extensions import Buffer

__all__ = ["b64decode", "b64encode"]

def b64encode(buf: Buffer) -> bytes:
    """Return the standard base64 encoding (with ``=`` padding) of a C-contiguous buffer."""

def b64decode(data: Buffer | str) -> bytes:
    """Decode standard base64 (bytes-like or ASCII ``str``); raises ValueError when invalid."""

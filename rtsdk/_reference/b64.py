"""Standard base64 (RFC 4648 alphabet, with padding): the plain twin of ``rtsdk._kernels.b64``.

Both backends accept exactly what ``base64.b64decode(data, validate=True)`` accepts and return the
same bytes; anything else raises :class:`ValueError` (``binascii.Error`` is one) with a message
saying what is wrong.
"""

from __future__ import annotations

import base64
import binascii
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typing_extensions import Buffer

__all__ = ["b64decode", "b64encode"]


def b64encode(buf: Buffer) -> bytes:
    """Return the standard base64 encoding (with ``=`` padding) of a C-contiguous buffer."""
    return base64.b64encode(buf)


def b64decode(data: Buffer | str) -> bytes:
    """Decode standard base64 (bytes-like or ASCII ``str``); strict: no whitespace, no other chars.

    Raises :class:`ValueError` for a character outside the alphabet, bad padding or a length that
    cannot be base64, and for a ``str`` holding non-ASCII characters.
    """
    if isinstance(data, str):
        try:
            data = data.encode("ascii")
        except UnicodeEncodeError:
            raise ValueError("base64 text must contain only ASCII characters") from None
    try:
        return base64.b64decode(data, validate=True)
    except binascii.Error as exc:
        raise ValueError(f"invalid base64: {exc}") from None

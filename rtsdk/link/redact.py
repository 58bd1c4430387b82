"""Keeping secrets out of logs: header values and URL queries never printed."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from urllib.parse import urlsplit, urlunsplit

__all__ = ["RedactingLogger", "redacted_url", "secret_parts"]


class RedactingLogger(logging.LoggerAdapter):  # type: ignore[type-arg]
    """Hands websockets a logger that cannot print the auth header values.

    websockets logs every handshake header at DEBUG; this adapter replaces the secret values
    (and anything in the request line's query) before the record is made.
    """

    def __init__(self, logger: logging.Logger, secrets: list[str]) -> None:
        super().__init__(logger, {})
        self._secrets = [s for s in secrets if s]

    def _scrub(self, value: object) -> object:
        if isinstance(value, (bytes, bytearray)):
            value = bytes(value).decode("utf-8", "replace")
        if isinstance(value, str):
            for secret in self._secrets:
                if secret in value:
                    value = value.replace(secret, "***")
        return value

    def log(self, level: int, msg: object, *args: object, **kwargs: object) -> None:
        if self.isEnabledFor(level):
            super().log(
                level,
                self._scrub(msg),
                *(self._scrub(a) for a in args),
                **kwargs,  # type: ignore[arg-type]
            )


def secret_parts(headers: Mapping[str, str]) -> list[str]:
    """Every header value, and each word of it (``Bearer <key>`` -> the key alone too)."""
    parts: list[str] = []
    for value in headers.values():
        parts.append(value)
        parts.extend(word for word in value.split() if len(word) >= 8)
    return sorted(set(parts), key=len, reverse=True)


def redacted_url(url: str) -> str:
    """The URL without its query (which may hold a key on some deployments)."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))

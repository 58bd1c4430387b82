"""Carrier request signatures (Twilio's ``X-Twilio-Signature``): only the carrier may call in.

An open ``/media`` endpoint would let anyone start Realtime sessions on your key; with an auth
token set, :class:`~rtsdk.telephony.PhoneServer` answers the webhook and accepts a media
stream only when the request carries a valid signature: base64 of HMAC-SHA1, keyed with the
account's auth token, over the full URL the carrier requested followed by the POST form
fields sorted by name (each name then its value).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable
from urllib.parse import urlsplit, urlunsplit

__all__ = ["signature_for", "signature_valid"]


def signature_for(auth_token: str, url: str, form: Iterable[tuple[str, str]] = ()) -> str:
    """The signature a carrier puts on a request to ``url`` with POST fields ``form``."""
    data = url + "".join(k + v for k, v in sorted(form))
    digest = hmac.new(auth_token.encode("utf-8"), data.encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def _variants(url: str) -> list[str]:
    """``url`` as given, and with the scheme's default port added or removed (carriers have
    signed both forms)."""
    parts = urlsplit(url)
    default = {"https": 443, "wss": 443, "http": 80, "ws": 80}.get(parts.scheme)
    out = [url]
    host = parts.hostname or ""
    if default is not None and host:
        if parts.port is None:
            out.append(urlunsplit(parts._replace(netloc=f"{parts.netloc}:{default}")))
        elif parts.port == default:
            out.append(urlunsplit(parts._replace(netloc=parts.netloc.rsplit(":", 1)[0])))
    return out


def signature_valid(
    auth_token: str, signature: str | None, urls: Iterable[str], form: Iterable[tuple[str, str]]
) -> bool:
    """True when ``signature`` signs one of ``urls`` (with ``form``) under ``auth_token``."""
    if not signature:
        return False
    fields = list(form)
    for url in urls:
        for candidate in _variants(url):
            if hmac.compare_digest(signature_for(auth_token, candidate, fields), signature):
                return True
    return False

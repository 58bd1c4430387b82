"""Carrier request signatures (Twilio's ``X-Twilio-Signature``): only the carrier may call in.

An open ``/media`` endpoint would let anyone start Realtime sessions on your key; with an auth
token set, :class:`~rtsdk.telephony.PhoneServer` answers the webhook and accepts a media
stream only when the request carries a valid signature: base64 of HMAC-SHA1, keyed with the
account's auth token, over the full URL the carrier requested followed by the POST form
fields sorted by name (each name then its value).

A request with a JSON body is signed differently: the carrier adds a ``bodySHA256`` query
parameter (the hex SHA-256 of the body) to the URL and signs the URL alone; the body is
accepted only when that hash matches it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Iterable
from urllib.parse import parse_qsl, urlsplit, urlunsplit

__all__ = ["body_hash_valid", "read_webhook_body", "signature_for", "signature_valid"]


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


def body_hash_valid(url: str, body: bytes) -> bool:
    """Whether ``url`` carries exactly one ``bodySHA256`` parameter, the hex SHA-256 of
    ``body`` (how a carrier binds a JSON body to the signed URL)."""
    query = parse_qsl(urlsplit(url).query, keep_blank_values=True)
    given = [v for k, v in query if k == "bodySHA256"]
    if len(given) != 1:
        return False
    return hmac.compare_digest(given[0].lower(), hashlib.sha256(body).hexdigest())


def signature_valid(
    auth_token: str,
    signature: str | None,
    urls: Iterable[str],
    form: Iterable[tuple[str, str]],
    json_body: bytes | None = None,
) -> bool:
    """True when ``signature`` signs one of ``urls`` (with ``form``) under ``auth_token``.

    ``json_body``: the raw body of a JSON request; then ``form`` is not signed and each URL
    must carry the body's ``bodySHA256`` (see the module docstring).
    """
    if not signature:
        return False
    fields = [] if json_body is not None else list(form)
    for url in urls:
        if json_body is not None and not body_hash_valid(url, json_body):
            continue
        for candidate in _variants(url):
            if hmac.compare_digest(signature_for(auth_token, candidate, fields), signature):
                return True
    return False


def read_webhook_body(
    body: bytes, content_type: str | None
) -> tuple[list[tuple[str, str]], bytes | None]:
    """A webhook body as ``(fields, json_body)``: a form's fields and ``None``; or, for a JSON
    body (``application/json``), the string members of its top-level object and the raw body
    (signed through the URL's ``bodySHA256``, see :mod:`rtsdk.telephony.signature`)."""
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    if media_type == "application/json" or media_type.endswith("+json"):
        try:
            data = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            data = None
        members = data.items() if isinstance(data, dict) else ()
        fields = [(k, v) for k, v in members if isinstance(v, str)]
        return fields, body
    return parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True), None

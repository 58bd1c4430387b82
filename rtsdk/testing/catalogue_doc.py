"""The error catalogue as Markdown: ``python -m rtsdk.testing.catalogue_doc`` prints the
table of ``docs/server-errors.md`` (a test keeps the committed file current).
"""

from __future__ import annotations

from .catalogue import ENTRIES
from .catalogue_live import LIVE_ONLY, SHARED
from .catalogue_sip import SHARED as SIP_SHARED
from .catalogue_sip import SIP_ONLY
from .catalogue_translation import TRANSLATION_ONLY, TRANSLATION_SHARED
from .errors import ErrorEntry

__all__ = ["markdown"]


def _cell(text: object) -> str:
    if text is None:
        return "null"
    return str(text).replace("|", "\\|").replace("\n", " ")


_HEAD = (
    "| key | trigger | client event | carrier | type | code | param | message | event_id "
    "| evidence | source | differs |",
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
)


def _rows(entries: tuple[ErrorEntry, ...]) -> list[str]:
    lines = []
    for e in entries:
        carrier = f"http {e.status}" if e.carrier == "http" else e.carrier
        if e.closes is not None:
            carrier += f", then close {e.closes[0]}"
        param = _cell(e.param) if e.has_param else "(none)"
        lines.append(
            f"| `{e.key}` | {_cell(e.trigger)} | {_cell(e.client_event or '-')} | {carrier} "
            f"| {e.type} | {_cell(e.code)} | {param} | {_cell(e.message)} "
            f"| {'client' if e.echoes_event_id else 'null'} | {e.evidence} | {_cell(e.source)} "
            f"| {_cell(e.differs) if e.differs else ''} |"
        )
    return lines


def markdown() -> str:
    """The catalogue as the Markdown of ``docs/server-errors.md`` (the Realtime rows, then
    the GPT-Live rows, the translation rows, the SIP rows)."""
    lines = [
        "# Errors of the local server",
        "",
        "Every error `rtsdk.testing.LocalRealtimeServer` sends, generated from",
        "`rtsdk.testing.catalogue.ERRORS` (`python -m rtsdk.testing.catalogue_doc >",
        "docs/server-errors.md`). The server sends exactly these fields; "
        "`tests/test_testing_errors.py`",
        "provokes every row over a real socket.",
        "",
        "- **carrier**: an `error` event, the JSON body of a refused upgrade (`http NNN`), the",
        "  `status_details.error` of a failed `response.done`, or the `error` of",
        "  `conversation.item.input_audio_transcription.failed`.",
        "- **param** and **message** are templates: `{name}` is filled in per error.",
        "- **event_id**: `client` when `error.event_id` is the `event_id` of the client event at",
        "  fault (null when it had none); `null` when it is always null.",
        "- **evidence**: `seen` (code and message seen from the service in public material),",
        "  `partly seen` (the source says which part is worded by analogy), `not seen` (no public",
        "  source: this server's choice).",
        "- **differs**: where this server's error differs from the service's, and why (empty: it",
        "  does not, as far as public material shows).",
        "- Clients should route on `code` (an open string) and on `error.event_id`, never on the",
        "  message.",
        "",
        *_HEAD,
        *_rows(ENTRIES),
        "",
        "## GPT-Live sessions",
        "",
        "A GPT-Live session (`/v1/live/sessions`) sends the rows above that are about a client",
        "event's shape (" + ", ".join(f"`{k}`" for k in SHARED) + ") as they are, and the",
        "rows below (`rtsdk.testing.LIVE_ERRORS`; `tests/test_testing_live_errors.py` provokes",
        "each). There, **event_id** `client` means that the client command's `event_id` comes",
        "back as `client_event_id`, in the event and in its `error` (both left out when the",
        "command had none); the event's own `event_id` is always the server's.",
        "",
        *_HEAD,
        *_rows(LIVE_ONLY),
        "",
        "## Realtime translation sessions",
        "",
        "A translation session (`/v1/realtime/translations`) sends the Realtime `error` event,",
        "`error.event_id` being the client event's as above, with the rows above "
        + ", ".join(f"`{k}`" for k in TRANSLATION_SHARED),
        "as they are, and the rows below (`rtsdk.testing.TRANSLATION_ERRORS`;",
        "`tests/test_testing_translation_errors.py` provokes each), refused upgrades included.",
        "",
        *_HEAD,
        *_rows(TRANSLATION_ONLY),
        "",
        "## SIP calls",
        "",
        "The SIP side (`server.sip`: webhooks, the call-control REST of both APIs, sidebands,",
        "outbound calls; `rtsdk.testing.SIP_ERRORS`) answers a request body that breaks its",
        "schema with HTTP 400 and the rows above " + ", ".join(f"`{k}`" for k in SIP_SHARED) + ",",
        'as the body `{"error": {...}}` (`param`: the dotted path in the body), and sends the',
        "rows below. `tests/test_testing_sip.py` and `tests/test_testing_sip_calls.py` provoke",
        "each. On a GPT-Live sideband an error goes to the sideband whose command caused it, its",
        "`event_id` back as `client_event_id` (as on a primary socket).",
        "",
        *_HEAD,
        *_rows(SIP_ONLY),
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(markdown(), end="")

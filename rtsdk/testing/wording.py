"""The local server's words: ids in the service's style and its error messages.

:class:`Ids` makes ``event_…``, ``item_…``, ``resp_…`` ids unique per server;
:func:`problem_message` words a :class:`~rtsdk.protocol.schema.Problem` as the service does
(``Unknown parameter: '…'.``, ``Invalid value: 'ultra'. Supported values are: …``).
"""

from __future__ import annotations

import itertools
import json
import secrets
from typing import Any

from ..models import REASONING_EFFORTS
from ..protocol.schema import Problem

__all__ = ["Ids", "problem_message"]

Json = dict[str, Any]


class Ids:
    """Ids in the service's style (``event_…``, ``item_…``, ``resp_…``), unique per server."""

    __slots__ = ("_base", "_count")

    def __init__(self) -> None:
        self._base = secrets.token_hex(4)
        self._count = itertools.count(1)

    def __call__(self, prefix: str) -> str:
        return f"{prefix}_{self._base}{next(self._count):09d}"


def _quoted(value: Any) -> str:
    return f"'{value}'" if isinstance(value, str) else json.dumps(value)


def _at(data: Json, param: str) -> Any:
    """The value at dotted path ``param`` of ``data`` (None where the path does not lead)."""
    node: Any = data
    for key in param.split("."):
        node = node.get(key) if isinstance(node, dict) else None
    return node


def problem_message(p: Problem, data: Json | None = None) -> str:
    """The service's message for ``p`` (``data``: the client event, to quote a bad value)."""
    if p.code == "unknown_parameter":
        return f"Unknown parameter: '{p.param}'."
    if p.code == "missing_required_parameter":
        return f"Missing required parameter: '{p.param}'."
    if p.code in ("invalid_parameter", "unsupported_parameter"):
        return p.message
    if p.param.endswith("reasoning.effort") and data is not None:
        # the service's words for a value outside an enumeration
        names = [_quoted(e) for e in REASONING_EFFORTS]
        listed = ", ".join(names[:-1]) + f", and {names[-1]}"
        return f"Invalid value: {_quoted(_at(data, p.param))}. Supported values are: {listed}."
    return f"Invalid value for '{p.param}': {p.message}."

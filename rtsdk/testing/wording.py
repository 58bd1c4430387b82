"""The local server's words: ids in the service's style, and schema problems as the service
words them.

:class:`Ids` makes ``event_…``, ``item_…``, ``resp_…`` ids unique per server;
:func:`frame_refusal` says what is wrong with a text frame that is no event;
:func:`problem_refusal` turns a :class:`~rtsdk.protocol.schema.Problem` into the catalogue
error the service gives for it (:mod:`.catalogue`): ``unknown_parameter``,
``missing_required_parameter``, ``invalid_type`` ("Invalid type for '…': expected …, but got …
instead."), a value outside an enumeration (``invalid_value``, "Invalid value: 'ultra'.
Supported values are: …"), a number out of range (``integer_below_min_value``,
``decimal_above_max_value``, ...), or any other bad value (``invalid_value``).
"""

from __future__ import annotations

import ast
import itertools
import json
import secrets
from typing import Any

from ..protocol.schema import Problem
from .errors import Refusal, listed

__all__ = ["Ids", "frame_refusal", "json_type", "problem_refusal", "quoted"]

Json = dict[str, Any]


class Ids:
    """Ids in the service's style (``event_…``, ``item_…``, ``resp_…``), unique per server."""

    __slots__ = ("_base", "_count")

    def __init__(self) -> None:
        self._base = secrets.token_hex(4)
        self._count = itertools.count(1)

    def __call__(self, prefix: str) -> str:
        return f"{prefix}_{self._base}{next(self._count):09d}"


def quoted(value: Any) -> str:
    """A value as the service quotes it in a message: ``'text'``, else JSON (``3``, ``null``)."""
    return f"'{value}'" if isinstance(value, str) else json.dumps(value)


def _at(data: Json, param: str) -> Any:
    """The value at dotted path ``param`` (``a.b[2].c``) of ``data`` (None where it does not
    lead)."""
    node: Any = data
    for key in param.split("."):
        name, _, rest = key.partition("[")
        node = node.get(name) if isinstance(node, dict) else None
        for index in rest.split("[") if rest else ():
            i = int(index.rstrip("]"))
            node = node[i] if isinstance(node, list) and 0 <= i < len(node) else None
    return node


def json_type(value: Any) -> str:
    """The service's name of a JSON value's type: ``a string``, ``an integer``, ``a decimal``,
    ``a boolean``, ``an object``, ``an array``, ``null``."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a decimal"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def _number(text: str) -> float:
    return float(text.strip())


def _shown(number: float) -> str:
    return str(int(number)) if number == int(number) else repr(number)


def _out_of_range(p: Problem, value: float, low: float | None, high: float | None) -> Refusal:
    kind = "integer" if isinstance(value, int) else "decimal"
    shown = json.dumps(value)
    if high is None or (low is not None and value < low):
        assert low is not None
        return Refusal(
            f"{kind}_below_min_value", {"param": p.param, "minimum": _shown(low), "value": shown}
        )
    return Refusal(
        f"{kind}_above_max_value", {"param": p.param, "maximum": _shown(high), "value": shown}
    )


def problem_refusal(p: Problem, data: Json) -> Refusal:
    """The catalogue error the service gives for schema problem ``p`` of client event
    ``data`` (the value at fault is read from ``data`` to quote it)."""
    if p.code in ("unknown_parameter", "missing_required_parameter"):
        return Refusal(p.code, {"param": p.param})
    value = _at(data, p.param)
    text = p.message
    if text.startswith("expected "):
        return Refusal(
            "invalid_type",
            {"param": p.param, "expected": text[len("expected ") :], "got": json_type(value)},
        )
    if text.startswith("must be one of "):
        values = ast.literal_eval(text[len("must be one of ") :])
        return Refusal(
            "invalid_enum_value",
            {"param": p.param, "value": quoted(value), "supported": listed(values)},
        )
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if text.startswith("must be >= "):
            return _out_of_range(p, value, _number(text[len("must be >= ") :]), None)
        if text.startswith("must be between "):
            low, high = text[len("must be between ") :].split(" and ")
            return _out_of_range(p, value, _number(low), _number(high))
        if text.startswith("must be "):
            try:
                exact = _number(text[len("must be ") :])
            except ValueError:
                pass
            else:
                return _out_of_range(p, value, exact, exact)
    return Refusal("invalid_value", {"param": p.param, "reason": text})


def frame_refusal(text: str) -> tuple[Refusal, str | None]:
    """The catalogue error for a client text frame that is not a JSON event object (not JSON:
    ``invalid_json``; not an object; an object without a string ``type``), and the frame's
    ``event_id`` when it has one to echo."""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return Refusal("invalid_json"), None
    if not isinstance(data, dict):
        return Refusal("event_not_object", {"got": json_type(data)}), None
    event_id = data.get("event_id")
    event_id = event_id if isinstance(event_id, str) else None
    kind = data.get("type")
    if kind is None:
        return Refusal("missing_required_parameter", {"param": "type"}), event_id
    if not isinstance(kind, str):
        fields = {"param": "type", "expected": "a string", "got": json_type(kind)}
        return Refusal("invalid_type", fields), event_id
    return Refusal("invalid_json"), None  # JSON the codec refuses though the standard library reads

"""Strict JSON shapes, checked as the service checks a client event: :class:`Node` and its kinds.

A shape is built from :class:`Obj` (these keys and no others, some required), :class:`Loose`
(at least these keys), :class:`Union` (an object whose ``type`` or ``role`` picks its shape),
:class:`Either` (a string of one shape or an object of another), :class:`Items` (an array),
:class:`Enum`, :class:`Scalar` (string, boolean, integer with bounds, number),
:class:`Nullable` and :class:`Anything`. :meth:`Node.check` returns the first fault of a value
as a :class:`~rtsdk.testing.errors.Refusal` of the error catalogue (``unknown_parameter``,
``missing_required_parameter``, ``invalid_type``, ``invalid_enum_value``, ``invalid_value``,
``integer_below_min_value`` / ``integer_above_max_value``), its ``param`` the dotted path to
the value (``session.input[2].content[0].text``). :mod:`.live_schema` describes GPT-Live's
client commands with them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from .errors import Refusal, listed
from .wording import json_type, quoted

__all__ = [
    "Anything",
    "Either",
    "Enum",
    "Items",
    "Loose",
    "Node",
    "Nullable",
    "Obj",
    "Scalar",
    "Union",
    "join",
]


def join(path: str, key: str | int) -> str:
    """``path.key`` (or ``path[key]`` for an index; ``key`` alone at the top)."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


class Node:
    """One shape: :meth:`check` returns the first fault of ``value`` at ``path``."""

    expected = "a value"

    def check(self, value: Any, path: str) -> Refusal | None:
        raise NotImplementedError

    def wrong_type(self, value: Any, path: str) -> Refusal:
        return Refusal(
            "invalid_type", {"param": path, "expected": self.expected, "got": json_type(value)}
        )


class Anything(Node):
    def check(self, value: Any, path: str) -> Refusal | None:
        return None


class Scalar(Node):
    """A string, a boolean, an integer (``low`` / ``high`` bounds) or any number."""

    def __init__(self, kind: type, low: int | None = None, high: int | None = None) -> None:
        self.kind = kind
        self.low = low
        self.high = high
        self.expected = {str: "a string", bool: "a boolean", int: "an integer"}.get(
            kind, "a number"
        )

    def check(self, value: Any, path: str) -> Refusal | None:
        kinds: tuple[type, ...] = (int, float) if self.kind is float else (self.kind,)
        if isinstance(value, bool) != (self.kind is bool) or not isinstance(value, kinds):
            return self.wrong_type(value, path)
        number = cast(float, value)
        if self.low is not None and number < self.low:
            return Refusal(
                "integer_below_min_value",
                {"param": path, "minimum": self.low, "value": quoted(value)},
            )
        if self.high is not None and number > self.high:
            return Refusal(
                "integer_above_max_value",
                {"param": path, "maximum": self.high, "value": quoted(value)},
            )
        return None


class Enum(Node):
    def __init__(self, *values: str | int) -> None:
        self.values = values
        self.expected = "a string" if isinstance(values[0], str) else "an integer"

    def check(self, value: Any, path: str) -> Refusal | None:
        if isinstance(value, (dict, list)) or value is None:
            return self.wrong_type(value, path)
        if isinstance(value, bool) or value not in self.values:
            return Refusal(
                "invalid_enum_value",
                {
                    "param": path,
                    "value": quoted(value),
                    "supported": listed([str(v) for v in self.values]),
                },
            )
        return None


class Nullable(Node):
    def __init__(self, node: Node) -> None:
        self.node = node
        self.expected = node.expected

    def check(self, value: Any, path: str) -> Refusal | None:
        return None if value is None else self.node.check(value, path)


class Obj(Node):
    """An object with these keys (no others), ``required`` among them."""

    expected = "an object"

    def __init__(self, fields: Mapping[str, Node], *required: str) -> None:
        self.fields = dict(fields)
        self.required = required

    #: Whether a key the shape does not have is a fault.
    strict = True

    def check(self, value: Any, path: str) -> Refusal | None:
        if not isinstance(value, dict):
            return self.wrong_type(value, path)
        for key, item in value.items():
            node = self.fields.get(key)
            if node is None and self.strict:
                return Refusal("unknown_parameter", {"param": join(path, key)})
            problem = None if node is None else node.check(item, join(path, key))
            if problem is not None:
                return problem
        for key in self.required:
            if key not in value:
                return Refusal("missing_required_parameter", {"param": join(path, key)})
        return None


class Loose(Obj):
    """An object with at least the ``required`` keys (checked when given); others pass."""

    strict = False


class Union(Node):
    """An object whose ``key`` (``type``, ``role``) picks its shape."""

    expected = "an object"

    def __init__(
        self,
        key: str,
        variants: Mapping[str, Obj],
        default: str | None = None,
        others: Node | None = None,
    ) -> None:
        self.key = key
        self.variants = dict(variants)
        self.default = default
        self.others = others
        for node in self.variants.values():
            node.fields.setdefault(key, Anything())

    def check(self, value: Any, path: str) -> Refusal | None:
        if not isinstance(value, dict):
            return self.wrong_type(value, path)
        tag = value.get(self.key, self.default)
        if tag is None:
            return Refusal("missing_required_parameter", {"param": join(path, self.key)})
        node: Node | None = self.variants.get(tag) if isinstance(tag, str) else None
        if node is None and isinstance(tag, str) and self.others is not None:
            node = self.others
        if node is None:
            return Enum(*self.variants).check(tag, join(path, self.key))
        return node.check(value, path)


class Either(Node):
    """A string of one shape or an object of another."""

    def __init__(self, text: Node, obj: Node) -> None:
        self.text = text
        self.obj = obj
        self.expected = f"{text.expected} or {obj.expected}"

    def check(self, value: Any, path: str) -> Refusal | None:
        if isinstance(value, str):
            return self.text.check(value, path)
        if isinstance(value, dict):
            return self.obj.check(value, path)
        return self.wrong_type(value, path)


class Items(Node):
    """An array of ``item``; ``size`` is an exact length (with the reason said when not)."""

    expected = "an array"

    def __init__(
        self, item: Node, *, most: int | None = None, size: tuple[int, str] | None = None
    ) -> None:
        self.item = item
        self.most = most
        self.size = size

    def check(self, value: Any, path: str) -> Refusal | None:
        if not isinstance(value, list):
            return self.wrong_type(value, path)
        if self.most is not None and len(value) > self.most:
            return Refusal("live_too_many_items", {"length": len(value)})
        if self.size is not None and len(value) != self.size[0]:
            return Refusal("invalid_value", {"param": path, "reason": self.size[1]})
        for i, item in enumerate(value):
            problem = self.item.check(item, join(path, i))
            if problem is not None:
                return problem
        return None

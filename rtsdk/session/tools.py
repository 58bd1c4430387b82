"""Function tools: Python callables the model may call, with their JSON schema.

:func:`tool_schema` builds the ``{"type": "function", "name", "description", "parameters"}``
object from a function's signature and docstring: the first paragraph of the docstring is the
description; parameters are described from a Google-style ``Args:`` section or Sphinx
``:param x:`` lines; annotations map to JSON Schema (``str``, ``int``, ``float``, ``bool``,
``list[...]``, ``dict``, ``Literal[...]`` as ``enum``, ``Optional[...]``/``X | None``, enums).
Parameters without a default are required.

:class:`ToolRegistry` holds the tools of a session and runs a call: coroutine functions on the
event loop, plain functions in a worker thread, so a slow tool never blocks audio. The result
is sent as the call's output: a ``str`` as is, anything else as JSON; an exception becomes
``{"error": "<ExceptionType>: <message>"}`` so the model can recover.
"""

from __future__ import annotations

import asyncio
import enum
import inspect
import json
import logging
import re
import time
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rtsdk.exceptions import ConfigurationError

__all__ = ["Tool", "ToolRegistry", "ToolResult", "tool_schema"]

log = logging.getLogger("rtsdk.tools")

_NAME_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_SCALARS: dict[Any, dict[str, Any]] = {
    str: {"type": "string"},
    int: {"type": "integer"},
    float: {"type": "number"},
    bool: {"type": "boolean"},
    type(None): {"type": "null"},
}


def _json_type(hint: Any, where: str) -> dict[str, Any]:
    if hint is inspect.Parameter.empty or hint is Any:
        return {}
    if hint in _SCALARS:
        return dict(_SCALARS[hint])
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return {"enum": [m.value for m in hint]}
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin is typing.Literal:
        return {"enum": list(args)}
    if origin in (typing.Union, types.UnionType):
        non_null = [a for a in args if a is not type(None)]
        if len(non_null) == 1:
            return _json_type(non_null[0], where)
        return {"anyOf": [_json_type(a, where) for a in args]}
    if origin in (list, tuple, set, frozenset) or hint in (list, tuple, set, frozenset):
        schema: dict[str, Any] = {"type": "array"}
        if args:
            schema["items"] = _json_type(args[0], where)
        return schema
    if origin in (dict, Mapping) or hint in (dict, Mapping):
        return {"type": "object"}
    raise ConfigurationError(
        f"tool parameter {where}: cannot describe type {hint!r} in JSON Schema; "
        "annotate it with str, int, float, bool, list, dict or Literal, or pass parameters="
    )


def _doc_parts(doc: str | None) -> tuple[str, dict[str, str]]:
    """(description, {param: description}) from a docstring."""
    if not doc:
        return "", {}
    text = inspect.cleandoc(doc)
    paragraphs = re.split(r"\n\s*\n", text)
    description = " ".join(paragraphs[0].split()) if paragraphs else ""
    params: dict[str, str] = {}
    for m in re.finditer(r"^:param\s+(?:\w+\s+)?(\w+):\s*(.+)$", text, re.M):
        params[m.group(1)] = m.group(2).strip()
    section = re.search(r"^(?:Args|Arguments|Parameters):\s*\n((?:[ \t]+.*\n?)+)", text, re.M)
    if section:
        current = None
        for line in section.group(1).splitlines():
            entry = re.match(r"^\s{2,}(\w+)\s*(?:\([^)]*\))?\s*:\s*(.*)$", line)
            if entry:
                current = entry.group(1)
                params[current] = entry.group(2).strip()
            elif current is not None and line.strip():
                params[current] = f"{params[current]} {line.strip()}".strip()
    if description.startswith(("Args:", "Arguments:", "Parameters:", ":param")):
        description = ""
    return description, params


def tool_schema(
    func: Callable[..., Any],
    *,
    name: str | None = None,
    description: str | None = None,
    parameters: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The function tool object for ``func`` (see the module docstring)."""
    tool_name = name if name is not None else getattr(func, "__name__", "")
    if not isinstance(tool_name, str) or not _NAME_RE.match(tool_name):
        raise ConfigurationError(
            f"tool name must be 1-64 letters, digits, '_' or '-', got {tool_name!r}"
        )
    doc_description, doc_params = _doc_parts(inspect.getdoc(func))
    if parameters is None:
        try:
            hints = typing.get_type_hints(func)
        except Exception:
            hints = {}
        props: dict[str, Any] = {}
        required: list[str] = []
        for pname, param in inspect.signature(func).parameters.items():
            if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
                continue
            if param.kind is param.POSITIONAL_ONLY:
                raise ConfigurationError(
                    f"tool {tool_name!r}: parameter {pname!r} is positional-only; the model "
                    "passes arguments by name"
                )
            schema = _json_type(hints.get(pname, param.annotation), f"{tool_name}.{pname}")
            if pname in doc_params:
                schema["description"] = doc_params[pname]
            if param.default is param.empty:
                required.append(pname)
            elif param.default is None or isinstance(param.default, (str, int, float, bool)):
                schema["default"] = param.default
            props[pname] = schema
        parameters = {"type": "object", "properties": props, "required": required}
    elif not isinstance(parameters, Mapping) or parameters.get("type") != "object":
        raise ConfigurationError(
            f"tool {tool_name!r}: parameters must be a JSON Schema object with type 'object'"
        )
    return {
        "type": "function",
        "name": tool_name,
        "description": description if description is not None else doc_description,
        "parameters": dict(parameters),
    }


@dataclass(frozen=True, slots=True)
class Tool:
    """A registered tool: its schema and the callable that answers it."""

    name: str
    func: Callable[..., Any]
    schema: dict[str, Any]

    @property
    def is_async(self) -> bool:
        """True when calling it gives a coroutine (run on the loop, not in a worker)."""
        return inspect.iscoroutinefunction(self.func) or inspect.iscoroutinefunction(
            getattr(self.func, "__call__", None)  # noqa: B004
        )


@dataclass(frozen=True, slots=True)
class ToolResult:
    """How one call of a registered tool went: its ``output`` (what was sent back), ``error``
    (``"<ExceptionType>: <message>"`` when the tool raised or its arguments were unusable, else
    None) and how long it ran (``seconds``)."""

    call_id: str
    name: str
    arguments: str
    output: str
    error: str | None
    seconds: float


def _arguments(arguments: str) -> dict[str, Any] | str:
    """The model's JSON arguments as a dict, or why they cannot be used (a str)."""
    try:
        args = json.loads(arguments) if arguments.strip() else {}
    except json.JSONDecodeError as exc:
        return f"arguments are not valid JSON: {exc.msg}"
    if not isinstance(args, dict):
        return "arguments must be a JSON object"
    return args


def encode_output(result: object) -> str:
    """A tool's return value as the ``output`` string of ``function_call_output``."""
    if isinstance(result, str):
        return result
    try:
        return json.dumps(result, ensure_ascii=False, allow_nan=False, default=str)
    except (TypeError, ValueError) as exc:
        return json.dumps({"error": f"tool result is not JSON: {exc}"})


class ToolRegistry:
    """The tools of a session, by name."""

    def __init__(self) -> None:
        self._tools: dict[str, Tool] = {}

    def __len__(self) -> int:
        return len(self._tools)

    def __contains__(self, name: object) -> bool:
        return name in self._tools

    def register(
        self,
        func: Callable[..., Any],
        *,
        name: str | None = None,
        description: str | None = None,
        parameters: Mapping[str, Any] | None = None,
    ) -> Tool:
        """Add ``func`` (replacing a tool of the same name); returns the :class:`Tool`."""
        if not callable(func):
            raise ConfigurationError(f"a tool must be callable, got {type(func).__name__}")
        schema = tool_schema(func, name=name, description=description, parameters=parameters)
        tool = Tool(schema["name"], func, schema)
        self._tools[tool.name] = tool
        return tool

    def unregister(self, name: str) -> None:
        """Remove the tool ``name`` (KeyError if there is none)."""
        del self._tools[name]

    def schemas(self) -> list[dict[str, Any]]:
        """The tool objects for the session config, in registration order."""
        return [dict(t.schema) for t in self._tools.values()]

    def get(self, name: str) -> Tool | None:
        """The tool called ``name``, if registered."""
        return self._tools.get(name)

    def merged(self, tools: Sequence[Mapping[str, Any]]) -> tuple[dict[str, Any], ...]:
        """``tools`` (e.g. from the session options), then each registered tool not named there."""
        names = {t.get("name") for t in tools}
        extra = [s for s in self.schemas() if s["name"] not in names]
        return (*(dict(t) for t in tools), *extra)

    def start(
        self,
        name: str,
        call_id: str,
        arguments: str,
        answer: Callable[[str, str], None],
        *,
        report: Callable[[ToolResult], None] | None = None,
    ) -> asyncio.Task[None] | None:
        """Run a call of tool ``name`` in a new task, then ``answer(call_id, output)`` (and
        ``report(result)`` with the :class:`ToolResult`, when given).

        None (and nothing runs) when no tool ``name`` is registered: the app answers that call.
        Each call is its own task: several calls of one response run at once, and a slow or
        failing one does not hold the others.
        """
        if name not in self._tools:
            return None

        async def call() -> None:
            started = time.monotonic()
            output, error = await self._outcome(name, arguments)
            answer(call_id, output)
            if report is not None:
                report(
                    ToolResult(call_id, name, arguments, output, error, time.monotonic() - started)
                )

        return asyncio.get_running_loop().create_task(call(), name=f"rtsdk-tool-{name}")

    async def run(self, name: str, arguments: str) -> str:
        """Run tool ``name`` with the model's JSON ``arguments``; never raises (see module)."""
        output, _ = await self._outcome(name, arguments)
        return output

    async def _outcome(self, name: str, arguments: str) -> tuple[str, str | None]:
        """(output, error) of a call: ``error`` says why the output is an error object (no such
        tool, unusable arguments, ``"<ExceptionType>: <message>"`` when the tool raised)."""
        tool = self._tools.get(name)
        if tool is None:
            error = f"no tool named {name!r} is registered"
            return json.dumps({"error": error}), error
        args = _arguments(arguments)
        if isinstance(args, str):
            return json.dumps({"error": args}), args
        try:
            if tool.is_async:
                result = await tool.func(**args)
            else:
                result = await asyncio.to_thread(tool.func, **args)
                if inspect.isawaitable(result):
                    result = await result
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("tool %r raised %s: %s", tool.name, type(exc).__name__, exc)
            error = f"{type(exc).__name__}: {exc}"
            return json.dumps({"error": error}), error
        return encode_output(result), None

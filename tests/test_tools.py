"""Function tools: schema from signature and docstring, running, errors as outputs."""

from __future__ import annotations

import asyncio
import enum
import json
import threading
from typing import Literal

import pytest

from rtsdk.exceptions import ConfigurationError
from rtsdk.session.tools import ToolRegistry, encode_output, tool_schema


class Unit(enum.Enum):
    C = "celsius"
    F = "fahrenheit"


def get_weather(city: str, unit: Unit = Unit.C, days: int | None = None) -> dict[str, object]:
    """Current weather for a city.

    Longer text that is not the description.

    Args:
        city: The city name, e.g. Paris.
        unit: Temperature unit.
        days: Forecast days
            (continued line).
    """
    return {"city": city, "unit": unit if isinstance(unit, str) else unit.value, "days": days}


def test_schema_from_signature_and_google_docstring() -> None:
    schema = tool_schema(get_weather)
    assert schema["type"] == "function"
    assert schema["name"] == "get_weather"
    assert schema["description"] == "Current weather for a city."
    params = schema["parameters"]
    assert params["required"] == ["city"]
    assert params["properties"]["city"] == {
        "type": "string",
        "description": "The city name, e.g. Paris.",
    }
    assert params["properties"]["unit"]["enum"] == ["celsius", "fahrenheit"]
    assert params["properties"]["days"]["type"] == "integer"
    assert params["properties"]["days"]["default"] is None
    assert params["properties"]["days"]["description"] == "Forecast days (continued line)."


def test_sphinx_docstring_literal_and_containers() -> None:
    def book(
        room: Literal["a", "b"], guests: list[str], meta: dict[str, int], ok: bool = True
    ) -> str:
        """Book a room.

        :param room: which room
        :param guests: who comes
        """
        return "ok"

    schema = tool_schema(book, name="book_room", description="Book it")
    props = schema["parameters"]["properties"]
    assert schema["name"] == "book_room" and schema["description"] == "Book it"
    assert props["room"] == {"enum": ["a", "b"], "description": "which room"}
    assert props["guests"] == {
        "type": "array",
        "items": {"type": "string"},
        "description": "who comes",
    }
    assert props["meta"] == {"type": "object"}
    assert props["ok"] == {"type": "boolean", "default": True}
    assert schema["parameters"]["required"] == ["room", "guests", "meta"]


def test_bad_tools_are_refused_clearly() -> None:
    with pytest.raises(ConfigurationError, match="tool name"):
        tool_schema(lambda: None)  # "<lambda>"
    with pytest.raises(ConfigurationError, match="positional-only"):
        tool_schema(lambda x, /: x, name="f")

    class Odd:
        pass

    def f(x: Odd) -> None:
        """Odd."""

    with pytest.raises(ConfigurationError, match=r"f\.x"):
        tool_schema(f)
    with pytest.raises(ConfigurationError, match="parameters"):
        tool_schema(f, parameters={"type": "string"})
    with pytest.raises(ConfigurationError, match="callable"):
        ToolRegistry().register("not a function")  # type: ignore[arg-type]


async def test_run_sync_in_worker_async_on_loop_and_errors() -> None:
    reg = ToolRegistry()
    threads: list[str] = []

    def add(a: int, b: int) -> int:
        threads.append(threading.current_thread().name)
        return a + b

    async def echo(text: str) -> str:
        await asyncio.sleep(0)
        return text

    def boom() -> None:
        raise RuntimeError("no luck")

    reg.register(add)
    reg.register(echo)
    reg.register(boom)
    assert len(reg) == 3 and "add" in reg
    assert await reg.run("add", '{"a": 2, "b": 3}') == "5"
    assert threads and threads[0] != threading.current_thread().name  # ran in a worker
    assert await reg.run("echo", '{"text": "hi"}') == "hi"
    assert json.loads(await reg.run("boom", "{}")) == {"error": "RuntimeError: no luck"}
    assert "no tool named" in json.loads(await reg.run("nope", "{}"))["error"]
    assert "not valid JSON" in json.loads(await reg.run("add", "{oops"))["error"]
    assert "JSON object" in json.loads(await reg.run("add", "[1]"))["error"]
    assert "TypeError" in json.loads(await reg.run("add", '{"a": 1}'))["error"]
    assert [s["name"] for s in reg.schemas()] == ["add", "echo", "boom"]


def test_encode_output() -> None:
    assert encode_output("plain") == "plain"
    assert json.loads(encode_output({"a": [1, 2]})) == {"a": [1, 2]}
    assert "error" in json.loads(encode_output(float("nan")))


def test_merged_keeps_option_tools_first_and_skips_same_names() -> None:
    reg = ToolRegistry()
    reg.register(get_weather)
    given = ({"type": "function", "name": "get_weather", "description": "given"},)
    assert reg.merged(given) == given  # the option's own definition wins
    merged = reg.merged(({"type": "function", "name": "other"},))
    assert [t["name"] for t in merged] == ["other", "get_weather"]


async def test_start_runs_a_registered_call_and_leaves_others_to_the_app() -> None:
    reg = ToolRegistry()
    reg.register(get_weather)
    answers: list[tuple[str, str]] = []
    assert reg.start("nope", "c0", "{}", lambda c, o: answers.append((c, o))) is None
    task = reg.start("get_weather", "c1", '{"city": "Oslo"}', lambda c, o: answers.append((c, o)))
    assert task is not None
    await asyncio.wait_for(task, 10.0)
    assert answers[0][0] == "c1" and json.loads(answers[0][1])["city"] == "Oslo"

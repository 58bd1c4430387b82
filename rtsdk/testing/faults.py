"""What can go wrong on purpose: the fault plan and scripted tool calls of the local server."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any, Literal

from ..exceptions import ConfigurationError

__all__ = ["GARBAGE_KINDS", "Faults", "FunctionCallScript"]

#: What ``Faults.garbage`` may be.
GARBAGE_KINDS = ("malformed_json", "unknown_type", "error_event")


def _count(name: str, value: object, owner: str = "Faults") -> None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
        raise ConfigurationError(f"{owner}.{name} must be an int >= 1 or None, got {value!r}")


def _seconds(name: str, value: object, allow_none: bool = True) -> None:
    if value is None and allow_none:
        return
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value < 0
    ):
        raise ConfigurationError(f"Faults.{name} must be a number of seconds >= 0, got {value!r}")


@dataclass(frozen=True, slots=True, kw_only=True)
class Faults:
    """A fault plan for one connection (or, given to the server, for every connection).

    Every field is optional; the default plan does nothing. "After N frames" counts the frames
    the server has *sent* on the connection (``session.created`` is frame 1; injected garbage
    counts too), so ``drop_after_frames`` can cut a response in the middle.

    - ``refuse_auth``: ``True`` or ``"http"`` refuses the upgrade with HTTP 401 and a JSON
      body (``invalid_api_key``); ``"error_event"`` accepts it, sends an ``error``
      (``invalid_api_key``) and closes with 1008. The second is the service's way (it closes
      with 3000); see the ``auth_error_event`` entry of :data:`~rtsdk.testing.ERRORS`.
    - ``drop_after_frames`` / ``drop_after_seconds``: abort the TCP connection (no close frame;
      the client sees 1006) after N frames sent or T seconds after the upgrade.
    - ``close_after_frames`` / ``close_after_seconds`` with ``close_code`` and ``close_reason``:
      a clean close frame with that code (1001, 1011, 4000, ...).
    - ``stall_after_frames`` + ``stall_seconds``: read and write nothing (pings unanswered)
      for that long, then carry on.
    - ``garbage_after_frames`` + ``garbage``: after N frames, send one ``"malformed_json"``
      frame, one event of an ``"unknown_type"``, or one ``"error_event"`` (a ``server_error``).
    - ``session_max_seconds``: end the session at that length the way the real service does at
      its cap: an ``error`` with code ``session_expired`` ("Your session hit the maximum
      duration of ..."), then a close frame 1000 with reason ``"session expired"`` (the close
      code of the real service is not documented; 1000 is this server's choice). A GPT-Live
      session ends its own way: ``session.closed`` with ``reason: "expired"``, then 1000.
    """

    refuse_auth: bool | Literal["http", "error_event"] = False
    drop_after_frames: int | None = None
    drop_after_seconds: float | None = None
    close_after_frames: int | None = None
    close_after_seconds: float | None = None
    close_code: int = 1011
    close_reason: str = "local fault injection"
    stall_after_frames: int | None = None
    stall_seconds: float = 5.0
    garbage_after_frames: int | None = None
    garbage: Literal["malformed_json", "unknown_type", "error_event"] = "malformed_json"
    session_max_seconds: float | None = None

    def __post_init__(self) -> None:
        if self.refuse_auth not in (False, True, "http", "error_event"):
            raise ConfigurationError(
                "Faults.refuse_auth must be False, True, 'http' or 'error_event', "
                f"got {self.refuse_auth!r}"
            )
        for name in (
            "drop_after_frames",
            "close_after_frames",
            "stall_after_frames",
            "garbage_after_frames",
        ):
            _count(name, getattr(self, name))
        for name in ("drop_after_seconds", "close_after_seconds", "session_max_seconds"):
            _seconds(name, getattr(self, name))
        _seconds("stall_seconds", self.stall_seconds, allow_none=False)
        code = self.close_code
        if (
            isinstance(code, bool)
            or not isinstance(code, int)
            or not (
                code in (1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013)
                or 3000 <= code <= 4999
            )
        ):
            raise ConfigurationError(
                f"Faults.close_code must be a close code a server may send "
                f"(1000-1003, 1007-1013 or 3000-4999), got {code!r}"
            )
        if not isinstance(self.close_reason, str) or len(self.close_reason.encode()) > 123:
            raise ConfigurationError("Faults.close_reason must be a str of at most 123 bytes")
        if self.garbage not in GARBAGE_KINDS:
            raise ConfigurationError(
                f"Faults.garbage must be one of {list(GARBAGE_KINDS)}, got {self.garbage!r}"
            )

    @property
    def auth_mode(self) -> Literal["http", "error_event"] | None:
        """How auth is refused (``None``: it is not)."""
        if self.refuse_auth is False:
            return None
        return "error_event" if self.refuse_auth == "error_event" else "http"


class ScriptedCall:
    """What a scripted call (a function or an MCP tool) shares: its arguments, when it fires and
    how often. Subclasses are dataclasses declaring these fields."""

    __slots__ = ()
    arguments: dict[str, Any] | str
    when_text_contains: str | None
    times: int | None
    fired: int

    def _check_trigger(self) -> None:
        owner = type(self).__name__
        if not isinstance(self.arguments, (dict, str)):
            raise ConfigurationError(
                f"{owner}.arguments must be a dict (sent as JSON) or a JSON string"
            )
        if self.when_text_contains is not None and not isinstance(self.when_text_contains, str):
            raise ConfigurationError(f"{owner}.when_text_contains must be a str or None")
        _count("times", self.times, owner)

    @property
    def arguments_json(self) -> str:
        """The arguments as the JSON string the server sends (a str is sent as given)."""
        if isinstance(self.arguments, str):
            return self.arguments
        return json.dumps(self.arguments, separators=(",", ":"))

    def matches(self, text: str | None) -> bool:
        """True if a user turn with this text (``None``: a spoken turn) triggers the call."""
        if self.times is not None and self.fired >= self.times:
            return False
        if self.when_text_contains is None:
            return True
        return text is not None and self.when_text_contains.lower() in text.lower()


@dataclass(slots=True, kw_only=True)
class FunctionCallScript(ScriptedCall):
    """A scripted tool call: when a user turn matches, the response calls ``name``.

    ``when_text_contains`` matches (case-insensitively) the text of the latest user message;
    ``None`` matches every user turn, spoken or typed. The call is made only if the session (or
    the response) declares a function tool of that ``name`` and ``tool_choice`` is not
    ``"none"``, as a model would. ``times`` limits how often the script fires (``None``: no
    limit). After the call the server waits, as the real service does, for the
    ``function_call_output`` item and a ``response.create``.

    Every script that matches a turn fires in the same response, in script order (parallel
    tool calls), unless the response's ``parallel_tool_calls`` (its own, else the session's)
    is false: then only the first call is made. ``count`` calls the tool that many times in
    the one response (same arguments, each call its own ``call_id``). ``preamble`` is said
    first, word for word, as an assistant message (a reply tone under the transcript, or text
    when the response outputs text), before this script's calls.
    """

    name: str
    arguments: dict[str, Any] | str = field(default_factory=dict)
    when_text_contains: str | None = None
    times: int | None = None
    count: int = 1
    preamble: str | None = None
    fired: int = 0

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ConfigurationError(
                f"FunctionCallScript.name must be a non-empty str, got {self.name!r}"
            )
        self._check_trigger()
        count = self.count
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise ConfigurationError(f"FunctionCallScript.count must be an int >= 1, got {count!r}")
        if self.preamble is not None and (
            not isinstance(self.preamble, str) or not self.preamble.strip()
        ):
            raise ConfigurationError(
                "FunctionCallScript.preamble must be a non-empty str or None, "
                f"got {self.preamble!r}"
            )

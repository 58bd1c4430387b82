"""How the local server starts, cancels and ends responses: the :class:`Responding` part of
:class:`~rtsdk.testing.session.RealtimeSession`.

``response.create`` is checked (reasoning fields against the model, ``conversation``, one
active response in the default conversation), planned by the echo (:mod:`.echo`) and streamed
by a :class:`~rtsdk.testing.responses.ResponseRun`; a model past its shutdown date gets a
failed response, as the service answers. ``response.done`` is followed by
``rate_limits.updated``; an MCP approval lets the model go on by itself.
"""

from __future__ import annotations

import asyncio
import copy
import datetime
from collections.abc import Callable
from typing import Any, cast

from ..models import reasons, retired
from ..protocol import events as ev
from ..protocol.session import format_name
from .buffer import InputAudioBuffer
from .catalogue import failure
from .config import reasoning_problem
from .echo import input_tokens, make_plan
from .faults import FunctionCallScript
from .host import ResponseHost, SessionHost
from .items import response_context
from .mcp import McpCallScript
from .responses import REASONING_TOKENS, ResponseRun, make_pacer
from .wording import quoted

__all__ = ["Responding"]

Json = dict[str, Any]

_RATE_LIMITS = [
    {"name": "requests", "limit": 5000, "remaining": 4999, "reset_seconds": 0.012},
    {"name": "tokens", "limit": 40000, "remaining": 39000, "reset_seconds": 1.5},
]


class Responding:
    """Responses of a server session (mixed into :class:`RealtimeSession`, whose state these
    annotations name)."""

    session: Json
    conversation_id: str
    responses: dict[str, ResponseRun]
    active: ResponseRun | None
    buffer: InputAudioBuffer
    scripts: list[FunctionCallScript]
    mcp_scripts: list[McpCallScript]
    realtime_lead_ms: int
    new_id: Callable[[str], str]
    fail: Callable[..., None]
    refuse: Callable[..., None]
    send: Callable[..., None]
    _list_mcp_tools: Callable[[Any], None]
    _audio: dict[str, tuple[bytes, str]]
    _tasks: set[asyncio.Task[None]]
    _clock: Callable[[], float]
    _closed: bool
    _continue_pending: bool
    _idle_from_ms: float

    @property
    def pacing(self) -> str:
        raise NotImplementedError

    @property
    def today(self) -> datetime.date | None:
        raise NotImplementedError

    def _response_create(self, data: Json, event_id: str | None) -> None:
        overrides = data.get("response") or {}
        problem = reasoning_problem(self.session.get("model"), overrides, "response")
        if problem is not None:
            self.refuse(problem, event_id)
            return
        self.create_response(overrides, event_id)

    def model_retired(self, model: Any) -> bool:
        """True when ``model`` is past its shutdown date (by :attr:`today`)."""
        return isinstance(model, str) and retired(model, self.today)

    def _reasoning_tokens(self, overrides: Json) -> int | None:
        """The reasoning tokens of a response: by its effort (its own, else the session's) on
        a reasoning model; None when it does not reason."""
        session = self.session
        if not reasons(session.get("model")):
            return None
        effort = (overrides.get("reasoning") or {}).get("effort")
        if effort is None:
            effort = (session.get("reasoning") or {}).get("effort")
        return REASONING_TOKENS.get(effort) if isinstance(effort, str) else None

    def create_response(self, overrides: Json, event_id: str | None) -> None:
        """Start a response (``overrides`` = the ``response`` object of ``response.create``)."""
        conversation = overrides.get("conversation", "auto")
        if conversation not in ("auto", "none"):
            self.fail(
                "invalid_enum_value",
                event_id=event_id,
                param="response.conversation",
                value=quoted(conversation),
                supported="'auto' and 'none'",
            )
            return
        active = self.active
        if conversation == "auto" and active is not None:
            self.fail("response_already_active", event_id=event_id, response_id=active.id)
            return
        context = response_context(cast("SessionHost", self), overrides.get("input"), event_id)
        if context is None:
            return
        self._list_mcp_tools(overrides.get("tools"))  # MCP servers given for this response
        session = self.session
        out = overrides.get("audio", {}).get("output", {})
        fmt_object = out.get("format", session["audio"]["output"]["format"])
        if fmt_object.get("type", "audio/pcm") == "audio/pcm":
            fmt_object = {"type": "audio/pcm", "rate": 24000}
        out_fmt = format_name(fmt_object)
        modalities: list[str] = list(
            overrides["output_modalities"]
            if "output_modalities" in overrides
            else session["output_modalities"]
        )
        max_tokens: int | str = (
            overrides["max_output_tokens"]
            if "max_output_tokens" in overrides
            else session["max_output_tokens"]
        )
        model = session.get("model")
        gone = self.model_retired(model)
        run = ResponseRun(
            cast("SessionHost", self),
            response_id=self.new_id("resp"),
            conversation_id=self.conversation_id if conversation == "auto" else None,
            modalities=modalities,
            out_fmt=out_fmt,
            format_object=fmt_object,
            voice=out.get("voice", session["audio"]["output"]["voice"]),
            max_output_tokens=max_tokens,
            metadata=overrides.get("metadata"),
            input_tokens=0 if gone else input_tokens(context),
            reasoning_tokens=None if gone else self._reasoning_tokens(overrides),
        )
        if gone:
            # the service's answer when it no longer serves the session's model
            self.responses[run.id] = run
            if run.in_conversation:
                self.active = run
            run.start()
            run.fail(failure("response_model_not_found", model=model))
            return
        parallel = overrides.get("parallel_tool_calls", session.get("parallel_tool_calls", True))
        plan = make_plan(
            context,
            audio=self._audio,
            scripts=self.scripts,
            new_id=self.new_id,
            out_fmt=out_fmt,
            tools=overrides.get("tools", session["tools"]),
            tool_choice=overrides.get("tool_choice", session["tool_choice"]),
            mcp_scripts=self.mcp_scripts,
            parallel_tool_calls=parallel is not False,
        )
        self.responses[run.id] = run
        if run.in_conversation:
            self.active = run
        run.start()
        pacer = make_pacer(lambda: self.pacing, self._clock, self.realtime_lead_ms / 1000)
        task = asyncio.get_running_loop().create_task(run.stream(plan, pacer))
        run.task = task
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _response_cancel(self, data: Json, event_id: str | None) -> None:
        response_id = data.get("response_id")
        run = self.responses.get(response_id) if response_id else self.active
        if run is None or run.done:
            self.fail("response_cancel_not_active", event_id=event_id)
            return
        run.finish("cancelled", "client_cancelled")

    def continue_after_approval(self) -> None:
        """An MCP approval was answered: the model goes on by itself (the approved call, or
        word of the denial), once the conversation has no active response."""
        if self._closed:
            return
        if self.active is None:
            self.create_response({}, None)
        else:
            self._continue_pending = True

    def response_finished(self, run: ResponseHost) -> None:
        """Called by a response once its ``response.done`` is out."""
        if self.active is run:
            self.active = None
            if self._continue_pending:
                self._continue_pending = False
                asyncio.get_running_loop().call_soon(self.continue_after_approval)
        self._idle_from_ms = max(
            self._idle_from_ms, self.buffer.end_ms + run.playback_left_ms(self._clock())
        )
        self.responses.pop(run.id, None)
        self.send(ev.RateLimitsUpdatedEvent, rate_limits=copy.deepcopy(_RATE_LIMITS))

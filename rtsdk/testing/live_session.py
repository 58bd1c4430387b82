"""GPT-Live as the service plays it, for one connection of the local server.

:class:`LiveSession` takes decoded client commands and sends server events (dicts, through the
``send`` callback, in order); the model, its output and its Responses backend are in
:mod:`.live_model`, :mod:`.live_mixer` and :mod:`.live_backend`. What a client can rely on:

- ``session.start`` first. Its config is checked strictly (:mod:`.live_schema`); a fault gets
  an ``error`` naming the ``param`` (``unknown_parameter`` ``session.foo``, ...) and no
  ``session.started``, the socket staying open; a model other than ``gpt-live-1`` /
  ``gpt-live-1.1`` gets ``model_not_found``. Then ``session.started`` with the resolved
  config: ``id`` (``sess_…``), ``expires_at`` (now + ``session_seconds``, 7200 by default),
  ``model``, ``status: "active"``, ``audio`` (format default PCM16 24 kHz, voice default
  ``marin``), ``delegation`` (default client, ``acknowledgement_delay_ms`` 0, 400 for
  Decisions), ``input``, ``store`` (false), ``triggers``, and ``instructions``,
  ``safety_identifier`` and ``client`` when given. Any command before it (audio included)
  gets ``session_not_started``; a second one ``session_already_started``.
- ``session.update``: only ``delegation`` (same type; ``responses`` / ``decisions`` merged key
  by key) and ``triggers`` (replaced) change; another startup field, or a delegation type
  change, gets ``immutable_field_update`` (``param`` ``session.<field>`` /
  ``session.delegation.type``). Acked by ``session.updated`` with the whole session.
- ``session.input_audio.append``: base64 in the session format, even length for PCM (else
  ``invalid_value``, the session going on); no ack. ``mute`` / ``unmute``: ``…muted`` /
  ``…unmuted``; muted input reaches the model as silence.
- ``session.output_audio.fixture.play``: PCM16 24 kHz, at most 30 s; ``…fixture.playing``,
  the model's speech stops, input is dropped, the clip plays as output audio (converted to the
  session format), then ``…fixture.played`` once it has left the mixer.
- ``session.{instructions,thinking,commentary}.append``: acked by ``….appended`` (``start_ms``
  = ``end_ms`` = the session time); a commentary is spoken (``delegation_id: null``: a
  greeting); thinking and commentary cancel pending acknowledgements. A non-null
  ``delegation_id`` is refused under Responses delegation and must name a delegation of the
  session otherwise. Refused while a fixture plays.
- ``response.item.create`` / ``response.create``: Responses delegation only
  (:mod:`.live_backend`). ``decision.*``: refused (this server has no Decisions backend).
- ``session.usage.updated`` every ``usage_interval_s`` (cumulative whole ``seconds``: the
  longer of the wall time and the input audio since the start, and a ``context_window``).
  ``session.close`` → ``session.closed`` (``close_requested``, the final snapshot and usage),
  then a close frame 1000; :meth:`LiveSession.expire` does the same with ``expired``.
- An unknown command type gets ``invalid_value`` (param ``type``), a binary or non-JSON
  frame the Realtime errors; the session goes on. Errors carry the client's ``event_id`` as
  ``client_event_id`` (and in ``error.client_event_id``), as acks do.
"""

from __future__ import annotations

import asyncio
import copy
import math
import time
from collections.abc import Callable
from typing import Any

from ..kernels import b64decode, b64encode
from .catalogue_live import LIVE_ERRORS
from .errors import ErrorEntry, Refusal
from .faults import FunctionCallScript
from .live_backend import ResponsesBackend
from .live_mixer import FIXTURE_RATE, LiveFormat, Mixer, Speech
from .live_model import DelegationScript, LiveModel
from .live_options import LIVE_MODELS, LiveOptions
from .live_schema import COMMANDS, command_problem
from .wording import Ids, frame_refusal, quoted

__all__ = ["LiveSession"]

Json = dict[str, Any]

_FIXTURE_MAX_BYTES = 30 * FIXTURE_RATE * 2
_CONTEXT_TOKENS = 128_000


def _acknowledgement_default(delegation: Json) -> Json:
    delegation.setdefault(
        "acknowledgement_delay_ms", 400 if delegation["type"] == "decisions" else 0
    )
    return delegation


class LiveSession:
    """Server side of one GPT-Live session (see the module docstring)."""

    def __init__(
        self,
        *,
        send: Callable[[Json], None],
        close_socket: Callable[[int, str], None],
        ids: Ids,
        options: Callable[[], LiveOptions],
        scripts: list[FunctionCallScript],
        delegation_scripts: list[DelegationScript],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._send = send
        self._close_socket = close_socket
        self.new_id = ids
        self._options = options
        self._scripts = scripts
        self._delegation_scripts = delegation_scripts
        self._clock = clock
        #: The resolved session (``session.started``'s), None before it.
        self.session: Json = {}
        self.started = False
        self.closed = False
        self.fmt = LiveFormat()
        #: Input audio received (bytes) and its length (ms), after the start.
        self.audio_bytes = 0
        self.audio_ms = 0.0
        self.instructions: list[str] = []
        self.model: LiveModel | None = None
        self.backend: ResponsesBackend | None = None
        self._started_at = 0.0
        self._timers: list[asyncio.TimerHandle] = []
        self._handlers: dict[str, Callable[[Json, str | None], None]] = {
            "session.update": self._update,
            "session.input_audio.append": self._append,
            "session.input_audio.mute": lambda d, e: self._mute(True, e),
            "session.input_audio.unmute": lambda d, e: self._mute(False, e),
            "session.output_audio.fixture.play": self._fixture,
            "session.instructions.append": self._context,
            "session.thinking.append": self._context,
            "session.commentary.append": self._context,
            "response.item.create": self._response_item,
            "response.create": self._response_create,
            "session.close": lambda d, e: self.end("close_requested", e),
        }

    # -- sending ------------------------------------------------------------------------------

    def send(self, kind: str, client_event_id: str | None = None, **fields: Any) -> None:
        """Send server event ``kind`` with a fresh ``event_id`` (and the client's id, if any)."""
        event: Json = {"type": kind, "event_id": self.new_id("event"), **fields}
        if client_event_id is not None:
            event["client_event_id"] = client_event_id
        self._send(event)

    def error_event(
        self,
        key: str,
        client_event_id: str | None = None,
        *,
        catalogue: dict[str, ErrorEntry] = LIVE_ERRORS,
        **fields: Any,
    ) -> Json:
        """The ``error`` event of entry ``key`` of ``catalogue`` (:data:`LIVE_ERRORS`; a SIP
        line passes its own)."""
        entry = catalogue[key]
        error = entry.render(**fields)
        event: Json = {"type": "error", "event_id": self.new_id("event"), "error": error}
        if entry.echoes_event_id and client_event_id is not None:
            error["client_event_id"] = event["client_event_id"] = client_event_id
        return event

    def fail(self, key: str, client_event_id: str | None = None, **fields: Any) -> None:
        """Send catalogue error ``key``; the session goes on."""
        self._send(self.error_event(key, client_event_id, **fields))

    def refuse(self, refusal: Refusal, client_event_id: str | None) -> None:
        self.fail(refusal.key, client_event_id, **refusal.fields)

    # -- frames -------------------------------------------------------------------------------

    def start(self) -> None:
        """The connection is up: nothing is sent before the client's ``session.start``."""

    def binary_frame(self) -> None:
        self.fail("binary_frame")

    def bad_frame(self, text: str) -> None:
        refusal, event_id = frame_refusal(text)
        self.refuse(refusal, event_id)

    def handle(self, data: Json) -> None:
        """Act on one decoded client command (a dict with a string ``type``)."""
        kind = data["type"]
        event_id = data.get("event_id")
        event_id = event_id if isinstance(event_id, str) else None
        if self.closed:
            return
        if kind not in COMMANDS:
            self.fail("live_unknown_event_type", event_id, value=quoted(kind))
            return
        if kind != "session.start" and not self.started:
            self.fail("live_not_started", event_id, event_type=kind)
            return
        if kind == "session.start" and self.started:
            self.fail("live_already_started", event_id)
            return
        problem = command_problem(data)
        if problem is not None:
            self.refuse(problem, event_id)
        elif kind == "session.start":
            self._start(data["session"], event_id)
        elif kind.startswith("decision."):
            self.fail("live_decisions_unsupported", event_id, event_type=kind)
        else:
            self._handlers[kind](data, event_id)

    # -- start, update, end -------------------------------------------------------------------

    def _start(self, config: Json, event_id: str | None) -> None:
        if config["model"] not in LIVE_MODELS:
            self.fail("live_model_not_found", event_id, model=config["model"])
            return
        options = self._options()
        audio = config.get("audio") or {}
        fmt = (audio.get("format") or {"type": "audio/pcm", "rate": 24000}).copy()
        voice = (audio.get("output") or {}).get("voice") or "marin"
        delegation = _acknowledgement_default(dict(config.get("delegation") or {"type": "client"}))
        session: Json = {
            "id": self.new_id("sess"),
            "expires_at": int(time.time() + options.session_seconds),
            "model": config["model"],
            "status": "active",
            "audio": {"format": fmt, "output": {"voice": voice}},
            "delegation": delegation,
            "input": copy.deepcopy(config.get("input") or []),
            "store": bool(config.get("store")),
            "triggers": copy.deepcopy(config.get("triggers") or []),
        }
        for key in ("instructions", "safety_identifier", "client"):
            if config.get(key) is not None:
                session[key] = copy.deepcopy(config[key])
        self.session = session
        self.started = True
        self._started_at = self._clock()
        self.fmt = LiveFormat.of(fmt)
        self._build(options)
        self.send("session.started", event_id, session=copy.deepcopy(session))
        loop = asyncio.get_running_loop()
        self._timers.append(loop.call_later(options.usage_interval_s, self._usage_tick))
        self._timers.append(loop.call_later(options.session_seconds, self.expire))

    def _build(self, options: LiveOptions) -> None:
        mixer = Mixer(
            fmt=self.fmt,
            chunk_ms=options.chunk_ms,
            lead_ms=options.lead_ms,
            pacing=lambda: self._options().pacing,
            clock=self._clock,
            timeline=lambda: self.audio_ms,
            send_audio=lambda raw: self._send(
                {"type": "session.output_audio.delta", "delta": b64encode(raw).decode("ascii")}
            ),
            send_words=lambda text, a, b: self.send(
                "session.output_transcript.delta", delta=text, start_ms=a, end_ms=b
            ),
        )
        self.backend = ResponsesBackend(
            send=self._response_event,
            new_id=self.new_id,
            config=lambda: self.session["delegation"].get("responses") or {},
            scripts=self._scripts,
            speak=lambda text: self._model().speak(text),
            pacing=lambda: self._options().pacing,
        )
        backend = self.backend
        self.model = LiveModel(
            fmt=self.fmt,
            mixer=mixer,
            clock=self._clock,
            send=self.send,
            new_id=self.new_id,
            delegation=lambda: self.session["delegation"],
            scripts=self._delegation_scripts,
            backend=backend.delegate,
            silence_ms=options.silence_ms,
            prefix_ms=options.prefix_ms,
            barge_in_ms=options.barge_in_ms,
            threshold=options.vad_threshold,
        )

    def _model(self) -> LiveModel:
        assert self.model is not None
        return self.model

    def _response_event(self, event: Json, delegation_id: str | None) -> None:
        fields: Json = {"event": event}
        if delegation_id is not None:
            fields["delegation_id"] = delegation_id
        self.send("response.event", **fields)

    def _update(self, data: Json, event_id: str | None) -> None:
        change = data["session"]
        current = self.session["delegation"]
        if "delegation" in change:
            new = change["delegation"] or {"type": "client"}
            if new["type"] != current["type"]:
                self.fail("live_immutable", event_id, param="session.delegation.type")
                return
            merged = dict(current)
            for key, value in new.items():
                if isinstance(value, dict) and isinstance(merged.get(key), dict):
                    merged[key] = {**merged[key], **copy.deepcopy(value)}
                elif value is not None:
                    merged[key] = copy.deepcopy(value)
            self.session["delegation"] = merged
        if change.get("triggers") is not None:
            self.session["triggers"] = copy.deepcopy(change["triggers"])
        self.send("session.updated", event_id, session=copy.deepcopy(self.session))

    def seconds(self) -> float:
        """Usage so far: whole seconds, the longer of wall time and input audio."""
        if not self.started:
            return 0.0
        return float(math.floor(max(self._clock() - self._started_at, self.audio_ms / 1000)))

    def _usage_tick(self) -> None:
        if self.closed:
            return
        text = sum(len(t) for t in self.instructions) + len(self.session.get("instructions", ""))
        tokens = text / 4 + self.audio_ms / 100  # 10 audio tokens a second, a token per 4 chars
        self.send(
            "session.usage.updated",
            usage={"seconds": self.seconds()},
            context_window={"usage_ratio": round(min(1.0, tokens / _CONTEXT_TOKENS), 6)},
        )
        interval = self._options().usage_interval_s
        self._timers.append(asyncio.get_running_loop().call_later(interval, self._usage_tick))

    def end(self, reason: str, event_id: str | None = None) -> None:
        """``session.closed`` (``reason``) with the final snapshot and usage, then a close
        frame 1000; the session takes no more commands."""
        if self.closed:
            return
        if self.started:
            self.send(
                "session.closed",
                event_id,
                reason=reason,
                session=copy.deepcopy(self.session),
                usage={"seconds": self.seconds()},
            )
        self.close()
        self._close_socket(1000, "session closed" if reason == "close_requested" else reason)

    def expire(self) -> None:
        """End the session at its duration limit (``reason: "expired"``)."""
        self.end("expired")

    def close(self) -> None:
        """Stop timers, speech and backend work (the session is over or the socket gone)."""
        self.closed = True
        for timer in self._timers:
            timer.cancel()
        if self.model is not None:
            self.model.close()
        if self.backend is not None:
            self.backend.close()

    # -- audio ----------------------------------------------------------------------------------

    def _decode(self, data: Json, event_id: str | None) -> bytes | None:
        try:
            return b64decode(data["audio"])
        except ValueError:
            self.fail("live_audio_bad_base64", event_id, format=self._format_name())
            return None

    def _format_name(self) -> str:
        return f"{self.fmt.type} at {self.fmt.rate} Hz"

    def _append(self, data: Json, event_id: str | None) -> None:
        raw = self._decode(data, event_id)
        if raw is None:
            return
        if not raw:
            self.fail("live_audio_empty", event_id, format=self._format_name())
            return
        if len(raw) % self.fmt.width:
            self.fail("live_audio_odd_length", event_id, size=len(raw))
            return
        self.take_audio(raw)

    def take_audio(self, raw: bytes) -> None:
        """Input audio (whole samples in the session format) as a valid append brings it; also
        what a SIP call's caller says (:mod:`.sip_line`). Ignored before the start and after
        the end."""
        if not self.started or self.closed:
            return
        self.audio_bytes += len(raw)
        self.audio_ms += self.fmt.ms(len(raw))
        self._model().hear(self.fmt.decode(raw))

    def _mute(self, muted: bool, event_id: str | None) -> None:
        self._model().muted = muted
        kind = "session.input_audio.muted" if muted else "session.input_audio.unmuted"
        self.send(kind, event_id)

    def _fixture(self, data: Json, event_id: str | None) -> None:
        model = self._model()
        if model.fixture:
            self.fail("live_fixture_active", event_id, event_type=data["type"])
            return
        try:
            raw = b64decode(data["audio"])
        except ValueError:
            raw = None
        if raw is None or not raw or len(raw) % 2 or len(raw) > _FIXTURE_MAX_BYTES:
            what = (
                "an invalid value"
                if raw is None
                else f"{len(raw)} bytes ({len(raw) / (2 * FIXTURE_RATE):.2f} s)"
            )
            self.fail("live_fixture_too_long", event_id, what=what)
            return
        self.send("session.output_audio.fixture.playing", event_id)
        model.mixer.cut()
        model.fixture = True

        def played() -> None:
            model.fixture = False
            if not self.closed:
                self.send("session.output_audio.fixture.played", event_id)

        model.mixer.say(Speech(self.fmt.from_fixture(raw), "", fixture=True, done=played))

    # -- context appends and the Responses backend ----------------------------------------------

    def _context(self, data: Json, event_id: str | None) -> None:
        kind: str = data["type"]
        model = self._model()
        if model.fixture:
            self.fail("live_fixture_active", event_id, event_type=kind)
            return
        delegation_id = data["delegation_id"]
        target = self.session["delegation"]["type"]
        if delegation_id is not None and target == "responses":
            self.fail("live_delegation_id_with_responses", event_id)
            return
        if delegation_id is not None and delegation_id not in model.delegations:
            self.fail("live_unknown_delegation", event_id, delegation_id=delegation_id)
            return
        now = round(self.audio_ms)
        name = kind.split(".")[1]
        self.send(f"session.{name}.appended", event_id, start_ms=now, end_ms=now)
        if name == "instructions":
            self.instructions.append(data["content"])
            return
        model.cancel_acknowledgements()
        if name == "commentary":
            model.speak(data["content"])

    def _backend(self, data: Json, event_id: str | None) -> ResponsesBackend | None:
        if self.session["delegation"]["type"] != "responses":
            self.fail("live_requires_responses", event_id, event_type=data["type"])
            return None
        return self.backend

    def _response_item(self, data: Json, event_id: str | None) -> None:
        backend = self._backend(data, event_id)
        if backend is not None:
            refusal = backend.item_create(data["item"])
            if refusal is not None:
                self.refuse(refusal, event_id)

    def _response_create(self, data: Json, event_id: str | None) -> None:
        backend = self._backend(data, event_id)
        if backend is not None:
            backend.create()

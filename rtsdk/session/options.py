"""What a Realtime session is told and how its connection behaves: :class:`RealtimeAIOptions`.

Everything is validated at construction; a bad value raises
:class:`~rtsdk.exceptions.ConfigurationError` naming the field. The API key is held but never
shown: not in ``repr``, not in logs, not in any exception message.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import KW_ONLY, dataclass, field, fields, replace
from typing import Any, Literal
from urllib.parse import quote, urlencode, urlsplit, urlunsplit

from rtsdk.exceptions import ConfigurationError
from rtsdk.link.websocket import ReconnectPolicy
from rtsdk.models import (
    DEFAULT_LIVE_MODEL,
    DEFAULT_MODEL,
    DEFAULT_TRANSLATION_MODEL,
    api_of,
    model_info,
    not_reasoning,
)
from rtsdk.protocol import SessionSettings, TranscriptionSettings, session_update
from rtsdk.protocol.live import LiveSettings
from rtsdk.protocol.session import SessionFields
from rtsdk.protocol.translation import TranslationSettings
from rtsdk.session.session_types import (
    check_session_type,
    live_settings,
    transcription_settings,
    translation_settings,
)

__all__ = ["DEFAULT_MODEL", "OPENAI_REALTIME_URL", "RealtimeAIOptions"]

OPENAI_REALTIME_URL = "wss://api.openai.com/v1/realtime"
#: Each API's path under the base URL (``wss://api.openai.com/v1``, a local server's ``/v1``).
API_PATHS = {
    "realtime": "/realtime",
    "transcription": "/realtime",
    "live": "/live/sessions",
    "translation": "/realtime/translations",
}

# The session fields RealtimeAIOptions shares with SessionSettings (its model is for the URL).
_SESSION_FIELDS = tuple(f.name for f in fields(SessionFields))


#: The default ``session_max_seconds``: under the Realtime service's 60-minute session cap.
_REALTIME_CAP = 55 * 60.0


def _bad(name: str, why: str) -> ConfigurationError:
    return ConfigurationError(f"RealtimeAIOptions.{name} {why}")


def _positive(name: str, value: object, *, allow_none: bool = False) -> None:
    if value is None and allow_none:
        return
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value <= 0
    ):
        raise _bad(name, f"must be a positive number of seconds, got {value!r}")


@dataclass(frozen=True)
class RealtimeAIOptions(SessionFields):
    """Options of one Realtime session.

    Session (sent with ``session.update`` on every connect; the fields of
    :class:`~rtsdk.protocol.session.SessionFields`): ``model``, ``instructions``,
    ``voice``, ``output_modality`` (``"audio"`` or ``"text"``), ``input_format`` /
    ``output_format`` (``"pcm16"``, ``"g711_ulaw"``, ``"g711_alaw"``), ``turn_detection``
    (``"server_vad"``, ``"semantic_vad"`` or ``"none"`` for manual turns) with its parameters,
    input transcription, noise reduction, ``tools`` / ``tool_choice``, ``max_output_tokens``,
    ``speed``. ``None`` leaves the server's default. ``tools`` take function tool dicts and
    remote MCP servers (:class:`~rtsdk.mcp.McpServer` or ``{"type": "mcp", ...}``).
    Reasoning models (the default ``gpt-realtime-2.1``; see :mod:`rtsdk.models`) take
    ``reasoning_effort`` and ``parallel_tool_calls``; every conversation takes ``truncation``
    (with ``retention_ratio`` and ``truncation_token_limit``), ``tracing``,
    ``prompt_template`` (a stored prompt) and ``include_logprobs`` (of input transcription).
    Setting a reasoning field for a model the catalogue knows does not reason is refused here.

    Transcription sessions (``session_type="transcription"``: the URL asks for
    ``intent=transcription``, the session is ``type: "transcription"``; no responses, just a
    transcript per turn): ``transcription_model`` (default ``"gpt-transcribe"``),
    ``language``, ``prompt``, ``noise_reduction``, ``turn_detection`` and its parameters,
    ``include_logprobs``, ``input_format``. Fields only a conversation has (``instructions``,
    ``voice``, ``tools``, ...) are refused, naming them.

    Endpoint: OpenAI by default (``api_key`` from ``OPENAI_API_KEY``); ``url`` points at any
    ``ws://`` / ``wss://`` Realtime base (such as the local server's ``.url``); Azure with
    ``azure_endpoint`` + ``azure_deployment`` (key from ``AZURE_OPENAI_API_KEY``): the GA
    ``/openai/v1/realtime?model=`` path, or, with ``api_version``, the preview
    ``/openai/realtime?api-version=&deployment=`` path (which speaks the beta event shapes;
    rtsdk converts both ways). ``azure_auth`` picks the ``api-key`` header (default) or
    ``Authorization: Bearer`` (for Entra tokens).

    Connection: reconnect policy (``max_retries``, ``base_delay``, ``max_delay``; full jitter),
    ``connect_timeout`` (TCP + TLS + upgrade), ``handshake_timeout`` (until the server has
    confirmed the session), ``ping_interval`` / ``ping_timeout`` (a stalled server is noticed
    within their sum), ``session_max_seconds`` (recycle the connection before the server's cap,
    with the config and, if ``replay_conversation``, the conversation replayed),
    ``audio_window`` (seconds of outgoing audio kept while disconnected).

    GPT-Live (``session_type="live"``, chosen by any ``gpt-live-`` model; the default model is
    then ``gpt-live-1.1``): one continuous conversation, configured once at start. It takes
    ``instructions``, ``voice`` (23 built-in names or ``{"id": ...}``), one audio format both
    ways (``input_format`` = ``output_format``), ``history`` (start-up text history: ``(role,
    text)`` pairs or messages), ``store``, ``safety_identifier``, ``delegation``
    (``"client"``: the app answers with ``delegation_reply``; ``"responses"``, the default when
    tools are registered: a Responses backend runs the tools, ``delegation_model`` naming its
    model; or a full delegation object), ``delegation_options`` (more ``delegation.responses``
    keys; ``tool_choice``, ``parallel_tool_calls``, ``max_output_tokens`` and
    ``reasoning_effort`` go there too), ``acknowledgement_delay_ms`` and ``triggers``. Turn
    detection, text-only output, transcription settings, truncation and tracing have no
    meaning there and are refused, naming them. ``url`` stays the API base: each API's path
    (``/realtime``, ``/live/sessions``) is added to it, replacing another API's path; on
    GPT-Live nothing goes in the query. ``session_max_seconds`` defaults to None there: the
    session's announced ``expires_at`` decides when it is renewed.
    """

    api_key: str | None = field(default=None, repr=False)
    model: str = DEFAULT_MODEL
    _: KW_ONLY  # the rest by keyword only, as the session fields (from SessionFields)
    # session type (see rtsdk.session.session_types)
    session_type: Literal["realtime", "transcription", "live", "translation"] = "realtime"
    language: str | None = None
    prompt: str | None = None
    # GPT-Live (see rtsdk.session.session_types)
    history: Sequence[Any] = ()
    store: bool | None = None
    safety_identifier: str | None = None
    delegation: str | Mapping[str, Any] | None = None
    delegation_model: str | None = None
    delegation_options: Mapping[str, Any] | None = None
    acknowledgement_delay_ms: int | None = None
    triggers: Sequence[Mapping[str, Any]] | None = None
    # translation sessions (see rtsdk.session.session_types)
    target_language: str | None = None
    source_transcription_model: str | None = None
    # endpoint
    url: str | None = None
    azure_endpoint: str | None = None
    azure_deployment: str | None = None
    api_version: str | None = None
    azure_auth: Literal["api-key", "bearer"] = "api-key"
    organization: str | None = None
    project: str | None = None
    # connection
    max_retries: int | None = 8
    base_delay: float = 0.25
    max_delay: float = 8.0
    connect_timeout: float = 10.0
    handshake_timeout: float = 10.0
    ping_interval: float | None = 20.0
    ping_timeout: float | None = 20.0
    session_max_seconds: float | None = 55 * 60.0  # _REALTIME_CAP
    replay_conversation: bool = True
    audio_window: float = 2.0
    max_backlog: int = 1024

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        if self.api_key is None:
            env = "AZURE_OPENAI_API_KEY" if self.azure_endpoint else "OPENAI_API_KEY"
            key = os.environ.get(env) or None
            if key is None and self.azure_endpoint:
                key = os.environ.get("OPENAI_API_KEY") or None
            set_(self, "api_key", key)
        if self.api_key is not None:
            if not isinstance(self.api_key, str):
                raise _bad("api_key", f"must be a string, got {type(self.api_key).__name__}")
            if not self.api_key.strip() or any(c in self.api_key for c in "\r\n\0"):
                # the message never quotes the key
                raise _bad("api_key", "must be a non-empty string without line breaks")
        if not isinstance(self.model, str) or not self.model:
            raise _bad("model", f"must be a non-empty string, got {self.model!r}")
        if isinstance(self.tools, Mapping) or not isinstance(self.tools, Sequence):
            raise _bad("tools", "must be a sequence of tool objects")
        set_(self, "tools", tuple(dict(t) if isinstance(t, Mapping) else t for t in self.tools))
        if isinstance(self.tool_choice, Mapping):
            set_(self, "tool_choice", dict(self.tool_choice))
        # a GPT-Live model (or deployment named as one) selects GPT-Live
        named = self.azure_deployment if self.azure_endpoint is not None else self.model
        if self.session_type == "realtime" and api_of(named) in ("live", "translation"):
            set_(self, "session_type", api_of(named))
        if self.session_type == "live" and self.model == DEFAULT_MODEL:
            set_(self, "model", DEFAULT_LIVE_MODEL)
        if self.session_type == "translation" and self.model == DEFAULT_MODEL:
            set_(self, "model", DEFAULT_TRANSLATION_MODEL)
        if self.session_type in ("live", "translation") and (
            self.session_max_seconds == _REALTIME_CAP
        ):
            # GPT-Live announces its session's end (expires_at): renewed before it
            set_(self, "session_max_seconds", None)
        if self.session_type not in ("live", "translation"):
            # the session fields are checked by SessionSettings; re-raise naming our class
            try:
                session_update(self.session_settings())  # every key as the server checks it
            except ConfigurationError as exc:
                raise ConfigurationError(f"RealtimeAIOptions: {exc}") from None
        check_session_type(self)
        self._check_endpoint()
        self._check_reasoning()
        if self.max_retries is not None and (
            isinstance(self.max_retries, bool)
            or not isinstance(self.max_retries, int)
            or self.max_retries < 0
        ):
            raise _bad("max_retries", f"must be an int >= 0 or None, got {self.max_retries!r}")
        for name in ("base_delay", "max_delay", "connect_timeout", "handshake_timeout"):
            _positive(name, getattr(self, name))
        for name in ("ping_interval", "ping_timeout", "session_max_seconds"):
            _positive(name, getattr(self, name), allow_none=True)
        if self.max_delay < self.base_delay:
            raise _bad("max_delay", f"({self.max_delay}) must be >= base_delay ({self.base_delay})")
        if (
            isinstance(self.audio_window, bool)
            or not isinstance(self.audio_window, (int, float))
            or not self.audio_window >= 0
        ):
            raise _bad("audio_window", f"must be >= 0 seconds, got {self.audio_window!r}")
        if (
            isinstance(self.max_backlog, bool)
            or not isinstance(self.max_backlog, int)
            or self.max_backlog < 1
        ):
            raise _bad("max_backlog", f"must be an int >= 1, got {self.max_backlog!r}")

    def _check_endpoint(self) -> None:
        if self.url is not None and self.azure_endpoint is not None:
            raise _bad("url", "and azure_endpoint are exclusive: give one")
        if self.url is not None:
            parts = urlsplit(self.url)
            if parts.scheme not in ("ws", "wss") or not parts.netloc:
                raise _bad("url", f"must be a ws:// or wss:// URL, got {self.url!r}")
        if self.azure_endpoint is not None:
            parts = urlsplit(self.azure_endpoint)
            if parts.scheme not in ("https", "wss", "http", "ws") or not parts.netloc:
                raise _bad(
                    "azure_endpoint",
                    "must be like https://<resource>.openai.azure.com, "
                    f"got {self.azure_endpoint!r}",
                )
            if not self.azure_deployment:
                raise _bad("azure_deployment", "is required with azure_endpoint")
        elif self.azure_deployment is not None or self.api_version is not None:
            raise _bad(
                "azure_deployment" if self.azure_deployment is not None else "api_version",
                "needs azure_endpoint",
            )
        if self.azure_auth not in ("api-key", "bearer"):
            raise _bad("azure_auth", f"must be 'api-key' or 'bearer', got {self.azure_auth!r}")

    def _check_reasoning(self) -> None:
        info = not_reasoning(self.catalogue_model)
        if info is None:
            return
        for name in ("reasoning_effort", "parallel_tool_calls"):
            if getattr(self, name) is not None:
                raise _bad(
                    name,
                    f"needs a reasoning model such as {DEFAULT_MODEL!r}; {info.name!r} does "
                    "not reason",
                )

    def __repr__(self) -> str:
        shown = []
        # key and model first, as in the constructor
        for f in sorted(fields(self), key=lambda f: f.name not in ("api_key", "model")):
            if f.name == "api_key":
                shown.append(f"api_key={'<set>' if self.api_key else None}")
                continue
            value = getattr(self, f.name)
            if value != f.default and not (f.name == "tools" and not value):
                shown.append(f"{f.name}={value!r}")
        return f"RealtimeAIOptions({', '.join(shown)})"

    # -- derived -----------------------------------------------------------------------------

    @property
    def is_azure(self) -> bool:
        """True when the endpoint is Azure OpenAI."""
        return self.azure_endpoint is not None

    @property
    def catalogue_model(self) -> str | None:
        """The model name to look up in :mod:`rtsdk.models`: ``model``, or on Azure the
        deployment name when it is a model name (deployments may be named anything); None for a
        transcription session (its model is ``transcription_model``)."""
        if self.session_type == "transcription":
            return None
        if self.azure_endpoint is not None:
            return self.azure_deployment if model_info(self.azure_deployment) else None
        return self.model

    @property
    def beta_protocol(self) -> bool:
        """True when the endpoint speaks the beta event shapes (Azure's preview path)."""
        return self.azure_endpoint is not None and self.api_version is not None

    def session_settings(self) -> SessionSettings:
        """The :class:`~rtsdk.protocol.SessionSettings` these options describe."""
        kwargs = {name: getattr(self, name) for name in _SESSION_FIELDS}
        if self.session_type == "transcription":
            kwargs["include_logprobs"] = False  # that session's own include (no conversation)
        return SessionSettings(model=None, **kwargs)

    def transcription_settings(self) -> TranscriptionSettings:
        """The :class:`~rtsdk.protocol.TranscriptionSettings` of a transcription session."""
        return transcription_settings(self)

    def translation_settings(self) -> TranslationSettings:
        """The :class:`~rtsdk.protocol.translation.TranslationSettings` of a translation
        session."""
        return translation_settings(self)

    @property
    def is_live(self) -> bool:
        """True for a GPT-Live session."""
        return self.session_type == "live"

    def live_settings(self, tools: Sequence[Mapping[str, Any]] = ()) -> LiveSettings:
        """The :class:`~rtsdk.protocol.live.LiveSettings` of a GPT-Live session (``tools``:
        registered tools besides the options' own)."""
        return live_settings(self, (*self.tools, *tools))

    def with_changes(self, **changes: Any) -> RealtimeAIOptions:
        """A copy with ``changes`` applied (validated again)."""
        unknown = set(changes) - {f.name for f in fields(self)}
        if unknown:
            raise ConfigurationError(f"RealtimeAIOptions has no field(s) {sorted(unknown)}")
        return replace(self, **changes)

    def reconnect_policy(self) -> ReconnectPolicy:
        """The :class:`~rtsdk.link.websocket.ReconnectPolicy` of these options."""
        return ReconnectPolicy(self.max_retries, self.base_delay, self.max_delay)

    def endpoint_url(self) -> str:
        """The WebSocket URL to connect to (carries no secret)."""
        if self.azure_endpoint is not None:
            parts = urlsplit(self.azure_endpoint)
            scheme = "ws" if parts.scheme in ("http", "ws") else "wss"
            base = parts.path.rstrip("/")
            if base.endswith("/openai/v1") or base.endswith("/openai"):
                base = base.rsplit("/openai", 1)[0]
            if self.session_type == "live":
                return urlunsplit((scheme, parts.netloc, f"{base}/openai/v1/live/sessions", "", ""))
            if self.session_type == "translation":
                path = f"{base}/openai/v1/realtime/translations"
                query = urlencode({"model": self.azure_deployment})
                return urlunsplit((scheme, parts.netloc, path, query, ""))
            if self.api_version is not None:
                path = f"{base}/openai/realtime"
                query = urlencode(
                    {"api-version": self.api_version, "deployment": self.azure_deployment}
                )
            else:
                path = f"{base}/openai/v1/realtime"
                query = urlencode(
                    {"intent": "transcription"}
                    if self.session_type == "transcription"
                    else {"model": self.azure_deployment}
                )
            return urlunsplit((scheme, parts.netloc, path, query, ""))
        base = self.url if self.url is not None else OPENAI_REALTIME_URL
        parts = urlsplit(base)
        path = parts.path.rstrip("/")
        for known in ("/realtime/translations", "/live/sessions", "/realtime"):
            if path.endswith(known):  # a URL of another API's endpoint: its base
                path = path[: -len(known)]
                break
        path += API_PATHS[self.session_type]
        query = parts.query
        if self.session_type == "live":
            # GPT-Live takes the model in session.start, never in the URL
            query = "&".join(p for p in query.split("&") if p and not p.startswith("model="))
        elif self.session_type == "translation":
            if "model=" not in query:
                extra = f"model={quote(self.model, safe='')}"
                query = f"{query}&{extra}" if query else extra
        elif self.session_type == "transcription":
            # a transcription session is asked for by intent, and must not name a model
            if "intent=" not in query:
                query = f"{query}&intent=transcription" if query else "intent=transcription"
        elif "model=" not in query and "call_id=" not in query:
            extra = f"model={quote(self.model, safe='')}"
            query = f"{query}&{extra}" if query else extra
        return urlunsplit((parts.scheme, parts.netloc, path, query, ""))

    def auth_headers(self) -> dict[str, str]:
        """The headers that carry the credentials (secret: never log them)."""
        headers: dict[str, str] = {}
        if self.api_key:
            if self.azure_endpoint is not None and self.azure_auth == "api-key":
                headers["api-key"] = self.api_key
            else:
                headers["Authorization"] = f"Bearer {self.api_key}"
        if self.organization:
            headers["OpenAI-Organization"] = self.organization
        if self.project:
            headers["OpenAI-Project"] = self.project
        return headers

    def require_key(self) -> None:
        """Raise :class:`ConfigurationError` when a key is needed and none is set.

        The OpenAI service and Azure need one; a custom ``url`` (a local server) may not.
        """
        if self.api_key is None and self.url is None:
            where = "AZURE_OPENAI_API_KEY" if self.azure_endpoint is not None else "OPENAI_API_KEY"
            raise ConfigurationError(
                f"RealtimeAIOptions.api_key is not set and {where} is empty; pass api_key= or "
                "set the variable (or point url= at a local server)"
            )

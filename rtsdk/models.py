"""The model catalogue: every model rtsdk knows, its API, whether it reasons, and its end.

One table (:data:`MODELS`), data only, so that a model's facts live in one place: the defaults
(:data:`DEFAULT_MODEL`, :data:`DEFAULT_TRANSCRIPTION_MODEL`), the options' checks (reasoning
fields only on a reasoning model), the deprecation warning a session logs, the wording of the
error when the service refuses a model that has been shut down, and the local server's idea of
which models exist. The shutdown dates are the ones OpenAI announced (the ``openai`` package
carries them in its type docstrings; ``tests/test_models.py`` holds the table to that package,
so a package update that adds or retires a model fails until the table follows).

A model that is not in the table (an Azure deployment name, a snapshot newer than this table)
is sent as given: the catalogue informs, it never blocks an unknown name.
"""

from __future__ import annotations

import datetime
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

__all__ = [
    "DEFAULT_DELEGATION_MODEL",
    "DEFAULT_LIVE_MODEL",
    "DEFAULT_MODEL",
    "DEFAULT_TRANSCRIPTION_MODEL",
    "DEFAULT_TRANSLATION_MODEL",
    "MODELS",
    "REASONING_EFFORTS",
    "ModelInfo",
    "api_of",
    "deprecation_notice",
    "model_info",
    "not_reasoning",
    "reasons",
    "retired",
    "retirement_notice",
    "warn_if_deprecated",
]

Api = Literal["realtime", "transcription", "live", "translation"]

#: The reasoning efforts a reasoning Realtime model takes (``reasoning.effort``); the service's
#: default is ``"low"``.
REASONING_EFFORTS: tuple[str, ...] = ("minimal", "low", "medium", "high", "xhigh")


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """One model: ``api`` (``"realtime"`` conversations, ``"transcription"`` models for input
    transcription and transcription sessions, ``"live"`` GPT-Live, ``"translation"`` Realtime
    translation sessions), ``reasoning`` (takes ``reasoning.effort`` and
    ``parallel_tool_calls``), ``shutdown`` (OpenAI's announced shutdown date, or None) and
    ``replacement`` (what to move to). ``languages`` marks a transcription model that takes a
    list of expected languages (``languages``) instead of a single ``language``."""

    name: str
    api: Api
    reasoning: bool = False
    shutdown: datetime.date | None = None
    replacement: str | None = None
    languages: bool = False

    @property
    def deprecated(self) -> bool:
        """True when the model has an announced shutdown date."""
        return self.shutdown is not None


_REALTIME_END = datetime.date(2027, 1, 20)
_TRANSCRIBE_END = datetime.date(2027, 2, 26)


def _table(*models: ModelInfo) -> Mapping[str, ModelInfo]:
    return MappingProxyType({m.name: m for m in models})


#: Every model rtsdk knows, by name.
MODELS: Mapping[str, ModelInfo] = _table(
    # Realtime conversations: the current reasoning models first
    ModelInfo("gpt-realtime-2.1", "realtime", reasoning=True),
    ModelInfo("gpt-realtime-2.1-mini", "realtime", reasoning=True),
    ModelInfo("gpt-realtime-2", "realtime", reasoning=True),
    ModelInfo("gpt-realtime-1.5", "realtime"),
    ModelInfo("gpt-realtime", "realtime", shutdown=_REALTIME_END, replacement="gpt-realtime-2.1"),
    ModelInfo(
        "gpt-realtime-2025-08-28",
        "realtime",
        shutdown=_REALTIME_END,
        replacement="gpt-realtime-2.1",
    ),
    ModelInfo(
        "gpt-realtime-mini",
        "realtime",
        shutdown=_REALTIME_END,
        replacement="gpt-realtime-2.1-mini",
    ),
    ModelInfo("gpt-realtime-mini-2025-10-06", "realtime"),
    ModelInfo(
        "gpt-realtime-mini-2025-12-15",
        "realtime",
        shutdown=_REALTIME_END,
        replacement="gpt-realtime-2.1-mini",
    ),
    ModelInfo("gpt-audio-1.5", "realtime"),
    ModelInfo(
        "gpt-audio-mini", "realtime", shutdown=_REALTIME_END, replacement="gpt-realtime-2.1-mini"
    ),
    ModelInfo("gpt-audio-mini-2025-10-06", "realtime"),
    ModelInfo(
        "gpt-audio-mini-2025-12-15",
        "realtime",
        shutdown=_REALTIME_END,
        replacement="gpt-realtime-2.1-mini",
    ),
    ModelInfo("gpt-4o-realtime-preview", "realtime"),
    ModelInfo("gpt-4o-realtime-preview-2024-10-01", "realtime"),
    ModelInfo("gpt-4o-realtime-preview-2024-12-17", "realtime"),
    ModelInfo("gpt-4o-realtime-preview-2025-06-03", "realtime"),
    ModelInfo("gpt-4o-mini-realtime-preview", "realtime"),
    ModelInfo("gpt-4o-mini-realtime-preview-2024-12-17", "realtime"),
    # transcription (input transcription of a conversation, and transcription sessions)
    ModelInfo("gpt-transcribe", "transcription", languages=True),
    ModelInfo("gpt-live-transcribe", "transcription", languages=True),
    ModelInfo("gpt-realtime-whisper", "transcription"),
    ModelInfo("whisper-1", "transcription", shutdown=_TRANSCRIBE_END, replacement="gpt-transcribe"),
    ModelInfo(
        "gpt-4o-transcribe", "transcription", shutdown=_TRANSCRIBE_END, replacement="gpt-transcribe"
    ),
    ModelInfo(
        "gpt-4o-transcribe-diarize",
        "transcription",
        shutdown=_TRANSCRIBE_END,
        replacement="gpt-transcribe",
    ),
    ModelInfo(
        "gpt-4o-mini-transcribe",
        "transcription",
        shutdown=_TRANSCRIBE_END,
        replacement="gpt-transcribe",
    ),
    ModelInfo(
        "gpt-4o-mini-transcribe-2025-12-15",
        "transcription",
        shutdown=_TRANSCRIBE_END,
        replacement="gpt-transcribe",
    ),
    # GPT-Live and Realtime translation (their sessions are other protocols)
    ModelInfo("gpt-live-1", "live"),
    ModelInfo("gpt-live-1.1", "live"),
    ModelInfo("gpt-realtime-translate", "translation"),
)

#: A conversation's model when the options name none.
DEFAULT_MODEL = "gpt-realtime-2.1"
#: The transcription model of a transcription session when the options name none (OpenAI's
#: recommended model for transcribing committed turns over a WebSocket).
DEFAULT_TRANSCRIPTION_MODEL = "gpt-transcribe"
#: GPT-Live's model when the options name none.
DEFAULT_LIVE_MODEL = "gpt-live-1.1"
#: The Responses model GPT-Live delegates tasks (tool calls) to when the options name none
#: (the one OpenAI's delegation guide starts from).
DEFAULT_DELEGATION_MODEL = "gpt-5.6-luna"
#: A translation session's model when the options name none.
DEFAULT_TRANSLATION_MODEL = "gpt-realtime-translate"


def model_info(name: str | None) -> ModelInfo | None:
    """The catalogue entry of ``name``, or None for a model the catalogue does not know."""
    return MODELS.get(name) if isinstance(name, str) else None


def reasons(name: object) -> bool:
    """True when the catalogue knows ``name`` as a reasoning model."""
    info = model_info(name if isinstance(name, str) else None)
    return info is not None and info.reasoning


def api_of(name: str | None) -> Api | None:
    """The API a model name belongs to: the catalogue's, else guessed from the family prefix
    (``gpt-live-...`` is GPT-Live, ``...-translate`` a translation session); None when
    neither says (a Realtime conversation, or an Azure deployment's own name)."""
    info = model_info(name)
    if info is not None:
        return info.api
    if not name:
        return None
    if "transcribe" in name:
        return "transcription"
    if name.startswith("gpt-live-"):
        return "live"
    if name.endswith("-translate") or "-translate-" in name:
        return "translation"
    return None


def not_reasoning(name: str | None) -> ModelInfo | None:
    """The entry of ``name`` when the catalogue knows it as a Realtime model that does not
    reason (reasoning fields are refused for it), else None (a reasoning model, another API's
    model, or a name the catalogue does not know)."""
    info = model_info(name)
    return info if info is not None and info.api == "realtime" and not info.reasoning else None


def _today(today: datetime.date | None) -> datetime.date:
    return today if today is not None else datetime.datetime.now(datetime.timezone.utc).date()


def retired(name: str | None, today: datetime.date | None = None) -> bool:
    """True when ``name`` has a shutdown date that is ``today`` (UTC by default) or earlier."""
    info = model_info(name)
    return info is not None and info.shutdown is not None and info.shutdown <= _today(today)


def _instead(info: ModelInfo) -> str:
    return f"; use {info.replacement} instead" if info.replacement else ""


def deprecation_notice(name: str | None) -> str | None:
    """The one-line notice for a model with an announced shutdown date, or None."""
    info = model_info(name)
    if info is None or info.shutdown is None:
        return None
    return (
        f"model {info.name!r} is deprecated: OpenAI shuts it down on "
        f"{info.shutdown.isoformat()}{_instead(info)}"
    )


def retirement_notice(name: str | None, today: datetime.date | None = None) -> str | None:
    """The wording for a model past its shutdown date (for the error when the service refuses
    it), or None when ``name`` is not retired ``today``."""
    info = model_info(name)
    if info is None or info.shutdown is None or not retired(name, today):
        return None
    return (
        f"model {info.name!r} was shut down by OpenAI on {info.shutdown.isoformat()}"
        f"{_instead(info)}"
    )


_warned: set[str] = set()  # set.add is atomic; a rare double warning from two threads is harmless


def warn_if_deprecated(name: str | None, *, stacklevel: int = 2) -> bool:
    """Log one warning and issue one :class:`DeprecationWarning` the first time this process
    uses a model with a shutdown date; True when it did. Later calls for that model are quiet."""
    notice = deprecation_notice(name)
    if notice is None:
        return False
    if name in _warned:
        return False
    _warned.add(str(name))
    import logging  # here, not at the top: the sans-I/O protocol layer imports this module

    logging.getLogger("rtsdk.models").warning("%s", notice)
    warnings.warn(notice, DeprecationWarning, stacklevel=stacklevel + 1)
    return True


def _forget_warnings() -> None:
    """Forget which models were warned about (for tests)."""
    _warned.clear()

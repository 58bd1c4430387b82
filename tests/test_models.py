"""The model catalogue against the ``openai`` package (3.57): its model literals and the
shutdown dates in its docstrings. A package update that adds or retires a model fails here
until ``rtsdk/models.py`` follows."""

from __future__ import annotations

import datetime
import inspect
import re
import typing
import warnings

import pytest

from rtsdk import models
from rtsdk.models import (
    DEFAULT_LIVE_MODEL,
    DEFAULT_MODEL,
    DEFAULT_TRANSCRIPTION_MODEL,
    DEFAULT_TRANSLATION_MODEL,
    MODELS,
    REASONING_EFFORTS,
    deprecation_notice,
    model_info,
    retired,
    retirement_notice,
    warn_if_deprecated,
)

openai_realtime = pytest.importorskip("openai.types.realtime")
from openai.types.live import session_config  # noqa: E402
from openai.types.realtime import (  # noqa: E402
    audio_transcription,
    realtime_reasoning_effort,
    realtime_session_create_request,
)


def _literals(annotation: object) -> set[str]:
    """Every string literal inside a (possibly nested) Union/Optional/Literal annotation."""
    out: set[str] = set()
    if typing.get_origin(annotation) is typing.Literal:
        return {a for a in typing.get_args(annotation) if isinstance(a, str)}
    for arg in typing.get_args(annotation):
        out |= _literals(arg)
    return out


def _field_literals(model: type, name: str) -> set[str]:
    return _literals(model.model_fields[name].annotation)  # type: ignore[attr-defined]


def _deprecations(module: object) -> dict[str, datetime.date]:
    """``{model: shutdown date}`` from the "Deprecated values:" notes of a types module."""
    source = inspect.getsource(module)  # type: ignore[arg-type]
    out: dict[str, datetime.date] = {}
    for block in re.finditer(
        r"Deprecated values:\s*\n(.*?)Announced shutdown date:\s*(\d{4}-\d{2}-\d{2})",
        source,
        re.S,
    ):
        date = datetime.date.fromisoformat(block.group(2))
        for name in re.findall(r'"([^"]+)"', block.group(1)):
            out[name] = date
    return out


REALTIME = _field_literals(realtime_session_create_request.RealtimeSessionCreateRequest, "model")
TRANSCRIPTION = _field_literals(audio_transcription.AudioTranscription, "model")
LIVE = _field_literals(session_config.SessionConfig, "model")


def test_the_package_is_read() -> None:
    # the parsing above found what it should, so the checks below are not vacuous
    assert "gpt-realtime-2.1" in REALTIME and len(REALTIME) > 10
    assert "gpt-transcribe" in TRANSCRIPTION and "whisper-1" in TRANSCRIPTION
    assert LIVE == {"gpt-live-1", "gpt-live-1.1"}
    assert _deprecations(realtime_session_create_request)["gpt-realtime"] == datetime.date(
        2027, 1, 20
    )


@pytest.mark.parametrize(
    ("names", "api"),
    [(REALTIME, "realtime"), (TRANSCRIPTION, "transcription"), (LIVE, "live")],
)
def test_every_model_the_package_names_is_in_the_catalogue(names: set[str], api: str) -> None:
    missing = sorted(n for n in names if n not in MODELS)
    assert not missing, f"add to rtsdk/models.py: {missing}"
    wrong = sorted(n for n in names if MODELS[n].api != api)
    assert not wrong, f"these are {api} models: {wrong}"
    extra = sorted(m.name for m in MODELS.values() if m.api == api and m.name not in names)
    assert not extra, f"the package no longer names {extra}"


@pytest.mark.parametrize("module", [realtime_session_create_request, audio_transcription])
def test_shutdown_dates_match_the_package(module: object) -> None:
    announced = _deprecations(module)
    assert announced, "no deprecation notes found"
    for name, date in announced.items():
        info = model_info(name)
        assert info is not None, name
        assert info.shutdown == date, name
        assert info.replacement is not None and model_info(info.replacement) is not None, name
        replacement = model_info(info.replacement)
        assert replacement is not None and not replacement.deprecated
        assert replacement.api == info.api
    api = model_info(next(iter(announced)))
    assert api is not None
    dated = {m.name for m in MODELS.values() if m.api == api.api and m.shutdown is not None}
    assert dated == set(announced)


def test_efforts_match_the_package() -> None:
    assert set(REASONING_EFFORTS) == _literals(realtime_reasoning_effort.RealtimeReasoningEffort)


def test_defaults_are_current() -> None:
    for name, api in [
        (DEFAULT_MODEL, "realtime"),
        (DEFAULT_TRANSCRIPTION_MODEL, "transcription"),
        (DEFAULT_LIVE_MODEL, "live"),
        (DEFAULT_TRANSLATION_MODEL, "translation"),
    ]:
        info = model_info(name)
        assert info is not None and info.api == api and not info.deprecated
    default = model_info(DEFAULT_MODEL)
    assert default is not None and default.reasoning


def test_notices_and_retirement() -> None:
    before = datetime.date(2027, 1, 19)
    on_the_day = datetime.date(2027, 1, 20)
    assert not retired("gpt-realtime", before)
    assert retired("gpt-realtime", on_the_day)
    assert not retired("gpt-realtime-2.1", datetime.date(2099, 1, 1))
    assert not retired("my-azure-deployment", on_the_day)
    notice = deprecation_notice("gpt-realtime")
    assert notice is not None and "2027-01-20" in notice and "gpt-realtime-2.1" in notice
    assert deprecation_notice("gpt-realtime-2.1") is None
    assert retirement_notice("gpt-realtime", before) is None
    gone = retirement_notice("gpt-4o-transcribe", datetime.date(2027, 3, 1))
    assert gone is not None and "2027-02-26" in gone and "gpt-transcribe" in gone


def test_warns_once_per_model() -> None:
    models._forget_warnings()
    with pytest.warns(DeprecationWarning, match="2027-01-20.*gpt-realtime-2.1") as caught:
        assert warn_if_deprecated("gpt-realtime")
        assert not warn_if_deprecated("gpt-realtime")
    assert len(caught) == 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert not warn_if_deprecated("gpt-realtime-2.1")
        assert not warn_if_deprecated("an-unknown-deployment")
        assert not warn_if_deprecated(None)

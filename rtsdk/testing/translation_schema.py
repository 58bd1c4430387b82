"""The translation client events as the local server checks them: strict, as the service is.

:func:`command_problem` checks one decoded client event whose ``type`` is one of
:data:`COMMANDS` against the ``openai`` 3.57 types (``types/realtime/realtime_translation_*``)
and returns the first fault as a :class:`~rtsdk.testing.errors.Refusal` of
:data:`~rtsdk.testing.catalogue_translation.TRANSLATION_ERRORS`, or None:

- ``session.model`` / ``session.type`` in ``session.update``: ``translation_fixed_field`` (set
  at creation);
- a format, rate or channel field (``session.audio.input.format``, ``sample_rate`` beside an
  append's ``audio``, ...): ``translation_audio_format``: WebSocket translation takes 24 kHz
  PCM16 mono and nothing else (G.711 included), so there is no format to choose;
- any other key the types do not have, at any depth: ``unknown_parameter`` with its dotted
  ``param``; a required key left out, a wrong JSON type, a noise reduction type other than
  ``near_field`` / ``far_field``: the Realtime schema errors (:mod:`.shapes`);
- an ``audio.output.language`` that is not a language code (``fr``, ``pt-BR``):
  ``translation_bad_language``.

``null`` is taken where the types allow it: ``audio``, ``audio.input``, ``audio.output`` (no
change), ``noise_reduction`` (off), ``transcription`` (no source transcript), ``strength``
(keep the current one), ``language`` (back to the server's default).
"""

from __future__ import annotations

import re
from typing import Any

from .errors import Refusal
from .shapes import Enum, Nullable, Obj, Scalar
from .wording import quoted

__all__ = ["COMMANDS", "FORMAT_KEYS", "command_problem", "is_language"]

Json = dict[str, Any]

#: Keys that would choose an audio format: refused wherever they stand.
FORMAT_KEYS = ("format", "rate", "sample_rate", "channels", "encoding")

_LANGUAGE = re.compile(r"[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*")
_STR, _NUMBER = Scalar(str), Scalar(float)

_NOISE = Obj({"type": Enum("near_field", "far_field"), "strength": Nullable(_NUMBER)}, "type")
_INPUT = Obj(
    {"noise_reduction": Nullable(_NOISE), "transcription": Nullable(Obj({"model": _STR}, "model"))}
)
_OUTPUT = Obj({"language": Nullable(_STR)})
_SESSION = Obj({"audio": Nullable(Obj({"input": Nullable(_INPUT), "output": Nullable(_OUTPUT)}))})

#: The shape of each client event (``type`` and ``event_id`` are added to every one).
COMMANDS: dict[str, Obj] = {
    "session.update": Obj({"session": _SESSION}, "session"),
    "session.input_audio_buffer.append": Obj({"audio": _STR}, "audio"),
    "session.close": Obj({}),
}
for _command in COMMANDS.values():
    _command.fields.update(type=_STR, event_id=Nullable(_STR))


def is_language(value: object) -> bool:
    """True for a language code (``fr``, ``pt-BR``, ``zh-Hant``)."""
    return isinstance(value, str) and _LANGUAGE.fullmatch(value) is not None


def _format_key(obj: object, path: str) -> Refusal | None:
    if not isinstance(obj, dict):
        return None
    for key in FORMAT_KEYS:
        if key in obj:
            param = f"{path}.{key}" if path else key
            return Refusal("translation_audio_format", {"param": param, "value": quoted(obj[key])})
    return None


def _fixed_or_format(session: Json) -> Refusal | None:
    for key in ("model", "type"):
        if key in session:
            return Refusal("translation_fixed_field", {"param": f"session.{key}", "name": key})
    audio = session.get("audio")
    problem = _format_key(audio, "session.audio")
    if problem is None and isinstance(audio, dict):
        for side in ("input", "output"):
            problem = problem or _format_key(audio.get(side), f"session.audio.{side}")
    return problem


def command_problem(data: Json) -> Refusal | None:
    """The first fault of client event ``data`` (its ``type`` one of :data:`COMMANDS`), or
    None (see the module docstring)."""
    kind = data["type"]
    session = data.get("session")
    if kind == "session.update" and isinstance(session, dict):
        problem = _fixed_or_format(session)
    elif kind == "session.input_audio_buffer.append":
        problem = _format_key(data, "")
    else:
        problem = None
    problem = problem or COMMANDS[kind].check(data, "")
    if problem is None and isinstance(session, dict):
        language = ((session.get("audio") or {}).get("output") or {}).get("language")
        if language is not None and not is_language(language):
            problem = Refusal("translation_bad_language", {"value": quoted(language)})
    return problem

"""Every error a Realtime translation session of the local server sends: :data:`TRANSLATION_ERRORS`.

A translation session (``/v1/realtime/translations``) answers with the Realtime ``error``
event (``types/realtime/realtime_error_event.py``: ``error.event_id`` is the ``event_id`` of the
client event at fault), so the rows it shares with a Realtime session are the Realtime
catalogue's own (:data:`rtsdk.testing.ERRORS`), by key: the schema's words, the append's
(base64, empty, too large: the translation format is the Realtime default, 24 kHz PCM16 mono),
the auth refusal, the length cap, the injected fault. The rows below are the translation
session's own, refused upgrades included. Each cites its source, or says "no public source".
"""

from __future__ import annotations

from .catalogue import ERRORS
from .catalogue_live import SHARED
from .errors import OURS, ErrorEntry, listed

__all__ = [
    "TRANSLATION_CLIENT_EVENTS",
    "TRANSLATION_ERRORS",
    "TRANSLATION_ONLY",
    "TRANSLATION_SHARED",
]

#: The client events of a translation session (``realtime_translation_client_event.py``).
TRANSLATION_CLIENT_EVENTS = ("session.update", "session.input_audio_buffer.append", "session.close")

_TYPES = "the openai 3.57 package, types/realtime/realtime_translation_"
_CLIENT = "the openai 3.57 package's lib/realtime_translation.py"

#: The keys of the Realtime catalogue a translation session sends as they are: GPT-Live's
#: (the schema's words, the auth refusal) but two no translation field can provoke, and the
#: append's, the length cap's and the injected fault's.
TRANSLATION_SHARED = (
    *(key for key in SHARED if key not in ("invalid_value", "integer_below_min_value")),
    "append_bad_base64",
    "append_empty",
    "append_too_large",
    "session_expired",
    "injected_server_error",
)

#: The errors only a translation session sends, in table order.
TRANSLATION_ONLY: tuple[ErrorEntry, ...] = (
    ErrorEntry(
        key="translation_unknown_event_type",
        trigger="an event whose type is not a translation client event",
        client_event="(any unknown type)",
        code="invalid_value",
        param="type",
        message="Invalid value: {value}. Supported values are: "
        + listed(TRANSLATION_CLIENT_EVENTS)
        + ".",
        evidence="partly seen",
        source="the Realtime service's words for an unknown event type (unknown_event_type), "
        f"with the client events of {_TYPES}client_event.py",
    ),
    ErrorEntry(
        key="translation_fixed_field",
        trigger="session.update naming session.model or session.type",
        client_event="session.update",
        code="invalid_value",
        param="{param}",
        message="Invalid value for '{param}': a translation session's {name} is set at "
        "creation and cannot be changed with session.update.",
        evidence="not seen",
        source=OURS + f"{_TYPES}session_update_event.py says type and model are set at "
        "creation; worded as session_model_change",
    ),
    ErrorEntry(
        key="translation_audio_format",
        trigger="a format, rate or channel field in session.update (audio.input.format, "
        "audio.output.format) or in session.input_audio_buffer.append: G.711, 16 kHz and "
        "every other format are refused",
        client_event="session.update, session.input_audio_buffer.append",
        code="invalid_value",
        param="{param}",
        message="Invalid '{param}' ({value}): Realtime translation over WebSocket takes only "
        "base64-encoded 24 kHz PCM16 mono little-endian audio, with no format to choose.",
        evidence="partly seen",
        source=f"{_TYPES}input_audio_buffer_append_event.py: unsupported WebSocket audio "
        "formats return a validation error; the code and words are this server's",
    ),
    ErrorEntry(
        key="translation_odd_length",
        trigger="session.input_audio_buffer.append with an odd number of bytes",
        client_event="session.input_audio_buffer.append",
        code="invalid_value",
        param="audio",
        message="Invalid 'audio'. Expected whole 24 kHz PCM16 mono samples (an even number of "
        "bytes), but got {size} bytes.",
        evidence="not seen",
        source=OURS + "the append takes PCM16 only; the service's answer to an odd chunk is "
        "not public",
    ),
    ErrorEntry(
        key="translation_bad_language",
        trigger="session.update whose audio.output.language is not a language code",
        client_event="session.update",
        code="invalid_value",
        param="session.audio.output.language",
        message="Invalid value for 'session.audio.output.language': expected a language code "
        "such as 'fr' or 'pt-BR', but got {value}.",
        evidence="not seen",
        source=OURS + "the types take any string; the languages the service translates to are "
        "not listed in them",
    ),
    ErrorEntry(
        key="http_translation_missing_model",
        trigger="an upgrade on /v1/realtime/translations or /openai/v1/realtime/translations "
        "without ?model=",
        client_event=None,
        code="missing_model",
        message="You must provide a model parameter, for example "
        "wss://api.openai.com/v1/realtime/translations?model=gpt-realtime-translate",
        echoes_event_id=False,
        carrier="http",
        status=400,
        evidence="partly seen",
        source="the Realtime service's error for the same fault (http_missing_model, seen), "
        "with the translation URL (the openai 3.57 client's resources/realtime/translations: "
        "'The WebSocket URL requires a model query parameter')",
        differs="as http_missing_model: the service answers over the socket; this server "
        "refuses the upgrade with the same error object",
    ),
    ErrorEntry(
        key="http_translation_model",
        trigger="an upgrade on /v1/realtime/translations whose model is not a translation "
        "model (by the catalogue, or a name ending in -translate); on Azure's path a model "
        "the catalogue knows for another API",
        client_event=None,
        code="model_not_found",
        message="The model `{model}` does not exist or you do not have access to it; Realtime "
        "translation sessions take a translation model, for example gpt-realtime-translate.",
        echoes_event_id=False,
        carrier="http",
        status=400,
        evidence="partly seen",
        source="the first sentence is the service's for a model it does not serve "
        "(response_model_not_found, seen); the rest and the status are this server's",
        differs="the service's answer on the translation path is not public; this server "
        "refuses the upgrade",
    ),
    ErrorEntry(
        key="http_translation_intent",
        trigger="an upgrade on a translation path with ?intent=",
        client_event=None,
        code="invalid_value",
        message="Realtime translation sessions do not take an intent query parameter.",
        echoes_event_id=False,
        carrier="http",
        status=400,
        evidence="not seen",
        source=OURS + f"{_CLIENT} refuses an intent before connecting; the service's answer "
        "is not public",
    ),
)

#: Every error of a translation session, by key: the shared Realtime rows, then its own.
TRANSLATION_ERRORS: dict[str, ErrorEntry] = {key: ERRORS[key] for key in TRANSLATION_SHARED} | {
    e.key: e for e in TRANSLATION_ONLY
}

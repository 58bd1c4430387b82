"""Every error of a Realtime translation session (``rtsdk.testing.TRANSLATION_ERRORS``), provoked
over a socket.

For each entry a scenario provokes it through a real websocket against ``LocalRealtimeServer``
and what comes back must be exactly the entry's (``type``, ``code``, ``param``, ``message``
with its templates filled): an ``error`` event whose ``error.event_id`` is the client event's
when the entry echoes it (null otherwise), or the JSON body of a refused upgrade.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import websockets

from rtsdk.testing import TRANSLATION_ERRORS, Faults, LocalRealtimeServer, TranslationOptions
from rtsdk.testing.catalogue_translation import TRANSLATION_ONLY, TRANSLATION_SHARED
from tests.test_testing_live import LiveClient, b64
from tests.test_testing_translation import MODEL, check_translation_sent

#: What provokes each entry: a client event (or frame) after ``session.created``, with the
#: template fields and the client ``event_id`` the error must carry; a coroutine for the rest.
Sent = tuple[dict[str, Any] | str | bytes, dict[str, Any], str | None]
Seen = tuple[dict[str, Any], dict[str, Any], str | None]


def _update(event_id: str, **session: Any) -> dict[str, Any]:
    return {"type": "session.update", "event_id": event_id, "session": session}


def _append(event_id: str, audio: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": "session.input_audio_buffer.append",
        "event_id": event_id,
        "audio": audio,
        **extra,
    }


_BIG = 15 * 1024 * 1024 + 2
SENT: dict[str, Sent] = {
    "invalid_json": ("{oops", {}, None),
    "binary_frame": (b"\x01\x02", {}, None),
    "event_not_object": ("[1, 2]", {"got": "an array"}, None),
    "unknown_parameter": (
        _update("e1", audio={"input": {"turn_detection": None}}),
        {"param": "session.audio.input.turn_detection"},
        "e1",
    ),
    "missing_required_parameter": (
        {"type": "session.input_audio_buffer.append", "event_id": "e2"},
        {"param": "audio"},
        "e2",
    ),
    "invalid_type": (
        _update("e3", audio={"input": {"transcription": {"model": 5}}}),
        {
            "param": "session.audio.input.transcription.model",
            "expected": "a string",
            "got": "an integer",
        },
        "e3",
    ),
    "invalid_enum_value": (
        _update("e4", audio={"input": {"noise_reduction": {"type": "studio"}}}),
        {
            "param": "session.audio.input.noise_reduction.type",
            "value": "'studio'",
            "supported": "'near_field' and 'far_field'",
        },
        "e4",
    ),
    "append_bad_base64": (_append("e6", "%%%"), {}, "e6"),
    "append_empty": (_append("e7", ""), {}, "e7"),
    "append_too_large": (_append("e8", b64(bytes(_BIG))), {"size": _BIG}, "e8"),
    "translation_unknown_event_type": (
        {"type": "input_audio_buffer.append", "event_id": "e9", "audio": ""},
        {"value": "'input_audio_buffer.append'"},
        "e9",
    ),
    "translation_fixed_field": (
        _update("e10", model="gpt-realtime-translate"),
        {"param": "session.model", "name": "model"},
        "e10",
    ),
    "translation_audio_format": (
        _append("e11", b64(bytes(320)), sample_rate=16000),
        {"param": "sample_rate", "value": "16000"},
        "e11",
    ),
    "translation_odd_length": (_append("e12", b64(bytes(161))), {"size": 161}, "e12"),
    "translation_bad_language": (
        _update("e13", audio={"output": {"language": "klingon please"}}),
        {"value": "'klingon please'"},
        "e13",
    ),
}

#: Faults whose error comes unasked, with the template fields.
FAULTS: dict[str, tuple[Faults, dict[str, Any]]] = {
    "auth_error_event": (Faults(refuse_auth="error_event"), {}),
    "session_expired": (Faults(session_max_seconds=0.2), {"duration": "0.2 seconds"}),
    "injected_server_error": (Faults(garbage_after_frames=1, garbage="error_event"), {}),
}

#: Refused upgrades: the path and query, with the template fields.
UPGRADES: dict[str, tuple[str, dict[str, Any]]] = {
    "http_translation_missing_model": ("/openai/v1/realtime/translations", {}),
    "http_translation_model": (
        "/v1/realtime/translations?model=gpt-realtime-2.1",
        {"model": "gpt-realtime-2.1"},
    ),
    "http_translation_intent": (
        f"/v1/realtime/translations?model={MODEL}&intent=transcription",
        {},
    ),
}


async def _provoke(srv: LocalRealtimeServer, key: str) -> Seen:
    if key in UPGRADES:
        path, fields = UPGRADES[key]
        with pytest.raises(websockets.InvalidStatus) as info:
            await websockets.connect(f"ws://127.0.0.1:{srv.port}{path}")
        return json.loads(info.value.response.body)["error"], fields, None
    fault, fields = FAULTS.get(key, (None, {}))
    if fault is not None:
        srv.faults_for_next_connections(fault)
    client = await LiveClient.connect(f"{srv.translation_url}?model={MODEL}")
    event_id = None
    if fault is None:
        await client.until("session.created")
        event, fields, event_id = SENT[key]
        await client.ws.send(json.dumps(event) if isinstance(event, dict) else event)
    error = (await client.until("error"))["error"]
    if key == "auth_error_event":
        assert (await client.closed)[0] == 1008
    elif key == "session_expired":
        await client.until("session.closed")
    else:
        await client.close()
    return error, fields, event_id


def test_every_entry_has_a_scenario() -> None:
    assert set(SENT) | set(FAULTS) | set(UPGRADES) == set(TRANSLATION_ERRORS)
    assert len(TRANSLATION_ERRORS) == len(TRANSLATION_SHARED) + len(TRANSLATION_ONLY)


@pytest.mark.parametrize("key", list(TRANSLATION_ERRORS))
async def test_the_error_is_exactly_the_entry(key: str) -> None:
    async with LocalRealtimeServer(translation=TranslationOptions(pacing="fast")) as srv:
        error, fields, event_id = await _provoke(srv, key)
        entry = TRANSLATION_ERRORS[key]
        expected = entry.render(**fields)
        if entry.carrier == "error":
            expected["event_id"] = event_id
        assert error == expected
        for conn in srv.connections:
            check_translation_sent(conn)  # type: ignore[arg-type]

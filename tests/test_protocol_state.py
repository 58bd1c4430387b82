"""Session state machine scenarios: parsed server events and intents in, frames out."""

from __future__ import annotations

import base64
import json
import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rtsdk.exceptions import ConfigurationError
from rtsdk.protocol import ErrorKind, SessionSettings, classify_error, parse_server_event
from rtsdk.protocol import builders as b
from rtsdk.protocol.schema import client_event_problems
from rtsdk.protocol.state import MAX_AUDIO_MARKS, Actions, ClientSessionState

_n = 0


def S(kind: str, **fields: Any) -> Any:
    global _n
    _n += 1
    return parse_server_event(json.dumps({"type": kind, "event_id": f"event_{_n}", **fields}))


def feed(state: ClientSessionState, *events: Any) -> Actions:
    total = Actions()
    for event in events:
        got = state.handle(event)
        total.send += got.send
        total.stop_playback |= got.stop_playback
        total.function_calls += got.function_calls
        total.error = got.error or total.error
    for frame in total.send:
        assert client_event_problems(frame) == [], frame
    return total


def types(frames: list[dict[str, Any]]) -> list[str]:
    return [f["type"] for f in frames]


def msg(item_id: str, role: str, content: list[dict[str, Any]], **kw: Any) -> dict[str, Any]:
    return {"id": item_id, "type": "message", "role": role, "content": content, **kw}


def response(rid: str, status: str = "in_progress", **kw: Any) -> dict[str, Any]:
    return {"id": rid, "object": "realtime.response", "status": status, **kw}


def audio_delta(rid: str, item_id: str, nbytes: int) -> Any:
    data = base64.b64encode(bytes(nbytes)).decode()
    ids = {"response_id": rid, "item_id": item_id, "output_index": 0, "content_index": 0}
    return S("response.output_audio.delta", delta=data, **ids)


def assistant_turn(rid: str, item_id: str, nbytes: int, transcript: str = "hi") -> list[Any]:
    ids = {"response_id": rid, "item_id": item_id, "output_index": 0, "content_index": 0}
    done_item = msg(item_id, "assistant", [{"type": "output_audio", "transcript": transcript}])
    return [
        S("response.created", response=response(rid, conversation_id="conv_1")),
        S(
            "response.output_item.added",
            response_id=rid,
            output_index=0,
            item=msg(item_id, "assistant", []),
        ),
        S("conversation.item.added", item=msg(item_id, "assistant", [])),
        audio_delta(rid, item_id, nbytes),
        S("response.output_audio_transcript.delta", delta=transcript, **ids),
        S("response.output_audio.done", **ids),
        S("response.output_audio_transcript.done", transcript=transcript, **ids),
        S("conversation.item.done", item=done_item),
        S("response.output_item.done", response_id=rid, output_index=0, item=done_item),
        S("response.done", response=response(rid, "completed", output=[done_item])),
    ]


def test_connect_sends_session_update_first_every_time() -> None:
    state = ClientSessionState(SessionSettings(instructions="be brief", voice="marin"))
    for _ in range(3):
        frames = state.on_connect()
        assert types(frames) == ["session.update"]
        assert frames[0]["session"]["instructions"] == "be brief"
    frames = state.update_settings(SessionSettings(instructions="new"))
    assert frames[0]["session"]["instructions"] == "new"
    assert state.on_connect()[0]["session"]["instructions"] == "new"


def test_voice_turn_server_vad() -> None:
    state = ClientSessionState()
    state.on_connect()
    user = msg("item_u", "user", [{"type": "input_audio", "transcript": None}])
    out = feed(
        state,
        S(
            "session.created",
            session={
                "type": "realtime",
                "audio": {"output": {"format": {"type": "audio/pcm", "rate": 24000}}},
            },
        ),
        S("input_audio_buffer.speech_started", audio_start_ms=100, item_id="item_u"),
        S("input_audio_buffer.speech_stopped", audio_end_ms=900, item_id="item_u"),
        S("input_audio_buffer.committed", item_id="item_u", previous_item_id=None),
        S("conversation.item.added", item=user, previous_item_id=None),
        S("conversation.item.done", item=user, previous_item_id=None),
        *assistant_turn("resp_1", "item_a", 4800),
        S(
            "conversation.item.input_audio_transcription.completed",
            item_id="item_u",
            content_index=0,
            transcript="hello",
            usage={"type": "duration", "seconds": 1},
        ),
    )
    assert out.send == []  # nothing was playing at speech start; the server responds itself
    assert out.stop_playback
    assert state.order == ["item_u", "item_a"]
    assert state.items["item_u"]["content"][0]["transcript"] == "hello"
    assert state.audio["item_a"].received == 4800 and state.audio["item_a"].complete
    assert not state.response_active


def test_manual_turn() -> None:
    state = ClientSessionState(SessionSettings(turn_detection="none"))
    assert state.on_connect()[0]["session"]["audio"]["input"]["turn_detection"] is None
    first = state.request_response()
    assert types(first) == ["response.create"]
    assert state.response_active
    feed(state, *assistant_turn("resp_1", "item_a", 960))
    assert not state.response_active


def test_text_turn() -> None:
    state = ClientSessionState(SessionSettings(output_modality="text"))
    state.on_connect()
    frames = state.request_response(output_modality="text")
    assert frames[0]["response"] == {"output_modalities": ["text"]}
    ids = {"response_id": "resp_t", "item_id": "item_t", "output_index": 0, "content_index": 0}
    done_item = msg("item_t", "assistant", [{"type": "output_text", "text": "Hi there"}])
    feed(
        state,
        S("response.created", response=response("resp_t")),
        S("conversation.item.added", item=msg("item_t", "assistant", [])),
        S("response.output_text.delta", delta="Hi", **ids),
        S("response.output_text.done", text="Hi there", **ids),
        S("conversation.item.done", item=done_item),
        S("response.done", response=response("resp_t", "completed")),
    )
    assert state.items["item_t"]["content"][0]["text"] == "Hi there"
    assert not state.response_active


def _call_events(rid: str) -> list[Any]:
    calls = [
        {
            "id": "item_f1",
            "type": "function_call",
            "call_id": "call_1",
            "name": "weather",
            "arguments": '{"city":"Paris"}',
        },
        {
            "id": "item_f2",
            "type": "function_call",
            "call_id": "call_2",
            "name": "time",
            "arguments": "{}",
        },
    ]
    out: list[Any] = [S("response.created", response=response(rid))]
    for i, call in enumerate(calls):
        out += [
            S(
                "response.output_item.added",
                response_id=rid,
                output_index=i,
                item=dict(call, arguments=""),
            ),
            S("conversation.item.added", item=dict(call, arguments="")),
            S(
                "response.function_call_arguments.delta",
                response_id=rid,
                item_id=call["id"],
                output_index=i,
                call_id=call["call_id"],
                delta=call["arguments"],
            ),
            S(
                "response.function_call_arguments.done",
                response_id=rid,
                item_id=call["id"],
                output_index=i,
                call_id=call["call_id"],
                name=call["name"],
                arguments=call["arguments"],
            ),
            S("conversation.item.done", item=call),
            S("response.output_item.done", response_id=rid, output_index=i, item=call),
        ]
    out.append(S("response.done", response=response(rid, "completed", output=calls)))
    return out


def test_tool_call_round_trip_with_two_calls() -> None:
    state = ClientSessionState()
    state.on_connect()
    events = _call_events("resp_1")
    assert feed(state, *events[:-1]).function_calls == []  # nothing before response.done
    done = feed(state, events[-1])
    assert [c.call_id for c in done.function_calls] == ["call_1", "call_2"]
    assert done.function_calls[0].arguments == '{"city":"Paris"}'
    assert done.send == []
    assert [c.name for c in state.pending_function_calls] == ["weather", "time"]
    assert state.submit_function_output("call_2", '{"t":"noon"}') == []
    frames = state.submit_function_output("call_1", '{"temp_c":18}')
    assert types(frames) == [
        "conversation.item.create",
        "conversation.item.create",
        "response.create",
    ]
    assert [f["item"]["call_id"] for f in frames[:2]] == ["call_1", "call_2"]
    assert frames[0]["item"] == {
        "type": "function_call_output",
        "call_id": "call_1",
        "output": '{"temp_c":18}',
    }
    assert state.pending_function_calls == []
    assert state.submit_function_output("call_1", "again") == []  # exactly one response.create


def test_outputs_given_before_the_response_is_done_wait_for_it() -> None:
    state = ClientSessionState()
    state.on_connect()
    events = _call_events("resp_1")
    feed(state, *events[:-1])
    assert state.submit_function_output("call_1", "a") == []
    assert state.submit_function_output("call_2", "b") == []
    done = feed(state, events[-1])
    assert types(done.send) == ["conversation.item.create"] * 2 + ["response.create"]


def test_second_create_waits_for_response_done() -> None:
    state = ClientSessionState()
    state.on_connect()
    first = state.request_response(instructions="one")
    assert types(first) == ["response.create"]
    assert state.request_response(instructions="two") == []
    assert state.request_response(instructions="three") == []
    # out-of-band responses run in parallel
    oob = state.request_response(conversation="none", metadata={"purpose": "summary"})
    assert types(oob) == ["response.create"]
    out = feed(
        state,
        S("response.created", response=response("resp_1", conversation_id="conv_1")),
        S("response.created", response=response("resp_oob", conversation_id=None)),
        S("response.done", response=response("resp_oob", "completed", conversation_id=None)),
    )
    assert out.send == []
    out = feed(state, S("response.done", response=response("resp_1", "completed")))
    assert types(out.send) == ["response.create"]
    assert out.send[0]["response"]["instructions"] == "two"
    out = feed(
        state,
        S("response.created", response=response("resp_2")),
        S("response.done", response=response("resp_2", "completed")),
    )
    assert out.send[0]["response"]["instructions"] == "three"


def test_server_started_response_holds_our_request() -> None:
    state = ClientSessionState()
    state.on_connect()
    feed(state, S("response.created", response=response("resp_vad")))
    assert state.request_response() == []
    out = feed(state, S("response.done", response=response("resp_vad", "cancelled")))
    assert types(out.send) == ["response.create"]


def test_already_active_error_requeues_the_request() -> None:
    state = ClientSessionState()
    state.on_connect()
    frame = state.request_response()[0]
    out = feed(
        state,
        S(
            "error",
            error={
                "type": "invalid_request_error",
                "code": "conversation_already_has_active_response",
                "message": "busy",
                "event_id": frame["event_id"],
            },
        ),
    )
    assert out.error is ErrorKind.BENIGN and out.send == []
    out = feed(state, S("response.done", response=response("resp_other", "completed")))
    assert types(out.send) == ["response.create"]


def test_cancel() -> None:
    state = ClientSessionState()
    state.on_connect()
    assert state.cancel_response() == []  # nothing active: no benign error provoked
    state.request_response()
    pending = state.cancel_response()
    assert types(pending) == ["response.cancel"] and "response_id" not in pending[0]
    feed(state, S("response.created", response=response("resp_1")))
    frames = state.cancel_response(drop_queued=True)
    assert frames[0]["response_id"] == "resp_1"
    out = feed(
        state,
        S(
            "response.done",
            response=response(
                "resp_1",
                "cancelled",
                status_details={"type": "cancelled", "reason": "client_cancelled"},
            ),
        ),
    )
    assert out.send == [] and not state.response_active
    benign = feed(
        state,
        S(
            "error",
            error={
                "type": "invalid_request_error",
                "code": "response_cancel_not_active",
                "message": "x",
            },
        ),
    )
    assert benign.error is ErrorKind.BENIGN


def _playing(fmt: str = "pcm16", **kw: Any) -> ClientSessionState:
    state = ClientSessionState(SessionSettings(output_format=fmt, **kw))  # type: ignore[arg-type]
    state.on_connect()
    feed(
        state,
        S("response.created", response=response("resp_1")),
        S("conversation.item.added", item=msg("item_a", "assistant", [])),
    )
    return state


@pytest.mark.parametrize(
    ("received", "played_samples", "done", "expected_ms"),
    [
        (48_000, 0, True, None),  # nothing heard: never truncate at 0 ms
        (48_000, 10, True, None),  # under 1 ms heard
        (48_000, 12_000, True, 500),  # partly played
        (48_000, 24_000, True, None),  # fully played
        (48_000, 30_000, True, None),  # more played than received (counts overshoot)
        (48_000, 30_000, False, 1000),  # underrun while more is coming: clamp to received
        (48_000, 11_999, False, 499),
    ],
)
def test_barge_in_truncate_clamping(
    received: int, played_samples: int, done: bool, expected_ms: int | None
) -> None:
    state = _playing()
    feed(state, audio_delta("resp_1", "item_a", received))
    if done:
        feed(state, S("response.done", response=response("resp_1", "completed")))
    state.audio_played("item_a", played_samples)
    out = feed(state, S("input_audio_buffer.speech_started", audio_start_ms=5, item_id="item_u"))
    assert out.stop_playback
    truncates = [f for f in out.send if f["type"] == "conversation.item.truncate"]
    if expected_ms is None:
        assert truncates == []
    else:
        assert truncates == [
            {
                "type": "conversation.item.truncate",
                "event_id": truncates[0]["event_id"],
                "item_id": "item_a",
                "content_index": 0,
                "audio_end_ms": expected_ms,
            }
        ]
    # never a second truncate for the same barge-in
    assert state.barge_in(cancel=False) == []


@pytest.mark.parametrize(("fmt", "per_ms"), [("pcm16", 48), ("g711_ulaw", 8), ("g711_alaw", 8)])
def test_truncate_is_format_aware(fmt: str, per_ms: int) -> None:
    state = _playing(fmt)
    feed(state, audio_delta("resp_1", "item_a", per_ms * 1000))
    samples_per_ms = 24 if fmt == "pcm16" else 8
    state.audio_played("item_a", samples_per_ms * 250)
    assert state.played_ms("item_a") == 250
    frames = state.barge_in(cancel=False)
    assert frames[0]["audio_end_ms"] == 250


def test_interrupt_response_off_lets_the_reply_go_on_until_the_app_barges_in() -> None:
    """With ``interrupt_response`` off the server does not cancel its reply when the user
    starts talking, and neither does the client: playback goes on, nothing is sent. An explicit
    barge-in (the app's) cancels, since the server will not, truncates and drops what follows."""
    state = _playing(interrupt_response=False)
    feed(state, audio_delta("resp_1", "item_a", 9600))
    state.audio_played("item_a", 2400)
    out = feed(state, S("input_audio_buffer.speech_started", audio_start_ms=5, item_id="item_u"))
    assert out.send == [] and not out.stop_playback
    assert state.audio_received("item_a", 960, "resp_1") is True  # still playing
    frames = state.barge_in()
    assert types(frames) == ["response.cancel", "conversation.item.truncate"]
    assert frames[0]["response_id"] == "resp_1"
    assert frames[1]["audio_end_ms"] == 100
    assert state.audio_received("item_a", 960, "resp_1") is False


def test_server_vad_interrupt_on_needs_no_cancel() -> None:
    state = _playing()
    feed(state, audio_delta("resp_1", "item_a", 9600))
    state.audio_played("item_a", 2400)
    out = feed(state, S("input_audio_buffer.speech_started", audio_start_ms=5, item_id="item_u"))
    assert types(out.send) == ["conversation.item.truncate"]


@given(
    st.lists(st.integers(0, 5000), min_size=1, max_size=5), st.integers(0, 200_000), st.booleans()
)
def test_truncate_never_past_received_and_never_zero(
    chunks: list[int], played: int, done: bool
) -> None:
    state = _playing()
    for n in chunks:
        state.audio_received("item_a", n * 2, "resp_1")
    if done:
        feed(state, S("response.done", response=response("resp_1", "completed")))
    state.audio_played("item_a", played)
    frames = [f for f in state.barge_in(cancel=False) if f["type"] == "conversation.item.truncate"]
    received_ms = sum(chunks) * 2 // 48
    for f in frames:
        assert 0 < f["audio_end_ms"] <= received_ms
        assert f["audio_end_ms"] <= played // 24
    if done and played * 2 >= sum(chunks) * 2:
        assert frames == []


def test_reconnect_replays_conversation_as_items_in_order() -> None:
    state = ClientSessionState(SessionSettings(instructions="x"))
    state.on_connect()
    user_audio = msg("item_u1", "user", [{"type": "input_audio", "transcript": None}])
    feed(
        state,
        S(
            "conversation.item.added",
            item=msg("item_s", "system", [{"type": "input_text", "text": "rules"}]),
        ),
        S("conversation.item.added", item=user_audio, previous_item_id="item_s"),
        S(
            "conversation.item.input_audio_transcription.completed",
            item_id="item_u1",
            content_index=0,
            transcript="what is the weather",
            usage={"type": "duration", "seconds": 1},
        ),
        *assistant_turn("resp_1", "item_a1", 960, transcript="let me check"),
        S(
            "conversation.item.added",
            item={
                "id": "item_f",
                "type": "function_call",
                "call_id": "call_1",
                "name": "weather",
                "arguments": "{}",
            },
        ),
        S(
            "conversation.item.added",
            item={
                "id": "item_o",
                "type": "function_call_output",
                "call_id": "call_1",
                "output": "{}",
            },
        ),
        S(
            "conversation.item.added",
            item=msg("item_u2", "user", [{"type": "input_audio", "transcript": None}]),
        ),
        S(
            "conversation.item.added",
            item=msg("item_u3", "user", [{"type": "input_text", "text": "typed"}]),
        ),
        S(
            "conversation.item.added",
            item=msg("item_x", "user", [{"type": "input_text", "text": "gone"}]),
        ),
        S("conversation.item.deleted", item_id="item_x"),
        S(
            "conversation.item.added",
            item=msg("item_first", "user", [{"type": "input_text", "text": "inserted"}]),
            previous_item_id="item_s",
        ),
    )
    frames = state.on_connect(replay=True)
    assert types(frames)[0] == "session.update"
    items = [f["item"] for f in frames[1:]]
    assert items == [
        {"type": "message", "role": "system", "content": [{"type": "input_text", "text": "rules"}]},
        {
            "type": "message",
            "role": "user",
            "content": [{"type": "input_text", "text": "inserted"}],
        },
        {
            "type": "message",
            "role": "user",
            "content": [{"type": "input_text", "text": "what is the weather"}],
        },
        {
            "type": "message",
            "role": "assistant",
            "content": [{"type": "output_text", "text": "let me check"}],
        },
        {"type": "function_call", "call_id": "call_1", "name": "weather", "arguments": "{}"},
        {"type": "function_call_output", "call_id": "call_1", "output": "{}"},
        # item_u2 (audio, no transcript) cannot be replayed and is skipped
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "typed"}]},
    ]
    for f in frames:
        assert client_event_problems(f) == []
    assert state.order == []  # the new connection starts empty; the server echoes the replay
    assert types(state.on_connect(replay=True)) == ["session.update"]


def test_reconnect_keeps_a_request_in_flight_and_releases_the_queue_after_it() -> None:
    state = ClientSessionState()
    state.on_connect()
    first = state.request_response()[0]
    assert state.request_response(instructions="later") == []
    # the first request never went out (it waits in the backlog, to go after the config):
    # it stays in flight, so the queued one is not released beside it
    assert types(state.on_connect()) == ["session.update"]
    assert state.response_active
    feed(state, S("response.created", response={"id": "resp_1"}))
    released = feed(state, S("response.done", response={"id": "resp_1", "status": "completed"}))
    assert types(released.send) == ["response.create"] and released.send[0] is not first
    assert released.send[0]["response"]["instructions"] == "later"


def test_reconnect_sends_again_what_the_dead_connection_never_confirmed() -> None:
    state = ClientSessionState()
    state.on_connect()
    text = b.conversation_item_create(b.user_text_item("hello"), previous_item_id="item_old")
    commit = b.input_audio_buffer_commit()
    orphan = b.conversation_item_create(b.function_call_output_item("call_gone", "{}"))
    request = state.request_response()[0]
    state.take_back([b.session_update(state.settings), text, commit, orphan, request])
    assert types(state.on_connect(replay=True)) == ["session.update"]
    again = state.resent  # the session sends these after the frames above
    assert types(again) == ["conversation.item.create", "response.create"]
    assert "previous_item_id" not in again[0] and again[0]["item"] == text["item"]
    assert again[1] is request and state.response_active  # in flight again, not queued twice
    # the config is the new connection's own; the commit and the orphaned output are reported
    assert state.unsent == [commit, orphan]
    # without a replay nothing is sent again: all of it is reported
    state.take_back([text])
    assert types(state.on_connect()) == ["session.update"] and state.unsent == [text]
    assert state.resent == []


def test_acknowledgements_match_what_the_server_answers() -> None:
    text = b.conversation_item_create(b.user_text_item("hi"))
    output = b.conversation_item_create(b.function_call_output_item("call_1", "{}"))
    named = b.conversation_item_create(b.user_text_item("x", item_id="item_mine"))
    ack = ClientSessionState.acknowledges

    def added(item: dict[str, Any]) -> Any:
        return S("conversation.item.added", item=item)

    assert ack(
        added(
            {
                "id": "i1",
                "type": "message",
                "role": "user",
                "content": [{"type": "input_text", "text": "hi"}],
            }
        ),
        text,
    )
    voice = {"id": "i2", "type": "message", "role": "user", "content": [{"type": "input_audio"}]}
    assert not ack(added(voice), text)  # the server's own item of the user's speech
    assert ack(added({"id": "i3", "type": "function_call_output", "call_id": "call_1"}), output)
    assert not ack(added({"id": "i4", "type": "function_call_output", "call_id": "c2"}), output)
    assert ack(added({"id": "item_mine", "type": "message"}), named)
    assert not ack(
        added({"id": "i5", "type": "message", "role": "user", "content": [{"type": "input_text"}]}),
        named,
    )
    error = S(
        "error",
        error={"type": "invalid_request_error", "message": "no", "event_id": text["event_id"]},
    )
    assert ack(error, text) and not ack(error, output)
    created = S("response.created", response={"id": "r"})
    assert ack(created, b.response_create()) and not ack(created, text)


def test_format_follows_the_effective_session() -> None:
    state = ClientSessionState()
    feed(
        state,
        S(
            "session.updated",
            session={
                "type": "realtime",
                "audio": {
                    "output": {"format": {"type": "audio/pcmu"}},
                    "input": {"turn_detection": None},
                },
            },
        ),
    )
    assert state.bytes_per_ms == 8 and state.turn_detection == "none"
    feed(
        state,
        S(
            "session.updated",
            session={
                "modalities": ["audio"],
                "output_audio_format": "pcm16",
                "turn_detection": {"type": "server_vad", "interrupt_response": False},
            },
        ),
    )
    assert state.bytes_per_ms == 48 and state.turn_detection == "server_vad"
    assert not state.interrupt_response


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        ({"type": "invalid_request_error", "code": "response_cancel_not_active"}, ErrorKind.BENIGN),
        (
            {"type": "invalid_request_error", "code": "conversation_already_has_active_response"},
            ErrorKind.BENIGN,
        ),
        (
            {"type": "invalid_request_error", "code": "input_audio_buffer_commit_empty"},
            ErrorKind.BENIGN,
        ),
        ({"type": "invalid_request_error", "code": "invalid_api_key"}, ErrorKind.AUTH),
        ({"type": "authentication_error", "code": None}, ErrorKind.AUTH),
        ({"type": "invalid_request_error", "code": "session_expired"}, ErrorKind.RECONNECT),
        ({"type": "invalid_request_error", "code": "unknown_parameter"}, ErrorKind.REPORT),
        ({"type": "server_error"}, ErrorKind.REPORT),
        ({}, ErrorKind.REPORT),
    ],
)
def test_error_classification(error: dict[str, Any], kind: ErrorKind) -> None:
    assert classify_error(error) is kind
    state = ClientSessionState()
    assert state.handle(S("error", error=dict(error, message="m"))).error is kind


def test_settings_validation_names_the_field() -> None:
    cases: list[tuple[dict[str, Any], str]] = [
        ({"output_modality": "both"}, "output_modality"),
        ({"input_format": "mp3"}, "input_format"),
        ({"turn_detection": "vad"}, "turn_detection"),
        ({"threshold": 1.5}, "threshold"),
        ({"threshold": 0.5, "turn_detection": "semantic_vad"}, "threshold"),
        ({"eagerness": "high"}, "eagerness"),
        ({"turn_detection": "semantic_vad", "eagerness": "fast"}, "eagerness"),
        ({"silence_duration_ms": -1}, "silence_duration_ms"),
        ({"create_response": True, "turn_detection": "none"}, "create_response"),
        ({"transcription_language": "en"}, "transcription_language"),
        ({"noise_reduction": "close"}, "noise_reduction"),
        ({"tools": [{"type": "function"}]}, "tools[0].name"),
        ({"tool_choice": "sometimes"}, "tool_choice"),
        ({"max_output_tokens": 5000}, "max_output_tokens"),
        ({"speed": 2.0}, "speed"),
        ({"speed": float("nan")}, "speed"),
        ({"voice": ""}, "voice"),
        ({"instructions": 3}, "instructions"),
    ]
    for kwargs, name in cases:
        with pytest.raises(
            ConfigurationError,
            match=re.escape(f"SessionSettings.{name} "),
        ):
            SessionSettings(**kwargs)


def test_function_round_trip_survives_a_replaying_reconnect() -> None:
    state = ClientSessionState()
    state.on_connect()
    feed(state, *_call_events("resp_1"))
    assert state.submit_function_output("call_1", "a") == []
    frames = state.on_connect(replay=True)
    assert [f["item"]["type"] for f in frames[1:]] == ["function_call", "function_call"]
    out = state.submit_function_output("call_2", "b")
    assert types(out) == ["conversation.item.create"] * 2 + ["response.create"]
    plain = ClientSessionState()
    plain.on_connect()
    feed(plain, *_call_events("resp_1"))
    plain.on_connect()
    assert plain.pending_function_calls == []
    assert plain.submit_function_output("call_1", "a") == []


def test_server_truncate_stops_counting_the_item() -> None:
    state = _playing()
    feed(state, audio_delta("resp_1", "item_a", 4800))
    feed(
        state, S("conversation.item.truncated", item_id="item_a", content_index=0, audio_end_ms=50)
    )
    assert state.audio_received("item_a", 960, "resp_1") is False
    state.audio_played("item_a", 100)
    assert state.barge_in(cancel=False) == []


def test_response_done_completes_only_its_own_items_audio() -> None:
    state = ClientSessionState()
    state.on_connect()
    feed(state, audio_delta("resp_1", "item_1", 480), audio_delta("resp_2", "item_2", 480))
    feed(state, S("response.done", response=response("resp_1", "completed")))
    assert state.audio["item_1"].complete and not state.audio["item_2"].complete
    feed(state, S("response.done", response=response("resp_2", "completed")))
    assert state.audio["item_2"].complete
    # a reconnect forgets the marks; a response of the new connection completes its own
    state.on_connect()
    feed(state, audio_delta("resp_3", "item_3", 480))
    feed(state, S("response.done", response=response("resp_1", "completed")))
    assert not state.audio["item_3"].complete


def test_items_keep_the_server_order_whether_added_last_or_in_between() -> None:
    state = ClientSessionState()
    state.on_connect()
    feed(
        state,
        S("conversation.item.added", item=msg("a", "user", []), previous_item_id=None),
        S("conversation.item.added", item=msg("b", "user", []), previous_item_id="a"),
        S("conversation.item.added", item=msg("c", "user", []), previous_item_id="a"),
        S("conversation.item.added", item=msg("d", "user", []), previous_item_id="b"),
        S("conversation.item.added", item=msg("e", "user", []), previous_item_id="missing"),
    )
    assert state.order == ["a", "c", "b", "d", "e"]


def test_calls_of_a_cancelled_response_get_outputs_but_no_new_response() -> None:
    # a barge-in during a preamble: the first call was finished, the second cut off
    state = ClientSessionState()
    state.on_connect()
    events = _call_events("resp_1")[:-1]
    cut = [
        {**item, "status": "completed" if item["call_id"] == "call_1" else "incomplete"}
        for item in (
            {"id": "item_f1", "type": "function_call", "call_id": "call_1", "name": "weather"},
            {"id": "item_f2", "type": "function_call", "call_id": "call_2", "name": "time"},
        )
    ]
    feed(state, *events)
    done = feed(state, S("response.done", response=response("resp_1", "cancelled", output=cut)))
    assert [c.call_id for c in done.function_calls] == ["call_1"]
    frames = state.submit_function_output("call_1", "sunny")
    assert types(frames) == ["conversation.item.create"]  # the user's turn asks next
    assert frames[0]["item"]["call_id"] == "call_1"
    assert state.request_response() != []  # nothing was left queued or in flight
    # a completed response still gets its one response.create
    again = ClientSessionState()
    again.on_connect()
    feed(again, *_call_events("resp_2"))
    again.submit_function_output("call_1", "a")
    assert types(again.submit_function_output("call_2", "b"))[-1] == "response.create"


def test_replay_keeps_the_newest_items_within_its_budget() -> None:
    state = ClientSessionState(replay_budget=100)
    state.on_connect()
    call = {"id": "item_c", "type": "function_call", "call_id": "call_9", "name": "f"}
    output = {"id": "item_o", "type": "function_call_output", "call_id": "call_9", "output": "ok"}
    feed(state, S("conversation.item.done", item=dict(call, arguments="{}")))
    feed(state, S("conversation.item.done", item=output))
    for i in range(20):
        text = f"message number {i:02d} " + "x" * 10  # 28 characters each
        feed(
            state,
            S(
                "conversation.item.done",
                item=msg(f"item_{i}", "user", [{"type": "input_text", "text": text}]),
            ),
        )
    assert state.order == [f"item_{i}" for i in range(17, 20)]  # 3 x 28 <= 100 < 4 x 28
    assert set(state.items) == set(state.order)
    texts = [f["item"]["content"][0]["text"][:17] for f in state.replay_frames()]
    assert texts == [f"message number {i:02d}" for i in range(17, 20)]
    # an output whose call was let go is not replayed (the server would refuse it)
    budget = ClientSessionState(replay_budget=30)
    budget.on_connect()
    feed(budget, S("conversation.item.done", item=dict(call, arguments="{" + " " * 27 + "}")))
    feed(budget, S("conversation.item.done", item=output))
    assert budget.order == ["item_o"] and budget.replay_frames() == []


def test_audio_marks_are_bounded_and_every_byte_stays_counted() -> None:
    state = ClientSessionState()
    state.on_connect()
    for i in range(MAX_AUDIO_MARKS + 40):
        assert state.audio_received(f"item_{i}", 480, f"resp_{i}")
    assert len(state.audio) == MAX_AUDIO_MARKS
    assert next(iter(state.audio)) == "item_40"  # the oldest went first
    assert state.received_audio_bytes == 480 * (MAX_AUDIO_MARKS + 40)
    for i in range(MAX_AUDIO_MARKS + 40):
        state._drop(f"resp_{i}")
    assert len(state._dropped_responses) == MAX_AUDIO_MARKS
    assert not state.audio_received("item_new", 480, f"resp_{MAX_AUDIO_MARKS + 39}")

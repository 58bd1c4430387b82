"""TranscriptAssembler: server events in, one Transcript per finished turn out."""

from __future__ import annotations

import json
from typing import Any

from rtsdk.client.transcripts import Transcript, TranscriptAssembler, iter_transcripts_sync
from rtsdk.protocol import parse_server_event

_n = 0


def S(kind: str, **fields: Any) -> Any:
    global _n
    _n += 1
    return parse_server_event(json.dumps({"type": kind, "event_id": f"event_{_n}", **fields}))


def turn(item_id: str, start: int, end: int, words: list[str], **done: Any) -> list[Any]:
    ids = {"item_id": item_id, "content_index": 0}
    return [
        S("input_audio_buffer.speech_started", item_id=item_id, audio_start_ms=start),
        S("input_audio_buffer.speech_stopped", item_id=item_id, audio_end_ms=end),
        S("input_audio_buffer.committed", item_id=item_id, previous_item_id=None),
        *[
            S(
                "conversation.item.input_audio_transcription.delta",
                **ids,
                delta=w,
                logprobs=[{"token": w, "logprob": -0.1, "bytes": list(w.encode())}],
            )
            for w in words
        ],
        S(
            "conversation.item.input_audio_transcription.completed",
            **ids,
            transcript="".join(words),
            usage={"type": "duration", "seconds": 1.0},
            **done,
        ),
    ]


def test_one_transcript_per_finished_turn_with_times_and_logprobs() -> None:
    events = turn("item_a", 0, 900, ["Hello", " there"]) + turn(
        "item_b", 1200, 2000, ["Bye"], languages=[{"code": "en"}]
    )
    got = list(iter_transcripts_sync(iter(events), language="fr"))
    assert [t.item_id for t in got] == ["item_a", "item_b"]
    first, second = got
    assert (first.text, first.start_ms, first.end_ms) == ("Hello there", 0, 900)
    assert first.language == "fr" and second.language == "en"  # the server's word wins
    assert [lp["token"] for lp in first.logprobs or []] == ["Hello", " there"]
    assert first.ok and first.usage == {"type": "duration", "seconds": 1.0}
    assert first.to_dict()["start_ms"] == 0 and "error" not in first.to_dict()


def test_partial_text_failed_turns_and_segments() -> None:
    a = TranscriptAssembler()
    ids = {"item_id": "item_x", "content_index": 0}
    assert (
        a.feed(S("conversation.item.input_audio_transcription.delta", **ids, delta="Hal")) is None
    )
    assert a.partial("item_x") == "Hal" and a.partial("item_unknown") == ""
    seg = {"id": "seg_1", "text": "Hal", "start": 0.0, "end": 0.4, "speaker": "A"}
    a.feed(S("conversation.item.input_audio_transcription.segment", **ids, **seg))
    failed = a.feed(
        S(
            "conversation.item.input_audio_transcription.failed",
            **ids,
            error={"type": "server_error", "message": "no"},
        )
    )
    assert isinstance(failed, Transcript) and not failed.ok
    assert failed.text == "" and failed.error == {"type": "server_error", "message": "no"}
    assert failed.segments == [seg] and failed.start_ms is None
    assert a.partial("item_x") == ""  # forgotten once out
    # a committed turn without VAD events (manual commit) has no times
    (manual,) = [t for e in turn("item_m", 0, 1, ["ok"])[2:] if (t := a.feed(e)) is not None]
    assert manual.start_ms is None and manual.text == "ok"

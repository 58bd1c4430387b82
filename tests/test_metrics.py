"""SessionMetrics: turn latencies from a controlled clock."""

from __future__ import annotations

from rtsdk.session.metrics import LatencySummary, SessionMetrics


def test_turn_latencies_by_cause() -> None:
    now = [0.0]
    m = SessionMetrics(clock=lambda: now[0])
    m.speech_stopped()
    now[0] = 0.1
    m.response_requested()  # a speech end is pending: it stays the cause
    m.response_created("r1")
    now[0] = 0.4
    m.first_output("r1")
    now[0] = 0.5
    m.first_output("r1")  # only the first counts
    now[0] = 1.0
    m.response_done("r1")
    m.response_requested()
    m.response_created("r2")
    now[0] = 1.2
    m.response_done("r2")  # no output at all
    m.response_done("unknown")
    turns = list(m.turns)
    assert [(t.response_id, t.cause) for t in turns] == [
        ("r1", "speech_stopped"),
        ("r2", "response.create"),
    ]
    assert turns[0].to_first_audio == 0.4 and turns[0].to_done == 1.0
    assert turns[1].to_first_audio is None
    assert abs(turns[1].to_done - 0.2) < 1e-9  # type: ignore[operator]
    assert m.first_audio_latency().count == 1
    assert m.done_latency("response.create").count == 1
    assert m.as_dict()["turns"] == 2


def test_summary_percentiles() -> None:
    s = LatencySummary.of([float(i) for i in range(1, 101)])
    assert (s.count, s.p50, s.p95, s.max) == (100, 50.0, 95.0, 100.0)
    assert LatencySummary.of([]).p50 is None

"""DeltaPlayer (compiled and twin): output audio deltas into a playback ring in one call, checked
against the ordinary path built from the twins (decode, convert, resample, ring write)."""

from __future__ import annotations

import base64
import importlib
import json
from types import ModuleType
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from rtsdk._reference import g711 as ref_g711
from rtsdk._reference.resample import Resampler as RefResampler
from tests.conftest import kernel_params, load_impl

GA = "response.output_audio.delta"
BETA = "response.audio.delta"
SESSION = "session.output_audio.delta"
RATES = {"pcm16": 24000, "g711_ulaw": 8000, "g711_alaw": 8000}


@pytest.fixture(scope="module", params=kernel_params("delta_player"))
def dp(request: pytest.FixtureRequest) -> ModuleType:
    return load_impl(request)


def parts(dp: ModuleType) -> tuple[Any, Any]:
    """The Resampler and SpscRing classes of the same backend as ``dp``."""
    pkg = dp.__name__.rsplit(".", 1)[0]
    return (
        importlib.import_module(f"{pkg}.resample").Resampler,
        importlib.import_module(f"{pkg}.ring").SpscRing,
    )


class Counter:
    def __init__(self) -> None:
        self.received = 0


def delta(audio: bytes, rid: str = "resp_1", iid: str = "item_1", etype: str = GA) -> bytes:
    return json.dumps(
        {
            "type": etype,
            "event_id": "event_9",
            "response_id": rid,
            "item_id": iid,
            "output_index": 0,
            "content_index": 0,
            "delta": base64.b64encode(audio).decode(),
        }
    ).encode()


def session_delta(audio: bytes, **extra: Any) -> bytes:
    """GPT-Live's id-less output audio event (a sideband copy's offsets included)."""
    event = {"type": SESSION, "start_ms": 120, "end_ms": 140.5}
    event.update(extra)
    event["delta"] = base64.b64encode(audio).decode()
    return json.dumps(event).encode()


def to_float(fmt: str, audio: bytes) -> np.ndarray:
    if fmt == "pcm16":
        pcm = np.frombuffer(audio, "<i2")
    elif fmt == "g711_ulaw":
        pcm = ref_g711.ulaw_to_pcm16(np.frombuffer(audio, np.uint8))
    else:
        pcm = ref_g711.alaw_to_pcm16(np.frombuffer(audio, np.uint8))
    return (pcm.astype(np.float32) / 32768).astype(np.float32)


def setup(dp: ModuleType, fmt: str, sink_rate: int, ring_bytes: int = 1 << 22) -> tuple:
    resampler_cls, ring_cls = parts(dp)
    rs = resampler_cls(RATES[fmt], sink_rate)
    ring = ring_cls(ring_bytes)
    calls: list[tuple[int, int, int]] = []
    player = dp.DeltaPlayer(fmt, rs, ring, lambda *a: calls.append(a))
    return player, rs, ring, calls


def read_all(ring: Any) -> np.ndarray:
    out = np.empty(ring.readable // 4, np.float32)
    ring.read_into(out)
    return out


def audio_bytes(fmt: str, rng: np.random.Generator, n: int) -> bytes:
    if fmt == "pcm16":
        return (rng.standard_normal(n) * 6000).clip(-32768, 32767).astype("<i2").tobytes()
    return rng.integers(0, 256, n, dtype=np.uint8).tobytes()


def intruders(session: bool, audio: bytes) -> list[bytes]:
    """Frames a player armed for session deltas (session) or for resp_1/item_1 must decline."""
    if session:
        return [
            delta(audio),
            delta(audio, rid="", iid=""),  # a Realtime delta with empty ids is still Realtime
            delta(audio, rid="", iid="", etype=BETA),
            json.dumps({"type": "session.output_audio.done", "delta": "AAAA"}).encode(),
            json.dumps({"type": "session.input_audio.append", "delta": "AAAA"}).encode(),
        ]
    return [
        session_delta(audio),
        session_delta(audio, response_id="resp_1", item_id="item_1"),
        delta(audio, iid="item_2"),
        json.dumps({"type": "response.output_audio.done", "delta": "AAAA"}).encode(),
        json.dumps({"type": "session.output_audio.delta", "delta": "AAAA", "x": 1}).encode(),
    ]


@given(
    fmt=st.sampled_from(sorted(RATES)),
    sink_rate=st.sampled_from([16000, 24000, 44100, 48000]),
    sizes=st.lists(st.integers(1, 1500), min_size=1, max_size=12),
    etype=st.sampled_from([GA, BETA, SESSION]),
    between=st.lists(st.none() | st.integers(0, 4), min_size=12, max_size=12),
    seed=st.integers(0, 2**32 - 1),
)
def test_played_deltas_equal_the_ordinary_path_in_one_stream(
    dp: ModuleType,
    fmt: str,
    sink_rate: int,
    sizes: list[int],
    etype: str,
    between: list[int | None],
    seed: int,
) -> None:
    """Any delta sizes, Realtime deltas of the armed item or (armed with empty ids) GPT-Live's
    id-less session deltas: the ring holds what one resampler call on all the decoded audio
    gives, the callback and the counter see every byte and sample; the frames of the other kind
    played between them are declined and change nothing."""
    rng = np.random.default_rng(seed)
    chunks = [audio_bytes(fmt, rng, n) for n in sizes]
    player, _, ring, calls = setup(dp, fmt, sink_rate)
    counter = Counter()
    session = etype == SESSION
    player.arm(*(("", "") if session else ("resp_1", "item_1")), counter)
    width = 2 if fmt == "pcm16" else 1
    declined = 0
    for chunk, other in zip(chunks, between, strict=False):
        if other is not None:
            assert player.play(intruders(session, chunk)[other]) == -1
            declined += 1
        frame = session_delta(chunk, event_id=f"e{other}") if session else delta(chunk, etype=etype)
        assert player.play(frame) == len(chunk) // width
    allaudio = b"".join(chunks)
    want = RefResampler(RATES[fmt], sink_rate).process(to_float(fmt, allaudio))
    got = read_all(ring)
    assert got.size == want.size
    np.testing.assert_allclose(got, want, atol=2e-6)
    assert counter.received == len(allaudio) == sum(c[0] for c in calls)
    assert sum(c[1] for c in calls) == len(allaudio) // width
    assert sum(c[2] for c in calls) == want.size
    assert player.played == len(chunks) and player.declined == declined
    assert player.high_water == want.size  # nothing was read meanwhile


def declined_frames(audio: bytes) -> dict[str, object]:
    good = delta(audio).decode()
    return {
        "other item": delta(audio, iid="item_2"),
        "other response": delta(audio, rid="resp_2"),
        "id prefix": delta(audio, iid="item_"),
        "other event": json.dumps({"type": "response.output_audio_transcript.delta"}).encode(),
        "not json": b"{not json",
        "truncated json": good[:-5].encode(),
        "bad base64": good.replace(base64.b64encode(audio).decode()[:8], "!!!!!!!!").encode(),
        "empty delta": delta(b""),
        "odd pcm16": delta(audio[:-1]),
        "not an object": b"[1, 2]",
        "escaped id": good.replace('"item_1"', '"item\\u005f1"').encode(),
        "session delta": session_delta(audio),
    }


def session_declined_frames(audio: bytes) -> dict[str, bytes]:
    good = session_delta(audio).decode()
    return {
        "realtime delta": delta(audio),
        "realtime delta, empty ids": delta(audio, rid="", iid=""),
        "no delta": json.dumps({"type": SESSION, "start_ms": 0}).encode(),
        "delta not a string": json.dumps({"type": SESSION, "delta": 5}).encode(),
        "bad base64": good.replace(base64.b64encode(audio).decode()[:8], "!!!!!!!!").encode(),
        "empty delta": session_delta(b""),
        "odd pcm16": session_delta(audio[:-1]),
        "truncated json": good[:-5].encode(),
        "not an object": b'["session.output_audio.delta"]',
    }


@pytest.mark.parametrize(
    ("ids", "case"),
    [(("resp_1", "item_1"), case) for case in declined_frames(b"\x01\x02" * 10)]
    + [(("", ""), case) for case in session_declined_frames(b"\x01\x02" * 10)],
    ids=lambda v: "ids" if v == ("resp_1", "item_1") else "empty ids" if v == ("", "") else v,
)
def test_declined_frames_change_nothing(dp: ModuleType, ids: tuple[str, str], case: str) -> None:
    """Armed with ids (a Realtime item) or with empty ids (GPT-Live's session deltas)."""
    audio = np.arange(-400, 400, 7, dtype="<i2").tobytes()
    player, _, ring, calls = setup(dp, "pcm16", 48000)
    counter = Counter()
    player.arm(*ids, counter)
    if ids == ("", ""):
        frame, good = session_declined_frames(audio)[case], session_delta(audio)
    else:
        frame, good = declined_frames(audio)[case], delta(audio)
    result = player.play(frame)
    if case == "escaped id" and result >= 0:
        # an escaped id that decodes to the armed id may be played (the twin parses JSON)
        assert dp.__name__.startswith("rtsdk._reference")
        return
    assert result == -1
    assert ring.readable == 0 and calls == [] and counter.received == 0
    assert player.declined == 1 and player.played == 0 and player.armed
    # the resampler's stream is untouched: the next good delta plays as the first one would
    assert player.play(good) == len(audio) // 2
    want = RefResampler(24000, 48000).process(to_float("pcm16", audio))
    np.testing.assert_allclose(read_all(ring), want, atol=2e-6)


def test_disarmed_player_declines_without_counting(dp: ModuleType) -> None:
    player, _, ring, calls = setup(dp, "pcm16", 24000)
    frame = delta(b"\x00\x01" * 50)
    assert not player.armed and player.play(frame) == -1
    player.arm("resp_1", "item_1")
    assert player.armed and player.play(frame) == 50
    player.disarm()
    assert not player.armed and player.play(frame) == -1
    assert player.declined == 0 and player.played == 1 and len(calls) == 1
    assert ring.readable == 200


def test_no_room_in_the_ring_declines_before_anything_changes(dp: ModuleType) -> None:
    """The ordinary path then queues the delta behind the ring: nothing may be half written."""
    player, _, ring, calls = setup(dp, "pcm16", 48000, ring_bytes=4 * 1000)
    player.arm("resp_1", "item_1")
    audio = np.full(240, 1000, "<i2").tobytes()  # 10 ms -> 480 ring samples
    assert player.play(delta(audio)) == 240
    assert player.play(delta(audio)) == 240
    assert ring.readable == 4 * 960
    assert player.play(delta(audio)) == -1  # 480 more do not fit in 1000
    assert ring.readable == 4 * 960 and len(calls) == 2
    read_all(ring)
    assert player.play(delta(audio)) == 240  # room again: the stream goes on seamlessly
    want = RefResampler(24000, 48000).process(to_float("pcm16", audio * 3))
    np.testing.assert_allclose(read_all(ring), want[960:], atol=2e-6)


def test_high_water_counts_from_the_floor(dp: ModuleType) -> None:
    player, _, ring, _ = setup(dp, "pcm16", 24000)
    ring.write(np.zeros(100, np.float32))  # 100 samples a discard will drop
    player.arm("resp_1", "item_1", None, 400)
    assert player.play(delta(b"\x00\x00" * 30)) == 30
    assert player.high_water == 30


def test_bad_construction_is_refused_by_name(dp: ModuleType) -> None:
    resampler_cls, ring_cls = parts(dp)
    ring = ring_cls(1024)
    with pytest.raises(ValueError, match="session_format"):
        dp.DeltaPlayer("opus", resampler_cls(24000, 48000), ring, print)
    with pytest.raises(ValueError, match="mono"):
        dp.DeltaPlayer("pcm16", resampler_cls(24000, 48000, channels=2), ring, print)
    with pytest.raises(TypeError):
        dp.DeltaPlayer("pcm16", resampler_cls(24000, 48000), ring, None)


def test_a_failing_callback_is_not_swallowed(dp: ModuleType) -> None:
    resampler_cls, ring_cls = parts(dp)

    def boom(*_: int) -> None:
        raise RuntimeError("bookkeeping bug")

    player = dp.DeltaPlayer("pcm16", resampler_cls(24000, 24000), ring_cls(1 << 12), boom)
    player.arm("resp_1", "item_1")
    with pytest.raises(RuntimeError, match="bookkeeping bug"):
        player.play(delta(b"\x00\x00" * 4))


@given(
    sizes=st.lists(st.integers(1, 800), min_size=1, max_size=8),
    ids=st.sampled_from([("resp_1", "item_1"), ("", "item_1"), ("resp_1", "")]),
    seed=st.integers(0, 2**32 - 1),
)
def test_ids_play_realtime_deltas_and_decline_session_ones(
    dp: ModuleType, sizes: list[int], ids: tuple[str, str], seed: int
) -> None:
    """Armed with ids (one of them may be empty): today's behaviour; a session delta is
    declined and changes nothing."""
    rng = np.random.default_rng(seed)
    chunks = [audio_bytes("pcm16", rng, n) for n in sizes]
    player, _, ring, calls = setup(dp, "pcm16", 48000)
    counter = Counter()
    player.arm(*ids, counter)
    for chunk in chunks:
        assert player.play(session_delta(chunk)) == -1
        assert player.play(delta(chunk, rid=ids[0], iid=ids[1])) == len(chunk) // 2
    allaudio = b"".join(chunks)
    want = RefResampler(24000, 48000).process(to_float("pcm16", allaudio))
    np.testing.assert_allclose(read_all(ring), want, atol=2e-6)
    assert counter.received == len(allaudio) and len(calls) == len(chunks)
    assert player.played == len(chunks) and player.declined == len(chunks)


def test_rearming_switches_between_the_two_kinds(dp: ModuleType) -> None:
    player, _, ring, _ = setup(dp, "pcm16", 24000)
    audio = b"\x00\x01" * 40
    player.arm("", "")
    assert player.play(session_delta(audio)) == 40 and player.play(delta(audio)) == -1
    player.arm("resp_1", "item_1")
    assert player.play(delta(audio)) == 40 and player.play(session_delta(audio)) == -1
    player.arm("", "")
    assert player.play(session_delta(audio)) == 40
    player.disarm()
    assert player.play(session_delta(audio)) == -1 and not player.armed
    assert player.played == 3 and player.declined == 2 and ring.readable == 3 * 160

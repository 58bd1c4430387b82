"""Through a real narrow link: the local server in a network namespace, the kernel's token bucket
(tc tbf) on the veth pair between it and the client (see :mod:`tests.netlab`).

Narrow uplink: 128 kbit/s host -> namespace with a 400 ms queue, a quarter of what 24 kHz PCM16
in base64 JSON needs (about 520 kbit/s). A client streams microphone-like audio in real time
(20 ms per ``send_audio``, every chunk distinct, so the server's arrivals name which chunk came
and when: ``python -m rtsdk serve --arrivals``) and sends a text mid-way. Measured: how old the
audio reaching the server is, how much never came, when the text came, what ``stats()`` says,
and how much the kernel held in the socket's send buffer.

Narrow downlink: 256 kbit/s namespace -> host, the server streaming replies in real time: the
reply audio arrives slower than it plays; the playback counts its gaps and the session goes on.

Real time on purpose (the link's rate is the thing measured): about 12 s each, so they run once,
on the compiled kernels.
"""

from __future__ import annotations

import asyncio
import socket
import statistics
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from rtsdk import AsyncRealtimeAIClient, RealtimeAIOptions
from rtsdk.audio import AudioStreamOptions, WavSink, read_wav

from .client_helpers import Recorder
from .conftest import REALTIME_ONCE
from .netlab import SCRIPT, NetLab, netlab_for, open_netlab, require_netlab

pytestmark = REALTIME_ONCE


@pytest.fixture
def netlab(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[NetLab]:
    yield from netlab_for(request, tmp_path)


RATE = 24000
CHUNK = 480  # 20 ms: one send_audio call, one append
CHUNK_S = CHUNK / RATE
STREAM_S = 8.0
TEXT_AT_S = 4.0
GRACE_S = 1.0  # after the stream: what still arrives, before the client stops
UPLINK = "128kbit"
UPLINK_QUEUE_MS = 400
TEXT = "narrow uplink: this text was sent half way through the audio"


def _sh(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=20)


def test_the_namespace_holds_the_server_shapes_and_goes_away(tmp_path: Path) -> None:
    require_netlab()
    with open_netlab(tmp_path) as lab:
        dev = f"rth-{lab.name.removeprefix('rtsdk-')}"
        assert lab.name in _sh("ip", "netns", "list").stdout
        assert lab.host_addr in _sh("ip", "-4", "-o", "addr", "show", "dev", dev).stdout
        assert lab.ns_addr not in _sh("ip", "-4", "-o", "addr", "show").stdout  # inside only
        listening = f"{lab.ns_addr}:{lab.port}"
        assert listening in _sh("ip", "netns", "exec", lab.name, "ss", "-tlnH").stdout
        assert listening not in _sh("ss", "-tlnH").stdout
        with socket.create_connection((lab.ns_addr, lab.port), timeout=5):
            pass  # reachable from the root namespace, over the veth pair
        for direction in ("uplink", "downlink"):
            lab.shape(direction, "1mbit", 50)
            shown = lab.qdisc(direction)
            assert "tbf" in shown and "rate 1Mbit" in shown and "lat 50ms" in shown, shown
            lab.unshape(direction)
            assert "tbf" not in lab.qdisc(direction)
        with pytest.raises(RuntimeError, match="direction must be uplink"):
            lab.shape("sideways", "1mbit")  # type: ignore[arg-type]
        with pytest.raises(RuntimeError, match="rate must be a whole number"):
            lab.shape("uplink", "fast")
        server = lab.server
        assert server is not None and server.poll() is None
    assert lab.name not in _sh("ip", "netns", "list").stdout
    assert _sh("ip", "link", "show", dev).returncode != 0  # the pair went with it
    assert server.poll() is not None
    assert _sh("bash", str(SCRIPT), "down", lab.name).returncode == 0  # idempotent
    refused = _sh("bash", str(SCRIPT), "down", "eth0")
    assert refused.returncode == 2 and "not a namespace of this script" in refused.stderr


def speech_like(seconds: float, seed: int = 22) -> list[bytes]:
    """PCM16 24 kHz chunks of 20 ms that sound like a talker: a voiced buzz (pitch gliding
    around 140 Hz, five harmonics) in 4 Hz syllables, 1.2 s phrases with 0.6 s pauses, over a
    -60 dBFS noise floor that makes every chunk distinct."""
    rng = np.random.default_rng(seed)
    n = int(seconds * RATE) // CHUNK * CHUNK
    t = np.arange(n) / RATE
    phase = 2 * np.pi * np.cumsum(140 + 30 * np.sin(2 * np.pi * 0.7 * t)) / RATE
    voiced = sum(np.sin(k * phase) / k for k in range(1, 6))
    envelope = np.clip(np.sin(2 * np.pi * 4 * t), 0, None) * ((t % 1.8) < 1.2)
    x = 0.25 * voiced * envelope + 1e-3 * rng.standard_normal(n)
    pcm = (np.clip(x, -1, 1) * 32767).astype("<i2").tobytes()
    chunks = [pcm[i : i + 2 * CHUNK] for i in range(0, len(pcm), 2 * CHUNK)]
    assert len(set(chunks)) == len(chunks), "chunks must be distinct to be found again"
    return chunks


@dataclass
class UplinkReport:
    """What one narrow-uplink run measured (seconds unless named otherwise)."""

    streamed_s: float  #: audio pushed, in real time
    by_end_s: float  #: audio at the server when the stream ended
    delivered_s: float  #: audio at the server in the end (after the grace and the stop)
    gaps_s: float  #: audio missing before the newest chunk that came (dropped on the way)
    age_at_end_s: float  #: stream end minus capture time of the newest chunk at the server
    age_max_s: float  #: the oldest any chunk was when it arrived
    age_p50_s: float
    text_delay_s: float | None  #: send_text to its item at the server (None: never came)
    stats: dict[str, Any]  #: client.stats() when the stream ended
    kernel_send_queue_max: int  #: bytes: the most the client's socket held unsent/unacked
    qdisc: str  #: tc -s of the shaped end after the run
    ages: list[tuple[float, float]] = field(default_factory=list)  #: (arrival, age) per chunk

    def lines(self) -> list[str]:
        s = self.stats
        return [
            f"streamed {self.streamed_s:.2f} s; at the server by the stream's end "
            f"{self.by_end_s:.2f} s, in the end {self.delivered_s:.2f} s "
            f"(lost {self.streamed_s - self.delivered_s:.2f} s; gaps {self.gaps_s:.2f} s)",
            f"age of the newest audio at the server at the stream's end: {self.age_at_end_s:.2f} s"
            f"; at arrival: max {self.age_max_s:.2f} s, median {self.age_p50_s:.2f} s",
            "send_text at the server: "
            + ("never" if self.text_delay_s is None else f"{self.text_delay_s:.2f} s after"),
            f"stats: link {s['link']}; audio {s['audio']}",
            f"kernel send queue (ss Send-Q) max: {self.kernel_send_queue_max} bytes",
            f"qdisc: {' '.join(self.qdisc.split())}",
        ]


async def narrow_uplink_run(lab: NetLab, options: RealtimeAIOptions) -> UplinkReport:
    """Stream :func:`speech_like` audio for ``STREAM_S`` through ``lab`` (shaped by the
    caller), ``send_text`` at ``TEXT_AT_S``, and measure (see :class:`UplinkReport`)."""
    chunks = speech_like(STREAM_S)
    index = {c: i for i, c in enumerate(chunks)}
    pushed = [0.0] * len(chunks)
    client = AsyncRealtimeAIClient(options)
    await client.start()
    queue_samples: list[int] = []
    loop = asyncio.get_running_loop()
    text_sent = 0.0
    try:
        start = loop.time()
        next_sample = 0.0
        for i, chunk in enumerate(chunks):
            delay = start + i * CHUNK_S - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            pushed[i] = time.monotonic()
            await client.send_audio(chunk)
            if i == int(TEXT_AT_S / CHUNK_S):
                text_sent = time.monotonic()
                await client.send_text(TEXT)
            if loop.time() >= next_sample:  # the kernel's share of the backlog
                next_sample = loop.time() + 0.5
                queue_samples.append(await asyncio.to_thread(lab.send_queue))
        ended = time.monotonic()
        stats = client.stats()
        queue_samples.append(await asyncio.to_thread(lab.send_queue))
        await asyncio.sleep(GRACE_S)
    finally:
        await client.stop()
    stats["dropped_in_the_end"] = client.stats()["audio"]["frames_dropped"]
    await asyncio.sleep(0.3)  # the server reads what the stop let through
    arrivals = lab.arrivals()
    came: dict[int, float] = {}
    text_at: float | None = None
    for a in arrivals:
        if a.type == "input_audio_buffer.append":
            audio = a.audio
            for k in range(0, len(audio), 2 * CHUNK):
                i = index.get(audio[k : k + 2 * CHUNK], -1)
                if i >= 0:
                    came.setdefault(i, a.t)
        elif a.type == "conversation.item.create" and TEXT in str(a.frame) and text_at is None:
            text_at = a.t
    newest_by_end = max((i for i, t in came.items() if t <= ended), default=-1)
    newest = max(came, default=-1)
    ages = sorted((t, t - pushed[i]) for i, t in came.items())
    age_values = [age for _, age in ages] or [0.0]
    return UplinkReport(
        streamed_s=len(chunks) * CHUNK_S,
        by_end_s=sum(1 for t in came.values() if t <= ended) * CHUNK_S,
        delivered_s=len(came) * CHUNK_S,
        gaps_s=(newest + 1 - len(came)) * CHUNK_S,
        age_at_end_s=ended - pushed[newest_by_end] if newest_by_end >= 0 else float("inf"),
        age_max_s=max(age_values),
        age_p50_s=statistics.median(age_values),
        text_delay_s=None if text_at is None else text_at - text_sent,
        stats=dict(stats),
        kernel_send_queue_max=max(queue_samples, default=0),
        qdisc=lab.qdisc("uplink"),
        ages=ages,
    )


def _options(lab: NetLab, **kw: Any) -> RealtimeAIOptions:
    """A new user's options (server VAD, audio out, the default keepalive and audio window)
    pointed at the namespace's server."""
    return RealtimeAIOptions(url=lab.url, api_key=None, **kw)


async def test_a_narrow_uplink_keeps_audio_fresh_and_text_prompt(netlab: NetLab) -> None:
    lab = netlab
    lab.shape("uplink", UPLINK, UPLINK_QUEUE_MS)
    options = _options(lab)
    report = await narrow_uplink_run(lab, options)
    print("\n".join(["", *report.lines()]))
    link, audio = report.stats["link"], report.stats["audio"]
    # the stream went in whole at the client (the SDK took it; the link could not carry it)
    assert audio["sent_ms"] == pytest.approx(report.streamed_s * 1000, abs=25)
    assert link["reconnects"] == 0, "the narrow link alone must not look like a dead one"
    # latency bounded by the declared policy: no chunk older than audio_window (plus the
    # link's own queue and a round trip) when it reaches the server, the newest fresh
    bound = options.audio_window + UPLINK_QUEUE_MS / 1000 + 0.25
    assert report.age_max_s <= bound, report.lines()
    assert report.age_at_end_s <= bound, report.lines()
    # what could not go was dropped, oldest first, and counted: the link carries about a
    # quarter of the audio, so most of it is dropped, and every gap the server saw is counted
    assert report.gaps_s >= 0.4 * report.streamed_s, report.lines()
    assert report.stats["dropped_in_the_end"] * CHUNK_S >= report.gaps_s - 1e-9, report.lines()
    # the text went through promptly, not behind the audio
    assert report.text_delay_s is not None, "the text never reached the server"
    assert report.text_delay_s <= UPLINK_QUEUE_MS / 1000 + 1.0, report.lines()
    # stats() saw the backlog: audio waited (never past audio_window), the late appends
    # were dropped and counted, the connection's in-flight bound held its sends
    uplink = link["uplink"]
    assert 0 < uplink["wait_high_water_ms"] <= options.audio_window * 1000, report.lines()
    assert uplink["audio_dropped_late"] > 0, report.lines()
    assert uplink["in_flight"]["holds"] > 0, report.lines()
    assert uplink["in_flight"]["drain_bytes_per_s"] < 20_000, report.lines()  # 128 kbit/s


@pytest.mark.parametrize("netlab", [{"pacing": "realtime"}], indirect=True)
async def test_a_narrow_downlink_counts_its_gaps_and_goes_on(
    netlab: NetLab, tmp_path: Path
) -> None:
    lab = netlab
    lab.shape("downlink", "256kbit", 400)
    client = AsyncRealtimeAIClient(
        _options(lab, turn_detection="none"),
        stream_options=AudioStreamOptions(input_device=None, output_device=None),
        audio_sink=WavSink(tmp_path / "heard.wav", realtime=True),
    )
    rec = Recorder()
    client.on("*", rec)
    await client.start()
    received: list[tuple[float, int]] = []  # (when, output audio bytes received so far)

    async def watch() -> None:
        while True:
            received.append((time.monotonic(), client.stats()["audio"]["received_bytes"]))
            await asyncio.sleep(0.02)

    watcher = asyncio.get_running_loop().create_task(watch())
    try:
        # about 2.6 s of reply audio (60 ms a word): the link carries about half of it a second
        await client.send_text(" ".join(["word"] * 44))
        first = await rec.wait("response.done", timeout=15)
        done_at = time.monotonic()
        assert first.response["status"] == "completed"
        reply_s = client.stats()["audio"]["received_bytes"] / 2 / RATE
        await asyncio.sleep(1.0)  # the tail plays out
        played = client.stats()["audio"]["stream"]
        # the session goes on: a second turn over the same link
        await client.send_text("and again")
        await rec.wait("response.done", lambda e: e is not first, timeout=10)
        stats = client.stats()
    finally:
        watcher.cancel()
        await client.stop()
    assert stats["link"]["reconnects"] == 0 and stats["link"]["connects"] == 1
    span_s = done_at - next(t for t, n in received if n > 0)
    print(
        f"\nreply audio {reply_s:.2f} s arrived over {span_s:.2f} s; playback: "
        f"{played['underruns']} gaps, {played['underrun_samples'] / RATE:.2f} s of silence, "
        f"{played['played_samples'] / RATE:.2f} s played; stats {stats['link']}"
    )
    # it arrived slower than it plays, and the playback said so: gaps counted; and no gap
    # beyond what came late: the first reply's silences, as heard, add up to no more than its
    # lateness (plus a prebuffer per gap)
    heard_silence = _silence_inside_first_sound(tmp_path / "heard.wav", reply_s)
    print(
        f"silence heard inside the first reply: {heard_silence:.2f} s "
        f"(the audio came {span_s - reply_s:.2f} s late)"
    )
    assert played["underruns"] > 0
    assert heard_silence <= max(0.0, span_s - reply_s) + 0.1 * played["underruns"] + 0.2
    # the stats tell the gaps as heard: every gap's silence, not only where the ring ran dry
    assert played["underrun_samples"] / RATE == pytest.approx(heard_silence, abs=0.25)
    assert stats["audio"]["stream"]["played_samples"] / RATE >= 0.95 * reply_s


def _silence_inside_first_sound(path: Path, sound_s: float) -> float:
    """Seconds of silence (10 ms blocks under -50 dBFS) in a WAV between its first sound and
    the block where ``sound_s`` of sound has played: the gaps inside a first reply that long."""
    x, rate = read_wav(path)
    block = rate // 100
    n = len(x) // block
    loud = np.sqrt(np.mean(x[: n * block].reshape(n, block) ** 2, axis=1)) > 10 ** (-50 / 20)
    first = int(np.argmax(loud))
    heard = np.cumsum(loud[first:]) * block / rate
    last = first + int(np.searchsorted(heard, sound_s - 0.05))
    return float(np.count_nonzero(~loud[first : last + 1])) * block / rate

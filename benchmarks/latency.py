"""The delay a user hears, end to end, on the CI audio stack: rtsdk beside a lean client and the
bare device.

``bash .ci/audio.sh run .venv/bin/python -m benchmarks.latency [--rounds N] [--json FILE]``

The stack of ``.ci/audio.sh`` gets a second null sink, ``rtsdk_bench_mic``, whose monitor becomes
the default source: the clients' microphone hears only what this benchmark plays into that sink,
and what they play on the default sink (``rtsdk_ci``) goes nowhere but to this benchmark's
recorder on its monitor. Both probe streams are PortAudio streams of this process, pointed at
those nodes with ``PIPEWIRE_NODE`` (and, for the monitor, ``PIPEWIRE_PROPS``); every time is on
PortAudio's clock, which is ``time.monotonic()``'s (checked at start): the DAC time at which a
chirp entered the microphone, the ADC time at which one came out of the speaker, the times the
local server received an append or sent a delta.

Paths (each a few markers per session, ms):

- **mic → wire**: a 5 ms chirp played into the microphone, found again (matched filter) in the
  appends the local server received; from its DAC time to the arrival of the append that holds
  its first sample.
- **first audio**: a reply whose first delta starts with a chirp; from sending that delta to the
  chirp's ADC time at the speaker's monitor. Burst: the whole reply (20 ms deltas) sent at once;
  paced: 40 ms deltas at exactly real time.
- **playout depth**: the same for chirps in the middle of a reply paced at exactly real time (40 ms
  and 20 ms deltas): how much the client holds between the wire and the speaker.
- **barge-in flush**: a steady tone paced at real time; ``input_audio_buffer.speech_started`` sent
  1.2 s in; from then to the tone's last sample at the monitor.
- **truncate error**: the client's ``conversation.item.truncate`` ``audio_end_ms`` minus the tone
  actually heard at the monitor (its span less any gaps an underrun left; positive: it claims
  more than was heard).
- **gaps**: the silence (1 ms windows) inside that tone before the barge-in: what running dry
  costs a listener. A client that holds less audio plays shallower and gaps more when deltas
  come late; the adaptive prebuffer trades the one for the other.

Clients, one session each per round, in alternating order (A B C D, then D C B A: this VM's speed
drifts, so only neighbours are compared): **rtsdk** (``AsyncRealtimeAIClient`` with the default
``AudioStreamOptions``, echo cancellation on), **rtsdk-no-aec** (``echo_cancellation=False``),
**lean** (websockets + sounddevice callbacks + ``rtsdk.kernels.Resampler`` + NumPy/base64/json,
20 ms capture blocks, a deque for playback without a prebuffer, truncate from the samples handed
to the device minus its output latency) and **device** (the bare output stream: a chirp or a tone
written into its callback's queue, the queue cleared for the flush). The lean client and the
device open the devices at the rate and PortAudio latency rtsdk chose, so the difference is the
SDK's own.

The table gives p50 / p95 over all markers of all rounds (and their count); ``--json`` writes
the samples too; ``--options '{"latency": "low"}'`` runs rtsdk with other ``AudioStreamOptions``
(the lean client and the device follow the rate and latency it opens); ``BENCH_DEBUG=1`` prints
each session's mic → wire markers and truncates as they are found. About 40 s per round.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import collections
import contextlib
import json
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

MIC_SINK = "rtsdk_bench_mic"
SPEAKER_SINK = "rtsdk_ci"
PROBE_RATE = 48_000
SESSION_RATE = 24_000
TONE_HZ = 440.0


def chirp(rate: int) -> np.ndarray:
    """The marker: 5 ms, 1-7 kHz, Hann-windowed, peak 0.5 (the same continuous signal at any
    rate; as ``rtsdk.audio.latency.chirp``, written out so that older trees run this too)."""
    n = round(rate * 0.005)
    t = np.arange(n) / rate
    phase = 2 * np.pi * (1000 * t + 6000 * t * t / (2 * n / rate))
    return (0.5 * np.sin(phase) * np.hanning(n)).astype(np.float32)


def _pactl(*args: str) -> str:
    return subprocess.run(
        ["pactl", *args], check=True, capture_output=True, text=True, timeout=10
    ).stdout


@contextlib.contextmanager
def microphone_sink() -> Any:
    """The second null sink, its monitor the default source, for the length of the run."""
    module = _pactl(
        "load-module",
        "module-null-sink",
        f"sink_name={MIC_SINK}",
        f"sink_properties=device.description={MIC_SINK}",
    ).strip()
    before = _pactl("get-default-source").strip()
    try:
        deadline = time.monotonic() + 10
        while MIC_SINK not in _pactl("list", "short", "sinks"):
            if time.monotonic() > deadline:
                raise RuntimeError(f"{MIC_SINK} did not appear")
            time.sleep(0.05)
        _pactl("set-default-source", f"{MIC_SINK}.monitor")
        yield
    finally:
        with contextlib.suppress(Exception):
            _pactl("set-default-source", before)
        with contextlib.suppress(Exception):
            _pactl("unload-module", module)


def _probe_stream(factory: Any, callback: Any, node: str, props: str | None = None) -> Any:
    """A mono stream of the probe on PipeWire ``node`` (the environment PortAudio's PipeWire
    device reads when the stream opens; cleared after)."""
    os.environ["PIPEWIRE_NODE"] = node
    if props is not None:
        os.environ["PIPEWIRE_PROPS"] = props
    try:
        return factory(
            samplerate=PROBE_RATE, channels=1, dtype="float32", latency="high", callback=callback
        )
    finally:
        os.environ.pop("PIPEWIRE_NODE", None)
        os.environ.pop("PIPEWIRE_PROPS", None)


class Probe:
    """The injector (into the microphone's sink) and the recorder (of the speaker's monitor)."""

    def __init__(self, seconds: float = 900.0) -> None:
        import sounddevice as sd

        self.c48 = chirp(PROBE_RATE)
        self._pending: collections.deque[np.ndarray] = collections.deque()
        self._playing: np.ndarray | None = None
        self._play_pos = 0
        self.injected: list[float] = []  # DAC times of injected chirps
        self.rec = np.zeros(int(seconds * PROBE_RATE), dtype=np.float32)
        self.n = 0
        self.clock: list[tuple[int, float]] = []  # (index, ADC time) of each recorded block
        self.xruns = 0
        # the chirps go into the microphone's sink; the recording is the speaker's monitor
        self.out = _probe_stream(sd.OutputStream, self._out_cb, MIC_SINK)
        self.inp = _probe_stream(
            sd.InputStream, self._in_cb, SPEAKER_SINK, "{ stream.capture.sink = true }"
        )
        self.inp.start()
        self.out.start()
        skew = self.out.time - time.monotonic()
        if abs(skew) > 0.001:
            raise RuntimeError(f"PortAudio's clock is {skew:.3f} s off time.monotonic()")

    def close(self) -> None:
        for s in (self.out, self.inp):
            s.stop()
            s.close()

    def inject(self) -> None:
        """A chirp into the microphone, at the injector's next block."""
        self._pending.append(self.c48)

    def _out_cb(self, outdata: np.ndarray, frames: int, t: Any, status: Any) -> None:
        if status:
            self.xruns += 1
        outdata.fill(0.0)
        pos = 0
        while pos < frames:
            if self._playing is None:
                if not self._pending:
                    return
                self._playing, self._play_pos = self._pending.popleft(), 0
                self.injected.append(t.outputBufferDacTime + pos / PROBE_RATE)
            x = self._playing
            k = min(frames - pos, x.size - self._play_pos)
            outdata[pos : pos + k, 0] = x[self._play_pos : self._play_pos + k]
            pos += k
            self._play_pos += k
            if self._play_pos >= x.size:
                self._playing = None

    def _in_cb(self, indata: np.ndarray, frames: int, t: Any, status: Any) -> None:
        if status:
            self.xruns += 1
        k = min(frames, self.rec.size - self.n)
        self.rec[self.n : self.n + k] = indata[:k, 0]
        self.clock.append((self.n, t.inputBufferAdcTime))
        self.n += k

    def adc(self, index: int) -> float:
        """ADC time of a recorded sample (the recorder's clock fitted over its last blocks)."""
        recent = self.clock[-400:]
        base = statistics.median(a - i / PROBE_RATE for i, a in recent)
        return base + index / PROBE_RATE


def find_chirps(x: np.ndarray, c: np.ndarray, min_gap: int) -> list[int]:
    """Indices of the chirps in ``x`` (matched filter peaks above a quarter of the strongest
    possible one, at least ``min_gap`` apart)."""
    if x.size < c.size:
        return []
    nfft = 1 << (x.size + c.size).bit_length()
    corr = np.fft.irfft(np.fft.rfft(x, nfft) * np.conj(np.fft.rfft(c, nfft)), nfft)
    corr = np.abs(corr[: x.size - c.size + 1])
    thr = 0.25 * float(np.dot(c, c))
    peaks: list[int] = []
    for k in np.flatnonzero(corr >= thr):
        k = int(k)
        if peaks and k - peaks[-1] < min_gap:
            if corr[k] > corr[peaks[-1]]:
                peaks[-1] = k
            continue
        peaks.append(k)
    return peaks


def last_loud(x: np.ndarray, rate: int, threshold: float = 0.02) -> int | None:
    """Index just after the last sample of ``x`` louder than ``threshold`` (1 ms windows)."""
    win = rate // 1000
    n = x.size // win
    if n == 0:
        return None
    rms = np.sqrt(np.mean(x[: n * win].reshape(n, win) ** 2, axis=1))
    loud = np.flatnonzero(rms > threshold)
    if not loud.size:
        return None
    i = int(loud[-1]) * win
    seg = np.abs(x[i : i + win])
    return (
        i + int(np.flatnonzero(seg > threshold * 0.7)[-1]) + 1
        if (seg > threshold * 0.7).any()
        else i + win
    )


def pcm16(x: np.ndarray) -> bytes:
    return np.clip(np.round(x * 32767), -32768, 32767).astype("<i2").tobytes()


def reply_audio(seconds: float, chirps_at: list[float]) -> np.ndarray:
    """Silence with chirps at the given seconds (24 kHz float)."""
    y = np.zeros(int(seconds * SESSION_RATE), dtype=np.float32)
    c = chirp(SESSION_RATE)
    for s in chirps_at:
        i = int(s * SESSION_RATE)
        y[i : i + c.size] += c
    return y


def tone(seconds: float) -> np.ndarray:
    t = np.arange(int(seconds * SESSION_RATE)) / SESSION_RATE
    return (0.25 * np.sin(2 * np.pi * TONE_HZ * t)).astype(np.float32)


@dataclass
class Results:
    """Samples (ms) per path per client."""

    data: dict[str, dict[str, list[float]]] = field(default_factory=dict)

    def add(self, path: str, client: str, values: list[float]) -> None:
        self.data.setdefault(path, {}).setdefault(client, []).extend(values)


# ---------------------------------------------------------------------- the server side


class Wire:
    """The local server's side: appends received (time, audio) and replies sent."""

    def __init__(self) -> None:
        self.appends: list[tuple[float, bytes]] = []
        self.truncates: list[dict[str, Any]] = []
        self._n = 0

    def listen(self) -> None:
        """Hear every frame the local server receives, as it is read (``_note`` is where its
        connections record them, in every tree this benchmark has run on)."""
        from rtsdk.testing.connection import ServerConnection

        note = ServerConnection._note
        wire = self

        def noted(conn: Any, direction: str, frame: Any) -> None:
            if direction == "received":
                wire.on_received(conn.index, frame)
            note(conn, direction, frame)  # type: ignore[arg-type]

        ServerConnection._note = noted  # type: ignore[method-assign,assignment]

    def on_received(self, index: int, frame: Any) -> None:
        if not isinstance(frame, dict):
            return
        kind = frame.get("type")
        if kind == "input_audio_buffer.append":
            self.appends.append((time.monotonic(), base64.b64decode(frame["audio"])))
        elif kind == "conversation.item.truncate":
            self.truncates.append(frame)

    def ids(self) -> tuple[str, str]:
        self._n += 1
        return f"resp_bench{self._n}", f"item_bench{self._n}"

    def mic_to_wire(self, since: int, injected: list[float]) -> list[float]:
        """For each injected chirp (DAC times), the arrival of the append holding its start."""
        frames = self.appends[since:]
        if not frames:
            return []
        pcm = [np.frombuffer(a, "<i2").astype(np.float32) / 32768 for _, a in frames]
        starts = np.cumsum([0] + [p.size for p in pcm])
        x = np.concatenate(pcm)
        out = []
        found = find_chirps(x, chirp(SESSION_RATE), SESSION_RATE // 10)
        for dac in injected:
            for k in found:
                j = int(np.searchsorted(starts, k, side="right")) - 1
                arrival = frames[j][0]
                if 0 < arrival - dac < 0.5:
                    out.append((arrival - dac) * 1000)
                    break
        return out


def _event(kind: str, **fields: Any) -> str:
    return json.dumps({"type": kind, "event_id": f"event_b{time.monotonic_ns()}", **fields})


async def send_reply(
    conn: Any,
    wire: Wire,
    audio: np.ndarray,
    delta_ms: int,
    paced: bool,
    stop: asyncio.Event | None = None,
) -> list[float]:
    """Stream ``audio`` (24 kHz float) as one reply; the send time of each delta."""
    rid, iid = wire.ids()
    ref = {"response_id": rid, "item_id": iid, "output_index": 0, "content_index": 0}
    await conn.send_raw(
        _event(
            "response.created",
            response={
                "id": rid,
                "object": "realtime.response",
                "status": "in_progress",
                "status_details": None,
                "output": [],
                "output_modalities": ["audio"],
            },
        )
    )
    await conn.send_raw(
        _event(
            "response.output_item.added",
            response_id=rid,
            output_index=0,
            item={
                "id": iid,
                "object": "realtime.item",
                "type": "message",
                "status": "in_progress",
                "role": "assistant",
                "content": [],
            },
        )
    )
    await conn.send_raw(
        _event("response.content_part.added", **ref, part={"type": "audio", "transcript": ""})
    )
    n = SESSION_RATE * delta_ms // 1000
    times: list[float] = []
    t0 = time.monotonic()
    for i in range(0, audio.size, n):
        if paced:
            await asyncio.sleep(max(0.0, t0 + i / SESSION_RATE - time.monotonic()))
        if stop is not None and stop.is_set():
            break
        delta = base64.b64encode(pcm16(audio[i : i + n])).decode()
        times.append(time.monotonic())
        await conn.send_raw(_event("response.output_audio.delta", **ref, delta=delta))
    status = "cancelled" if stop is not None and stop.is_set() else "completed"
    if status == "completed":
        await conn.send_raw(_event("response.output_audio.done", **ref))
    await conn.send_raw(
        _event(
            "response.done",
            response={
                "id": rid,
                "object": "realtime.response",
                "status": status,
                "status_details": None,
                "output": [],
                "output_modalities": ["audio"],
            },
        )
    )
    return times


# ---------------------------------------------------------------------- the clients


class LeanClient:
    """A minimal hand-built client: websockets, two PortAudio callbacks, no prebuffer."""

    def __init__(self, url: str, rate: int, latency: Any) -> None:
        self.url, self.rate, self.latency = url, rate, latency
        self.queue: collections.deque[np.ndarray] = collections.deque()
        self.head: np.ndarray | None = None
        self.head_pos = 0
        self.handed = 0  # samples of the current item handed to the device
        self.item = ""

    async def __aenter__(self) -> LeanClient:
        import sounddevice as sd
        import websockets

        from rtsdk.kernels import Resampler

        self.loop = asyncio.get_running_loop()
        self.ws = await websockets.connect(self.url, compression=None, max_size=None)
        self.up_rs = Resampler(self.rate, SESSION_RATE)
        self.down_rs = Resampler(SESSION_RATE, self.rate)
        self.frames: asyncio.Queue[np.ndarray] = asyncio.Queue()
        self.out = sd.OutputStream(
            samplerate=self.rate,
            channels=1,
            dtype="float32",
            latency=self.latency,
            callback=self._out_cb,
        )
        self.inp = sd.InputStream(
            samplerate=self.rate,
            channels=1,
            dtype="float32",
            latency=self.latency,
            blocksize=self.rate // 50,
            callback=self._in_cb,
        )
        self.out.start()
        self.inp.start()
        self.tasks = [asyncio.create_task(self._uplink()), asyncio.create_task(self._downlink())]
        return self

    async def __aexit__(self, *exc: object) -> None:
        for t in self.tasks:
            t.cancel()
        for s in (self.inp, self.out):
            s.stop()
            s.close()
        await self.ws.close()

    def _in_cb(self, indata: np.ndarray, frames: int, t: Any, status: Any) -> None:
        self.loop.call_soon_threadsafe(self.frames.put_nowait, indata[:, 0].copy())

    def _out_cb(self, outdata: np.ndarray, frames: int, t: Any, status: Any) -> None:
        out = outdata[:, 0]
        pos = 0
        while pos < frames:
            if self.head is None:
                if not self.queue:
                    break
                self.head, self.head_pos = self.queue.popleft(), 0
            k = min(frames - pos, self.head.size - self.head_pos)
            out[pos : pos + k] = self.head[self.head_pos : self.head_pos + k]
            pos += k
            self.head_pos += k
            if self.head_pos >= self.head.size:
                self.head = None
        out[pos:] = 0.0
        self.handed += pos

    async def _uplink(self) -> None:
        while True:
            x = await self.frames.get()
            y = self.up_rs.process(x)
            audio = base64.b64encode(pcm16(y)).decode()
            await self.ws.send(json.dumps({"type": "input_audio_buffer.append", "audio": audio}))

    async def _downlink(self) -> None:
        async for message in self.ws:
            event = json.loads(message)
            kind = event.get("type")
            if kind == "response.output_audio.delta":
                if event["item_id"] != self.item:
                    self.item, self.handed = event["item_id"], 0
                pcm = np.frombuffer(base64.b64decode(event["delta"]), "<i2")
                self.queue.append(self.down_rs.process(pcm.astype(np.float32) / 32768))
            elif kind == "input_audio_buffer.speech_started":
                self.queue.clear()
                self.head = None
                heard = max(0.0, self.handed / self.rate - self.out.latency)
                await self.ws.send(
                    json.dumps(
                        {
                            "type": "conversation.item.truncate",
                            "item_id": self.item,
                            "content_index": 0,
                            "audio_end_ms": int(heard * 1000),
                        }
                    )
                )


class Device:
    """The floor: the bare output stream, fed without any network or client in between."""

    def __init__(self, rate: int, latency: Any) -> None:
        import sounddevice as sd

        self.rate = rate
        self.queue: collections.deque[np.ndarray] = collections.deque()
        self.head: np.ndarray | None = None
        self.head_pos = 0
        self.out = sd.OutputStream(
            samplerate=rate,
            channels=1,
            dtype="float32",
            latency=latency,
            callback=LeanClient._out_cb.__get__(self),
        )
        self.handed = 0
        self.out.start()

    def close(self) -> None:
        self.out.stop()
        self.out.close()


# ---------------------------------------------------------------------- the paths


CLIENTS = ("device", "lean", "rtsdk-no-aec", "rtsdk")
PATHS = (
    "mic -> wire",
    "first audio, burst",
    "first audio, 40 ms deltas at real time",
    "playout depth, 40 ms deltas at real time",
    "playout depth, 20 ms deltas at real time",
    "barge-in flush (speech_started -> silence)",
    "truncate error (audio_end_ms - heard)",
    "gaps in 1.2 s of a tone at real time (ms of silence)",
)


@dataclass
class Run:
    probe: Probe
    wire: Wire
    server: Any
    rate: int
    latency: Any
    extra: dict[str, Any]
    results: Results = field(default_factory=Results)


async def _settle(seconds: float) -> None:
    await asyncio.sleep(seconds)


async def mic_to_wire(run: Run, name: str) -> None:
    since, i0 = len(run.wire.appends), len(run.probe.injected)
    for _ in range(4):
        run.probe.inject()
        await _settle(0.3)
    await _settle(0.3)
    got = run.wire.mic_to_wire(since, run.probe.injected[i0:])
    if os.environ.get("BENCH_DEBUG"):
        print(
            name,
            "appends",
            len(run.wire.appends) - since,
            "injected",
            len(run.probe.injected) - i0,
            "found",
            got,
            flush=True,
        )
    run.results.add(PATHS[0], name, got)


def _heard_chirps(run: Run, r0: int, sent: list[float]) -> list[float]:
    """For each send time, the delay to the chirp heard after it (ms)."""
    p = run.probe
    found = [p.adc(r0 + k) for k in find_chirps(p.rec[r0 : p.n], p.c48, PROBE_RATE // 10)]
    out = []
    for t_send in sent:
        later = [a - t_send for a in found if 0 < a - t_send < 1.0]
        if later:
            out.append(min(later) * 1000)
    return out


async def reply_paths(run: Run, name: str, conn: Any) -> None:
    res, p = run.results, run.probe
    # a burst: the whole reply at once, a chirp at its start
    r0 = p.n
    times = await send_reply(conn, run.wire, reply_audio(0.6, [0.0]), 20, paced=False)
    await _settle(0.9)
    res.add(PATHS[1], name, _heard_chirps(run, r0, [times[0]]))
    # paced at real time: chirps at the start and every 0.8 s, each at a delta's start
    for delta_ms, first_path, depth_path in ((40, PATHS[2], PATHS[3]), (20, None, PATHS[4])):
        r0 = p.n
        at = [0.0, 0.8, 1.6, 2.4]
        times = await send_reply(conn, run.wire, reply_audio(2.6, at), delta_ms, paced=True)
        await _settle(0.5)
        lat = _heard_chirps(run, r0, [times[round(s * 1000 / delta_ms)] for s in at])
        if len(lat) == len(at):
            if first_path:
                res.add(first_path, name, lat[:1])
            res.add(depth_path, name, lat[1:])


async def barge_in(run: Run, name: str, conn: Any | None, device: Device | None) -> None:
    p = run.probe
    r0 = p.n
    stop = asyncio.Event()
    if conn is not None:
        task = asyncio.create_task(send_reply(conn, run.wire, tone(3.0), 40, True, stop))
    else:
        assert device is not None
        t = np.arange(3 * device.rate) / device.rate
        device.queue.append((0.25 * np.sin(2 * np.pi * TONE_HZ * t)).astype(np.float32))
    await _settle(1.2)
    truncates = len(run.wire.truncates)
    t_ss = time.monotonic()
    if conn is not None:
        stop.set()
        await conn.send_raw(
            _event("input_audio_buffer.speech_started", audio_start_ms=0, item_id="item_user")
        )
        await task
    else:
        assert device is not None
        device.queue.clear()
        device.head = None
    await _settle(0.6)
    x = p.rec[r0 : p.n]
    loud = np.flatnonzero(np.abs(x) > 0.05)
    end = last_loud(x, PROBE_RATE)
    if not loud.size or end is None:
        return
    t_end = p.adc(r0 + end)
    run.results.add(PATHS[5], name, [(t_end - t_ss) * 1000])
    # what was heard of the tone: its span, less the gaps an underrun left in it (1 ms windows
    # without the tone; a just-in-time stream can run dry for a block now and then)
    win = PROBE_RATE // 1000
    span = x[int(loud[0]) : end]
    k = span.size // win
    rms = np.sqrt(np.mean(span[: k * win].reshape(k, win) ** 2, axis=1))
    gaps = int(np.count_nonzero(rms < 0.02))
    heard_ms = (end - int(loud[0])) / PROBE_RATE * 1000 - gaps
    run.results.add(PATHS[7], name, [float(gaps)])
    if conn is not None:
        for _ in range(50):
            if len(run.wire.truncates) > truncates:
                break
            await _settle(0.02)
        if len(run.wire.truncates) > truncates:
            end_ms = run.wire.truncates[truncates]["audio_end_ms"]
            if os.environ.get("BENCH_DEBUG"):
                print(name, "truncate", end_ms, "heard", heard_ms, flush=True)
            run.results.add(PATHS[6], name, [end_ms - heard_ms])


async def session(run: Run, name: str) -> None:
    if name == "device":
        dev = Device(run.rate, run.latency)
        try:
            await _settle(0.3)
            for _ in range(3):
                r0 = run.probe.n
                t0 = time.monotonic()
                dev.queue.append(chirp(run.rate))
                await _settle(0.4)
                lat = _heard_chirps(run, r0, [t0])
                run.results.add(PATHS[1], name, lat)
                run.results.add(PATHS[2], name, lat)
            await barge_in(run, name, None, dev)
        finally:
            dev.close()
        return
    async with _client(run, name) as client:
        await _settle(0.5)
        conn = run.server.connections[-1]
        await mic_to_wire(run, name)
        await reply_paths(run, name, conn)
        await barge_in(run, name, conn, None)
        audio = getattr(client, "audio", None)
        if os.environ.get("BENCH_DEBUG") and audio is not None:
            pb = audio._playback
            print(
                name,
                "underruns",
                audio.stats.underruns,
                "prebuffer ms",
                pb.prebuffer_ms,
                "jitter high water ms",
                1000 * getattr(pb, "jitter_high_water", 0),
                flush=True,
            )


@contextlib.asynccontextmanager
async def _client(run: Run, name: str) -> Any:
    if name == "lean":
        async with LeanClient(
            run.server.url + "?model=gpt-realtime-2.1", run.rate, run.latency
        ) as c:
            yield c
        return
    from rtsdk import AsyncRealtimeAIClient, AudioStreamOptions, RealtimeAIOptions

    options = RealtimeAIOptions(url=run.server.url, api_key=None, turn_detection="none")
    stream = AudioStreamOptions(echo_cancellation=name == "rtsdk", **run.extra)
    async with AsyncRealtimeAIClient(options, stream_options=stream) as c:
        yield c


async def settings(server: Any, extra: dict[str, Any]) -> tuple[int, Any, str]:
    """The device rate and PortAudio latency rtsdk opens the devices with, and its echo state."""
    from rtsdk import AsyncRealtimeAIClient, AudioStreamOptions, RealtimeAIOptions

    options = RealtimeAIOptions(url=server.url, api_key=None, turn_detection="none")
    async with AsyncRealtimeAIClient(options, stream_options=AudioStreamOptions(**extra)) as c:
        audio = c.audio
        assert audio is not None and audio.sink is not None
        return audio.sink.sample_rate, audio.options.latency, str(audio.echo_stats["reason"])


def _pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, round(q * (len(s) - 1)))]


def table(results: Results) -> str:
    lines = [
        "| path | " + " | ".join(CLIENTS) + " |",
        "|---|" + "---|" * len(CLIENTS),
    ]
    for path in PATHS:
        cells = []
        for c in CLIENTS:
            v = results.data.get(path, {}).get(c, [])
            cells.append(f"{_pct(v, 0.5):.1f} / {_pct(v, 0.95):.1f} ({len(v)})" if v else "—")
        lines.append(f"| {path} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


async def main(rounds: int, json_path: str | None, extra: dict[str, Any]) -> int:
    import rtsdk
    from rtsdk.testing import LocalRealtimeServer

    wire = Wire()
    with microphone_sink():
        probe = Probe()
        try:
            async with LocalRealtimeServer(
                turn_detection=None, create_response=False, record=False
            ) as server:
                wire.listen()
                rate, latency, echo = await settings(server, extra)
                run = Run(probe, wire, server, rate, latency, extra)
                print(
                    f"rtsdk {rtsdk.__version__} ({os.path.dirname(rtsdk.__file__)}; "
                    f"AudioStreamOptions {extra}): devices at {rate} Hz, PortAudio latency "
                    f"{latency!r}; echo cancellation {echo}",
                    flush=True,
                )
                for r in range(rounds):
                    order = CLIENTS if r % 2 == 0 else CLIENTS[::-1]
                    for name in order:
                        await session(run, name)
                    print(f"round {r + 1}/{rounds} done", flush=True)
        finally:
            probe.close()
    print(f"\np50 / p95 ms (markers); probe xruns {probe.xruns}\n")
    print(table(run.results))
    if json_path:
        with open(json_path, "w", encoding="utf-8") as f:
            json.dump(
                {
                    "rate": rate,
                    "latency": latency,
                    "echo": echo,
                    "rounds": rounds,
                    "options": extra,
                    "samples": run.results.data,
                },
                f,
                indent=1,
            )
    return 0


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--json", default=None, help="write the samples here")
    ap.add_argument(
        "--options",
        default="{}",
        help="AudioStreamOptions fields for rtsdk, as JSON "
        "(the lean client and the device follow the rate and latency rtsdk then opens)",
    )
    a = ap.parse_args()
    sys.exit(asyncio.run(main(a.rounds, a.json, json.loads(a.options))))

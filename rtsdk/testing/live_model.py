"""The "model" of a GPT-Live session of the local server: a full-duplex echo.

It is plainly not a model. It listens all the time, on the session timeline (milliseconds of
input audio received since ``session.started``, at the session rate), with the energy VAD of
:mod:`.vad` (threshold 0.5: -40 dBFS per 10 ms block). Muted input, and input while a fixture
plays, reach it as silence; the timeline still runs.

- **Answering.** When the user has spoken and then been silent for ``silence_ms`` (500 ms by
  default), the utterance is over: its ``session.input_transcript.delta`` goes out (a
  description of the audio, see :mod:`.transcribe`, from the first voiced block to the last),
  and the model answers by playing the utterance back (from ``prefix_ms`` before the first
  voiced block, at most 15 s) under the transcript "Local echo from rtsdk.testing (not a
  model): I heard 1.20 s of audio at -20.0 dBFS; this is it played back."
- **Barge-in.** When the user starts speaking while the model speaks, the model stops
  ``barge_in_ms`` (session time) after the first voiced block: nothing due after that moment
  leaves the mixer and nothing queued plays. No event says so, as with the service.
- **Text.** :meth:`LiveModel.speak` says a text (a commentary, a Responses answer, an
  acknowledgement) as a 440 Hz tone of 60 ms a word (0.4 to 4 s) under its words.
- **Delegation.** A :class:`DelegationScript` (``LocalRealtimeServer.script_delegation``)
  makes the next utterance(s) delegate instead of being echoed: ``session.delegation.created``
  (``item_…`` id; target the session's delegation type; a ``resp_…`` ``response_id`` under
  Responses delegation), then, after ``acknowledgement_delay_ms``, a spoken acknowledgement
  ("… one moment.") unless a commentary or thinking append came first. Under Responses
  delegation the task (the script's ``heard`` text, else the description) goes to the
  backend (:mod:`.live_backend`). Under Decisions delegation no utterance delegates.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..exceptions import ConfigurationError
from . import audio as au
from .echo import speech_ms
from .live_mixer import LiveFormat, Mixer, Pcm, Speech
from .responses import ECHO_PREFIX
from .transcribe import describe_pcm
from .vad import EnergyVad

__all__ = ["DelegationScript", "Ears", "LiveModel"]

Json = dict[str, Any]

#: The longest stretch of a user utterance the echo plays back.
ECHO_MAX_MS = 15000
#: How much input the ears keep while nobody speaks (enough for the prefix), and at most.
_KEEP_MS = 1000
_MAX_MS = 30000


@dataclass(slots=True, kw_only=True)
class DelegationScript:
    """Makes user utterances of GPT-Live sessions delegate (see :mod:`.live_model`).

    ``heard`` is what the model hears in such an utterance: its input transcript and the task
    handed to the Responses backend, where :class:`~rtsdk.testing.FunctionCallScript` scripts
    match it (``when_text_contains``). ``None``: the description of the audio. ``times`` is
    how many utterances it takes (``None``: every one); ``fired`` counts them.
    """

    heard: str | None = None
    times: int | None = 1
    fired: int = 0

    def __post_init__(self) -> None:
        if self.heard is not None and (not isinstance(self.heard, str) or not self.heard):
            raise ConfigurationError("DelegationScript.heard must be a non-empty str or None")
        times = self.times
        if times is not None and (isinstance(times, bool) or not isinstance(times, int)):
            raise ConfigurationError(f"DelegationScript.times must be an int or None: {times!r}")
        if times is not None and times < 1:
            raise ConfigurationError(f"DelegationScript.times must be >= 1, got {times}")

    def take(self) -> bool:
        """True (and counted) if this script takes one more utterance."""
        if self.times is not None and self.fired >= self.times:
            return False
        self.fired += 1
        return True


class Ears:
    """The input as the model hears it: the VAD's transitions and the recent samples."""

    def __init__(self, fmt: LiveFormat, *, silence_ms: int, threshold: float = 0.5) -> None:
        self.rate = fmt.rate
        self.vad = EnergyVad(
            fmt.rate, threshold=threshold, prefix_padding_ms=0, silence_duration_ms=silence_ms
        )
        self._kept = bytearray()  # PCM16 samples, the oldest at sample index _first
        self._first = 0
        self.samples = 0

    @property
    def now_ms(self) -> float:
        """The session timeline: ms of input heard."""
        return self.samples * 1000 / self.rate

    def hear(self, pcm: Pcm) -> list[tuple[str, float]]:
        self._kept += pcm.astype("<i2", copy=False).tobytes()
        self.samples += pcm.size
        return self.vad.process(pcm)

    def clip(self, start_ms: float, end_ms: float) -> Pcm:
        """The samples kept between two session times."""
        a = max(0, int(start_ms * self.rate / 1000) - self._first)
        b = max(a, int(end_ms * self.rate / 1000) - self._first)
        return np.frombuffer(bytes(self._kept[2 * a : 2 * b]), dtype="<i2").astype(np.int16)

    def trim(self) -> None:
        """Forget old input: all but the last second while nobody speaks, else all but 30 s
        (done once a second of input has piled up, to keep the work per frame small)."""
        keep = (_MAX_MS if self.vad.in_speech else _KEEP_MS) * self.rate // 1000
        held = len(self._kept) // 2
        if held > keep + self.rate:
            drop = held - keep
            del self._kept[: 2 * drop]
            self._first += drop


class LiveModel:
    """The echo model of one session (see the module docstring). ``send(type, **fields)``
    sends a server event with a fresh ``event_id``; ``delegation()`` is the session's current
    delegation config; ``backend(delegation_id, response_id, task)`` hands a task to the
    Responses backend."""

    def __init__(
        self,
        *,
        fmt: LiveFormat,
        mixer: Mixer,
        clock: Callable[[], float],
        send: Callable[..., None],
        new_id: Callable[[str], str],
        delegation: Callable[[], Json],
        scripts: list[DelegationScript],
        backend: Callable[[str, str, str], None],
        silence_ms: int,
        prefix_ms: int,
        barge_in_ms: int,
        threshold: float = 0.5,
    ) -> None:
        self.fmt = fmt
        self.mixer = mixer
        self.ears = Ears(fmt, silence_ms=silence_ms, threshold=threshold)
        self._clock = clock
        self._send = send
        self._new_id = new_id
        self._delegation = delegation
        self._scripts = scripts
        self._backend = backend
        self.prefix_ms = prefix_ms
        self.barge_in_ms = barge_in_ms
        self.muted = False
        self.fixture = False
        #: Delegations made so far: id -> target.
        self.delegations: dict[str, str] = {}
        #: Session times (ms) of the first voiced block of each barge-in.
        self.barge_ins: list[float] = []
        #: Utterances heard (each answered or delegated).
        self.utterances = 0
        self._onset_ms = 0.0
        self._acks: list[asyncio.TimerHandle] = []

    def hear(self, pcm: Pcm) -> None:
        """Input audio (PCM16 at the session rate) reaches the model."""
        if self.muted or self.fixture:
            pcm = np.zeros(pcm.size, np.int16)
        for kind, ms in self.ears.hear(pcm):
            if kind == "started":
                self._onset(ms)
            else:
                self._utterance(self._onset_ms, ms)
        self.ears.trim()

    def _onset(self, ms: float) -> None:
        self._onset_ms = ms
        if self.mixer.speaking:
            left_ms = max(0.0, self.barge_in_ms - (self.ears.now_ms - ms))
            self.mixer.cut(self._clock() + left_ms / 1000)
            self.barge_ins.append(ms)

    def _utterance(self, start_ms: float, end_ms: float) -> None:
        self.utterances += 1
        pcm = self.ears.clip(start_ms - self.prefix_ms, end_ms)
        delegates = self._delegation()["type"] != "decisions"
        script = next((s for s in self._scripts if s.take()), None) if delegates else None
        heard = describe_pcm(self.ears.clip(start_ms, end_ms), self.fmt.rate)
        if script is not None and script.heard is not None:
            heard = script.heard
        self._send(
            "session.input_transcript.delta",
            delta=heard,
            start_ms=round(start_ms),
            end_ms=round(end_ms),
        )
        if script is not None:
            self.delegate(heard)
            return
        echo = pcm[: ECHO_MAX_MS * self.fmt.rate // 1000]
        said = (
            f"{ECHO_PREFIX} I heard {pcm.size / self.fmt.rate:.2f} s of audio at "
            f"{au.level_dbfs(pcm):.1f} dBFS; this is it played back."
        )
        self.mixer.say(Speech(self.fmt.encode(echo), said))

    def speak(self, text: str) -> None:
        """Say ``text`` (a tone under its words), after whatever is being said."""
        tone = au.tone(speech_ms(text), self.fmt.rate)
        self.mixer.say(Speech(self.fmt.encode(tone), text))

    def delegate(self, task: str) -> str:
        """Delegate ``task`` as the session's delegation type says; return the delegation id."""
        config = self._delegation()
        target = config["type"]
        delegation_id = self._new_id("item")
        meta: Json = {"id": delegation_id, "type": "delegation", "target": target}
        response_id = self._new_id("resp") if target == "responses" else None
        if response_id is not None:
            meta["response_id"] = response_id
        self._send("session.delegation.created", offset_ms=round(self.ears.now_ms), delegation=meta)
        self.delegations[delegation_id] = target
        delay = config.get("acknowledgement_delay_ms") or 0
        loop = asyncio.get_running_loop()
        self._acks.append(loop.call_later(delay / 1000, self._acknowledge))
        if response_id is not None:
            self._backend(delegation_id, response_id, task)
        return delegation_id

    def _acknowledge(self) -> None:
        self.speak(f"{ECHO_PREFIX} one moment.")

    def cancel_acknowledgements(self) -> None:
        """A commentary or thinking append cancels every pending acknowledgement."""
        for handle in self._acks:
            handle.cancel()
        self._acks.clear()

    def close(self) -> None:
        self.cancel_acknowledgements()
        self.mixer.close()

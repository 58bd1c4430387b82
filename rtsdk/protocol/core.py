"""The seam between the session layer and a protocol: what every protocol core gives it.

The session layer (:mod:`rtsdk.session`: the link, the outbox, dispatch, the audio paths,
metrics, recycling) knows no event name of any API. It drives one *protocol core*, a sans-I/O
object that turns received events into :class:`Actions` (a vocabulary that means the same for
every API) and the app's intents into frames. :class:`ProtocolCore` lists what the session layer
calls. The Realtime API's core is :class:`~rtsdk.protocol.state.ClientSessionState`; a
continuous protocol (GPT-Live: no turns, no item ids on audio, no truncate) implements the same
members, answering with empty frames where it has no such thing (``barge_in`` with nothing to
cut, ``response_active`` always False).

Output audio is recognised down and framed up by compiled kernels that the core names
(:attr:`ProtocolCore.decode_output_audio`, :attr:`ProtocolCore.encode_input_audio`), so the seam
costs no Python call per audio frame.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from .. import kernels
from ..exceptions import RtsdkError
from .errors import ErrorKind

__all__ = ["Actions", "FunctionCall", "ProtocolCore", "input_encoder"]

Json = dict[str, Any]


@dataclass(frozen=True, slots=True)
class FunctionCall:
    """A function call the model made; answer it with ``submit_function_output(call_id, ...)``."""

    call_id: str
    name: str
    arguments: str
    response_id: str
    item_id: str


@dataclass(slots=True)
class Actions:
    """What the session layer must do after one received event (the same for every API).

    ``send``: frames to send now, in order. ``stop_playback``: the user started speaking; drop
    queued assistant audio now. ``function_calls``: calls to run (given once, when their
    response is done). ``error``: the kind of a server error (see :class:`ErrorKind`).

    Lifecycle: ``ready`` (the server confirmed the session config: the handshake is over),
    ``rejected`` (it refused that config: the handshake fails with this), ``failure`` (the session
    cannot go on: a refused key, a model the service will not serve), ``renew`` (the server ended
    the session; open a new connection, for this reason), ``problem`` (a server error to report;
    the session goes on), ``unreadable`` (a frame that could not be read, described),
    ``closed`` (the server confirmed the end of the session it had: a close the app asked for is
    complete).

    Timing and playback: ``turn_ended`` (the user's speech ended: the latency clock starts),
    ``response_started`` / ``response_finished`` (a response id), ``first_output`` (the response
    whose first text arrived), ``output_done`` (an output whose audio is complete: the playback
    may flush it).
    """

    send: list[Json] = field(default_factory=list)
    stop_playback: bool = False
    function_calls: list[FunctionCall] = field(default_factory=list)
    error: ErrorKind | None = None
    ready: bool = False
    rejected: RtsdkError | None = None
    failure: RtsdkError | None = None
    renew: str | None = None
    problem: str | None = None
    unreadable: str | None = None
    turn_ended: bool = False
    response_started: str | None = None
    response_finished: str | None = None
    first_output: str | None = None
    output_done: str | None = None
    closed: bool = False


def input_encoder(event_type: str) -> Callable[..., bytes]:
    """A core's ``encode_input_audio`` for appends of type ``event_type`` (the compiled
    :func:`~rtsdk.kernels.encode_append` with that head)."""

    def encode_input_audio(
        audio: Any, event_id: str | None = None, *, sample_width: int = 2
    ) -> bytes:
        return kernels.encode_append(
            audio, event_id, sample_width=sample_width, event_type=event_type
        )

    return encode_input_audio


class ProtocolCore(Protocol):
    """What the session layer asks of a protocol core (sans-I/O; see the module docstring)."""

    @property
    def decode_output_audio(self) -> Callable[[bytes], Any]:
        """``(frame) -> (response_id, output_id, audio) | None``: recognise an output audio
        frame without a JSON parse (None: not one; parse it as an event). Compiled."""
        ...

    @property
    def encode_input_audio(self) -> Callable[..., bytes]:
        """``(audio) -> frame``: frame input audio for the wire. Compiled."""
        ...

    @property
    def audio(self) -> Mapping[str, Any]:
        """Per output: bytes received and played (the compiled player counts into these)."""
        ...

    @property
    def input_audio_event(self) -> str | None:
        """The event type of input audio frames, for the audio layer's compiled framers (None:
        the kernels' default, ``input_audio_buffer.append``)."""
        ...

    @property
    def output_audio_event(self) -> str:
        """The event type of output audio (parsed only when someone listens to it)."""
        ...

    @property
    def ready_event(self) -> str:
        """The server event that confirms a connection's session (the handshake's end)."""
        ...

    @property
    def gate_sends(self) -> bool:
        """Whether every send waits for :attr:`ready_event` on each connection."""
        ...

    @property
    def tracks_acks(self) -> bool:
        """Whether the link should remember this protocol's control events until
        :meth:`acknowledges` says the server got them (see :mod:`.acks`)."""
        ...

    def acknowledges(self, event: Any, sent: Json) -> bool:
        """Whether server ``event`` shows the server got client event ``sent``."""
        ...

    def take_back(self, sent: list[Json]) -> None:
        """Client events a dead connection never confirmed, for the next :meth:`on_connect`."""
        ...

    @property
    def resent(self) -> list[Json]:
        """What the last :meth:`on_connect` asks the session to send again, after its own
        frames (and, for a gated protocol, once the gate opened), tracked as any send."""
        ...

    @property
    def unsent(self) -> list[Json]:
        """What the last :meth:`on_connect` reports as lost with the old connection."""
        ...

    @property
    def event_types(self) -> frozenset[str]:
        """Every server event type of the protocol (others reach handlers as unknown)."""
        ...

    @property
    def response_active(self) -> bool:
        """True while the model produces a turn the session must not cut (recycling waits)."""
        ...

    @property
    def received_audio_bytes(self) -> int:
        """Output audio bytes received over the session's connections."""
        ...

    def on_connect(self, *, replay: bool = False) -> list[Json]:
        """The frames that open a connection (the session config first, then what a
        reconnect must resend)."""
        ...

    def parse(self, frame: str | bytes) -> Any:
        """One received frame as a typed event (never raises)."""
        ...

    def encode(self, frame: Json) -> str:
        """One frame as the wire text."""
        ...

    @property
    def replayed(self) -> int:
        """Conversation items the last :meth:`on_connect` resent."""
        ...

    def asks_response(self, frame: Json) -> bool:
        """Whether sending ``frame`` asks the model for a response (starts the latency clock)."""
        ...

    def input_intent(self, frame: Json) -> str | None:
        """``"commit"`` or ``"clear"`` for a frame that ends or drops the input sent so far."""
        ...

    def interrupts_playback(self, event: Any) -> bool:
        """True when ``event`` means the user barged in (played audio is taken first)."""
        ...

    def handle(self, event: Any) -> Actions:
        """Apply one received event; what the session layer must do."""
        ...

    def barge_in(self, *, cancel: bool | None = None) -> list[Json]:
        """The user interrupts locally: the frames that stop and cut the model's output."""
        ...

    def audio_received(self, item_id: str, nbytes: int, response_id: str = "") -> bool:
        """Count output audio; False: drop it (its output was cut)."""
        ...

    def audio_played(self, item_id: str, samples: int) -> None:
        """Samples of an output the user has heard."""
        ...

    def plays_audio(self, item_id: str, response_id: str) -> bool:
        """Whether further audio of this output is to be played."""
        ...

    def submit_function_output(self, call_id: str, output: str) -> list[Json]:
        """A tool's result: the frames that give it to the model (once all are in)."""
        ...

    def close(self) -> list[Json]:
        """The frames that end the session politely before the socket closes (may be none)."""
        ...

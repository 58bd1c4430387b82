"""The app's intents, as the service carries them out: a part of
:class:`~rtsdk.session.service.RealtimeAIServiceManager` (it inherits :class:`Intents`).

Each intent asks the protocol core for its frames and posts them in order with every other
send. An intent only one API has goes to that API's core (:meth:`Intents.realtime`,
:meth:`Intents.live`), which raises :class:`~rtsdk.exceptions.ConfigurationError` naming the
API on the other one, so no frame the service would refuse is ever sent. Registered tools run
here too: each call in its own task, results published in call order.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from rtsdk.exceptions import ConfigurationError
from rtsdk.protocol import ServerEvent, SessionSettings, TranscriptionSettings
from rtsdk.protocol.core import FunctionCall
from rtsdk.protocol.live import LiveSettings
from rtsdk.protocol.live_core import LiveCore
from rtsdk.protocol.realtime_core import RealtimeCore
from rtsdk.protocol.translation import TranslationCore, TranslationSettings
from rtsdk.session.events import ToolResultEvent
from rtsdk.session.playback import AudioPlayback
from rtsdk.session.tools import ToolRegistry, ToolResult

__all__ = ["Intents"]

log = logging.getLogger("rtsdk.service")


class Intents:
    """The service's intents (see the module docstring)."""

    # the service's (set in its __init__)
    state: RealtimeCore | LiveCore | TranslationCore
    tools: ToolRegistry
    playback: AudioPlayback | None
    _tasks: set[asyncio.Task[Any]]
    _closed: bool
    _ended: bool

    if TYPE_CHECKING:  # the service's own

        def _post_json(self, frame: dict[str, Any]) -> None: ...

        def _publish(self, event: ServerEvent) -> None: ...

        def _disarm(self) -> None: ...

    def realtime(self, what: str) -> RealtimeCore:
        """The Realtime core, for an intent only the Realtime API has (``what``); raises
        :class:`ConfigurationError` naming the session's API otherwise."""
        state = self.state
        if isinstance(state, LiveCore):
            raise ConfigurationError(
                f"{what} has no meaning on GPT-Live (no turns, responses or truncation: the "
                "model listens and speaks continuously and stops by itself when interrupted)"
            )
        if isinstance(state, TranslationCore):
            raise ConfigurationError(
                f"{what} has no meaning in a translation session (no turns, responses or "
                "items: speech in, translated speech out, continuously)"
            )
        return state

    def live(self, what: str) -> LiveCore:
        """The GPT-Live core, for an intent only GPT-Live has (``what``)."""
        state = self.state
        if not isinstance(state, LiveCore):
            raise ConfigurationError(f"{what} needs a GPT-Live session (a gpt-live- model)")
        return state

    def request_response(self, **overrides: Any) -> None:
        """``response.create`` now, or once the active response is done."""
        for frame in self.realtime("generate_response").request_response(**overrides):
            self._post_json(frame)

    def cancel_response(self) -> None:
        """Cancel the active response (nothing when none is active)."""
        for frame in self.realtime("cancel_response").cancel_response():
            self._post_json(frame)

    def submit_function_output(self, call_id: str, output: str) -> None:
        """The output of a function call; the follow-up ``response.create`` goes out once all
        outputs of that response are in."""
        for frame in self.state.submit_function_output(call_id, output):
            self._post_json(frame)

    def update_settings(
        self,
        settings: SessionSettings | TranscriptionSettings | LiveSettings | TranslationSettings,
        *,
        send: bool = True,
    ) -> None:
        """New session settings: sent now (unless ``send=False``: before connecting) and on
        every later connect (GPT-Live: only its delegation and triggers can change; another
        change raises ``ConfigurationError``)."""
        state = self.state
        if isinstance(state, LiveCore):
            if not isinstance(settings, LiveSettings):
                raise ConfigurationError("a GPT-Live session takes GPT-Live settings")
            frames = state.update_settings(settings)
        elif isinstance(state, TranslationCore):
            if not isinstance(settings, TranslationSettings):
                raise ConfigurationError("a translation session takes translation settings")
            frames = state.update_settings(settings)
        else:
            if isinstance(settings, (LiveSettings, TranslationSettings)):
                raise ConfigurationError("a Realtime session takes Realtime settings")
            frames = state.update_settings(settings)
        for frame in frames if send else ():
            self._post_json(frame)

    def barge_in(self) -> None:
        """The user interrupts locally (push-to-talk): stop playback, cancel, truncate."""
        self._sync_played(interrupt=True)
        for frame in self.state.barge_in():
            self._post_json(frame)

    def drop_output(self) -> None:
        """Stop the playback now and drop the output it holds (the played part is counted)."""
        self._sync_played(interrupt=True)

    def _sync_played(self, *, interrupt: bool = False) -> None:
        self._disarm()
        playback = self.playback
        if playback is None:
            return
        try:
            played = playback.interrupt() if interrupt else playback.take_played()
        except Exception:
            log.exception("playback accounting failed")
            return
        for item_id, samples in played:
            self.state.audio_played(item_id, samples)

    def _run_tools(self, calls: list[FunctionCall]) -> None:
        # results are published in call order: each once it and the calls before it are in
        order = [c for c in calls if c.name in self.tools]
        results: dict[str, ToolResult] = {}

        def report(result: ToolResult) -> None:
            results[result.call_id] = result
            while order and order[0].call_id in results:
                call = order.pop(0)
                done = results.pop(call.call_id)
                self._publish(ToolResultEvent(response_id=call.response_id, **asdict(done)))

        for call in order:
            task = self.tools.start(
                call.name, call.call_id, call.arguments, self._tool_output, report=report
            )
            if task is not None:
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)

    def _tool_output(self, call_id: str, output: str) -> None:
        if not self._closed and not self._ended:
            self.submit_function_output(call_id, output)

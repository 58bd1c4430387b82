"""The client's GA helpers: transcripts, images, tracked and out-of-band responses, items by
id, and the MCP approval round trip. :class:`GaHelpers` is mixed into
:class:`~rtsdk.client.AsyncRealtimeAIClient`; it works through the client's service manager:
``send`` / the session state for frames out, and two synchronous taps in (every published
event, and the decoded output audio of the fast path), so that it sees a response's
``response.created`` before that response's first audio frame.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from rtsdk.client.media import MAX_IMAGE_BYTES, image_data_url
from rtsdk.client.responses import ResponseHandle, ResponseTracker
from rtsdk.client.transcripts import Transcript, iter_transcripts
from rtsdk.exceptions import ConfigurationError, ConnectionClosedError, RtsdkError
from rtsdk.mcp import ApprovalPolicy, McpApprovalRequest, check_policy, decide
from rtsdk.models import not_reasoning
from rtsdk.protocol import (
    ServerEvent,
    conversation_item_create,
    conversation_item_delete,
    conversation_item_retrieve,
    mcp_approval_response_item,
    user_image_item,
)
from rtsdk.protocol import events as ev

if TYPE_CHECKING:
    from rtsdk.session.options import RealtimeAIOptions
    from rtsdk.session.service import RealtimeAIServiceManager

__all__ = ["GaHelpers", "ItemRequestError"]

log = logging.getLogger("rtsdk.client")

Json = dict[str, Any]


class ItemRequestError(RtsdkError):
    """The server refused ``retrieve_item`` / ``delete_item``; ``code`` is the server's
    (``item_retrieve_invalid_item_id`` / ``item_delete_invalid_item_id``: no such item)."""

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.code = code


class GaHelpers:
    """GA helpers of the async client (see the module docstring)."""

    _service: RealtimeAIServiceManager
    options: RealtimeAIOptions

    def _init_ga(self, mcp_approval: ApprovalPolicy | None) -> None:
        check_policy(mcp_approval)
        self.mcp_approval = mcp_approval
        self._responses = ResponseTracker()
        # item requests waiting for their reply: (kind, item_id, event_id, future)
        self._item_waits: list[tuple[str, str, str, asyncio.Future[Json]]] = []
        self._ga_tasks: set[asyncio.Task[Any]] = set()
        self._service.add_observer(self._observe)
        self._service.audio_tap = self._tap_audio
        self._service.audio_tap_wants = self._responses.wants_audio

    # -- taps ----------------------------------------------------------------------------

    def _tap_audio(self, response_id: str, item_id: str, audio: bytes) -> None:
        self._responses.audio(response_id, audio)  # only asked for wanted responses

    def _observe(self, event: ServerEvent) -> None:
        self._responses.feed(event)
        etype = event.type
        if etype == "rtsdk.disconnected":
            self._end_waits(getattr(event, "reason", "the session ended"))
        elif etype in ("rtsdk.reconnected", "rtsdk.session_recycled"):
            # the old connection's responses and item requests will never be answered
            self._responses.fail_in_flight("the connection was renewed during the response")
            self._fail_item_waits("the connection was renewed before the reply")
        elif isinstance(event, ev.ConversationItemRetrievedEvent):
            self._resolve("retrieve", str(event.item.get("id")), event.item)
        elif isinstance(event, ev.ConversationItemDeletedEvent):
            self._resolve("delete", event.item_id, {"id": event.item_id})
        elif isinstance(event, ev.ErrorEvent) and isinstance(event.error, dict):
            self._refused(event.error)
        elif (
            isinstance(event, ev.ResponseOutputItemDoneEvent)
            and event.item.get("type") == "mcp_approval_request"
            and self.mcp_approval is not None
        ):
            request = McpApprovalRequest.from_item(event.item, event.response_id)
            task = asyncio.get_running_loop().create_task(self._auto_approve(request))
            self._ga_tasks.add(task)
            task.add_done_callback(self._ga_tasks.discard)

    def _resolve(self, kind: str, item_id: str, value: Json) -> None:
        for wait in list(self._item_waits):
            if wait[0] == kind and wait[1] == item_id:
                self._item_waits.remove(wait)
                if not wait[3].done():
                    wait[3].set_result(value)

    def _refused(self, error: Json) -> None:
        blamed = error.get("event_id")
        for wait in list(self._item_waits):
            if blamed is not None and wait[2] == blamed:
                self._item_waits.remove(wait)
                if not wait[3].done():
                    wait[3].set_exception(
                        ItemRequestError(
                            f"{wait[0]} of item {wait[1]!r} refused "
                            f"({error.get('code') or error.get('type')}): {error.get('message')}",
                            code=error.get("code"),
                        )
                    )

    def _end_waits(self, reason: str) -> None:
        self._responses.fail_all(reason)
        self._fail_item_waits(f"the session ended ({reason})")

    def _fail_item_waits(self, why: str) -> None:
        waits, self._item_waits = self._item_waits, []
        for kind, item_id, _, future in waits:
            if not future.done():
                future.set_exception(ConnectionClosedError(f"{kind} of {item_id!r}: {why}"))
                future.exception()

    def _conversation_only(self, what: str) -> None:
        if self.options.session_type == "transcription":
            raise ConfigurationError(
                f"{what} needs a conversation; this is a transcription session "
                "(session_type='transcription' has no responses)"
            )

    # -- transcripts ---------------------------------------------------------------------

    def transcripts(self) -> AsyncIterator[Transcript]:
        """One :class:`~rtsdk.client.transcripts.Transcript` per finished turn from now on (item id,
        text, start/end in the stream, language, logprobs when the session asked for them),
        until the session ends. Works in transcription sessions and in conversations with
        input transcription on."""
        language = self.options.language or self.options.transcription_language
        return iter_transcripts(self._service.events(), language=language)

    # -- images --------------------------------------------------------------------------

    async def send_image(
        self,
        image: bytes | bytearray | memoryview | str | os.PathLike[str],
        *,
        detail: str | None = None,
        text: str | None = None,
        respond: bool = True,
        max_bytes: int = MAX_IMAGE_BYTES,
    ) -> None:
        """Add a user message with an image (PNG or JPEG bytes, or a file path) and, with
        ``respond``, ask for a response. ``detail``: ``"auto"``, ``"low"`` or ``"high"``;
        ``text``: words to go with it in the same message. A file that cannot be read, a type
        other than PNG/JPEG or more than ``max_bytes`` raise
        :class:`~rtsdk.exceptions.ConfigurationError` saying which; nothing is sent then."""
        self._service.realtime("send_image")
        self._conversation_only("send_image")
        item = user_image_item(image_data_url(image, max_bytes=max_bytes), detail=detail, text=text)
        self._service.send(conversation_item_create(item))
        if respond:
            self._service.request_response()

    # -- responses -----------------------------------------------------------------------

    def _tracked_response(self, overrides: dict[str, Any]) -> ResponseHandle:
        self._conversation_only("generate_response")
        info = not_reasoning(self.options.catalogue_model)
        if info is not None:
            wrong = [k for k in ("reasoning", "parallel_tool_calls") if k in overrides]
            if wrong:
                raise ConfigurationError(
                    f"generate_response: {wrong[0]} needs a reasoning model; {info.name!r} "
                    "does not reason"
                )
        handle, tagged = self._responses.request(overrides, asyncio.get_running_loop())
        frames = self._service.realtime("generate_response").request_response(**tagged)
        for frame in frames:
            self._service.send(frame)
            if frame.get("type") == "response.create":
                self._responses.sent(handle.request_id, frame.get("event_id"))
        return handle

    # -- items ---------------------------------------------------------------------------

    async def _item_request(self, kind: str, frame: Json, item_id: str, timeout: float) -> Json:
        future: asyncio.Future[Json] = asyncio.get_running_loop().create_future()
        wait = (kind, item_id, str(frame["event_id"]), future)
        self._item_waits.append(wait)
        try:
            self._service.send(frame)
            return await asyncio.wait_for(future, timeout)
        except asyncio.TimeoutError:
            raise TimeoutError(
                f"no reply to the {kind} of item {item_id!r} within {timeout} s"
            ) from None
        finally:
            if wait in self._item_waits:
                self._item_waits.remove(wait)

    async def retrieve_item(self, item_id: str, *, timeout: float = 10.0) -> Json:
        """The item as the server holds it (``conversation.item.retrieved``), audio included
        (base64 in its ``audio`` content). Raises :class:`ItemRequestError` when the server
        refuses (an unknown id), ``TimeoutError`` without a reply."""
        self._service.realtime("retrieve_item")
        if not isinstance(item_id, str) or not item_id:
            raise ConfigurationError("retrieve_item: item_id must be a non-empty str")
        return await self._item_request(
            "retrieve", conversation_item_retrieve(item_id), item_id, timeout
        )

    async def delete_item(self, item_id: str, *, timeout: float = 10.0) -> None:
        """Delete an item from the conversation; returns once ``conversation.item.deleted``
        came. Raises :class:`ItemRequestError` when the server refuses."""
        self._service.realtime("delete_item")
        if not isinstance(item_id, str) or not item_id:
            raise ConfigurationError("delete_item: item_id must be a non-empty str")
        await self._item_request("delete", conversation_item_delete(item_id), item_id, timeout)

    # -- MCP -----------------------------------------------------------------------------

    async def approve_mcp(
        self,
        request: McpApprovalRequest | str,
        approve: bool = True,
        *,
        reason: str | None = None,
        respond: bool = False,
    ) -> None:
        """Answer an MCP approval request (the request, or its item id) with an
        ``mcp_approval_response`` item placed right after it. The service goes on by itself
        (the approved call, or the model's word on the denial); ``respond=True`` also asks
        for a response, for a server that waits for one."""
        self._service.realtime("approve_mcp")
        request_id = request.id if isinstance(request, McpApprovalRequest) else request
        item = mcp_approval_response_item(request_id, approve, reason=reason)
        self._service.send(conversation_item_create(item, previous_item_id=request_id))
        if respond:
            self._service.request_response()

    async def _auto_approve(self, request: McpApprovalRequest) -> None:
        policy = self.mcp_approval
        if policy is None:
            return
        approve, reason = await decide(policy, request)
        log.info(
            "MCP call %s on %s %s",
            request.name,
            request.server_label,
            "approved" if approve else "denied",
        )
        with contextlib.suppress(ConnectionClosedError):  # the session ended meanwhile
            await self.approve_mcp(request, approve, reason=reason)

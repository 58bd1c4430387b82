"""The facade layer: what an app holds.

:class:`AsyncRealtimeAIClient` (on the caller's event loop) and :class:`RealtimeAIClient` (the
same client on a loop of its own, with blocking calls), with the conversation features they
share: transcripts, images, tracked and out-of-band responses, items by id, MCP approvals.
Everything below them is the session layer (:mod:`rtsdk.session`).
"""

from __future__ import annotations

from rtsdk.client.async_client import AsyncRealtimeAIClient
from rtsdk.client.sync_client import RealtimeAIClient

__all__ = ["AsyncRealtimeAIClient", "RealtimeAIClient"]

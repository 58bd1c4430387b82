"""rtsdk: a fast, dependable real-time voice SDK for OpenAI's and Azure OpenAI's voice APIs
(the Realtime API and GPT-Live).

>>> from rtsdk import RealtimeAIClient, RealtimeAIOptions, RealtimeEventHandler

The client classes are imported on first use, so ``import rtsdk.protocol`` (sans-I/O) or
``import rtsdk.kernels`` stays free of asyncio and websockets.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from rtsdk.exceptions import (
    AudioDeviceError,
    AudioFormatError,
    AuthenticationError,
    ConfigurationError,
    ConnectionClosedError,
    ModelUnavailableError,
    ProtocolError,
    RtsdkError,
    ServerError,
)

if TYPE_CHECKING:
    from rtsdk.audio.options import AudioStreamOptions
    from rtsdk.client import AsyncRealtimeAIClient, RealtimeAIClient
    from rtsdk.client.handler import RealtimeEventHandler
    from rtsdk.client.live_handler import LiveEventHandler
    from rtsdk.client.live_transcripts import TranscriptLine
    from rtsdk.link.websocket import WebSocketManager
    from rtsdk.session.metrics import SessionMetrics
    from rtsdk.session.options import RealtimeAIOptions
    from rtsdk.session.service import RealtimeAIServiceManager

__version__ = "0.1.0"

_LAZY = {
    "AsyncRealtimeAIClient": "rtsdk.client.async_client",
    "AudioStreamOptions": "rtsdk.audio.options",
    "LiveEventHandler": "rtsdk.client.live_handler",
    "RealtimeAIClient": "rtsdk.client.sync_client",
    "RealtimeAIOptions": "rtsdk.session.options",
    "RealtimeAIServiceManager": "rtsdk.session.service",
    "RealtimeEventHandler": "rtsdk.client.handler",
    "SessionMetrics": "rtsdk.session.metrics",
    "TranscriptLine": "rtsdk.client.live_transcripts",
    "WebSocketManager": "rtsdk.link.websocket",
}

__all__ = [
    "AsyncRealtimeAIClient",
    "AudioDeviceError",
    "AudioFormatError",
    "AudioStreamOptions",
    "AuthenticationError",
    "ConfigurationError",
    "ConnectionClosedError",
    "LiveEventHandler",
    "ModelUnavailableError",
    "ProtocolError",
    "RealtimeAIClient",
    "RealtimeAIOptions",
    "RealtimeAIServiceManager",
    "RealtimeEventHandler",
    "RtsdkError",
    "ServerError",
    "SessionMetrics",
    "TranscriptLine",
    "WebSocketManager",
    "__version__",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'rtsdk' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))

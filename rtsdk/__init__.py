"""rtsdk: a fast, dependable real-time voice SDK for the OpenAI and Azure OpenAI Realtime APIs.

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
    from rtsdk.events import RealtimeEventHandler
    from rtsdk.metrics import SessionMetrics
    from rtsdk.options import RealtimeAIOptions
    from rtsdk.service import RealtimeAIServiceManager
    from rtsdk.websocket import WebSocketManager

__version__ = "0.1.0"

_LAZY = {
    "AsyncRealtimeAIClient": "rtsdk.client",
    "AudioStreamOptions": "rtsdk.audio.options",
    "RealtimeAIClient": "rtsdk.client",
    "RealtimeAIOptions": "rtsdk.options",
    "RealtimeAIServiceManager": "rtsdk.service",
    "RealtimeEventHandler": "rtsdk.events",
    "SessionMetrics": "rtsdk.metrics",
    "WebSocketManager": "rtsdk.websocket",
}

__all__ = [
    "AsyncRealtimeAIClient",
    "AudioDeviceError",
    "AudioFormatError",
    "AudioStreamOptions",
    "AuthenticationError",
    "ConfigurationError",
    "ConnectionClosedError",
    "ModelUnavailableError",
    "ProtocolError",
    "RealtimeAIClient",
    "RealtimeAIOptions",
    "RealtimeAIServiceManager",
    "RealtimeEventHandler",
    "RtsdkError",
    "ServerError",
    "SessionMetrics",
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

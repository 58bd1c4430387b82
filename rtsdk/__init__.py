"""rtsdk: a fast, dependable real-time voice SDK for the OpenAI and Azure OpenAI Realtime APIs."""

from __future__ import annotations

from rtsdk.exceptions import (
    AudioDeviceError,
    AudioFormatError,
    AuthenticationError,
    ConfigurationError,
    ConnectionClosedError,
    ProtocolError,
    RtsdkError,
    ServerError,
)

__version__ = "0.1.0"

__all__ = [
    "AudioDeviceError",
    "AudioFormatError",
    "AuthenticationError",
    "ConfigurationError",
    "ConnectionClosedError",
    "ProtocolError",
    "RtsdkError",
    "ServerError",
    "__version__",
]

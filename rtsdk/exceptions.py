"""The exceptions rtsdk raises.

Every exception derives from :class:`RtsdkError`::

    RtsdkError
    ├── ConfigurationError      bad options (names the field, never shows the key)
    │   └── ModelUnavailableError   the service will not serve the model (shut down, no access)
    ├── AudioFormatError        wrong dtype, rate, channel count, byte count (also a ValueError)
    ├── AuthenticationError     the server refused the credentials (never retried)
    ├── ConnectionClosedError   the connection ended and could not be restored
    ├── ProtocolError           a malformed or unexpected event (also a ValueError)
    ├── ServerError             an ``error`` event from the server, with its ``code``
    └── AudioDeviceError        the audio device (or PortAudio itself) is missing or failed

No exception carries the API key or a whole raw payload.
"""

from __future__ import annotations

__all__ = [
    "AudioDeviceError",
    "AudioFormatError",
    "AuthenticationError",
    "ConfigurationError",
    "ConnectionClosedError",
    "ModelUnavailableError",
    "ProtocolError",
    "RtsdkError",
    "ServerError",
]


class RtsdkError(Exception):
    """Base class of every error rtsdk raises."""


class ConfigurationError(RtsdkError, ValueError):
    """An option has a value rtsdk cannot use; the message names the option."""


class ModelUnavailableError(ConfigurationError):
    """The service refused the session's model (``model_not_found``): shut down on its
    announced date, or not available to this key. ``model`` names it; when the model catalogue
    (:mod:`rtsdk.models`) has it past its shutdown date, the message says so and names the
    replacement."""

    def __init__(self, message: str, *, model: str | None = None) -> None:
        super().__init__(message)
        self.model = model


class AudioFormatError(RtsdkError, ValueError):
    """Audio of the wrong dtype, rate, channel count, layout or length."""


class AuthenticationError(RtsdkError):
    """The server refused the credentials. Retrying with the same key will not help."""


class ConnectionClosedError(RtsdkError):
    """The connection closed and was not (or could not be) re-established."""


class ProtocolError(RtsdkError, ValueError):
    """A frame that is not valid JSON, lacks ``type``, or breaks the protocol."""


class ServerError(RtsdkError):
    """An ``error`` event sent by the server.

    ``code`` and ``type`` are the server's (open strings); ``event_id`` is the client event the
    server blamed, when it said.
    """

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        type: str | None = None,
        param: str | None = None,
        event_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.type = type
        self.param = param
        self.event_id = event_id


class AudioDeviceError(RtsdkError):
    """An audio device could not be opened or failed, or PortAudio is not installed."""

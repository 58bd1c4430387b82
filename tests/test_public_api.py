"""The public API: every name importable from its documented module.

The lists were taken from the package's ``__all__`` before the package was laid out by layer
(and grow with new public names); a module that moves keeps its names reachable here, so an app
that imports from ``rtsdk``, ``rtsdk.audio``, ``rtsdk.protocol``, ``rtsdk.testing``,
``rtsdk.telephony``, ``rtsdk.mcp``, ``rtsdk.kernels`` or ``rtsdk.models`` keeps working.
"""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

PUBLIC: dict[str, tuple[str, ...]] = {
    "rtsdk": (
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
    ),
    "rtsdk.audio": (
        "AudioBridge",
        "AudioSink",
        "AudioSource",
        "AudioStats",
        "AudioStreamManager",
        "AudioStreamOptions",
        "BridgeClosed",
        "DeviceInfo",
        "DeviceSink",
        "DeviceSource",
        "EndOfStream",
        "Playback",
        "PushSource",
        "SUPPORTED_RATES",
        "WavSink",
        "WavSource",
        "describe_devices",
        "list_devices",
        "read_wav",
    ),
    "rtsdk.protocol": (
        "Actions",
        "BETA_SERVER_TYPE_ALIASES",
        "CLIENT_EVENT_TYPES",
        "ClientEvent",
        "ClientSessionState",
        "ErrorKind",
        "EventIds",
        "FunctionCall",
        "Problem",
        "ProtocolErrorEvent",
        "SERVER_EVENT_TYPES",
        "ServerEvent",
        "SessionSettings",
        "TranscriptionSettings",
        "UnknownClientEvent",
        "UnknownServerEvent",
        "assistant_text_item",
        "bytes_per_ms",
        "classify_error",
        "client_event_problems",
        "conversation_item_create",
        "conversation_item_delete",
        "conversation_item_retrieve",
        "conversation_item_truncate",
        "decode_frame",
        "encode_event",
        "format_object",
        "function_call_item",
        "function_call_output_item",
        "input_audio_buffer_append",
        "input_audio_buffer_clear",
        "input_audio_buffer_commit",
        "mcp_approval_response_item",
        "normalize_session",
        "parse_client_event",
        "parse_server_event",
        "response_cancel",
        "response_create",
        "server_event_from_dict",
        "session_update",
        "system_message_item",
        "to_beta_client_event",
        "to_beta_session",
        "unknown_client_keys",
        "user_audio_item",
        "user_image_item",
        "user_text_item",
    ),
    "rtsdk.testing": (
        "Faults",
        "FunctionCallScript",
        "LocalRealtimeServer",
        "McpCallScript",
        "ServerConnection",
        "ServerHandle",
    ),
    "rtsdk.telephony": (
        "CallError",
        "CallInfo",
        "CallStats",
        "Downlink",
        "DtmfEvent",
        "PhoneCall",
        "PhoneCallHandler",
        "PhoneServer",
        "twiml_connect_stream",
    ),
    "rtsdk.mcp": (
        "ApprovalPolicy",
        "McpApprovalRequest",
        "McpServer",
        "check_policy",
        "decide",
    ),
    "rtsdk.kernels": (
        "AppendFramer",
        "BACKEND",
        "DeltaPlayer",
        "EchoMeter",
        "MODULES",
        "RecordRing",
        "Resampler",
        "SpscRing",
        "TailGuard",
        "alaw_to_pcm16",
        "b64decode",
        "b64encode",
        "decode_audio_delta",
        "delta_to_media",
        "encode_append",
        "float32_to_pcm16",
        "media_to_append",
        "pcm16_to_alaw",
        "pcm16_to_float32",
        "pcm16_to_ulaw",
        "ulaw_to_pcm16",
    ),
    "rtsdk.models": (
        "DEFAULT_LIVE_MODEL",
        "DEFAULT_MODEL",
        "DEFAULT_TRANSCRIPTION_MODEL",
        "DEFAULT_TRANSLATION_MODEL",
        "MODELS",
        "REASONING_EFFORTS",
        "ModelInfo",
        "deprecation_notice",
        "model_info",
        "retired",
        "retirement_notice",
        "warn_if_deprecated",
    ),
}


@pytest.mark.parametrize("module", sorted(PUBLIC))
def test_every_public_name_imports_from_its_module(module: str) -> None:
    mod = importlib.import_module(module)
    exported = set(getattr(mod, "__all__", ()))
    for name in PUBLIC[module]:
        assert getattr(mod, name, None) is not None, f"{module}.{name} is gone"
        assert name in exported, f"{module}.__all__ lost {name!r}"


def test_the_face_imports_in_a_fresh_process() -> None:
    names = ", ".join(PUBLIC["rtsdk"])
    code = f"from rtsdk import {names}"
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)

"""Device, file and app-pushed audio I/O, and the callback-thread -> asyncio handoff."""

from __future__ import annotations

from rtsdk.audio.bridge import AudioBridge, BridgeClosed

__all__ = ["AudioBridge", "BridgeClosed"]

"""Phone calls: carrier media streams bridged to Realtime sessions, G.711 end to end.

A carrier (the Twilio Media Streams wire format, which others speak too) streams each call's
audio over a WebSocket as 8 kHz μ-law; :class:`PhoneCall` bridges one such stream to one
Realtime session in ``g711_ulaw`` without decoding or resampling a byte of it, paces the
assistant's audio by what the carrier has played (marks), and on barge-in clears the carrier
and truncates the assistant at what the caller heard. :class:`PhoneServer` serves many calls
in one process (``python -m rtsdk phone``), and answers the carrier's webhook with the
``<Connect><Stream>`` document. :class:`rtsdk.testing.caller.SimulatedCaller` places calls
without a carrier.
"""

from __future__ import annotations

from .call import CallError, CallInfo, CallStats, DtmfEvent, PhoneCall, PhoneCallHandler
from .downlink import Downlink
from .server import PhoneServer, twiml_connect_stream

__all__ = [
    "CallError",
    "CallInfo",
    "CallStats",
    "Downlink",
    "DtmfEvent",
    "PhoneCall",
    "PhoneCallHandler",
    "PhoneServer",
    "twiml_connect_stream",
]

"""The session layer: one voice session over a resilient link.

The options (:mod:`.options`, :mod:`.session_types`), the service manager that joins a
protocol core to the link (:mod:`.service`), the ordered outbox (:mod:`.outbox`), event
dispatch to handlers and iterators (:mod:`.dispatch`, :mod:`.events`), the audio uplink and the
output-audio fast path with playback accounting (:mod:`.uplink`, :mod:`.downlink`,
:mod:`.playback`), tools (:mod:`.tools`), metrics (:mod:`.metrics`) and connection recycling
(:mod:`.recycle`). It sits on :mod:`rtsdk.link` and :mod:`rtsdk.protocol`; the facades of
:mod:`rtsdk.client` sit on it. Nothing here is imported by the package until it is used.
"""

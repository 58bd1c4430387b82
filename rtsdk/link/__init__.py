"""The link layer: one resilient WebSocket to a voice service.

:mod:`.connection` opens one picows connection (TLS, auth headers, keepalive pings, a refused
upgrade as its HTTP status); :mod:`.websocket` keeps a link up over many of them
(:class:`~rtsdk.link.websocket.WebSocketManager`: reconnect with exponential backoff and full
jitter, a bounded backlog while down, recycling on request). It knows no protocol: frames in,
frames out.
"""

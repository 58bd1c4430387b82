"""When each client frame reached the server, readable from another process.

A test that runs the local server in a process of its own (``python -m rtsdk serve
--arrivals FILE``; for example inside a network namespace, behind a shaped link) cannot read the
server's :class:`~rtsdk.testing.ServerConnection` records. With ``--arrivals FILE`` (or
``server.on_received = ArrivalLog(path).note`` in code) the server appends one JSON line per
frame a client sends, as the frame arrives::

    {"t": 5123.456789, "conn": 0, "frame": {"type": "input_audio_buffer.append", "audio": "..."}}

``t`` is ``time.monotonic()`` when the server read the frame: the machine's one monotonic clock,
the same in every process and every network namespace, so a test subtracts its own
``time.monotonic()`` readings from it. ``conn`` is the connection's index on that server;
``frame`` is the frame as decoded (a dict), or its text when it was not a JSON object with a
``type`` (binary frames as UTF-8 with replacement). Frames are written whole (append audio
included) and flushed line by line, so the file can be read while the server runs;
:func:`read_arrivals` reads it back (a line still being written is left out).

The file holds what clients sent and nothing else: no header, no key (a frame carries none).
"""

from __future__ import annotations

import base64
import json
import os
import time
from dataclasses import dataclass
from typing import Any

__all__ = ["Arrival", "ArrivalLog", "read_arrivals"]


@dataclass(frozen=True, slots=True)
class Arrival:
    """One client frame as the server received it (a line of the arrivals file)."""

    t: float  #: ``time.monotonic()`` at the server when the frame was read
    conn: int  #: the connection's index on the server (0 for the first)
    frame: dict[str, Any] | str  #: the decoded frame, or its text when it was not one

    @property
    def type(self) -> str:
        """The frame's ``type``, or ``"<raw>"`` for a frame that was not a typed JSON object."""
        kind = self.frame.get("type") if isinstance(self.frame, dict) else None
        return kind if isinstance(kind, str) else "<raw>"

    @property
    def audio(self) -> bytes:
        """The audio of an ``input_audio_buffer.append`` frame, decoded (else ``b""``)."""
        if not isinstance(self.frame, dict):
            return b""
        data = self.frame.get("audio")
        return base64.b64decode(data) if isinstance(data, str) else b""


class ArrivalLog:
    """Appends a line per received frame to ``path`` (created, or truncated when it exists).

    Use :meth:`note` as a server's ``on_received`` hook; :meth:`close` when the server stopped.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)
        try:
            self._file = open(self.path, "w", encoding="utf-8")  # noqa: SIM115 - close()
        except OSError as exc:
            raise OSError(f"cannot write the arrivals file {self.path!r}: {exc}") from None
        self.lines = 0

    def __repr__(self) -> str:
        state = "closed" if self._file.closed else "open"
        return f"<ArrivalLog {self.path!r} {state} lines={self.lines}>"

    def note(self, conn: int, frame: dict[str, Any] | str) -> None:
        """Write one arrival (now) of ``frame`` on connection ``conn``; nothing once closed."""
        now = time.monotonic()
        if self._file.closed:
            return
        line = json.dumps({"t": now, "conn": conn, "frame": frame}, separators=(",", ":"))
        self._file.write(line + "\n")
        self._file.flush()
        self.lines += 1

    def close(self) -> None:
        """Flush and close the file (idempotent)."""
        self._file.close()


def read_arrivals(path: str | os.PathLike[str]) -> list[Arrival]:
    """Every complete line of an arrivals file, in the order written (the server's read
    order). Raises ``ValueError`` naming the line when a complete line is not an arrival."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    lines = text.split("\n")
    lines.pop()  # after the last newline: empty, or a line still being written
    out: list[Arrival] = []
    for number, line in enumerate(lines, 1):
        try:
            row = json.loads(line)
            arrival = Arrival(float(row["t"]), int(row["conn"]), row["frame"])
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{os.fspath(path)}:{number}: not an arrival line ({exc})") from None
        out.append(arrival)
    return out

"""A recording stand-in for the call-control REST, for the SIP client's unit tests.

It answers each path with what the test set (200 and no body by default) and keeps every
request as it came (method, raw path, headers, body). The local server's SIP side, which
plays OpenAI's whole part, is what the end-to-end tests use.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from rtsdk.sip.httpd import HttpServer


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class FakeRest:
    answers: dict[str, tuple[int, Any]] = field(default_factory=dict)
    seen: list[Seen] = field(default_factory=list)
    server: HttpServer | None = None

    async def app(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, str, bytes]:
        self.seen.append(Seen(method, path, headers, body))
        status, answer = self.answers.get(path, (200, None))
        payload = b"" if answer is None else json.dumps(answer).encode()
        return status, "application/json", payload

    async def __aenter__(self) -> FakeRest:
        self.server = HttpServer(self.app)
        await self.server.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        await self.server.close()

    @property
    def base(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.port}/v1"

    def paths(self) -> list[str]:
        return [s.path for s in self.seen]

"""The call-control HTTP client: rtsdk's asyncio one against ``http.client`` in a thread.

``python -m benchmarks.sip_http``: a webhook-style HTTP server (:mod:`rtsdk.sip.httpd`,
answering 200 with no body, as an accept is answered) runs in a child process; this process
sends small JSON POSTs as call control does, sequentially and 50 at once, with
:class:`rtsdk.sip.http.HttpClient` (keep-alive, on the loop) and with ``http.client`` run by
``asyncio.to_thread`` (a connection per request, as threads cannot share one). Printed: wall
time per request and this process's CPU per request, the two interleaved (A B A B).
"""

from __future__ import annotations

import asyncio
import http.client
import json
import subprocess
import sys
import time

from rtsdk.sip.http import HttpClient

SERVER = """
import asyncio, sys
from rtsdk.sip.httpd import HttpServer
async def app(method, path, headers, body):
    return 200, "application/json", b""
async def main():
    s = HttpServer(app)
    await s.start()
    print(s.port, flush=True)
    await asyncio.Event().wait()
asyncio.run(main())
"""

BODY = json.dumps({"type": "realtime", "model": "gpt-realtime-2.1", "instructions": "x" * 300})


def _stdlib(port: int) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request(
            "POST",
            "/v1/realtime/calls/rtc_1/accept",
            body=BODY,
            headers={"Authorization": "Bearer sk-x", "Content-Type": "application/json"},
        )
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


async def _ours(client: HttpClient, port: int) -> int:
    answer = await client.request(
        "POST",
        f"http://127.0.0.1:{port}/v1/realtime/calls/rtc_1/accept",
        headers={"Authorization": "Bearer sk-x", "Content-Type": "application/json"},
        body=BODY.encode(),
    )
    return answer.status


async def _measure(kind: str, port: int, n: int, concurrent: int) -> tuple[float, float]:
    client = HttpClient(timeout=10)
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for _ in range(n // concurrent):
        if kind == "rtsdk":
            calls = [_ours(client, port) for _ in range(concurrent)]
        else:
            calls = [asyncio.to_thread(_stdlib, port) for _ in range(concurrent)]
        assert all(s == 200 for s in await asyncio.gather(*calls))
    cpu1, wall1 = time.process_time(), time.perf_counter()
    await client.close()
    return 1e6 * (wall1 - wall0) / n, 1e6 * (cpu1 - cpu0) / n


async def main() -> None:
    proc = subprocess.Popen([sys.executable, "-c", SERVER], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        port = int(proc.stdout.readline())
        for concurrent in (1, 50):
            for kind in ("rtsdk", "stdlib", "rtsdk", "stdlib"):
                wall, cpu = await _measure(kind, port, 1000, concurrent)
                print(
                    f"{kind:<7} {concurrent:>3} at once: {wall:7.0f} us wall/request, "
                    f"{cpu:6.0f} us CPU/request (client process)",
                    flush=True,
                )
    finally:
        proc.terminate()
        proc.wait()


if __name__ == "__main__":
    asyncio.run(main())

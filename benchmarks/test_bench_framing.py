"""Audio event framing per 20 ms frame and per 1 s block: rtsdk against the usual ways.

``encode_append`` (audio -> the ``input_audio_buffer.append`` text frame, bytes):

- "rtsdk" / "rtsdk-py": ``rtsdk._kernels.framing.encode_append`` / its twin;
- "stdlib": ``json.dumps({...,"audio": base64.b64encode(pcm).decode()}).encode()``;
- "orjson": ``orjson.dumps({...,"audio": pybase64.b64encode_as_string(pcm)})``;
- "template": ``HEAD + pybase64.b64encode(pcm) + b'"}'`` (HEAD: the frame's fixed opening bytes).

``decode_audio_delta`` (a server ``response.output_audio.delta`` frame, in the server's key order,
as ``str`` -> ``(response_id, item_id, pcm)``):

- "stdlib": ``json.loads`` + ``base64.b64decode``;
- "orjson": ``orjson.loads`` + ``pybase64.b64decode``;
- "msgspec": ``msgspec.json.decode`` into a ``Struct`` + ``pybase64.b64decode``.
"""

from __future__ import annotations

import base64
import importlib
import json
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

CASES = {"20ms-24k": 960, "20ms-48k": 1920, "1s-24k": 48000}
APPEND_IMPLS = ["rtsdk", "rtsdk-py", "stdlib", "orjson", "template"]
DELTA_IMPLS = ["rtsdk", "rtsdk-py", "stdlib", "orjson", "msgspec"]
HEAD = b'{"type":"input_audio_buffer.append","audio":"'


def _pcm(n: int) -> bytes:
    return np.random.default_rng(n).integers(-3000, 3000, n // 2, dtype=np.int16).tobytes()


def _ours(impl: str) -> Any:
    pkg = "rtsdk._kernels" if impl == "rtsdk" else "rtsdk._reference"
    try:
        return importlib.import_module(f"{pkg}.framing")
    except ImportError as exc:
        pytest.skip(f"{pkg}.framing unavailable: {exc}")


def _encoder(impl: str) -> Callable[[bytes], bytes]:
    if impl in ("rtsdk", "rtsdk-py"):
        return _ours(impl).encode_append  # type: ignore[no-any-return]
    if impl == "stdlib":
        return lambda pcm: json.dumps(
            {"type": "input_audio_buffer.append", "audio": base64.b64encode(pcm).decode()}
        ).encode()
    pybase64 = pytest.importorskip("pybase64")
    if impl == "orjson":
        orjson = pytest.importorskip("orjson")
        return lambda pcm: orjson.dumps(  # type: ignore[no-any-return]
            {"type": "input_audio_buffer.append", "audio": pybase64.b64encode_as_string(pcm)}
        )
    return lambda pcm: HEAD + pybase64.b64encode(pcm) + b'"}'  # type: ignore[no-any-return]


def _decoder(impl: str) -> Callable[[str], Any]:
    if impl in ("rtsdk", "rtsdk-py"):
        return _ours(impl).decode_audio_delta  # type: ignore[no-any-return]
    if impl == "stdlib":

        def stdlib(frame: str) -> Any:
            event = json.loads(frame)
            return event["response_id"], event["item_id"], base64.b64decode(event["delta"])

        return stdlib
    pybase64 = pytest.importorskip("pybase64")
    if impl == "orjson":
        orjson = pytest.importorskip("orjson")

        def with_orjson(frame: str) -> Any:
            event = orjson.loads(frame)
            return event["response_id"], event["item_id"], pybase64.b64decode(event["delta"])

        return with_orjson
    msgspec = pytest.importorskip("msgspec")

    class Delta(msgspec.Struct):  # type: ignore[misc]
        type: str
        event_id: str
        response_id: str
        item_id: str
        output_index: int
        content_index: int
        delta: str

    decoder = msgspec.json.Decoder(Delta)

    def with_msgspec(frame: str) -> Any:
        event = decoder.decode(frame)
        return event.response_id, event.item_id, pybase64.b64decode(event.delta)

    return with_msgspec


def _server_frame(pcm: bytes) -> str:
    # The server's key order and id shapes.
    return json.dumps(
        {
            "type": "response.output_audio.delta",
            "event_id": "event_CZfxQ3vM8nTqXbR2kLp0a",
            "response_id": "resp_CZfxPq1oVxY7mEw3bN9sK",
            "item_id": "item_CZfxPr4tHk2JdLs8fW6uQ",
            "output_index": 0,
            "content_index": 0,
            "delta": base64.b64encode(pcm).decode(),
        },
        separators=(",", ":"),
    )


@pytest.mark.parametrize("impl", APPEND_IMPLS)
@pytest.mark.parametrize("case", list(CASES))
def test_encode_append(benchmark: Any, case: str, impl: str) -> None:
    encode = _encoder(impl)
    pcm = _pcm(CASES[case])
    benchmark.group = f"framing:encode_append-{case}"
    benchmark.extra_info["impl"] = impl
    frame = benchmark(encode, pcm)
    assert base64.b64decode(json.loads(frame)["audio"]) == pcm


@pytest.mark.parametrize("impl", DELTA_IMPLS)
@pytest.mark.parametrize("case", list(CASES))
def test_decode_audio_delta(benchmark: Any, case: str, impl: str) -> None:
    decode = _decoder(impl)
    pcm = _pcm(CASES[case])
    frame = _server_frame(pcm)
    benchmark.group = f"framing:decode_audio_delta-{case}"
    benchmark.extra_info["impl"] = impl
    assert tuple(benchmark(decode, frame)) == (
        "resp_CZfxPq1oVxY7mEw3bN9sK",
        "item_CZfxPr4tHk2JdLs8fW6uQ",
        pcm,
    )

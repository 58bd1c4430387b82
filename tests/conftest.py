"""Shared test set-up: kernel backend checks, the cy/py parity fixture, the hypothesis profile."""

from __future__ import annotations

import importlib
import os
from collections.abc import AsyncIterator
from types import ModuleType
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

NO_EXTENSIONS = os.environ.get("RTSDK_NO_EXTENSIONS", "").strip().lower() not in (
    "",
    "0",
    "false",
    "no",
)
#: A real-time test (wall-clock pacing, a subprocess sample, a call): it measures the session, not
#: the kernels, so it runs once, on the compiled ones.
REALTIME_ONCE = pytest.mark.skipif(
    NO_EXTENSIONS, reason="a real-time test: run once, on the compiled kernels"
)

settings.register_profile(
    "ci",
    derandomize=True,
    deadline=None,
    max_examples=100,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "dev", deadline=None, max_examples=100, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("thorough", deadline=None, max_examples=2000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark ``serial`` every test that runs once, on the compiled kernels (its skip reason
    for the twins says "once": real-time, device, load and network tests). ``make test`` runs
    those one at a time, and everything else two at a time (``-n 2``): a test that measures
    time or load does not share the machine with another test."""
    for item in items:
        for mark in item.iter_markers("skipif"):
            if "once" in str(mark.kwargs.get("reason", "")):
                item.add_marker(pytest.mark.serial)
                break


def pytest_report_header(config: pytest.Config) -> str:
    # The default run must exercise the compiled kernels: tests/test_kernels.py fails when the
    # backend is not "cython" (or the compiled modules do not import); this header says which.
    try:
        import rtsdk.kernels
    except ImportError as exc:
        return f"rtsdk kernel backend: NOT LOADED ({exc})"
    return f"rtsdk kernel backend: {rtsdk.kernels.BACKEND}"


def kernel_params(module: str) -> list[object]:
    """``pytest.param`` for the compiled module (id ``cy``) and its twin (id ``py``).

    Under ``RTSDK_NO_EXTENSIONS=1`` the compiled one is skipped.
    """
    return [
        pytest.param(
            f"rtsdk._kernels.{module}",
            id="cy",
            marks=pytest.mark.skipif(NO_EXTENSIONS, reason="RTSDK_NO_EXTENSIONS=1"),
        ),
        pytest.param(f"rtsdk._reference.{module}", id="py"),
    ]


def load_impl(request: pytest.FixtureRequest) -> ModuleType:
    """Import the module named by a ``kernel_params`` parameter."""
    return importlib.import_module(request.param)


@pytest.fixture
async def server() -> AsyncIterator[Any]:
    """A local Realtime server; at teardown every frame it sent is checked against the openai
    GA types and the response lifecycle (``check_sent``). A test file that needs another
    server defines its own ``server``."""
    from rtsdk.testing import LocalRealtimeServer
    from tests.test_testing_server import check_sent

    async with LocalRealtimeServer() as srv:
        yield srv
    for conn in srv.connections:
        check_sent(conn)

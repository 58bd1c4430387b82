"""The public kernel face: backend selection, exports of compiled modules, twins and stubs."""

from __future__ import annotations

import ast
import importlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

import rtsdk.kernels
from tests.conftest import NO_EXTENSIONS

ROOT = Path(__file__).resolve().parent.parent


def test_backend_matches_environment() -> None:
    assert rtsdk.kernels.BACKEND == ("python" if NO_EXTENSIONS else "cython")


@pytest.mark.parametrize("module", sorted(rtsdk.kernels.MODULES))
def test_public_names_come_from_the_live_backend(module: str) -> None:
    pkg = "rtsdk._reference" if NO_EXTENSIONS else "rtsdk._kernels"
    live = importlib.import_module(f"{pkg}.{module}")
    for name in rtsdk.kernels.MODULES[module]:
        assert getattr(rtsdk.kernels, name) is getattr(live, name)


@pytest.mark.parametrize("module", sorted(rtsdk.kernels.MODULES))
def test_twin_stub_and_compiled_export_the_same_names(module: str) -> None:
    names = set(rtsdk.kernels.MODULES[module])
    twin = importlib.import_module(f"rtsdk._reference.{module}")
    assert set(twin.__all__) == names
    stub = ROOT / "rtsdk" / "_kernels" / f"{module}.pyi"
    assert stub.exists(), f"missing stub {stub}"
    tree = ast.parse(stub.read_text())
    stub_all: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets
        ):
            stub_all = set(ast.literal_eval(node.value))
    assert stub_all == names
    if not NO_EXTENSIONS:
        compiled = importlib.import_module(f"rtsdk._kernels.{module}")
        for name in names:
            assert hasattr(compiled, name), f"rtsdk._kernels.{module} lacks {name}"


def test_no_extensions_switch_selects_twins() -> None:
    env = dict(os.environ, RTSDK_NO_EXTENSIONS="1")
    out = subprocess.run(
        [sys.executable, "-c", "import rtsdk.kernels as k; print(k.BACKEND)"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "python"

"""The public API: every name importable from its documented module.

The lists were taken from the package's ``__all__`` before the package was laid out by layer
(and grow with new public names); a module that moves keeps its names reachable here, so an app
that imports from ``rtsdk``, ``rtsdk.audio``, ``rtsdk.protocol``, ``rtsdk.testing``,
``rtsdk.telephony``, ``rtsdk.mcp``, ``rtsdk.kernels`` or ``rtsdk.models`` keeps working.
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

#: module -> its public names, as data (the names as they were before the package was laid out
#: by layer, and every public name added since)
PUBLIC: dict[str, list[str]] = json.loads(
    (Path(__file__).with_name("public_api.json")).read_text(encoding="utf-8")
)


@pytest.mark.parametrize("module", sorted(PUBLIC))
def test_every_public_name_imports_from_its_module(module: str) -> None:
    mod = importlib.import_module(module)
    exported = set(getattr(mod, "__all__", ()))
    for name in PUBLIC[module]:
        assert getattr(mod, name, None) is not None, f"{module}.{name} is gone"
        assert name in exported, f"{module}.__all__ lost {name!r}"


def test_the_face_imports_in_a_fresh_process() -> None:
    names = ", ".join(PUBLIC["rtsdk"])
    code = f"from rtsdk import {names}"
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)

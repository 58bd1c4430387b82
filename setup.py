"""Build the Cython kernels: every ``src_cython/<name>.pyx`` becomes ``rtsdk._kernels.<name>``."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from setuptools import Extension, setup

HERE = Path(__file__).parent.resolve()
SRC = Path("src_cython")


def _extensions() -> list[Extension]:
    import numpy as np
    from Cython.Build import cythonize

    cflags = ["-O3", "-fno-math-errno", "-fno-trapping-math"]
    if sys.platform != "win32":
        cflags += ["-std=c11", "-Wno-unused-function"]
    # RTSDK_CFLAGS adds flags (for example -march=native for a local benchmark build).
    cflags += os.environ.get("RTSDK_CFLAGS", "").split()
    # RTSDK_BUILD_ONLY=ring,pcm limits the build to those kernels (parallel development).
    only = {n for n in os.environ.get("RTSDK_BUILD_ONLY", "").split(",") if n}
    exts = [
        Extension(
            f"rtsdk._kernels.{pyx.stem}",
            [str(SRC / pyx.name)],
            include_dirs=[str(SRC / "includes"), str(SRC), np.get_include()],
            extra_compile_args=cflags,
            define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
        )
        for pyx in sorted((HERE / SRC).glob("*.pyx"))
        if not only or pyx.stem in only
    ]
    return cythonize(
        exts,
        include_path=[str(SRC)],
        language_level=3,
        compiler_directives={
            "boundscheck": False,
            "wraparound": False,
            "cdivision": True,
            "initializedcheck": False,
            "embedsignature": True,
        },
    )


setup(ext_modules=_extensions())

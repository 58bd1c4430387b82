"""The echo stage's kernel as it was at another commit, compiled beside today's, for a
before/after comparison in one process (``python -m benchmarks.echo_interleaved --before REV``).

:func:`kernel_at` takes ``src_cython/echoblocks.pyx`` from the git commit ``rev``, compiles it
under another module name into a temporary directory (about 20 s) and imports it; the caller
swaps its ``EchoMeter`` and ``TailGuard`` into a :class:`~rtsdk.audio.echo.EchoCanceller`.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import tempfile
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]


def kernel_at(rev: str) -> ModuleType:
    """``echoblocks`` compiled from commit ``rev`` (raises ``RuntimeError`` when it cannot)."""
    src = subprocess.run(
        ["git", "-C", str(ROOT), "show", f"{rev}:src_cython/echoblocks.pyx"],
        capture_output=True,
        text=True,
        check=False,
    )
    if src.returncode != 0:
        raise RuntimeError(f"no src_cython/echoblocks.pyx at {rev!r}: {src.stderr.strip()}")
    tmp = Path(tempfile.mkdtemp(prefix="rtsdk-echo-before-"))
    name = "echoblocks_before"
    (tmp / f"{name}.pyx").write_text(src.stdout)
    # the ``include``d .pxi files of the same commit, beside it (Cython finds them there)
    listed = subprocess.run(
        ["git", "-C", str(ROOT), "ls-tree", "--name-only", rev, "src_cython/"],
        capture_output=True,
        text=True,
        check=True,
    )
    for path in listed.stdout.split():
        if path.endswith(".pxi"):
            text = subprocess.run(
                ["git", "-C", str(ROOT), "show", f"{rev}:{path}"],
                capture_output=True,
                text=True,
                check=True,
            )
            (tmp / Path(path).name).write_text(text.stdout)
    setup = tmp / "setup_before.py"
    setup.write_text(
        "import numpy as np\n"
        "from Cython.Build import cythonize\n"
        "from setuptools import Extension, setup\n"
        f"ext = Extension({name!r}, [{name!r} + '.pyx'], include_dirs=[np.get_include(), "
        f"{str(ROOT / 'src_cython' / 'includes')!r}, {str(ROOT / 'src_cython')!r}], "
        "extra_compile_args=['-O3', '-fno-math-errno', '-fno-trapping-math', '-std=c11'], "
        "define_macros=[('NPY_NO_DEPRECATED_API', 'NPY_1_7_API_VERSION')])\n"
        "setup(ext_modules=cythonize([ext], language_level=3, compiler_directives={"
        "'boundscheck': False, 'wraparound': False, 'cdivision': True, "
        "'initializedcheck': False}))\n"
    )
    built = subprocess.run(
        [sys.executable, str(setup), "-q", "build_ext", "--inplace"],
        cwd=tmp,
        capture_output=True,
        text=True,
        check=False,
    )
    so = sorted(tmp.glob(f"{name}*.so")) + sorted(tmp.glob(f"{name}*.pyd"))
    if built.returncode != 0 or not so:
        raise RuntimeError(f"could not compile the kernel of {rev!r}: {built.stderr[-2000:]}")
    spec = importlib.util.spec_from_file_location(name, so[0])
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module

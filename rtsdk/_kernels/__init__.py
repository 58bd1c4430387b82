"""Compiled Cython kernels, built from ``src_cython/``. Use them through :mod:`rtsdk.kernels`."""

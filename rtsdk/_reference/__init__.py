"""Plain NumPy/Python twins of the compiled kernels.

Each module here exports the same names as its compiled counterpart in :mod:`rtsdk._kernels`
and behaves the same. They are the test oracle and the backend under ``RTSDK_NO_EXTENSIONS=1``.
"""

# cython: freethreading_compatible = False
"""Records of rendered blocks in a lock-free ring (compiled): see rtsdk._reference.taprecords.

One record (a header of eight float64 and the block's float32 samples) goes into the
:class:`~rtsdk.kernels.SpscRing` with one C-level write, from a staging buffer allocated once;
the consumer reads the header and the samples with two C-level reads. No lock, no allocation
after construction beyond the tuple :meth:`RecordRing.pull` returns.
"""

cimport numpy as cnp
from libc.stdint cimport int64_t
from libc.stdlib cimport free, malloc
from libc.string cimport memcpy

from rtsdk._kernels.ring cimport SpscRing

from rtsdk.exceptions import AudioFormatError

__all__ = ["RecordRing"]

cnp.import_array()

cdef enum:
    HDR = 8
    HDR_BYTES = 8 * HDR


cdef inline Py_ssize_t _check(object x, str what) except -1:
    """Check ``x`` is a 1-D C-contiguous native float32 array; its size."""
    cdef cnp.ndarray a
    if (not cnp.PyArray_Check(x) or cnp.PyArray_TYPE(<cnp.ndarray>x) != cnp.NPY_FLOAT32
            or not cnp.PyArray_ISNOTSWAPPED(<cnp.ndarray>x)
            or cnp.PyArray_NDIM(<cnp.ndarray>x) != 1):
        raise AudioFormatError(
            f"RecordRing: {what} must be a 1-D float32 numpy array, got "
            f"{getattr(x, 'dtype', type(x).__name__)} {getattr(x, 'shape', '')}"
        )
    a = <cnp.ndarray>x
    if not cnp.PyArray_IS_C_CONTIGUOUS(a):
        raise AudioFormatError(f"RecordRing: {what} must be C-contiguous")
    return cnp.PyArray_SIZE(a)


cdef class RecordRing:
    """One record per rendered block, lock-free from a device callback to the loop."""

    cdef SpscRing _ring
    cdef readonly Py_ssize_t capacity
    cdef readonly Py_ssize_t max_block
    cdef readonly bint with_samples
    cdef readonly int64_t samples_pushed  # samples of every record pushed, dropped included
    cdef readonly int64_t overruns  # records dropped because the ring was full
    cdef unsigned char *_stage
    cdef double _hdr[HDR]

    def __cinit__(self):
        self._stage = NULL

    def __dealloc__(self):
        free(self._stage)

    def __init__(self, capacity, max_block, with_samples=True):
        if isinstance(max_block, bool) or not isinstance(max_block, int) or max_block < 1:
            raise ValueError(f"RecordRing: max_block must be a positive int, got {max_block!r}")
        self._ring = SpscRing(capacity)
        self.capacity = capacity
        self.max_block = max_block
        self.with_samples = bool(with_samples)
        self._stage = <unsigned char *>malloc(HDR_BYTES + 4 * <size_t>max_block)
        if self._stage == NULL:
            raise MemoryError("RecordRing: no memory for the staging buffer")
        self.samples_pushed = 0
        self.overruns = 0

    @property
    def readable(self):
        """Bytes waiting for the consumer."""
        return self._ring.readable_n()

    def push(self, block, double dac_time, double mono_time, int64_t ring_start,
             int64_t ring_end):
        """Write one record (producer); False when it did not fit (dropped and counted)."""
        cdef Py_ssize_t k = _check(block, "block")
        cdef Py_ssize_t nb = HDR_BYTES
        cdef double *h = <double *>self._stage
        if k > self.max_block:
            raise AudioFormatError(
                f"RecordRing: a block of {k} samples is longer than max_block ({self.max_block})"
            )
        h[0] = <double>self.samples_pushed
        h[1] = <double>k
        h[2] = dac_time
        h[3] = mono_time
        h[4] = <double>(ring_start if ring_start < ring_end else ring_end)
        h[5] = <double>(ring_start + k if ring_start + k < ring_end else ring_end)
        h[6] = 0.0
        h[7] = 0.0
        if self.with_samples and k:
            memcpy(self._stage + HDR_BYTES, cnp.PyArray_DATA(<cnp.ndarray>block), 4 * k)
            nb += 4 * k
        self.samples_pushed += k
        if self._ring.writable_n() < nb:
            self.overruns += 1
            return False
        self._ring.write_ptr(self._stage, nb)
        return True

    def pull(self, out):
        """The oldest record, its samples copied into ``out`` (consumer); None when none."""
        cdef Py_ssize_t n = _check(out, "out")
        cdef Py_ssize_t k
        if n < self.max_block or not cnp.PyArray_ISWRITEABLE(<cnp.ndarray>out):
            raise AudioFormatError(
                f"RecordRing: out must be writable with room for {self.max_block} samples"
            )
        if self._ring.readable_n() < HDR_BYTES:
            return None
        self._ring.read_ptr(<unsigned char *>self._hdr, HDR_BYTES)
        k = <Py_ssize_t>self._hdr[1]
        if self.with_samples and k:
            self._ring.read_ptr(<unsigned char *>cnp.PyArray_DATA(<cnp.ndarray>out), 4 * k)
        return (<int64_t>self._hdr[0], k, self._hdr[2], self._hdr[3], <int64_t>self._hdr[4],
                <int64_t>self._hdr[5])

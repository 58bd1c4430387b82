# cython: freethreading_compatible = False
"""App audio to an append frame in one call (compiled): see :mod:`rtsdk._reference.append_framer`.

Resampled by the caller's own :class:`~rtsdk._kernels.resample.Resampler` (C level, into a
scratch buffer the framer owns), converted to PCM16 (and G.711), base64-encoded straight into
the frame's ``bytes``: one allocation per frame, the frame itself.
"""

cimport numpy as cnp
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from cpython.unicode cimport PyUnicode_CheckExact
from libc.stdint cimport int16_t, uint8_t
from libc.stdlib cimport free, realloc
from libc.string cimport memcpy

from b64 cimport rt_b64_encode, rt_b64_encoded_len, rt_b64_init, rt_b64_select
from g711 cimport rt_g711_init, rt_pcm16_to_alaw, rt_pcm16_to_ulaw
from pcm cimport rt_f32_to_s16

from rtsdk._kernels.resample cimport Resampler

from rtsdk._reference.append_framer import FORMATS, MAX_FRAME_SAMPLES
from rtsdk.exceptions import AudioFormatError

cnp.import_array()

__all__ = ["AppendFramer"]

include "append_text.pxi"
include "scratch.pxi"

rt_b64_init()
rt_b64_select(1)
rt_g711_init()

cdef Py_ssize_t _MAX = MAX_FRAME_SAMPLES


cdef class AppendFramer:
    """Mono float32 audio at the app's rate -> one ``input_audio_buffer.append`` frame.

    ``AppendFramer(session_format, resampler, *, event_type=None)``: ``session_format`` is
    ``"pcm16"``, ``"g711_ulaw"`` or ``"g711_alaw"``; ``resampler`` (mono, app rate -> session
    rate) is the caller's, so this and any other use of it form one stream. ``event_type`` is
    the frames' type when not ``input_audio_buffer.append`` (GPT-Live's
    ``"session.input_audio.append"``; as ``encode_append`` takes it).
    """

    cdef Resampler _rs
    cdef int _fmt  # 0 PCM16, 1 mu-law, 2 A-law
    cdef float *_y
    cdef int16_t *_pcm
    cdef uint8_t *_codes
    cdef Py_ssize_t _cap
    cdef bytes _head  # {"type":"<event_type>","audio":"

    def __cinit__(self, *args, **kwargs):
        self._y = NULL
        self._pcm = NULL
        self._codes = NULL

    def __init__(self, str session_format, Resampler resampler not None, *, event_type=None):
        if session_format not in FORMATS:
            raise ValueError(
                f"session_format must be one of {', '.join(FORMATS)}, got {session_format!r}")
        if resampler.channels != 1:
            raise ValueError(f"the resampler must be mono, got {resampler.channels} channels")
        self._head = _HEAD[:_HEAD_LEN] if event_type is None else _type_head(event_type)
        self._fmt = FORMATS.index(session_format)
        self._rs = resampler

    def __dealloc__(self):
        free(self._y)
        free(self._pcm)
        free(self._codes)

    cdef int _grow(self, Py_ssize_t n) except -1:
        if n <= self._cap:
            return 0
        self._y = <float *>_regrow(self._y, <size_t>n * sizeof(float))
        self._pcm = <int16_t *>_regrow(self._pcm, <size_t>n * sizeof(int16_t))
        self._codes = <uint8_t *>_regrow(self._codes, <size_t>n)
        self._cap = n
        return 0

    def frame(self, x):
        """The append frame of ``x`` (1-D C-contiguous float32 at the resampler's input rate).

        Raises :class:`~rtsdk.exceptions.AudioFormatError` for another dtype or layout, and
        :class:`ValueError` when the frame would carry more than ``MAX_FRAME_SAMPLES`` samples
        (nothing is consumed then).
        """
        if not (cnp.PyArray_CheckExact(x) and cnp.PyArray_TYPE(x) == cnp.NPY_FLOAT32
                and cnp.PyArray_NDIM(x) == 1 and cnp.PyArray_IS_C_CONTIGUOUS(x)):
            raise AudioFormatError("AppendFramer.frame: x must be a 1-D C-contiguous float32 array")
        cdef Resampler rs = self._rs
        if rs._done:
            raise RuntimeError("the resampler has ended its stream (last=True): reset() it first")
        cdef Py_ssize_t n = cnp.PyArray_DIM(x, 0)
        cdef Py_ssize_t ny = rs.out_frames(n, 0)
        if ny > _MAX:
            raise ValueError(f"one append frame carries at most {_MAX} samples, got {ny}")
        self._grow(ny if ny > 0 else 1)
        ny = rs.process_into(<const float *>cnp.PyArray_DATA(x), n, 0, self._y)
        rt_f32_to_s16(self._y, self._pcm, ny)
        cdef const char *head = PyBytes_AS_STRING(self._head)
        cdef Py_ssize_t head_len = PyBytes_GET_SIZE(self._head)
        if self._fmt == 0:
            return _append_frame_at(head, head_len, <const unsigned char *>self._pcm, ny * 2)
        if self._fmt == 1:
            rt_pcm16_to_ulaw(self._pcm, self._codes, ny)
        else:
            rt_pcm16_to_alaw(self._pcm, self._codes, ny)
        return _append_frame_at(head, head_len, <const unsigned char *>self._codes, ny)

# cython: freethreading_compatible = False
"""Output audio deltas straight into a playback ring (compiled): see
:mod:`rtsdk._reference.delta_player` for the contract.

One call per delta: the validating JSON scan (``includes/json_delta_scan.h``) finds the ids and
the base64 in place, the ids are compared with the armed ones byte for byte (armed with empty
ids: the type is GPT-Live's id-less ``session.output_audio.delta``), the audio is
decoded into a scratch buffer owned by the player, converted to float32, resampled by the
playback's own :class:`~rtsdk._kernels.resample.Resampler` and written into its
:class:`~rtsdk._kernels.ring.SpscRing`. No Python object is made for the audio on the way.
Anything the player is not certain about is declined (``-1``) before a byte is written, and
the caller's ordinary path decides.
"""

from cpython.buffer cimport PyBUF_SIMPLE, PyBuffer_Release, PyObject_GetBuffer
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_CheckExact, PyBytes_GET_SIZE
from libc.stdint cimport int16_t, uint8_t
from libc.stdlib cimport free, realloc
from libc.string cimport memcmp

from b64 cimport rt_b64_decode_data, rt_b64_decoded_len, rt_b64_init, rt_b64_select
from g711 cimport rt_alaw_to_pcm16, rt_g711_init, rt_ulaw_to_pcm16
from pcm cimport rt_s16_to_f32

from rtsdk._kernels.resample cimport Resampler
from rtsdk._kernels.ring cimport SpscRing
from rt_atomic cimport rt_load_relaxed

from rtsdk._reference.delta_player import FORMATS, MAX_DELTA_SAMPLES

__all__ = ["DeltaPlayer"]

include "json_delta_scan.pxi"
include "scratch.pxi"

rt_b64_init()
rt_b64_select(1)
rt_g711_init()

cdef const char *_GA = b"response.output_audio.delta"
cdef const char *_BETA = b"response.audio.delta"
cdef const char *_SESSION = b"session.output_audio.delta"
cdef Py_ssize_t _MAX_SAMPLES = MAX_DELTA_SAMPLES


cdef class DeltaPlayer:
    """Plays the output audio deltas of one armed item straight into a playback ring.

    ``DeltaPlayer(session_format, resampler, ring, on_played)``: ``session_format`` is
    ``"pcm16"``, ``"g711_ulaw"`` or ``"g711_alaw"``; ``resampler`` (session rate -> ring rate)
    and ``ring`` (float32 samples) are the playback's own; ``on_played(nbytes, session_samples,
    ring_samples)`` is called after each delta the player wrote.

    Armed with two empty ids (``arm("", "", ...)``) it plays the id-less
    ``session.output_audio.delta`` frames of a GPT-Live or translation session instead, and
    declines Realtime deltas; armed with ids it declines ``session.output_audio.delta``.
    """

    cdef Resampler _rs
    cdef SpscRing _ring
    cdef object _on_played
    cdef int _fmt  # 0 PCM16, 1 mu-law, 2 A-law
    cdef bytes _rid
    cdef bytes _iid
    cdef bint _session  # armed with empty ids: session.output_audio.delta frames
    cdef object _counter
    cdef unsigned char *_raw  # decoded audio (and, for G.711, its PCM16)
    cdef float *_x  # session-rate float32
    cdef float *_y  # ring-rate float32
    cdef Py_ssize_t _cap_raw, _cap_x, _cap_y
    cdef long long _floor  # ring bytes before this position do not count as queued
    cdef readonly long long high_water  # most ring samples queued after a delta played here
    cdef readonly long long played  # deltas played here
    cdef readonly long long declined  # frames declined while armed

    def __cinit__(self, *args, **kwargs):
        self._raw = NULL
        self._x = NULL
        self._y = NULL

    def __init__(self, str session_format, Resampler resampler not None, SpscRing ring not None,
                 on_played not None):
        if session_format not in FORMATS:
            raise ValueError(
                f"session_format must be one of {', '.join(FORMATS)}, got {session_format!r}")
        if resampler.channels != 1:
            raise ValueError(f"the resampler must be mono, got {resampler.channels} channels")
        self._fmt = FORMATS.index(session_format)
        self._rs = resampler
        self._ring = ring
        self._on_played = on_played
        self._rid = None
        self._iid = None

    def __dealloc__(self):
        free(self._raw)
        free(self._x)
        free(self._y)

    @property
    def armed(self):
        """True while deltas of the armed ids are played here."""
        return self._iid is not None

    def arm(self, str response_id not None, str item_id not None, counter=None,
            long long floor=0):
        """Play the following deltas of ``item_id`` in ``response_id`` here; each adds its
        byte count to ``counter.received`` (when a counter is given). ``floor``: a ring byte
        position (a discard in progress) before which audio does not count in
        :attr:`high_water`. Both ids empty: play the id-less ``session.output_audio.delta``
        frames (GPT-Live, translation) and nothing else."""
        self._rid = response_id.encode("utf-8", "surrogatepass")
        self._iid = item_id.encode("utf-8", "surrogatepass")
        self._session = not response_id and not item_id
        self._counter = counter
        self._floor = floor

    def disarm(self):
        """Decline every delta until armed again."""
        self._rid = None
        self._iid = None
        self._counter = None

    cdef int _grow(self, Py_ssize_t nraw, Py_ssize_t nx, Py_ssize_t ny) except -1:
        if nraw > self._cap_raw:
            self._raw = <unsigned char *>_regrow(self._raw, <size_t>nraw)
            self._cap_raw = nraw
        if nx > self._cap_x:
            self._x = <float *>_regrow(self._x, <size_t>nx * sizeof(float))
            self._cap_x = nx
        if ny > self._cap_y:
            self._y = <float *>_regrow(self._y, <size_t>ny * sizeof(float))
            self._cap_y = ny
        return 0

    cdef Py_ssize_t play_ptr(self, const unsigned char *p, Py_ssize_t n) except -2:
        """Play the delta in ``p[:n]``; its session samples, or -1 (declined, nothing done)."""
        cdef rt_scan_t st
        cdef bytes rid = self._rid, iid = self._iid
        if iid is None or not rt_scan_event(p, <size_t>n, 0, &st):
            return -1
        cdef size_t tlen = st.len[RT_KEY_TYPE]
        cdef const unsigned char *t = st.val[RT_KEY_TYPE]
        cdef const unsigned char *r = st.val[RT_KEY_RID]
        cdef const unsigned char *i = st.val[RT_KEY_IID]
        cdef const unsigned char *d = st.val[RT_KEY_DELTA]
        if d == NULL:
            return -1
        if self._session:
            if not (tlen == 26 and memcmp(t, _SESSION, 26) == 0):
                return -1
        elif not ((tlen == 27 and memcmp(t, _GA, 27) == 0)
                  or (tlen == 20 and memcmp(t, _BETA, 20) == 0)):
            return -1
        elif (r == NULL or i == NULL
                or <Py_ssize_t>st.len[RT_KEY_IID] != PyBytes_GET_SIZE(iid)
                or memcmp(i, PyBytes_AS_STRING(iid), st.len[RT_KEY_IID]) != 0
                or <Py_ssize_t>st.len[RT_KEY_RID] != PyBytes_GET_SIZE(rid)
                or memcmp(r, PyBytes_AS_STRING(rid), st.len[RT_KEY_RID]) != 0):
            return -1
        cdef size_t ndata = 0
        cdef Py_ssize_t nbytes = rt_b64_decoded_len(d, st.len[RT_KEY_DELTA], &ndata)
        if nbytes <= 0:
            return -1  # malformed (the ordinary path reports it) or empty
        cdef int width = 2 if self._fmt == 0 else 1
        if nbytes % width:
            return -1
        cdef Py_ssize_t ns = nbytes // width
        cdef Resampler rs = self._rs
        if ns > _MAX_SAMPLES or rs._done:
            return -1
        cdef Py_ssize_t ny = rs.out_frames(ns, 0)
        if ny * 4 > self._ring.writable_n():
            return -1  # no room: the ordinary path queues it behind the ring
        # G.711: the codes, then (2-byte aligned) their PCM16
        self._grow(nbytes + (2 * ns + 2 if width == 1 else 0), ns, ny)
        if rt_b64_decode_data(d, ndata, self._raw):
            return -1
        cdef int16_t *pcm = <int16_t *>self._raw
        if self._fmt == 1:
            pcm = <int16_t *>(self._raw + nbytes + (nbytes & 1))
            rt_ulaw_to_pcm16(<const uint8_t *>self._raw, pcm, ns)
        elif self._fmt == 2:
            pcm = <int16_t *>(self._raw + nbytes + (nbytes & 1))
            rt_alaw_to_pcm16(<const uint8_t *>self._raw, pcm, ns)
        rt_s16_to_f32(pcm, self._x, ns)
        cdef Py_ssize_t got = rs.process_into(self._x, ns, 0, self._y)
        cdef SpscRing ring = self._ring
        ring.write_ptr(<const unsigned char *>self._y, got * 4)
        cdef long long read = rt_load_relaxed(&ring._ctl.tail)
        cdef long long queued = (rt_load_relaxed(&ring._ctl.head)
                                 - (read if read > self._floor else self._floor)) >> 2
        if queued > self.high_water:
            self.high_water = queued
        self.played += 1
        cdef object counter = self._counter
        if counter is not None:
            counter.received = counter.received + nbytes
        self._on_played(nbytes, ns, got)
        return ns

    def play(self, frame):
        """Play the delta in ``frame`` (the server event's UTF-8 text, any buffer).

        Returns the session samples played, or ``-1`` when the player declines (disarmed, not
        an audio delta of the armed ids, or not a ``session.output_audio.delta`` when armed
        with empty ids, a malformed or empty delta, or no room in the ring);
        a declined frame left the resampler, the ring and the counters as they were.
        """
        cdef Py_buffer view
        cdef Py_ssize_t res
        if PyBytes_CheckExact(frame):
            res = self.play_ptr(<const unsigned char *>PyBytes_AS_STRING(frame),
                                PyBytes_GET_SIZE(frame))
        else:
            PyObject_GetBuffer(frame, &view, PyBUF_SIMPLE)
            try:
                res = self.play_ptr(<const unsigned char *>view.buf, view.len)
            finally:
                PyBuffer_Release(&view)
        if res < 0 and self._iid is not None:
            self.declined += 1
        return res

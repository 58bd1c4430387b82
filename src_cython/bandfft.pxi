# The echo guard's band analysis (included by echoblocks.pyx, which defines BANDS, BAND_LO and
# BAND_HI first): a Hann-windowed block, zero-padded to a power of two, through a real FFT (a
# complex one of half the size, radix 2, in double precision), its bins' power summed into
# bands (see rtsdk._reference.echoblocks for the band plan; its twin uses NumPy's FFT).

cdef struct Fft:
    # the band analysis of one block (see the twin's module docstring): a real FFT of size n
    # as a complex one of size m = n / 2, in double precision
    Py_ssize_t block, n, m, k_lo, k_hi
    double *win  # block: the Hann window
    int *band  # n / 2 + 1: the band of each bin, -1 for none
    int *rev  # m: bit reversal
    double *wr  # m / 2 (at least 1): the complex FFT's twiddles
    double *wi
    double *cr  # m + 1: the real FFT's post-processing twiddles
    double *ci
    double *zr  # m: work
    double *zi


cdef int _fft_plan(Fft *f, Py_ssize_t block, long rate) except -1:
    cdef Py_ssize_t n = 4, m, j, bits = 0, r, t
    cdef double top, scale, fq
    cdef int b
    while n < block:
        n *= 2
    m = n // 2
    f.block = block
    f.n = n
    f.m = m
    f.win = <double *>malloc(block * sizeof(double))
    f.band = <int *>malloc((m + 1) * sizeof(int))
    f.rev = <int *>malloc(m * sizeof(int))
    f.wr = <double *>malloc((m // 2 + 1) * sizeof(double))
    f.wi = <double *>malloc((m // 2 + 1) * sizeof(double))
    f.cr = <double *>malloc((m + 1) * sizeof(double))
    f.ci = <double *>malloc((m + 1) * sizeof(double))
    f.zr = <double *>malloc(m * sizeof(double))
    f.zi = <double *>malloc(m * sizeof(double))
    if (f.win == NULL or f.band == NULL or f.rev == NULL or f.wr == NULL or f.wi == NULL
            or f.cr == NULL or f.ci == NULL or f.zr == NULL or f.zi == NULL):
        raise MemoryError("TailGuard: no memory for the band analysis")
    for j in range(block):
        f.win[j] = 0.5 - 0.5 * cos(2.0 * pi * (j + 1.0) / (block + 1.0))
    t = m
    while t > 1:
        bits += 1
        t //= 2
    for j in range(m):
        r = 0
        t = j
        for b in range(bits):
            r = (r << 1) | (t & 1)
            t >>= 1
        f.rev[j] = <int>r
    for j in range(m // 2 + 1):
        f.wr[j] = cos(2.0 * pi * j / m)
        f.wi[j] = -sin(2.0 * pi * j / m)
    for j in range(m + 1):
        f.cr[j] = cos(2.0 * pi * j / n)
        f.ci[j] = sin(2.0 * pi * j / n)
    top = min(BAND_HI, 0.45 * rate)
    f.k_lo = m + 1
    f.k_hi = 0
    for j in range(m + 1):
        f.band[j] = -1
    if top > BAND_LO:
        scale = BANDS / log(top / BAND_LO)
        for j in range(1, m + 1):
            fq = j * <double>rate / n
            if BAND_LO <= fq < top:
                b = <int>(log(fq / BAND_LO) * scale)
                f.band[j] = b if b < BANDS - 1 else BANDS - 1
                if j < f.k_lo:
                    f.k_lo = j
                f.k_hi = j + 1
    return 0


cdef void _fft_free(Fft *f) noexcept:
    free(f.win)
    free(f.band)
    free(f.rev)
    free(f.wr)
    free(f.wi)
    free(f.cr)
    free(f.ci)
    free(f.zr)
    free(f.zi)
    f.win = NULL
    f.band = NULL
    f.rev = NULL
    f.wr = NULL
    f.wi = NULL
    f.cr = NULL
    f.ci = NULL
    f.zr = NULL
    f.zi = NULL


cdef void _band_powers(Fft *f, const float *x, double *e) noexcept nogil:
    """The band powers of one block of ``x`` into ``e`` (BANDS values)."""
    cdef Py_ssize_t m = f.m, b = f.block, j, k, i0, half, step, s, stride
    cdef double ar, ai, br, bi, tr, ti, wr, wi, er, ei, dr, di, orr, oi, xr, xi
    cdef double *zr = f.zr
    cdef double *zi = f.zi
    cdef int band
    # pack the windowed, zero-padded block as m complex values, in bit-reversed order
    for j in range(m):
        k = f.rev[j]
        zr[k] = x[2 * j] * f.win[2 * j] if 2 * j < b else 0.0
        zi[k] = x[2 * j + 1] * f.win[2 * j + 1] if 2 * j + 1 < b else 0.0
    half = 1
    while half < m:  # radix-2 stages
        step = 2 * half
        stride = m // step
        i0 = 0
        while i0 < m:
            for s in range(half):
                wr = f.wr[s * stride]
                wi = f.wi[s * stride]
                j = i0 + s
                k = j + half
                tr = wr * zr[k] - wi * zi[k]
                ti = wr * zi[k] + wi * zr[k]
                zr[k] = zr[j] - tr
                zi[k] = zi[j] - ti
                zr[j] = zr[j] + tr
                zi[j] = zi[j] + ti
            i0 += step
        half = step
    for j in range(BANDS):
        e[j] = 0.0
    for k in range(f.k_lo, f.k_hi):  # the real spectrum's bins from the complex one
        band = f.band[k]
        if band < 0:
            continue
        ar = zr[k % m]
        ai = zi[k % m]
        br = zr[(m - k) % m]
        bi = -zi[(m - k) % m]
        er = 0.5 * (ar + br)
        ei = 0.5 * (ai + bi)
        dr = ar - br
        di = ai - bi
        orr = 0.5 * di
        oi = -0.5 * dr
        xr = er + f.cr[k] * orr + f.ci[k] * oi
        xi = ei + f.cr[k] * oi - f.ci[k] * orr
        e[band] += xr * xr + xi * xi

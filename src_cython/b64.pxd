# C-level base64 over raw pointers (src_cython/includes/b64_codec.h): `from b64 cimport ...`
# in src_cython/b64.pyx and src_cython/framing.pyx (extern declarations only: no runtime import).

cdef extern from "b64_codec.h" nogil:
    int RT_B64_ERR_CHAR
    int RT_B64_ERR_LEN1
    int RT_B64_ERR_PAD
    int RT_B64_ERR_LEADPAD
    void rt_b64_init()
    int rt_b64_select(int want_simd)
    size_t rt_b64_encoded_len(size_t n)
    size_t rt_b64_encode(const unsigned char *src, size_t n, char *dst)
    Py_ssize_t rt_b64_decoded_len(const unsigned char *src, size_t n, size_t *ndata)
    int rt_b64_decode_data(const unsigned char *src, size_t m, unsigned char *dst)
    const char *rt_b64_strerror(Py_ssize_t code)

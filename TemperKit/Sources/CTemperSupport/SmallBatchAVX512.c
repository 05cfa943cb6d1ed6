// The AVX-512 panel of SmallBatchGEMM (a few token rows times a weight stored [n, k]): compiled for
// AVX-512 per function, like AVX512GEMM.c, and called only after temper_avx512_supported() said yes.
#include "CTemperSupport.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define AVX512 __attribute__((target("avx512f,avx512bw,avx512vl")))

// Two 8-float rows side by side in one zmm register: lanes 0-7 from `lo`, 8-15 from `hi`.
static inline AVX512 __m512 pair(const float *lo, const float *hi) {
    __m512d v = _mm512_castpd256_pd512(_mm256_castps_pd(_mm256_loadu_ps(lo)));
    return _mm512_castpd_ps(_mm512_insertf64x4(v, _mm256_castps_pd(_mm256_loadu_ps(hi)), 1));
}

// The same 8 floats in both halves of a zmm register.
static inline AVX512 __m512 twice(const float *p) {
    return _mm512_castpd_ps(_mm512_broadcast_f64x4(_mm256_castps_pd(_mm256_loadu_ps(p))));
}

// R rows of A against the panel's 8 rows of B: R × 4 accumulators, each holding two outputs' eight
// lanes, so every lane sees exactly the fused multiply-adds of the AVX2 tile's SIMD8 accumulator.
// The first pass (`fetch`) also requests the next panel, one cache line per row every 16 floats.
static inline __attribute__((always_inline)) AVX512
void panel_rows(const int R, long k8, const float *a, long lda, const float *b, long ldb, float *lanes,
                const float *next, int fetch) {
    __m512 acc[4][4];
#pragma clang loop unroll(full)
    for (int r = 0; r < R; r++)
#pragma clang loop unroll(full)
        for (int q = 0; q < 4; q++) acc[r][q] = _mm512_setzero_ps();
    for (long p = 0; p < k8; p += 8) {
        if (fetch && (p & 15) == 0) {
#pragma clang loop unroll(full)
            for (int j = 0; j < 8; j++) _mm_prefetch((const char *)(next + j * ldb + p), _MM_HINT_T0);
        }
        __m512 w[4];
#pragma clang loop unroll(full)
        for (int q = 0; q < 4; q++) w[q] = pair(b + (2 * q) * ldb + p, b + (2 * q + 1) * ldb + p);
#pragma clang loop unroll(full)
        for (int r = 0; r < R; r++) {
            __m512 x = twice(a + r * lda + p);
#pragma clang loop unroll(full)
            for (int q = 0; q < 4; q++) acc[r][q] = _mm512_fmadd_ps(x, w[q], acc[r][q]);
        }
    }
#pragma clang loop unroll(full)
    for (int r = 0; r < R; r++)
#pragma clang loop unroll(full)
        for (int q = 0; q < 4; q++) _mm512_storeu_ps(lanes + (r * 8 + 2 * q) * 8, acc[r][q]);
}

AVX512 void temper_avx512_small_batch_panel(long m, long k8, const float *a, long lda, const float *b, long ldb,
                                            float *lanes, const float *next) {
    long i = 0;
    for (; i + 4 <= m; i += 4)
        panel_rows(4, k8, a + i * lda, lda, b, ldb, lanes + i * 64, next, i == 0);
    switch (m - i) {
    case 3: panel_rows(3, k8, a + i * lda, lda, b, ldb, lanes + i * 64, next, i == 0); break;
    case 2: panel_rows(2, k8, a + i * lda, lda, b, ldb, lanes + i * 64, next, i == 0); break;
    case 1: panel_rows(1, k8, a + i * lda, lda, b, ldb, lanes + i * 64, next, i == 0); break;
    default: break;
    }
}
#endif

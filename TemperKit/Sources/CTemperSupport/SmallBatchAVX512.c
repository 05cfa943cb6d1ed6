// The AVX-512 kernel of SmallBatchGEMM (a few token rows times a weight stored [n, k]): compiled for
// AVX-512 per function, like AVX512GEMM.c, and called only after temper_avx512_supported() said yes.
#include "CTemperSupport.h"

#if defined(__x86_64__)
#include <immintrin.h>
#include <math.h>
#include "AVX512Tile.h"

// The outputs must be the AVX2 tile's bit for bit: no multiply-add may be fused behind our back.
#pragma STDC FP_CONTRACT OFF

#define AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq")))
#define INLINE static inline __attribute__((always_inline))

// Two 8-float rows side by side in one zmm register: lanes 0-7 from `lo`, 8-15 from `hi`.
INLINE AVX512 __m512 pair(const float *lo, const float *hi) {
    __m512d v = _mm512_castpd256_pd512(_mm256_castps_pd(_mm256_loadu_ps(lo)));
    return _mm512_castpd_ps(_mm512_insertf64x4(v, _mm256_castps_pd(_mm256_loadu_ps(hi)), 1));
}

// The same 8 floats in both halves of a zmm register.
INLINE AVX512 __m512 twice(const float *p) {
    return _mm512_castpd_ps(_mm512_broadcast_f64x4(_mm256_castps_pd(_mm256_loadu_ps(p))));
}

// (Σ r0, …, Σ r7), each sum taken lane 0 to lane 7 in order, as Swift's SIMD8 `sum()` adds: an
// 8 × 8 transpose, then seven vertical additions instead of eight horizontal reductions.
INLINE AVX512 __m256 lane_sums(__m256 r0, __m256 r1, __m256 r2, __m256 r3, __m256 r4, __m256 r5, __m256 r6, __m256 r7) {
    const __m256 rows[8] = {r0, r1, r2, r3, r4, r5, r6, r7};
    __m256 lanes[8];
    temper_transpose8_registers(rows, lanes);
    __m256 s = _mm256_add_ps(lanes[0], lanes[1]);
    for (int l = 2; l < 8; l++) s = _mm256_add_ps(s, lanes[l]);
    return s;
}

// `alpha · s + beta · y` (only `alpha · s` when beta is 0, so y may hold NaN) for four outputs.
INLINE AVX512 void put4(__m128 s, float alpha, float beta, float *y) {
    __m128 v = _mm_mul_ps(_mm_set1_ps(alpha), s);
    if (beta != 0) v = _mm_add_ps(v, _mm_mul_ps(_mm_set1_ps(beta), _mm_loadu_ps(y)));
    _mm_storeu_ps(y, v);
}

// Rows r and r + 1 (or r alone when `two` is 0) of the tile: their 8 lane sums, the depth tail from
// k8 as the AVX2 tile adds it (one fused multiply-add per step), written through put4.
INLINE AVX512 void finish_rows(__m512 a0, __m512 a1, __m512 b0, __m512 b1, int two, long k8, long k,
                               const float *x, long lda, const float *w, long ldb, float alpha, float beta,
                               float *y, long ldc) {
    __m256 s = lane_sums(_mm512_castps512_ps256(a0), _mm512_extractf32x8_ps(a0, 1),
                         _mm512_castps512_ps256(a1), _mm512_extractf32x8_ps(a1, 1),
                         _mm512_castps512_ps256(b0), _mm512_extractf32x8_ps(b0, 1),
                         _mm512_castps512_ps256(b1), _mm512_extractf32x8_ps(b1, 1));
    if (k8 < k) {
        float t[8];
        _mm256_storeu_ps(t, s);
        for (int i = 0; i < (two ? 8 : 4); i++)
            for (long p = k8; p < k; p++) t[i] = fmaf(w[(i & 3) * ldb + p], x[(i >> 2) * lda + p], t[i]);
        s = _mm256_loadu_ps(t);
    }
    put4(_mm256_castps256_ps128(s), alpha, beta, y);
    if (two) put4(_mm256_extractf128_ps(s, 1), alpha, beta, y + ldc);
}

// R rows of A (R ≤ 8) against a panel of 4 rows of B in one pass over the depth: 2R accumulators,
// each two outputs' eight lanes, so every lane sees exactly the fused multiply-adds of the AVX2
// tile's SIMD8 accumulator. Every 16 floats it requests the same depth of the 4 rows at `near`
// (next panel, into L1) and at `far` (a few panels on, into L2) when they are not NULL: the L1
// copy alone arrives too late to hide memory latency behind the multiply-adds of 8 rows.
INLINE AVX512 void panel_rows(const int R, long k8, long k, const float *a, long lda, const float *w, long ldb,
                              const float *near, const float *far, float alpha, float beta, float *c, long ldc) {
    __m512 acc[8][2];
#pragma clang loop unroll(full)
    for (int r = 0; r < R; r++) acc[r][0] = acc[r][1] = _mm512_setzero_ps();
    for (long p = 0; p < k8; p += 8) {
        if (near && (p & 15) == 0) {
#pragma clang loop unroll(full)
            for (int j = 0; j < 4; j++) _mm_prefetch((const char *)(near + j * ldb + p), _MM_HINT_T0);
            if (far) {
#pragma clang loop unroll(full)
                for (int j = 0; j < 4; j++) _mm_prefetch((const char *)(far + j * ldb + p), _MM_HINT_T1);
            }
        }
        __m512 w01 = pair(w + p, w + ldb + p), w23 = pair(w + 2 * ldb + p, w + 3 * ldb + p);
#pragma clang loop unroll(full)
        for (int r = 0; r < R; r++) {
            __m512 x = twice(a + r * lda + p);
            acc[r][0] = _mm512_fmadd_ps(x, w01, acc[r][0]);
            acc[r][1] = _mm512_fmadd_ps(x, w23, acc[r][1]);
        }
    }
#pragma clang loop unroll(full)
    for (int r = 0; r < R; r += 2) {
        int two = r + 1 < R;
        finish_rows(acc[r][0], acc[r][1], two ? acc[r + 1][0] : acc[r][0], two ? acc[r + 1][1] : acc[r][1], two,
                    k8, k, a + r * lda, lda, w, ldb, alpha, beta, c + r * ldc, ldc);
    }
}

// Panels of B this far ahead are requested into L2 (swept 2…8 at SmolLM2's shapes: 4 is best).
enum { FAR_PANELS = 4 };

AVX512 void temper_avx512_small_batch_columns(long m, long n, long k, const float *a, long lda, const float *b, long ldb,
                                              float alpha, float beta, float *c, long ldc) {
    const long k8 = k & ~7L;
    for (long j = 0; j + 4 <= n; j += 4) {
        const float *w = b + j * ldb;
        // The last panel refetches itself; past the range's end nothing further is requested.
        const float *near = j + 8 <= n ? w + 4 * ldb : w;
        const float *far = j + 4 * (FAR_PANELS + 1) <= n ? w + 4 * FAR_PANELS * ldb : NULL;
        // Up to 8 rows in one pass; rows 8… (at most 8 more) then find the panel in L1.
        for (long i = 0; i < m; i += 8) {
            const float *x = a + i * lda;
            float *y = c + i * ldc + j;
            const float *nr = i == 0 ? near : NULL, *fr = i == 0 ? far : NULL;
            switch (m - i < 8 ? m - i : 8) {
            case 8: panel_rows(8, k8, k, x, lda, w, ldb, nr, fr, alpha, beta, y, ldc); break;
            case 7: panel_rows(7, k8, k, x, lda, w, ldb, nr, fr, alpha, beta, y, ldc); break;
            case 6: panel_rows(6, k8, k, x, lda, w, ldb, nr, fr, alpha, beta, y, ldc); break;
            case 5: panel_rows(5, k8, k, x, lda, w, ldb, nr, fr, alpha, beta, y, ldc); break;
            case 4: panel_rows(4, k8, k, x, lda, w, ldb, nr, fr, alpha, beta, y, ldc); break;
            case 3: panel_rows(3, k8, k, x, lda, w, ldb, nr, fr, alpha, beta, y, ldc); break;
            case 2: panel_rows(2, k8, k, x, lda, w, ldb, nr, fr, alpha, beta, y, ldc); break;
            default: panel_rows(1, k8, k, x, lda, w, ldb, nr, fr, alpha, beta, y, ldc); break;
            }
        }
    }
}
#endif

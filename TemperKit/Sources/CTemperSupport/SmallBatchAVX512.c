// The AVX-512 kernel of SmallBatchGEMM (a few token rows times a weight stored [n, k]): compiled for
// AVX-512 per function, like AVX512GEMM.c, and called only after temper_avx512_supported() said yes.
#include "CTemperSupport.h"

#if defined(__x86_64__)
#include <immintrin.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include "AVX512Tile.h"

// The outputs must be the AVX2 tile's bit for bit: no multiply-add may be fused behind our back.
#pragma STDC FP_CONTRACT OFF

#define AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq")))
#define INLINE static inline __attribute__((always_inline))

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

// P pairs of rows of A (P ≤ 4: up to 8 rows) against a panel of 4 rows of B in one pass over the
// depth. `xp` holds the pairs packed (`pack_pairs`): for each 8 floats of depth, those of the pair's
// first row, then those of its second, so one aligned load brings both. Each of the 4 B rows is
// broadcast to both halves of a register by a load alone (no shuffle), and accumulator [q][j] holds
// row 2q's output j in lanes 0-7 and row 2q + 1's in lanes 8-15: every lane sees exactly the fused
// multiply-adds of the AVX2 tile's SIMD8 accumulator. Per 8 floats of depth at 8 rows this is 16
// multiply-adds and 8 loads, with no lane shuffles competing for the multiply-add ports (a row pair
// of B per register needed 12 loads and 2 inserts). Every 16 floats it requests the same depth of the
// 4 rows at `near` (next panel, into L1) and at `far` (a few panels on, into L2) when they are not
// NULL: the L1 copy alone arrives too late to hide memory latency behind the multiply-adds of 8 rows.
// With `odd` set the last pair's second row is a copy of its first, computed but not written.
INLINE AVX512 void panel_pairs(const int P, int odd, long k8, long k, const float *xp, const float *a, long lda,
                               const float *w, long ldb, const float *near, const float *far, float alpha, float beta,
                               float *c, long ldc) {
    __m512 acc[4][4];
#pragma clang loop unroll(full)
    for (int q = 0; q < P; q++) acc[q][0] = acc[q][1] = acc[q][2] = acc[q][3] = _mm512_setzero_ps();
    for (long p = 0; p < k8; p += 8) {
        if (near && (p & 15) == 0) {
#pragma clang loop unroll(full)
            for (int j = 0; j < 4; j++) _mm_prefetch((const char *)(near + j * ldb + p), _MM_HINT_T0);
            if (far) {
#pragma clang loop unroll(full)
                for (int j = 0; j < 4; j++) _mm_prefetch((const char *)(far + j * ldb + p), _MM_HINT_T1);
            }
        }
        __m512 w0 = twice(w + p), w1 = twice(w + ldb + p), w2 = twice(w + 2 * ldb + p), w3 = twice(w + 3 * ldb + p);
#pragma clang loop unroll(full)
        for (int q = 0; q < P; q++) {
            __m512 x = _mm512_load_ps(xp + 2 * (q * k8 + p));
            acc[q][0] = _mm512_fmadd_ps(x, w0, acc[q][0]);
            acc[q][1] = _mm512_fmadd_ps(x, w1, acc[q][1]);
            acc[q][2] = _mm512_fmadd_ps(x, w2, acc[q][2]);
            acc[q][3] = _mm512_fmadd_ps(x, w3, acc[q][3]);
        }
    }
#pragma clang loop unroll(full)
    for (int q = 0; q < P; q++) {
        // finish_rows takes a row's outputs 0|1 and 2|3 per register: regroup the 256-bit halves.
        __m512 r0a = _mm512_shuffle_f64x2(acc[q][0], acc[q][1], 0x44), r0b = _mm512_shuffle_f64x2(acc[q][2], acc[q][3], 0x44);
        __m512 r1a = _mm512_shuffle_f64x2(acc[q][0], acc[q][1], 0xEE), r1b = _mm512_shuffle_f64x2(acc[q][2], acc[q][3], 0xEE);
        int two = !(odd && q == P - 1);
        finish_rows(r0a, r0b, r1a, r1b, two, k8, k, a + 2 * q * lda, lda, w, ldb, alpha, beta, c + 2 * q * ldc, ldc);
    }
}

// Rows `rows` (≤ 8) of A from `a` as `panel_pairs` reads them: pair q is rows 2q and 2q + 1 (2q again
// when it is the last of an odd count), interleaved by 8 floats of depth; k8 floats of each.
INLINE AVX512 void pack_pairs(long rows, long k8, const float *a, long lda, float *xp) {
    for (long q = 0; 2 * q < rows; q++) {
        const float *r0 = a + 2 * q * lda, *r1 = 2 * q + 1 < rows ? r0 + lda : r0;
        float *out = xp + 2 * q * k8;
        for (long p = 0; p < k8; p += 8) {
            _mm256_store_ps(out + 2 * p, _mm256_loadu_ps(r0 + p));
            _mm256_store_ps(out + 2 * p + 8, _mm256_loadu_ps(r1 + p));
        }
    }
}

// Panels of B this far ahead are requested into L2 (swept 2…8 at SmolLM2's shapes: 4 is best).
enum { FAR_PANELS = 4 };
// Packed rows up to this many floats live on the stack (64 KiB: 8 rows of depth 2048); more are
// allocated for the call.
enum { STACK_PACK_FLOATS = 16384 };

AVX512 void temper_avx512_small_batch_columns(long m, long n, long k, const float *a, long lda, const float *b, long ldb,
                                              float alpha, float beta, float *c, long ldc) {
    const long k8 = k & ~7L;
    if (n < 4) return;   // no whole panel: the caller's tail path takes every column
    // Every row block of 8 (at most 2 here) packed once for all the panels; odd blocks padded to a pair.
    const long floats = ((m + 7) / 8) * 8 * k8;
    float stack[STACK_PACK_FLOATS] __attribute__((aligned(64)));
    float *xp = floats <= STACK_PACK_FLOATS ? stack : aligned_alloc(64, (size_t)floats * sizeof(float));
    if (!xp) {   // as Swift's own allocations do when memory runs out
        fprintf(stderr, "temper_avx512_small_batch_columns: out of memory packing %ld rows of depth %ld\n", m, k);
        abort();
    }
    for (long i = 0; i < m; i += 8) pack_pairs(m - i < 8 ? m - i : 8, k8, a + i * lda, lda, xp + i * k8);
    // The far requests start FAR_PANELS panels on; the panels before that are requested into L2 now,
    // so a product's first panels (a decode step runs seven products a layer) do not each wait on memory.
    for (long j = 4; j < 4 * FAR_PANELS && j + 4 <= n; j += 4)
        for (int r = 0; r < 4; r++)
            for (long p = 0; p < k8; p += 16) _mm_prefetch((const char *)(b + (j + r) * ldb + p), _MM_HINT_T1);
    for (long j = 0; j + 4 <= n; j += 4) {
        const float *w = b + j * ldb;
        // The last panel refetches itself; past the range's end nothing further is requested.
        const float *near = j + 8 <= n ? w + 4 * ldb : w;
        const float *far = j + 4 * (FAR_PANELS + 1) <= n ? w + 4 * FAR_PANELS * ldb : NULL;
        // Up to 8 rows in one pass; rows 8… (at most 8 more) then find the panel in L1.
        for (long i = 0; i < m; i += 8) {
            const long rows = m - i < 8 ? m - i : 8;
            const float *x = a + i * lda, *xq = xp + i * k8;
            float *y = c + i * ldc + j;
            const float *nr = i == 0 ? near : NULL, *fr = i == 0 ? far : NULL;
            const int odd = (int)(rows & 1);
            switch ((rows + 1) / 2) {
            case 4: panel_pairs(4, odd, k8, k, xq, x, lda, w, ldb, nr, fr, alpha, beta, y, ldc); break;
            case 3: panel_pairs(3, odd, k8, k, xq, x, lda, w, ldb, nr, fr, alpha, beta, y, ldc); break;
            case 2: panel_pairs(2, odd, k8, k, xq, x, lda, w, ldb, nr, fr, alpha, beta, y, ldc); break;
            default: panel_pairs(1, odd, k8, k, xq, x, lda, w, ldb, nr, fr, alpha, beta, y, ldc); break;
            }
        }
    }
    if (xp != stack) free(xp);
}
#endif

// Pieces shared by the AVX-512 register tiles and their packing (AVX512GEMM.c's float tile and
// BF16GEMM.c's bf16 one; SmallBatchAVX512.c's lane sums use the transpose): private to CTemperSupport, compiled for AVX-512 per function as the tiles themselves are.
#ifndef TEMPER_AVX512_TILE_H
#define TEMPER_AVX512_TILE_H

#if defined(__x86_64__)
#include <immintrin.h>
#include "CTemperSupport.h"

#define TEMPER_AVX512_TARGET __attribute__((target("avx512f,avx512bw,avx512vl")))

// The lanes below `count` of a 16-lane vector, for count in any range.
static inline __mmask16 temper_lanes_below(long count) {
    if (count <= 0) return 0;
    if (count >= 16) return 0xFFFF;
    return (__mmask16)((1u << count) - 1);
}

// Stores a TEMPER_AVX512_MR × TEMPER_AVX512_NR tile's accumulators as C = alpha * acc + beta * C
// (a multiply, a multiply and an add, as the AVX2 tile does, so the float paths agree bit for bit),
// for the first `rows` rows and `cols` columns. beta == 0 never reads C, so NaN garbage there cannot
// leak into the result. Inlined into each tile with constant bounds and unrolled: with a run-time
// row index the accumulators would live in memory instead of registers.
__attribute__((always_inline)) static inline TEMPER_AVX512_TARGET void
temper_avx512_store_tile(__m512 acc[TEMPER_AVX512_MR][2], float *c, long ldc, long rows, long cols,
                         float alpha, float beta) {
    __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
    __mmask16 m0 = temper_lanes_below(cols), m1 = temper_lanes_below(cols - 16);
#pragma clang loop unroll(full)
    for (int r = 0; r < TEMPER_AVX512_MR; r++) {
        if (r >= rows) break;
        float *row = c + r * ldc;
        __m512 lo = _mm512_mul_ps(va, acc[r][0]), hi = _mm512_mul_ps(va, acc[r][1]);
        if (beta != 0) {
            lo = _mm512_add_ps(lo, _mm512_mul_ps(vb, _mm512_maskz_loadu_ps(m0, row)));
            hi = _mm512_add_ps(hi, _mm512_mul_ps(vb, _mm512_maskz_loadu_ps(m1, row + 16)));
        }
        _mm512_mask_storeu_ps(row, m0, lo);
        _mm512_mask_storeu_ps(row + 16, m1, hi);
    }
}

// Transposes an 8 × 8 block held in registers: lane c of out[l] is lane l of in[c].
__attribute__((always_inline)) static inline TEMPER_AVX512_TARGET void
temper_transpose8_registers(const __m256 in[8], __m256 out[8]) {
    __m256 t0 = _mm256_unpacklo_ps(in[0], in[1]), t1 = _mm256_unpackhi_ps(in[0], in[1]);
    __m256 t2 = _mm256_unpacklo_ps(in[2], in[3]), t3 = _mm256_unpackhi_ps(in[2], in[3]);
    __m256 t4 = _mm256_unpacklo_ps(in[4], in[5]), t5 = _mm256_unpackhi_ps(in[4], in[5]);
    __m256 t6 = _mm256_unpacklo_ps(in[6], in[7]), t7 = _mm256_unpackhi_ps(in[6], in[7]);
    __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
    __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
    __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE);
    __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
    out[0] = _mm256_permute2f128_ps(u0, u4, 0x20);
    out[1] = _mm256_permute2f128_ps(u1, u5, 0x20);
    out[2] = _mm256_permute2f128_ps(u2, u6, 0x20);
    out[3] = _mm256_permute2f128_ps(u3, u7, 0x20);
    out[4] = _mm256_permute2f128_ps(u0, u4, 0x31);
    out[5] = _mm256_permute2f128_ps(u1, u5, 0x31);
    out[6] = _mm256_permute2f128_ps(u2, u6, 0x31);
    out[7] = _mm256_permute2f128_ps(u3, u7, 0x31);
}

// Transposes an 8 × 8 block in memory: line l's eight floats from lines[l] become column l of the
// eight output rows, written `stride` floats apart; only the lanes in `keep` are stored.
__attribute__((always_inline)) static inline TEMPER_AVX512_TARGET void
temper_transpose8(const float *const lines[8], float *dst, long stride, __mmask8 keep) {
    __m256 in[8], out[8];
#pragma clang loop unroll(full)
    for (int l = 0; l < 8; l++) in[l] = _mm256_loadu_ps(lines[l]);
    temper_transpose8_registers(in, out);
#pragma clang loop unroll(full)
    for (int r = 0; r < 8; r++) _mm256_mask_storeu_ps(dst + r * stride, keep, out[r]);
}

#endif
#endif

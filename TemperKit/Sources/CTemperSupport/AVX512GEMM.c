// The AVX-512 register tile of GEMM and the packing it reads. Only these functions are compiled for
// AVX-512 (a per-function target attribute: Swift has none), so the library still loads on an
// AVX2-only CPU; TemperTensor calls them only after temper_avx512_supported() said yes.
#include "CTemperSupport.h"

#if defined(__x86_64__)
#include <immintrin.h>
#include <string.h>

#define AVX512 __attribute__((target("avx512f,avx512bw,avx512vl")))
#define MR TEMPER_AVX512_MR
#define NR TEMPER_AVX512_NR

int temper_avx512_supported(void) {
    // __builtin_cpu_supports also checks that the OS saves the zmm state (XCR0). DQ is asked for
    // because the small-batch kernels split zmm registers with vextractf32x8.
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")
        && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq");
}

// The lanes below `count` of a 16-lane vector, for count in any range.
static inline __mmask16 lanes_below(long count) {
    if (count <= 0) return 0;
    if (count >= 16) return 0xFFFF;
    return (__mmask16)((1u << count) - 1);
}

// An MR × NR tile: MR rows × two zmm accumulators (28 of the 32 registers), two for the B row;
// each A value is a broadcast folded into its FMA's memory operand. Every element of C gets the
// same operations in the same order as in the AVX2 tile (one fused multiply-add per depth step,
// then alpha * acc + beta * c as a multiply, a multiply and an add), so the two paths agree bit
// for bit. The epilogue loops have constant bounds and are unrolled: with a run-time row index
// the accumulators would live in memory instead of registers.
AVX512 void temper_avx512_gemm_tile(long kc, const float *a, const float *b, float *c, long ldc,
                                    long rows, long cols, float alpha, float beta) {
    __m512 acc[MR][2];
#pragma clang loop unroll(full)
    for (int r = 0; r < MR; r++) { acc[r][0] = _mm512_setzero_ps(); acc[r][1] = _mm512_setzero_ps(); }
    for (long p = 0; p < kc; p++) {
        const float *pa = a + p * MR;
        __m512 b0 = _mm512_load_ps(b + p * NR), b1 = _mm512_load_ps(b + p * NR + 16);
#pragma clang loop unroll(full)
        for (int r = 0; r < MR; r++) {
            __m512 ar = _mm512_set1_ps(pa[r]);
            acc[r][0] = _mm512_fmadd_ps(ar, b0, acc[r][0]);
            acc[r][1] = _mm512_fmadd_ps(ar, b1, acc[r][1]);
        }
    }
    __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
    __mmask16 m0 = lanes_below(cols), m1 = lanes_below(cols - 16);
#pragma clang loop unroll(full)
    for (int r = 0; r < MR; r++) {
        if (r >= rows) break;
        float *row = c + r * ldc;
        __m512 lo = _mm512_mul_ps(va, acc[r][0]), hi = _mm512_mul_ps(va, acc[r][1]);
        if (beta != 0) {
            // beta == 0 never reads C, so NaN garbage there cannot leak into the result.
            lo = _mm512_add_ps(lo, _mm512_mul_ps(vb, _mm512_maskz_loadu_ps(m0, row)));
            hi = _mm512_add_ps(hi, _mm512_mul_ps(vb, _mm512_maskz_loadu_ps(m1, row + 16)));
        }
        _mm512_mask_storeu_ps(row, m0, lo);
        _mm512_mask_storeu_ps(row + 16, m1, hi);
    }
}

// Transposes an 8 × 8 block: line l's eight floats from lines[l] become column l of the eight
// output rows, written `stride` floats apart; only the lanes in `keep` are stored.
static inline AVX512 void transpose8(const float *const lines[8], float *dst, long stride, __mmask8 keep) {
    __m256 r0 = _mm256_loadu_ps(lines[0]), r1 = _mm256_loadu_ps(lines[1]);
    __m256 r2 = _mm256_loadu_ps(lines[2]), r3 = _mm256_loadu_ps(lines[3]);
    __m256 r4 = _mm256_loadu_ps(lines[4]), r5 = _mm256_loadu_ps(lines[5]);
    __m256 r6 = _mm256_loadu_ps(lines[6]), r7 = _mm256_loadu_ps(lines[7]);
    __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1);
    __m256 t2 = _mm256_unpacklo_ps(r2, r3), t3 = _mm256_unpackhi_ps(r2, r3);
    __m256 t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5);
    __m256 t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7);
    __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
    __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
    __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE);
    __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
    _mm256_mask_storeu_ps(dst, keep, _mm256_permute2f128_ps(u0, u4, 0x20));
    _mm256_mask_storeu_ps(dst + stride, keep, _mm256_permute2f128_ps(u1, u5, 0x20));
    _mm256_mask_storeu_ps(dst + 2 * stride, keep, _mm256_permute2f128_ps(u2, u6, 0x20));
    _mm256_mask_storeu_ps(dst + 3 * stride, keep, _mm256_permute2f128_ps(u3, u7, 0x20));
    _mm256_mask_storeu_ps(dst + 4 * stride, keep, _mm256_permute2f128_ps(u0, u4, 0x31));
    _mm256_mask_storeu_ps(dst + 5 * stride, keep, _mm256_permute2f128_ps(u1, u5, 0x31));
    _mm256_mask_storeu_ps(dst + 6 * stride, keep, _mm256_permute2f128_ps(u2, u6, 0x31));
    _mm256_mask_storeu_ps(dst + 7 * stride, keep, _mm256_permute2f128_ps(u3, u7, 0x31));
}

// Packs one sliver whose `count` lines (rows of A, or columns of Bᵀ's storage) are each contiguous
// along the depth, `ld` apart: dst[p * width + l] = src[l * ld + p], zero for l ≥ count.
static AVX512 void pack_lines(const float *src, long ld, long count, long kc, long width, float *dst) {
    if (count < width) memset(dst, 0, (size_t)(kc * width) * sizeof(float));
    for (long g = 0; g < count; g += 8) {
        long n = count - g < 8 ? count - g : 8;
        // Lines past the last are read from the last one (never out of bounds) and not stored.
        const float *lines[8];
        for (int l = 0; l < 8; l++) lines[l] = src + (g + (l < n ? l : n - 1)) * ld;
        __mmask8 keep = (__mmask8)((1u << n) - 1);
        long p = 0;
        for (; p + 8 <= kc; p += 8) {
            const float *at[8];
            for (int l = 0; l < 8; l++) at[l] = lines[l] + p;
            transpose8(at, dst + p * width + g, width, keep);
        }
        for (; p < kc; p++)
            for (long l = 0; l < n; l++) dst[p * width + g + l] = lines[l][p];
    }
}

// Packs one sliver stored depth-major, `ld` apart per depth step: dst[p * width + l] =
// src[p * ld + l] for l < count, zero up to `width`.
static AVX512 void pack_rows(const float *src, long ld, long count, long kc, long width, float *dst) {
    for (long p = 0; p < kc; p++) {
        for (long s = 0; s < width; s += 16) {
            __m512 v = _mm512_maskz_loadu_ps(lanes_below(count - s), src + p * ld + s);
            _mm512_mask_storeu_ps(dst + p * width + s, lanes_below(width - s), v);
        }
    }
}

AVX512 void temper_avx512_pack_a(int trans, const float *a, long lda, long rows, long kc, float *dst) {
    for (long i = 0; i < rows; i += MR) {
        long height = rows - i < MR ? rows - i : MR;
        if (trans) pack_rows(a + i, lda, height, kc, MR, dst);
        else pack_lines(a + i * lda, lda, height, kc, MR, dst);
        dst += MR * kc;
    }
}

AVX512 void temper_avx512_pack_b(int trans, const float *b, long ldb, long kc, long cols, float *dst) {
    for (long j = 0; j < cols; j += NR) {
        long width = cols - j < NR ? cols - j : NR;
        if (trans) pack_lines(b + j * ldb, ldb, width, kc, NR, dst);
        else pack_rows(b + j, ldb, width, kc, NR, dst);
        dst += NR * kc;
    }
}

#else
int temper_avx512_supported(void) { return 0; }
#endif

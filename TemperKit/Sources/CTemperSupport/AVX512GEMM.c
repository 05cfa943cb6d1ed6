// The AVX-512 register tile of GEMM and the packing it reads. Only these functions are compiled for
// AVX-512 (a per-function target attribute: Swift has none), so the library still loads on an
// AVX2-only CPU; TemperTensor calls them only after temper_avx512_supported() said yes.
#include "CTemperSupport.h"

#if defined(__x86_64__)
#include <immintrin.h>
#include <string.h>
#include "AVX512Tile.h"

#define AVX512 TEMPER_AVX512_TARGET
#define MR TEMPER_AVX512_MR
#define NR TEMPER_AVX512_NR

int temper_avx512_supported(void) {
    // __builtin_cpu_supports also checks that the OS saves the zmm state (XCR0). DQ is asked for
    // because the small-batch kernels split zmm registers with vextractf32x8.
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")
        && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq");
}

// An MR × NR tile: MR rows × two zmm accumulators (28 of the 32 registers), two for the B row;
// each A value is a broadcast folded into its FMA's memory operand. Every element of C gets the
// same operations in the same order as in the AVX2 tile (one fused multiply-add per depth step,
// then temper_avx512_store_tile's epilogue), so the two paths agree bit for bit. The loops have
// constant bounds and are unrolled: with a run-time row index the accumulators would live in
// memory instead of registers.
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
    temper_avx512_store_tile(acc, c, ldc, rows, cols, alpha, beta);
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
            temper_transpose8(at, dst + p * width + g, width, keep);
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
            __m512 v = _mm512_maskz_loadu_ps(temper_lanes_below(count - s), src + p * ld + s);
            _mm512_mask_storeu_ps(dst + p * width + s, temper_lanes_below(width - s), v);
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

// The bf16 register tile of GEMM's mixed-precision mode (`bf16: true`) and the packing it reads:
// op(A) and op(B) are rounded to bfloat16 (round to nearest even) as they are packed, and the tile
// multiplies them with AVX512_BF16's vdpbf16ps, which adds the products of two depth steps into
// float32 accumulators. Master weights, gradients' storage and C stay float32. Compiled for
// AVX512_BF16 per function, so the library still loads on CPUs without it; TemperTensor calls these
// only after temper_avx512bf16_supported() said yes.
#include "CTemperSupport.h"

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>
#include <string.h>
#include "AVX512Tile.h"

#define BF16 __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16")))
#define MR TEMPER_AVX512_MR
#define NR TEMPER_AVX512_NR

int temper_avx512bf16_supported(void) {
    // AVX512_BF16 is CPUID leaf 7, sub-leaf 1, EAX bit 5; the AVX-512 check covers the OS's zmm state.
    unsigned eax, ebx, ecx, edx;
    if (!temper_avx512_supported() || !__get_cpuid_count(7, 1, &eax, &ebx, &ecx, &edx)) return 0;
    return (eax >> 5) & 1;
}

// An MR × NR tile of C from `pairs` depth pairs: each packed element is a 32-bit pair of bf16
// values (depth 2p in the low half, 2p + 1 in the high half), so one vdpbf16ps adds two depth
// steps of 16 columns into a float32 accumulator. The float tile's epilogue: alpha * acc + beta * C.
BF16 void temper_bf16_gemm_tile(long kc, const float *a, const float *b, float *c, long ldc,
                                long rows, long cols, float alpha, float beta) {
    const uint32_t *pa = (const uint32_t *)a, *pb = (const uint32_t *)b;
    long pairs = (kc + 1) / 2;
    __m512 acc[MR][2];
#pragma clang loop unroll(full)
    for (int r = 0; r < MR; r++) { acc[r][0] = _mm512_setzero_ps(); acc[r][1] = _mm512_setzero_ps(); }
    for (long p = 0; p < pairs; p++) {
        const uint32_t *ap = pa + p * MR;
        __m512bh b0 = (__m512bh)_mm512_loadu_si512(pb + p * NR), b1 = (__m512bh)_mm512_loadu_si512(pb + p * NR + 16);
#pragma clang loop unroll(full)
        for (int r = 0; r < MR; r++) {
            __m512bh ar = (__m512bh)_mm512_set1_epi32((int)ap[r]);
            acc[r][0] = _mm512_dpbf16_ps(acc[r][0], ar, b0);
            acc[r][1] = _mm512_dpbf16_ps(acc[r][1], ar, b1);
        }
    }
    temper_avx512_store_tile(acc, c, ldc, rows, cols, alpha, beta);
}

// 16 depth pairs of one line that is contiguous along the depth: `count` (≤ 32) floats from `src`,
// zero past them, rounded to bf16; lane i of the result holds depths 2i and 2i + 1.
static inline BF16 __m512i line_pairs(const float *src, long count) {
    __m512 lo = _mm512_maskz_loadu_ps(temper_lanes_below(count), src);
    __m512 hi = _mm512_maskz_loadu_ps(temper_lanes_below(count - 16), src + 16);
    return (__m512i)_mm512_cvtne2ps_pbh(hi, lo);   // bf16 lanes 0-15 from lo, 16-31 from hi: in order
}

// Packs a sliver whose `count` lines are contiguous along the depth, `ld` apart:
// dst[p * width + l] = (line l's depths 2p, 2p + 1), zero for l ≥ count and past kc. Eight lines at
// a time: each line's next 32 depths become 16 bf16 pairs (one vcvtne2ps2bf16), and the 8 × 16
// block of pairs is transposed as two 8 × 8 blocks of 32-bit lanes into 16 rows of the sliver.
static BF16 void pack_lines(const float *src, long ld, long count, long kc, long width, uint32_t *dst) {
    long pairs = (kc + 1) / 2;
    if (count < width) memset(dst, 0, (size_t)(pairs * width) * sizeof(uint32_t));
    uint32_t chunk[8][16] __attribute__((aligned(64)));
    for (long g = 0; g < count; g += 8) {
        long n = count - g < 8 ? count - g : 8;
        __mmask8 keep = (__mmask8)((1u << n) - 1);
        for (long p0 = 0; p0 < pairs; p0 += 16) {
            // Lines past the last are read from the last one (never out of bounds) and not stored.
            for (long l = 0; l < 8; l++)
                _mm512_store_si512(chunk[l], line_pairs(src + (g + (l < n ? l : n - 1)) * ld + 2 * p0, kc - 2 * p0));
            uint32_t *out = dst + p0 * width + g;
            if (pairs - p0 >= 16) {
                const float *lo[8], *hi[8];
                for (int l = 0; l < 8; l++) { lo[l] = (const float *)chunk[l]; hi[l] = lo[l] + 8; }
                temper_transpose8(lo, (float *)out, width, keep);
                temper_transpose8(hi, (float *)(out + 8 * width), width, keep);
            } else {
                // The last, partial rows of pairs: the sliver has no room for a full block past them.
                for (long i = 0; i < pairs - p0; i++)
                    for (long l = 0; l < n; l++) out[i * width + l] = chunk[l][i];
            }
        }
    }
}

// Packs a sliver stored depth-major, `ld` apart per depth step: dst[p * width + l] =
// (src[2p][l], src[2p + 1][l]) for l < count, zero up to `width` and past kc.
static BF16 void pack_rows(const float *src, long ld, long count, long kc, long width, uint32_t *dst) {
    // Interleaves the bf16 of two 16-lane rows: lane i becomes (row0[i], row1[i]).
    const __m512i interleave = _mm512_set_epi16(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8,
                                                23, 7, 22, 6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
    long pairs = (kc + 1) / 2;
    for (long p = 0; p < pairs; p++) {
        const float *r0 = src + 2 * p * ld, *r1 = r0 + ld;
        int second = 2 * p + 1 < kc;
        for (long s = 0; s < width; s += 16) {
            __mmask16 in = temper_lanes_below(count - s);
            __m512 v0 = _mm512_maskz_loadu_ps(in, r0 + s);
            __m512 v1 = second ? _mm512_maskz_loadu_ps(in, r1 + s) : _mm512_setzero_ps();
            __m512i both = (__m512i)_mm512_cvtne2ps_pbh(v1, v0);   // lanes 0-15: row 0, 16-31: row 1
            _mm512_mask_storeu_epi32(dst + p * width + s, temper_lanes_below(width - s), _mm512_permutexvar_epi16(interleave, both));
        }
    }
}

BF16 void temper_bf16_pack_a(int trans, const float *a, long lda, long rows, long kc, float *dst) {
    // Slivers sit MR × kc floats apart, as the float packing's do, so the GEMM driver's offsets hold.
    for (long i = 0; i < rows; i += MR) {
        long height = rows - i < MR ? rows - i : MR;
        if (trans) pack_rows(a + i, lda, height, kc, MR, (uint32_t *)dst);
        else pack_lines(a + i * lda, lda, height, kc, MR, (uint32_t *)dst);
        dst += MR * kc;
    }
}

BF16 void temper_bf16_pack_b(int trans, const float *b, long ldb, long kc, long cols, float *dst) {
    for (long j = 0; j < cols; j += NR) {
        long width = cols - j < NR ? cols - j : NR;
        if (trans) pack_lines(b + j * ldb, ldb, width, kc, NR, (uint32_t *)dst);
        else pack_rows(b + j, ldb, width, kc, NR, (uint32_t *)dst);
        dst += NR * kc;
    }
}

#else
int temper_avx512bf16_supported(void) { return 0; }
#endif

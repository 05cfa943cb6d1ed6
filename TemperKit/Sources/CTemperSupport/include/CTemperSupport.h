#ifndef CTEMPER_SUPPORT_H
#define CTEMPER_SUPPORT_H
#include <stdint.h>

/// 1 when this CPU runs the instruction set TemperTensor was compiled for (AVX2 + FMA + F16C on
/// x86-64; always 1 on arm64). The library also checks this when it is loaded and exits with a
/// message instead of dying later on an illegal instruction.
int temper_cpu_supported(void);

/// A short name of the instruction set the build targets, for messages and benchmarks.
const char *temper_cpu_target(void);

/// Asks the CPU to start loading the cache line holding `p` into all cache levels, without waiting
/// for it. Kernels that stream a matrix from memory use it to fetch the next panel while they
/// compute on the current one (hardware prefetchers only follow addresses that miss the cache).
static inline void temper_prefetch(const void *p) { __builtin_prefetch(p, 0, 3); }

/// 1 when this CPU (and its OS) runs AVX-512 F, BW and VL: the AVX-512 GEMM path below may run.
int temper_avx512_supported(void);

/// Rows of the AVX-512 register tile and of a packed A sliver: 14 rows × 2 zmm accumulators use 28 of
/// the 32 registers. 12 × 32 and 14 × 32 timed within noise of each other on a busy machine; 14 rows
/// do more FMAs per load of B.
#define TEMPER_AVX512_MR 14
/// Columns of the AVX-512 register tile and of a packed B sliver (two zmm registers).
#define TEMPER_AVX512_NR 32

#if defined(__x86_64__)
/// One `TEMPER_AVX512_MR × TEMPER_AVX512_NR` tile of C: the `kc`-deep product of a packed A sliver
/// (`kc` groups of MR floats) and a packed B sliver (`kc` groups of NR floats, 64-byte aligned),
/// written as `C = alpha * product + beta * C` for the `rows × cols` corner inside C. With
/// `beta == 0` C is only written. Call only where temper_avx512_supported() is 1.
void temper_avx512_gemm_tile(long kc, const float *a, const float *b, float *c, long ldc,
                             long rows, long cols, float alpha, float beta);

/// Packs `rows × kc` of op(A), starting at `a` (op(A)[i, p] is a[i * lda + p], or a[p * lda + i]
/// when `trans`), into ceil(rows / MR) slivers of `kc × MR`, zero-padded below the last row.
void temper_avx512_pack_a(int trans, const float *a, long lda, long rows, long kc, float *dst);

/// Packs `kc × cols` of op(B), starting at `b` (op(B)[p, j] is b[p * ldb + j], or b[j * ldb + p]
/// when `trans`), into ceil(cols / NR) slivers of `kc × NR` at `dst` (64-byte aligned),
/// zero-padded past the last column.
void temper_avx512_pack_b(int trans, const float *b, long ldb, long kc, long cols, float *dst);

/// SmallBatchGEMM's AVX-512 kernel: `C = alpha · A · Bᵀ + beta · C` for the `m` rows of A (`m × k`,
/// rows `lda` apart; m ≤ 16) and the first `n & ~3` rows of B (rows `ldb` apart), in panels of 4
/// rows of B, each output bit for bit what the AVX2 tile gives it (its SIMD8 lane sums added lane
/// by lane, the depth tail by fused multiply-adds). The caller does the last `n % 4` rows of B.
/// Call only where temper_avx512_supported() is 1.
void temper_avx512_small_batch_columns(long m, long n, long k, const float *a, long lda, const float *b, long ldb,
                                       float alpha, float beta, float *c, long ldc);
#endif

/// 1 when this CPU runs AVX-512 F/BW/VL and AVX512_BF16 (vdpbf16ps): GEMM's bf16 mode may run.
int temper_avx512bf16_supported(void);

#if defined(__x86_64__)
/// The bf16 mode's tile: as `temper_avx512_gemm_tile`, from slivers packed by the two functions
/// below (each element a 32-bit pair of bf16 values of two depth steps), accumulating in float32.
/// Call only where temper_avx512bf16_supported() is 1.
void temper_bf16_gemm_tile(long kc, const float *a, const float *b, float *c, long ldc,
                           long rows, long cols, float alpha, float beta);

/// As `temper_avx512_pack_a`, rounding to bf16 pairs: sliver s at dst + s·MR·kc floats holds
/// ceil(kc / 2) groups of MR pairs (depth 2p low, 2p + 1 high; zero past kc and below the last row).
void temper_bf16_pack_a(int trans, const float *a, long lda, long rows, long kc, float *dst);

/// As `temper_avx512_pack_b`, rounding to bf16 pairs: sliver s at dst + s·NR·kc floats holds
/// ceil(kc / 2) groups of NR pairs, zero past kc and past the last column.
void temper_bf16_pack_b(int trans, const float *b, long ldb, long kc, long cols, float *dst);
#endif

/// Block formats the integer dot products below read (GGML's 32-value Q8_0, Q4_0, Q4_1, Q5_0,
/// Q5_1 and the 256-value Q4_K, Q5_K, Q6_K; only Q8_0, Q4_0 and Q4_1 have float-activation
/// products and quantizers).
#define TEMPER_Q8_0 0
#define TEMPER_Q4_0 1
#define TEMPER_Q4_1 2
#define TEMPER_Q4_K 3
#define TEMPER_Q5_0 4
#define TEMPER_Q5_1 5
#define TEMPER_Q5_K 6
#define TEMPER_Q6_K 7
/// Code paths of `temper_qdot_rows`: portable C, AVX2, AVX-512 VNNI.
#define TEMPER_QPATH_SCALAR 0
#define TEMPER_QPATH_AVX2 1
#define TEMPER_QPATH_VNNI 2

/// 1 when this CPU runs AVX-512 F/BW/VL with VNNI: the `TEMPER_QPATH_VNNI` path may run.
int temper_avx512vnni_supported(void);

/// Quantizes `n` activations (a multiple of 32) to int8 per 32-block as llama.cpp's Q8 does:
/// `q` gets the codes, `d[b]` the block's scale (max |x| / 127), `s[b]` = d[b] · Σ q of the block.
void temper_q8_quantize_activations(const float *x, long n, int8_t *q, float *d, float *s);

/// Encodes `n` floats (a multiple of 32) as `format` blocks at `dst`, with ggml's reference rounding.
void temper_quantize_row(int format, const float *x, long n, uint8_t *dst);

/// For weight rows `r0..<r1` of a `format` matrix (`row_bytes` bytes per row of `k` values) and `m`
/// activation rows quantized by `temper_q8_quantize_activations` (`xq` m×k, `xd`/`xs` m×(k/32)):
/// `y[i * ldy + r] = row r · activation i`.
void temper_qdot_rows(int format, int path, const uint8_t *w, long row_bytes, long r0, long r1, long k,
                      const int8_t *xq, const float *xd, const float *xs, long m, float *y, long ldy);

/// As `temper_qdot_rows` with float activations `x` (m×k): each block's codes are converted to
/// float and multiplied into x (AVX2 on every path but `TEMPER_QPATH_SCALAR`). One activation row
/// meets eight weight rows per pass; with m > 1 each weight row is decoded once into `row_buffer`
/// (k floats, or NULL to decode per activation row). Formats: Q8_0, Q4_0 and Q4_1 only (the
/// Swift side's `hasFloatDot`); others take the decoded-panel GEMM.
void temper_qdot_rows_float(int format, int path, const uint8_t *w, long row_bytes, long r0, long r1, long k,
                            const float *x, long m, float *y, long ldy, float *row_buffer);

#endif

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
#endif

#endif

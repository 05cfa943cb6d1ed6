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

#endif

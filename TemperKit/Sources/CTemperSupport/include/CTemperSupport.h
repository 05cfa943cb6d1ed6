#ifndef CTEMPER_SUPPORT_H
#define CTEMPER_SUPPORT_H
#include <stdint.h>

/// 1 when this CPU runs the instruction set TemperTensor was compiled for (AVX2 + FMA + F16C on
/// x86-64; always 1 on arm64). The library also checks this when it is loaded and exits with a
/// message instead of dying later on an illegal instruction.
int temper_cpu_supported(void);

/// A short name of the instruction set the build targets, for messages and benchmarks.
const char *temper_cpu_target(void);

#endif

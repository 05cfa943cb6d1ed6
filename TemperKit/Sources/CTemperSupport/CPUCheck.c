// Compiled without -mavx2 so that it runs on any x86-64: the rest of libTemperKit assumes AVX2/FMA.
#include "CTemperSupport.h"
#include <stdio.h>
#include <stdlib.h>

int temper_cpu_supported(void) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
#else
    return 1;
#endif
}

const char *temper_cpu_target(void) {
#if defined(__x86_64__)
    return "x86-64 AVX2+FMA";
#elif defined(__aarch64__)
    return "arm64 NEON";
#else
    return "generic";
#endif
}

// Runs when libTemperKit.so is mapped, before any Swift code of the library can execute.
__attribute__((constructor)) static void temper_check_cpu_at_load(void) {
    if (!temper_cpu_supported()) {
        fprintf(stderr,
                "temper: this CPU lacks AVX2/FMA/F16C, which this build of TemperKit requires (%s).\n"
                "Rebuild on this machine for its instruction set, or run on a CPU from 2013 or later.\n",
                temper_cpu_target());
        exit(70);
    }
}

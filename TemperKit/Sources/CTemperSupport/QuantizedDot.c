// Dot products of GGML's 32-value block formats (Q8_0, Q4_0, Q4_1) with activations quantized to
// int8 per 32-block, as llama.cpp does: the integer products of a block are summed exactly, then
// scaled once by the two block scales. Three paths give the same integer sums: portable C (the
// reference), AVX2 (maddubs) and AVX-512 VNNI (dpbusd on 256-bit lanes); only the last two carry
// target attributes, so the library still loads on a CPU without them.
#include "CTemperSupport.h"
#include <math.h>
#include <string.h>

#define QK 32

#if defined(__x86_64__)
#include <immintrin.h>
// F16C is part of the instruction set the library requires (CPUCheck.c); without the attribute the
// compiler would call conversion helpers from a runtime library the link may lack.
#define F16C __attribute__((target("f16c")))
#else
#define F16C
#endif

F16C static inline float half_to_float(const uint8_t *p) {
#if defined(__x86_64__)
    unsigned short h;
    memcpy(&h, p, 2);
    return _cvtsh_ss(h);
#else
    _Float16 h;
    memcpy(&h, p, 2);
    return (float)h;
#endif
}

F16C static inline void float_to_half(float f, uint8_t *p) {
#if defined(__x86_64__)
    unsigned short h = _cvtss_sh(f, _MM_FROUND_TO_NEAREST_INT);
#else
    _Float16 h = (_Float16)f;
#endif
    memcpy(p, &h, 2);
}

static long block_bytes(int format) {
    switch (format) {
    case TEMPER_Q8_0: return 34;
    case TEMPER_Q4_0: return 18;
    case TEMPER_Q4_1: return 20;
    default: return 0;
    }
}

void temper_q8_quantize_activations(const float *x, long n, int8_t *q, float *d, float *s) {
    for (long b = 0; b < n / QK; b++) {
        const float *xb = x + b * QK;
        float amax = 0;
        for (int i = 0; i < QK; i++) amax = fmaxf(amax, fabsf(xb[i]));
        // 127, not 128: the AVX2 sign trick negates x, and -(-128) does not fit in int8.
        float scale = amax / 127.0f, inv = scale > 0 ? 1.0f / scale : 0.0f;
        int sum = 0;
        for (int i = 0; i < QK; i++) {
            int v = (int)roundf(xb[i] * inv);
            q[b * QK + i] = (int8_t)v;
            sum += v;
        }
        d[b] = scale;
        s[b] = scale * (float)sum;
    }
}

// The rounding of ggml's reference quantizers (quantize_row_q*_ref): round half away from zero for
// Q8_0, truncation of x/d + 8.5 (or + 0.5 above the minimum) for the 4-bit formats.
F16C void temper_quantize_row(int format, const float *x, long n, uint8_t *dst) {
    long bytes = block_bytes(format);
    for (long b = 0; b < n / QK; b++) {
        const float *xb = x + b * QK;
        uint8_t *blk = dst + b * bytes;
        if (format == TEMPER_Q8_0) {
            float amax = 0;
            for (int i = 0; i < QK; i++) amax = fmaxf(amax, fabsf(xb[i]));
            float scale = amax / 127.0f, inv = scale > 0 ? 1.0f / scale : 0.0f;
            float_to_half(scale, blk);
            for (int i = 0; i < QK; i++) blk[2 + i] = (uint8_t)(int8_t)roundf(xb[i] * inv);
        } else if (format == TEMPER_Q4_0) {
            // ggml's reference: the value of largest magnitude maps to -8, so d keeps its sign.
            float amax = 0, extreme = 0;
            for (int i = 0; i < QK; i++) if (fabsf(xb[i]) > amax) { amax = fabsf(xb[i]); extreme = xb[i]; }
            float scale = extreme / -8.0f, inv = scale != 0 ? 1.0f / scale : 0.0f;
            float_to_half(scale, blk);
            for (int i = 0; i < QK / 2; i++) {
                int lo = (int)(xb[i] * inv + 8.5f), hi = (int)(xb[i + QK / 2] * inv + 8.5f);
                lo = lo > 15 ? 15 : lo; hi = hi > 15 ? 15 : hi;
                blk[2 + i] = (uint8_t)(lo | (hi << 4));
            }
        } else if (format == TEMPER_Q4_1) {
            float lo = xb[0], hi = xb[0];
            for (int i = 1; i < QK; i++) { lo = fminf(lo, xb[i]); hi = fmaxf(hi, xb[i]); }
            float scale = (hi - lo) / 15.0f, inv = scale != 0 ? 1.0f / scale : 0.0f;
            float_to_half(scale, blk);
            float_to_half(lo, blk + 2);
            for (int i = 0; i < QK / 2; i++) {
                int a = (int)((xb[i] - lo) * inv + 0.5f), c = (int)((xb[i + QK / 2] - lo) * inv + 0.5f);
                a = a > 15 ? 15 : a; c = c > 15 ? 15 : c;
                blk[4 + i] = (uint8_t)(a | (c << 4));
            }
        }
    }
}

// One weight row against one quantized activation row, portable C.
F16C static float dot_row_scalar(int format, const uint8_t *w, long blocks, const int8_t *xq, const float *xd, const float *xs) {
    float total = 0;
    long bytes = block_bytes(format);
    for (long b = 0; b < blocks; b++) {
        const uint8_t *blk = w + b * bytes;
        const int8_t *x = xq + b * QK;
        float dw = half_to_float(blk);
        int sum = 0;
        if (format == TEMPER_Q8_0) {
            for (int i = 0; i < QK; i++) sum += (int)(int8_t)blk[2 + i] * x[i];
            total += dw * xd[b] * (float)sum;
        } else {
            const uint8_t *qs = blk + (format == TEMPER_Q4_0 ? 2 : 4);
            for (int i = 0; i < QK / 2; i++) sum += (qs[i] & 15) * x[i] + (qs[i] >> 4) * x[i + QK / 2];
            total += dw * xd[b] * (float)sum;
            total += format == TEMPER_Q4_0 ? -8.0f * dw * xs[b] : half_to_float(blk + 2) * xs[b];
        }
    }
    return total;
}

// Decodes `blocks` blocks of a Q8_0 / Q4_0 / Q4_1 row into floats.
F16C static void temper_decode_row(int format, const uint8_t *w, long blocks, float *dst) {
    long bytes = block_bytes(format);
    for (long b = 0; b < blocks; b++) {
        const uint8_t *blk = w + b * bytes;
        float d = half_to_float(blk), *out = dst + b * QK;
        if (format == TEMPER_Q8_0) {
            for (int i = 0; i < QK; i++) out[i] = d * (float)(int8_t)blk[2 + i];
        } else {
            const uint8_t *qs = blk + (format == TEMPER_Q4_0 ? 2 : 4);
            float m = format == TEMPER_Q4_0 ? -8.0f * d : half_to_float(blk + 2);
            for (int i = 0; i < QK / 2; i++) { out[i] = d * (float)(qs[i] & 15) + m; out[i + QK / 2] = d * (float)(qs[i] >> 4) + m; }
        }
    }
}

// One weight row against one float activation row, portable C: the block's codes times x, summed
// in float, scaled by d once per block (plus m · Σx for Q4_1).
F16C static float dot_row_float_scalar(int format, const uint8_t *w, long blocks, const float *x) {
    float total = 0;
    long bytes = block_bytes(format);
    for (long b = 0; b < blocks; b++) {
        const uint8_t *blk = w + b * bytes;
        const float *xb = x + b * QK;
        float sum = 0, xsum = 0;
        if (format == TEMPER_Q8_0) {
            for (int i = 0; i < QK; i++) sum += (float)(int8_t)blk[2 + i] * xb[i];
        } else {
            const uint8_t *qs = blk + (format == TEMPER_Q4_0 ? 2 : 4);
            int zero = format == TEMPER_Q4_0 ? 8 : 0;
            for (int i = 0; i < QK / 2; i++) {
                sum += (float)((qs[i] & 15) - zero) * xb[i] + (float)((qs[i] >> 4) - zero) * xb[i + QK / 2];
                xsum += xb[i] + xb[i + QK / 2];
            }
        }
        total += half_to_float(blk) * sum;
        if (format == TEMPER_Q4_1) total += half_to_float(blk + 2) * xsum;
    }
    return total;
}

#if defined(__x86_64__)
#define AVX2 __attribute__((target("avx2,fma,f16c")))
#define VNNI __attribute__((target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512vnni")))

int temper_avx512vnni_supported(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")
        && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni");
}

// The 32 codes of a block as bytes in value order: Q8_0's signed values, or a Q4 block's nibbles
// (low nibbles are values 0-15, high nibbles 16-31).
#define DEFINE_DOT(NAME, ATTR, PRODUCT)                                                                    \
ATTR static inline __m256i NAME##_codes(int format, const uint8_t *blk) {                                   \
    if (format == TEMPER_Q8_0) return _mm256_loadu_si256((const __m256i *)(blk + 2));                      \
    __m128i b = _mm_loadu_si128((const __m128i *)(blk + (format == TEMPER_Q4_0 ? 2 : 4)));                 \
    __m128i m4 = _mm_set1_epi8(15);                                                                         \
    return _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(b, 4), m4), _mm_and_si128(b, m4));               \
}                                                                                                           \
ATTR static float NAME(int format, const uint8_t *w, long blocks, const int8_t *xq, const float *xd,       \
                       const float *xs) {                                                                   \
    long bytes = block_bytes(format);                                                                       \
    __m256 acc = _mm256_setzero_ps();                                                                       \
    float corr = 0;                                                                                         \
    for (long b = 0; b < blocks; b++) {                                                                     \
        const uint8_t *blk = w + b * bytes;                                                                 \
        __m256i q = NAME##_codes(format, blk);                                                              \
        __m256i x = _mm256_loadu_si256((const __m256i *)(xq + b * QK));                                     \
        __m256i u, v;                                                                                       \
        /* The instructions multiply unsigned by signed bytes: Q4 codes are unsigned already; */           \
        /* Q8_0 moves w's sign onto x (|w| · sign(w)·x = w·x). */                                           \
        if (format == TEMPER_Q8_0) { u = _mm256_sign_epi8(q, q); v = _mm256_sign_epi8(x, q); }              \
        else { u = q; v = x; }                                                                              \
        __m256i p = PRODUCT(u, v);                                                                          \
        float dw = _cvtsh_ss(*(const unsigned short *)blk);                                                 \
        acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), _mm256_set1_ps(dw * xd[b]), acc);                      \
        if (format == TEMPER_Q4_0) corr -= 8.0f * dw * xs[b];                                               \
        else if (format == TEMPER_Q4_1) corr += _cvtsh_ss(*(const unsigned short *)(blk + 2)) * xs[b];      \
    }                                                                                                       \
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(acc), _mm256_extractf128_ps(acc, 1));                      \
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));                                                                 \
    s = _mm_add_ss(s, _mm_movehdup_ps(s));                                                                  \
    return _mm_cvtss_f32(s) + corr;                                                                         \
}

AVX2 static inline __m256i product_avx2(__m256i u, __m256i v) {
    // Pairs of products fit in int16: 128 · 127 · 2 < 32768.
    return _mm256_madd_epi16(_mm256_maddubs_epi16(u, v), _mm256_set1_epi16(1));
}
VNNI static inline __m256i product_vnni(__m256i u, __m256i v) {
    return _mm256_dpbusd_epi32(_mm256_setzero_si256(), u, v);
}
DEFINE_DOT(dot_row_avx2, AVX2, product_avx2)
DEFINE_DOT(dot_row_vnni, VNNI, product_vnni)
// The float-activation form on AVX2: a block's 32 codes become four vectors of 8 floats (Q4_0's
// minus 8), multiplied into x with FMAs; Q4_1's offset adds m · Σx.
AVX2 static float dot_row_float_avx2(int format, const uint8_t *w, long blocks, const float *x) {
    long bytes = block_bytes(format);
    __m256 acc = _mm256_setzero_ps(), offsets = _mm256_setzero_ps();
    for (long b = 0; b < blocks; b++) {
        const uint8_t *blk = w + b * bytes;
        const float *xb = x + b * QK;
        __m128i lo, hi;  // codes 0-15 and 16-31 as bytes
        if (format == TEMPER_Q8_0) {
            lo = _mm_loadu_si128((const __m128i *)(blk + 2));
            hi = _mm_loadu_si128((const __m128i *)(blk + 18));
        } else {
            __m128i q = _mm_loadu_si128((const __m128i *)(blk + (format == TEMPER_Q4_0 ? 2 : 4)));
            __m128i m4 = _mm_set1_epi8(15);
            lo = _mm_and_si128(q, m4);
            hi = _mm_and_si128(_mm_srli_epi16(q, 4), m4);
            if (format == TEMPER_Q4_0) { lo = _mm_sub_epi8(lo, _mm_set1_epi8(8)); hi = _mm_sub_epi8(hi, _mm_set1_epi8(8)); }
        }
        __m256 w0 = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(lo));
        __m256 w1 = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(lo, 8)));
        __m256 w2 = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(hi));
        __m256 w3 = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(hi, 8)));
        __m256 x0 = _mm256_loadu_ps(xb), x1 = _mm256_loadu_ps(xb + 8), x2 = _mm256_loadu_ps(xb + 16), x3 = _mm256_loadu_ps(xb + 24);
        __m256 s = _mm256_fmadd_ps(w3, x3, _mm256_fmadd_ps(w2, x2, _mm256_fmadd_ps(w1, x1, _mm256_mul_ps(w0, x0))));
        acc = _mm256_fmadd_ps(s, _mm256_set1_ps(_cvtsh_ss(*(const unsigned short *)blk)), acc);
        if (format == TEMPER_Q4_1) {
            __m256 xs = _mm256_add_ps(_mm256_add_ps(x0, x1), _mm256_add_ps(x2, x3));
            offsets = _mm256_fmadd_ps(xs, _mm256_set1_ps(_cvtsh_ss(*(const unsigned short *)(blk + 2))), offsets);
        }
    }
    acc = _mm256_add_ps(acc, offsets);
    __m128 r = _mm_add_ps(_mm256_castps256_ps128(acc), _mm256_extractf128_ps(acc, 1));
    r = _mm_add_ps(r, _mm_movehl_ps(r, r));
    r = _mm_add_ss(r, _mm_movehdup_ps(r));
    return _mm_cvtss_f32(r);
}
#else
int temper_avx512vnni_supported(void) { return 0; }
#endif

#if defined(__x86_64__)
// x · y over n floats (n a multiple of 32), AVX2.
AVX2 static float dot_float_avx2(const float *x, const float *y, long n) {
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps(), a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
    for (long j = 0; j < n; j += 32) {
        a0 = _mm256_fmadd_ps(_mm256_loadu_ps(x + j), _mm256_loadu_ps(y + j), a0);
        a1 = _mm256_fmadd_ps(_mm256_loadu_ps(x + j + 8), _mm256_loadu_ps(y + j + 8), a1);
        a2 = _mm256_fmadd_ps(_mm256_loadu_ps(x + j + 16), _mm256_loadu_ps(y + j + 16), a2);
        a3 = _mm256_fmadd_ps(_mm256_loadu_ps(x + j + 24), _mm256_loadu_ps(y + j + 24), a3);
    }
    __m256 acc = _mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3));
    __m128 r = _mm_add_ps(_mm256_castps256_ps128(acc), _mm256_extractf128_ps(acc, 1));
    r = _mm_add_ps(r, _mm_movehl_ps(r, r));
    r = _mm_add_ss(r, _mm_movehdup_ps(r));
    return _mm_cvtss_f32(r);
}
#endif

void temper_qdot_rows_float(int format, int path, const uint8_t *w, long row_bytes, long r0, long r1, long k,
                            const float *x, long m, float *y, long ldy, float *row_buffer) {
    long blocks = k / QK;
    for (long r = r0; r < r1; r++) {
        const uint8_t *row = w + r * row_bytes;
#if defined(__x86_64__)
        if (path != TEMPER_QPATH_SCALAR && m > 1 && row_buffer) {
            // Several activation rows: decode the weight row once (it stays in L1) and reuse it.
            temper_decode_row(format, row, blocks, row_buffer);
            for (long i = 0; i < m; i++) y[i * ldy + r] = dot_float_avx2(row_buffer, x + i * k, k);
            continue;
        }
#endif
        for (long i = 0; i < m; i++) {
            float v;
#if defined(__x86_64__)
            if (path != TEMPER_QPATH_SCALAR) v = dot_row_float_avx2(format, row, blocks, x + i * k);
            else
#endif
            v = dot_row_float_scalar(format, row, blocks, x + i * k);
            y[i * ldy + r] = v;
        }
    }
}

void temper_qdot_rows(int format, int path, const uint8_t *w, long row_bytes, long r0, long r1, long k,
                      const int8_t *xq, const float *xd, const float *xs, long m, float *y, long ldy) {
    long blocks = k / QK;
    for (long r = r0; r < r1; r++) {
        const uint8_t *row = w + r * row_bytes;
        for (long i = 0; i < m; i++) {
            const int8_t *q = xq + i * k;
            const float *d = xd + i * blocks, *s = xs + i * blocks;
            float v;
#if defined(__x86_64__)
            if (path == TEMPER_QPATH_VNNI) v = dot_row_vnni(format, row, blocks, q, d, s);
            else if (path == TEMPER_QPATH_AVX2) v = dot_row_avx2(format, row, blocks, q, d, s);
            else
#endif
            v = dot_row_scalar(format, row, blocks, q, d, s);
            y[i * ldy + r] = v;
        }
    }
}

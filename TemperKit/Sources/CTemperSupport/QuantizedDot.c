// Dot products of GGML block formats (Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, and Q4_K / Q5_K / Q6_K by
// 32-value pieces of their super-blocks) with activations quantized to int8 per 32-block, as llama.cpp does: the integer
// products of a block are summed exactly, then scaled once by the two block scales; and of Q8_0,
// Q4_0, Q4_1 with float activations. Three paths give the same integer sums: portable C (the
// reference), AVX2 (maddubs) and AVX-512 VNNI (dpbusd on 256-bit lanes); only the last two carry
// target attributes, so the library still loads on a CPU without them.
#include "CTemperSupport.h"
#include <math.h>
#include <string.h>

#define QK 32
#define SCALE_CHUNK 64  /* blocks whose scales are taken at once: a multiple of the K-quants' 8 */

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
    case TEMPER_Q5_0: return 22;
    case TEMPER_Q5_1: return 24;
    case TEMPER_Q4_K: return 144;
    case TEMPER_Q5_K: return 176;
    case TEMPER_Q6_K: return 210;
    default: return 0;
    }
}

#if defined(__x86_64__)
static void quantize_activations_avx2(const float *x, long n, int8_t *q, float *d, float *s);
#endif

void temper_q8_quantize_activations(const float *x, long n, int8_t *q, float *d, float *s) {
#if defined(__x86_64__)
    // AVX2 is part of the instruction set the library requires (CPUCheck.c).
    quantize_activations_avx2(x, n, q, d, s);
#else
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
#endif
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

// Where a 32-value block's 16 bytes of nibbles start: after d (Q4_0), d and m (Q4_1), d and the
// fifth bits (Q5_0), or d, m and the fifth bits (Q5_1).
static inline long nibbles_offset(int format) {
    switch (format) {
    case TEMPER_Q4_0: return 2;
    case TEMPER_Q5_0: return 6;
    case TEMPER_Q5_1: return 8;
    default: return 4;
    }
}

// Scale and min of sub-block `j` (0..<8) of a Q4_K super-block from its 12 packed bytes `s`:
// sub-blocks 0-3 use the low six bits of bytes j and j+4; 4-7 take their low four bits from byte
// j+4's nibbles and their top two bits from the spare high bits of bytes j-4 and j.
static inline void q4k_scale_min(long j, const uint8_t *s, int *sc, int *mn) {
    if (j < 4) { *sc = s[j] & 63; *mn = s[j + 4] & 63; return; }
    *sc = (s[j + 4] & 0xF) | ((s[j - 4] >> 6) << 4);
    *mn = (s[j + 4] >> 4) | ((s[j] >> 6) << 4);
}

// 32-value block `b` of a weight row as integer codes with a scale and an offset: value i is
// d · code[i] + m. Q8_0: m = 0; Q4_0: m = -8d; Q5_0: m = -16d; Q4_1 / Q5_1: m is the stored
// minimum; Q4_K (sub-block j of super-block b / 8, nibbles of its 32-byte run j / 2):
// d = d_super · sc_j, m = -dmin · min_j. Q5 codes take their fifth bit, bit i of the 32-bit qh
// that precedes the nibbles, for value i.
F16C static void block_codes_scalar(int format, const uint8_t *row, long b, int *code, float *d, float *m) {
    if (format == TEMPER_Q4_K || format == TEMPER_Q5_K) {
        // Q5_K: the same with 32 bytes of fifth bits before the nibbles, bit j of byte i for value i.
        const int five = format == TEMPER_Q5_K;
        const uint8_t *blk = row + (b >> 3) * block_bytes(format), *qs = blk + (five ? 48 : 16) + ((b & 7) >> 1) * 32;
        int sc, mn;
        q4k_scale_min(b & 7, blk + 4, &sc, &mn);
        for (int i = 0; i < QK; i++) {
            code[i] = (b & 1) ? qs[i] >> 4 : qs[i] & 15;
            if (five) code[i] |= ((blk[16 + i] >> (b & 7)) & 1) << 4;
        }
        *d = half_to_float(blk) * (float)sc;
        *m = -half_to_float(blk + 2) * (float)mn;
        return;
    }
    const uint8_t *blk = row + b * block_bytes(format);
    *d = half_to_float(blk);
    if (format == TEMPER_Q8_0) {
        for (int i = 0; i < QK; i++) code[i] = (int8_t)blk[2 + i];
        *m = 0;
        return;
    }
    const uint8_t *qs = blk + nibbles_offset(format);
    for (int i = 0; i < QK / 2; i++) { code[i] = qs[i] & 15; code[i + QK / 2] = qs[i] >> 4; }
    if (format == TEMPER_Q5_0 || format == TEMPER_Q5_1) {
        uint32_t qh;
        memcpy(&qh, qs - 4, 4);
        for (int i = 0; i < QK; i++) code[i] |= ((qh >> i) & 1) << 4;
    }
    if (format == TEMPER_Q4_0 || format == TEMPER_Q5_0) *m = (format == TEMPER_Q4_0 ? -8.0f : -16.0f) * *d;
    else *m = half_to_float(blk + 2);
}

// Q6_K's 32-value piece `b` (of eight per 210-byte super-block): 6-bit codes (value = code - 32)
// from a nibble of 32 bytes of ql and two bits of 32 bytes of qh, and the int8 scales of its two
// 16-value sub-blocks. Piece t of half n (t = b mod 4, n = b / 4 mod 2) takes the low (t < 2) or
// high nibbles of ql[64n + 32(t mod 2) + i] and bits 2t, 2t + 1 of qh[32n + i]; its scales are
// sc[8n + 2t] and sc[8n + 2t + 1].
static inline void q6k_piece(const uint8_t *row, long b, const uint8_t **ql, const uint8_t **qh, int *shift, const int8_t **sc) {
    const uint8_t *blk = row + (b >> 3) * 210;
    const long t = b & 3, n = (b & 7) >> 2;
    *ql = blk + 64 * n + (t & 1) * 32;
    *qh = blk + 128 + 32 * n;
    *shift = (int)(2 * t);
    *sc = (const int8_t *)(blk + 192) + 8 * n + 2 * t;
}

// Σ_i (code_i - 32) · xq_i · sc(i) over Q6_K piece `b`, with sc(i) its sub-block's scale: exact in
// integers, as the SIMD paths form it.
static int q6k_piece_dot(const uint8_t *row, long b, const int8_t *xq) {
    const uint8_t *ql, *qh;
    const int8_t *sc;
    int shift, total = 0;
    q6k_piece(row, b, &ql, &qh, &shift, &sc);
    for (int half = 0; half < 2; half++) {
        int sum = 0;
        for (int i = 16 * half; i < 16 * half + 16; i++) {
            int code = ((b & 2) ? ql[i] >> 4 : ql[i] & 15) | (((qh[i] >> shift) & 3) << 4);
            sum += (code - 32) * xq[i];
        }
        total += sc[half] * sum;
    }
    return total;
}

// One weight row against one quantized activation row, portable C (the reference the SIMD paths
// are tested against): Σ_b d_b · xd_b · Σ_i code_i · xq_i + m_b · xs_b (Q6_K: Σ_b d · xd_b ·
// q6k_piece_dot).
F16C static float dot_row_scalar(int format, const uint8_t *w, long blocks, const int8_t *xq, const float *xd, const float *xs) {
    float total = 0;
    if (format == TEMPER_Q6_K) {
        for (long b = 0; b < blocks; b++)
            total += half_to_float(w + (b >> 3) * 210 + 208) * xd[b] * (float)q6k_piece_dot(w, b, xq + b * QK);
        return total;
    }
    for (long b = 0; b < blocks; b++) {
        int code[QK], sum = 0;
        float d, m;
        block_codes_scalar(format, w, b, code, &d, &m);
        for (int i = 0; i < QK; i++) sum += code[i] * xq[b * QK + i];
        total += d * xd[b] * (float)sum + m * xs[b];
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

// The 32 codes of 32-value block `b` of a row as bytes in value order: Q8_0's signed values, or
// the nibbles of a Q4_0 / Q4_1 block (low nibbles are values 0-15, high 16-31), with a Q5 block's
// fifth bits on top, or a Q4_K sub-block's nibbles (the low or high ones of its super-block's
// 32-byte run).
AVX2 __attribute__((always_inline)) static inline __m256i block_codes(const int format, const uint8_t *row, long b) {
    const __m256i m4 = _mm256_set1_epi8(15);
    if (format == TEMPER_Q8_0) return _mm256_loadu_si256((const __m256i *)(row + b * 34 + 2));
    if (format == TEMPER_Q4_K) {
        __m256i q = _mm256_loadu_si256((const __m256i *)(row + (b >> 3) * 144 + 16 + ((b & 7) >> 1) * 32));
        return _mm256_and_si256((b & 1) ? _mm256_srli_epi16(q, 4) : q, m4);
    }
    if (format == TEMPER_Q5_K) {
        // Q4_K's nibbles (after 32 bytes of fifth bits), and 16 where bit j of qh[i] is set.
        const uint8_t *blk = row + (b >> 3) * 176;
        __m256i q = _mm256_loadu_si256((const __m256i *)(blk + 48 + ((b & 7) >> 1) * 32));
        q = _mm256_and_si256((b & 1) ? _mm256_srli_epi16(q, 4) : q, m4);
        const __m256i bit = _mm256_set1_epi8((char)(1 << (b & 7)));
        __m256i h = _mm256_cmpeq_epi8(_mm256_and_si256(_mm256_loadu_si256((const __m256i *)(blk + 16)), bit), bit);
        return _mm256_or_si256(q, _mm256_and_si256(h, _mm256_set1_epi8(16)));
    }
    if (format == TEMPER_Q6_K) {
        // Unsigned 6-bit codes; the -32 is taken off the integer sums (`DEFINE_DOTN`).
        const uint8_t *ql, *qh;
        const int8_t *sc;
        int shift;
        q6k_piece(row, b, &ql, &qh, &shift, &sc);
        __m256i lo = _mm256_loadu_si256((const __m256i *)ql);
        lo = _mm256_and_si256((b & 2) ? _mm256_srli_epi16(lo, 4) : lo, m4);
        __m256i hi = _mm256_srl_epi16(_mm256_loadu_si256((const __m256i *)qh), _mm_cvtsi32_si128(shift));
        return _mm256_or_si256(lo, _mm256_slli_epi16(_mm256_and_si256(hi, _mm256_set1_epi8(3)), 4));
    }
    const uint8_t *blk = row + b * block_bytes(format) + nibbles_offset(format);
    __m256i q = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)blk));
    q = _mm256_and_si256(_mm256_srlv_epi64(q, _mm256_set_epi64x(4, 4, 0, 0)), m4);
    if (format == TEMPER_Q5_0 || format == TEMPER_Q5_1) {
        // Byte i takes byte i / 8 of qh, keeps bit i % 8, and becomes 16 where it is set.
        uint32_t qh;
        memcpy(&qh, blk - 4, 4);
        const __m256i spread = _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1,
                                                2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3);
        const __m256i bit = _mm256_set1_epi64x((long long)0x8040201008040201ULL);
        __m256i h = _mm256_and_si256(_mm256_shuffle_epi8(_mm256_set1_epi32((int)qh), spread), bit);
        q = _mm256_or_si256(q, _mm256_and_si256(_mm256_cmpeq_epi8(h, bit), _mm256_set1_epi8(16)));
    }
    return q;
}

// The int8 scales of Q6_K piece `b`'s two sub-blocks as eight int32 lanes: the first four, then
// the second four, matching the lanes of `product_*`.
AVX2 __attribute__((always_inline)) static inline __m256i q6k_scales(const uint8_t *row, long b) {
    const uint8_t *ql, *qh;
    const int8_t *sc;
    int shift;
    q6k_piece(row, b, &ql, &qh, &shift, &sc);
    return _mm256_setr_epi32(sc[0], sc[0], sc[0], sc[0], sc[1], sc[1], sc[1], sc[1]);
}

AVX2 __attribute__((always_inline)) static inline __m256i product_avx2(__m256i u, __m256i v) {
    // Pairs of products fit in int16: 128 · 127 · 2 < 32768.
    return _mm256_madd_epi16(_mm256_maddubs_epi16(u, v), _mm256_set1_epi16(1));
}
VNNI __attribute__((always_inline)) static inline __m256i product_vnni(__m256i u, __m256i v) {
    return _mm256_dpbusd_epi32(_mm256_setzero_si256(), u, v);
}
// `bias + product(u, v)`: VNNI adds into its accumulator for free.
AVX2 __attribute__((always_inline)) static inline __m256i product_plus_avx2(__m256i bias, __m256i u, __m256i v) {
    return _mm256_add_epi32(bias, product_avx2(u, v));
}
VNNI __attribute__((always_inline)) static inline __m256i product_plus_vnni(__m256i bias, __m256i u, __m256i v) {
    return _mm256_dpbusd_epi32(bias, u, v);
}

// How Q8_0's signed codes meet the instructions' unsigned-by-signed bytes. AVX2 moves w's sign
// onto x (|w| · sign(w)·x = w·x, two `vpsignb`): maddubs' int16 pairs leave no room for more.
// VNNI's int32 sums do: w + 128 (one `vpxor`) is unsigned, and Σ (w + 128)·x - 128·Σx = Σ w·x,
// with -128·Σx formed once per activation block and fed in as dpbusd's accumulator.
#define Q8_OFFSET_avx2 0
#define Q8_OFFSET_vnni 1

// Whether a format's blocks have an offset m (value = d · code + m) that the integer sums leave out.
static inline int has_offset(int format) { return format != TEMPER_Q8_0 && format != TEMPER_Q6_K; }

// The scale d and offset m (as in `block_codes_scalar`; Q6_K: its super-block's d and no offset)
// of block `b` of one weight row, any format.
AVX2 __attribute__((always_inline)) static inline void block_dm1(const int format, const uint8_t *row, long b, float *d, float *m) {
    if (format == TEMPER_Q6_K) { *d = _cvtsh_ss(*(const unsigned short *)(row + (b >> 3) * 210 + 208)); *m = 0; return; }
    if (format == TEMPER_Q4_K || format == TEMPER_Q5_K) {
        const uint8_t *blk = row + (b >> 3) * block_bytes(format);
        int sc, mn;
        q4k_scale_min(b & 7, blk + 4, &sc, &mn);
        *d = _cvtsh_ss(*(const unsigned short *)blk) * (float)sc;
        *m = -_cvtsh_ss(*(const unsigned short *)(blk + 2)) * (float)mn;
        return;
    }
    const uint8_t *blk = row + b * block_bytes(format);
    *d = _cvtsh_ss(*(const unsigned short *)blk);
    if (format == TEMPER_Q4_1 || format == TEMPER_Q5_1) *m = _cvtsh_ss(*(const unsigned short *)(blk + 2));
    else *m = format == TEMPER_Q4_0 ? -8.0f * *d : format == TEMPER_Q5_0 ? -16.0f * *d : 0.0f;
}

// d and m of the eight 32-value blocks from block `b` of one weight row: one 32-bit gather reads d
// (and the _1 formats' m right after it) of all eight.
AVX2 __attribute__((always_inline)) static inline void block_dm8(const int format, const uint8_t *row, long b, __m256 *d, __m256 *m) {
    const long bytes = block_bytes(format);
    const __m256i offsets = _mm256_mullo_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), _mm256_set1_epi32((int)bytes));
    // Bytes 0-1 (d) and 2-3 (the _1 formats' m) of each gathered word, packed as eight halves.
    const __m256i low = _mm256_setr_epi8(0, 1, 4, 5, 8, 9, 12, 13, -1, -1, -1, -1, -1, -1, -1, -1,
                                         0, 1, 4, 5, 8, 9, 12, 13, -1, -1, -1, -1, -1, -1, -1, -1);
    __m256i dm = _mm256_i32gather_epi32((const int *)(row + b * bytes), offsets, 1);
    *d = _mm256_cvtph_ps(_mm256_castsi256_si128(_mm256_permute4x64_epi64(_mm256_shuffle_epi8(dm, low), 0x08)));
    *m = _mm256_setzero_ps();
    if (format == TEMPER_Q4_1 || format == TEMPER_Q5_1)
        *m = _mm256_cvtph_ps(_mm256_castsi256_si128(_mm256_permute4x64_epi64(_mm256_shuffle_epi8(_mm256_srli_epi32(dm, 16), low), 0x08)));
    else if (format == TEMPER_Q4_0 || format == TEMPER_Q5_0)
        *m = _mm256_mul_ps(*d, _mm256_set1_ps(format == TEMPER_Q4_0 ? -8.0f : -16.0f));
}

static inline int is_k_quant(int format) { return format == TEMPER_Q4_K || format == TEMPER_Q5_K || format == TEMPER_Q6_K; }

// d and m of blocks `b0 ..< b0 + count` of one weight row into `d`, `m`: eight at a time where the
// format allows the gather (the 32-value formats), the rest one by one.
AVX2 __attribute__((always_inline)) static inline void block_dm(const int format, const uint8_t *row,
        long b0, long count, float *d, float *m) {
    long b = 0;
    if (!is_k_quant(format)) {
        for (; b + 8 <= count; b += 8) {
            __m256 dv, mv;
            block_dm8(format, row, b0 + b, &dv, &mv);
            _mm256_storeu_ps(d + b, dv);
            if (has_offset(format)) _mm256_storeu_ps(m + b, mv);
        }
    }
    for (; b < count; b++) block_dm1(format, row, b0 + b, d + b, m + b);
}

AVX2 __attribute__((always_inline)) static inline float hsum8(__m256 v) {
    __m128 r = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    r = _mm_add_ps(r, _mm_movehl_ps(r, r));
    r = _mm_add_ss(r, _mm_movehdup_ps(r));
    return _mm_cvtss_f32(r);
}

// The products' scales for `count` blocks of one weight row (d, m from `block_dm`) against one
// activation row's (xd, xs): `scale[b] = d_b · xd_b`, and the row's offset term, which the integer
// sums leave out, Σ m_b · xs_b (zero for the formats without offsets), summed eight lanes at a
// time and the last blocks one by one.
AVX2 __attribute__((always_inline)) static inline float apply_scales(const int format, const float *d, const float *m,
        long count, const float *xd, const float *xs, float *scale) {
    __m256 acc = _mm256_setzero_ps();
    long b = 0;
    for (; b + 8 <= count; b += 8) {
        _mm256_storeu_ps(scale + b, _mm256_mul_ps(_mm256_loadu_ps(d + b), _mm256_loadu_ps(xd + b)));
        if (has_offset(format)) acc = _mm256_fmadd_ps(_mm256_loadu_ps(m + b), _mm256_loadu_ps(xs + b), acc);
    }
    float total = hsum8(acc);
    for (; b < count; b++) {
        scale[b] = d[b] * xd[b];
        if (has_offset(format)) total = fmaf(m[b], xs[b], total);
    }
    return total;
}

// `block_dm` then `apply_scales` for blocks `b0 ..< b0 + count` of one weight row and one
// activation row (`xd`, `xs` indexed from block 0), with the same operations in the same order
// (so the same bits) but, for the 32-value formats, without the round trip through memory.
AVX2 __attribute__((always_inline)) static inline float block_scales(const int format, const uint8_t *row,
        long b0, long count, const float *xd, const float *xs, float *scale) {
    if (is_k_quant(format)) {
        float d[SCALE_CHUNK], m[SCALE_CHUNK];
        block_dm(format, row, b0, count, d, m);
        return apply_scales(format, d, m, count, xd + b0, xs + b0, scale);
    }
    __m256 acc = _mm256_setzero_ps();
    long b = 0;
    for (; b + 8 <= count; b += 8) {
        __m256 dv, mv;
        block_dm8(format, row, b0 + b, &dv, &mv);
        _mm256_storeu_ps(scale + b, _mm256_mul_ps(dv, _mm256_loadu_ps(xd + b0 + b)));
        if (has_offset(format)) acc = _mm256_fmadd_ps(mv, _mm256_loadu_ps(xs + b0 + b), acc);
    }
    float total = hsum8(acc);
    for (; b < count; b++) {
        float d, m;
        block_dm1(format, row, b0 + b, &d, &m);
        scale[b] = d * xd[b0 + b];
        if (has_offset(format)) total = fmaf(m, xs[b0 + b], total);
    }
    return total;
}

// What the integer sums of an activation block `x` must add for codes stored with an offset:
// Q6_K's 6-bit codes are c + 32, so -32 · Σx per group of four values; Q8_0's are w + 128 where
// `q8_offset` (VNNI), so -128 · Σx; nothing for the rest.
#define code_offset_bias(format, q8_offset, x, PRODUCT)                                                    \
    ((format) == TEMPER_Q6_K ? _mm256_sub_epi32(_mm256_setzero_si256(), PRODUCT(_mm256_set1_epi8(32), (x)))  \
     : (format) == TEMPER_Q8_0 && (q8_offset) ? _mm256_sub_epi32(_mm256_setzero_si256(), PRODUCT(_mm256_set1_epi8((char)0x80), (x))) \
     : _mm256_setzero_si256())

// `rows` (1 or ROWS) consecutive weight rows against one activation row: each block of x is
// loaded once for all of them, and the rows' accumulations are independent chains, so the loop is
// bound by throughput rather than by the latency of one FMA chain (one row at a time runs Q4_1 at
// ~5 GB/s, compute-bound). With the scales from `block_scales`, the inner loop is unpack, integer
// dot, convert and one FMA per block. `format` and `rows` are constants in each instance below, so
// the branches on them fold away. While a group's blocks are multiplied, the same blocks of the
// next group are prefetched: a decode step streams ~100 MB of blocks that no cache holds, and
// the hardware prefetcher alone left a quarter of the kernel's time waiting on memory
// (12.9 against 16.1 ms per SmolLM2 Q8_0 token on one core, same machine).
#define ROWS 8
#define DEFINE_DOTN(NAME, ATTR, PRODUCT, PATH)                                                             \
ATTR __attribute__((always_inline)) static inline void NAME##_body(const int format, const int rows,      \
        const uint8_t *w, long row_bytes, long blocks, const int8_t *xq, const float *xd, const float *xs, \
        float *out) {                                                                                       \
    __m256 acc[ROWS];                                                                                       \
    float corr[ROWS], scale[ROWS][SCALE_CHUNK];                                                             \
    for (int r = 0; r < rows; r++) { acc[r] = _mm256_setzero_ps(); corr[r] = 0; }                          \
    for (long c0 = 0; c0 < blocks; c0 += SCALE_CHUNK) {                                                     \
        const long cn = blocks - c0 < SCALE_CHUNK ? blocks - c0 : SCALE_CHUNK;                              \
        for (int r = 0; r < rows; r++) corr[r] += block_scales(format, w + r * row_bytes, c0, cn, xd, xs, scale[r]); \
        for (long b = 0; b < cn; b++) {                                                                     \
            __m256i x = _mm256_loadu_si256((const __m256i *)(xq + (c0 + b) * QK));                          \
            const __m256i bias = code_offset_bias(format, Q8_OFFSET_##PATH, x, PRODUCT);                    \
            for (int r = 0; r < rows; r++) {                                                                \
                __m256i q = block_codes(format, w + r * row_bytes, c0 + b), u, v;                           \
                if (rows == ROWS)                                                                           \
                    _mm_prefetch((const char *)(w + (r + ROWS) * row_bytes + (c0 + b) * block_bytes(format)), _MM_HINT_T0); \
                /* The instructions multiply unsigned by signed bytes: Q4 codes are unsigned already. */   \
                if (format == TEMPER_Q8_0 && Q8_OFFSET_##PATH) { u = _mm256_xor_si256(q, _mm256_set1_epi8((char)0x80)); v = x; } \
                else if (format == TEMPER_Q8_0) { u = _mm256_sign_epi8(q, q); v = _mm256_sign_epi8(x, q); } \
                else { u = q; v = x; }                                                                      \
                __m256i p = product_plus_##PATH(bias, u, v);                                                \
                /* Q6_K: lanes 0-3 are its first 16-value sub-block, 4-7 the second; each its scale. */    \
                if (format == TEMPER_Q6_K) p = _mm256_mullo_epi32(p, q6k_scales(w + r * row_bytes, c0 + b)); \
                acc[r] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), _mm256_broadcast_ss(&scale[r][b]), acc[r]); \
            }                                                                                               \
        }                                                                                                   \
    }                                                                                                       \
    for (int r = 0; r < rows; r++) {                                                                        \
        __m128 s = _mm_add_ps(_mm256_castps256_ps128(acc[r]), _mm256_extractf128_ps(acc[r], 1));            \
        s = _mm_add_ps(s, _mm_movehl_ps(s, s));                                                             \
        s = _mm_add_ss(s, _mm_movehdup_ps(s));                                                              \
        out[r] = _mm_cvtss_f32(s) + corr[r];                                                                \
    }                                                                                                       \
}                                                                                                           \
ATTR static void NAME(int format, int rows, const uint8_t *w, long row_bytes, long blocks, const int8_t *xq, \
                      const float *xd, const float *xs, float *out) {                                       \
    /* One instance per format and row count (1 or ROWS). */                                            \
    switch (format * 2 + (rows == ROWS)) {                                                                  \
    DOT_CASES(NAME, TEMPER_Q8_0) DOT_CASES(NAME, TEMPER_Q4_0) DOT_CASES(NAME, TEMPER_Q4_1)                  \
    DOT_CASES(NAME, TEMPER_Q5_0) DOT_CASES(NAME, TEMPER_Q5_1) DOT_CASES(NAME, TEMPER_Q4_K)                  \
    DOT_CASES(NAME, TEMPER_Q5_K) DOT_CASES(NAME, TEMPER_Q6_K)                                               \
    }                                                                                                       \
}
#define DOT_CASES(NAME, F)                                                                                 \
    case F * 2: NAME##_body(F, 1, w, row_bytes, blocks, xq, xd, xs, out); break;                            \
    case F * 2 + 1: NAME##_body(F, ROWS, w, row_bytes, blocks, xq, xd, xs, out); break;
DEFINE_DOTN(dot_rows_avx2, AVX2, product_avx2, avx2)
DEFINE_DOTN(dot_rows_vnni, VNNI, product_vnni, vnni)

// Several activation rows (a decode step of 2-16 sequences): a tile of up to MROWS weight rows
// against up to MACTS activation rows, so each block is unpacked once per tile rather than once
// per activation row, and the tile's MROWS · MACTS accumulations are independent chains. Each
// (weight row, activation row) pair takes exactly the operations of `DEFINE_DOTN` in the same
// order, so a sequence's outputs have the same bits at any batch size. `acts` is a constant in
// each instance, like `format` and `rows`.
#define MROWS 4
#define MACTS 4
#define DEFINE_DOTM(NAME, ATTR, PRODUCT, PATH)                                                             \
ATTR __attribute__((always_inline)) static inline void NAME##_body(const int format, const int rows,      \
        const int acts, const uint8_t *w, long row_bytes, long blocks, const int8_t *xq, long k,            \
        const float *xd, const float *xs, float *out, long ldo) {                                           \
    __m256 acc[MROWS][MACTS];                                                                               \
    float corr[MROWS][MACTS], scale[MROWS][MACTS][SCALE_CHUNK];                                             \
    for (int r = 0; r < rows; r++)                                                                          \
        for (int i = 0; i < acts; i++) { acc[r][i] = _mm256_setzero_ps(); corr[r][i] = 0; }                \
    for (long c0 = 0; c0 < blocks; c0 += SCALE_CHUNK) {                                                     \
        const long cn = blocks - c0 < SCALE_CHUNK ? blocks - c0 : SCALE_CHUNK;                              \
        for (int r = 0; r < rows; r++) {                                                                    \
            /* The weight row's scales once for the tile's activation rows. */                            \
            float d[SCALE_CHUNK], m[SCALE_CHUNK];                                                           \
            block_dm(format, w + r * row_bytes, c0, cn, d, m);                                              \
            for (int i = 0; i < acts; i++)                                                                  \
                corr[r][i] += apply_scales(format, d, m, cn, xd + i * blocks + c0, xs + i * blocks + c0, scale[r][i]); \
        }                                                                                                   \
        for (long b = 0; b < cn; b++) {                                                                     \
            __m256i x[MACTS], bias[MACTS];                                                                  \
            for (int i = 0; i < acts; i++) {                                                                \
                x[i] = _mm256_loadu_si256((const __m256i *)(xq + i * k + (c0 + b) * QK));                   \
                bias[i] = code_offset_bias(format, Q8_OFFSET_##PATH, x[i], PRODUCT);                        \
            }                                                                                               \
            for (int r = 0; r < rows; r++) {                                                                \
                const __m256i q = block_codes(format, w + r * row_bytes, c0 + b);                           \
                if (rows == MROWS)                                                                          \
                    _mm_prefetch((const char *)(w + (r + MROWS) * row_bytes + (c0 + b) * block_bytes(format)), _MM_HINT_T0); \
                const __m256i u = format != TEMPER_Q8_0 ? q : Q8_OFFSET_##PATH ? _mm256_xor_si256(q, _mm256_set1_epi8((char)0x80)) : _mm256_sign_epi8(q, q); \
                const __m256i sc6 = format == TEMPER_Q6_K ? q6k_scales(w + r * row_bytes, c0 + b) : _mm256_setzero_si256(); \
                for (int i = 0; i < acts; i++) {                                                            \
                    __m256i p = product_plus_##PATH(bias[i], u, format == TEMPER_Q8_0 && !Q8_OFFSET_##PATH ? _mm256_sign_epi8(x[i], q) : x[i]); \
                    if (format == TEMPER_Q6_K) p = _mm256_mullo_epi32(p, sc6);                              \
                    acc[r][i] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), _mm256_broadcast_ss(&scale[r][i][b]), acc[r][i]); \
                }                                                                                           \
            }                                                                                               \
        }                                                                                                   \
    }                                                                                                       \
    for (int r = 0; r < rows; r++)                                                                          \
        for (int i = 0; i < acts; i++) {                                                                    \
            __m128 s = _mm_add_ps(_mm256_castps256_ps128(acc[r][i]), _mm256_extractf128_ps(acc[r][i], 1));  \
            s = _mm_add_ps(s, _mm_movehl_ps(s, s));                                                         \
            s = _mm_add_ss(s, _mm_movehdup_ps(s));                                                          \
            out[i * ldo + r] = _mm_cvtss_f32(s) + corr[r][i];                                               \
        }                                                                                                   \
}                                                                                                           \
ATTR static void NAME(int format, int rows, int acts, const uint8_t *w, long row_bytes, long blocks,        \
                      const int8_t *xq, long k, const float *xd, const float *xs, float *out, long ldo) {   \
    /* One instance per format, row count (1 or MROWS) and activation count (1 ... MACTS). */           \
    switch ((format * 2 + (rows == MROWS)) * MACTS + acts - 1) {                                            \
    DOTM_FORMAT(NAME, TEMPER_Q8_0) DOTM_FORMAT(NAME, TEMPER_Q4_0) DOTM_FORMAT(NAME, TEMPER_Q4_1)            \
    DOTM_FORMAT(NAME, TEMPER_Q5_0) DOTM_FORMAT(NAME, TEMPER_Q5_1) DOTM_FORMAT(NAME, TEMPER_Q4_K)            \
    DOTM_FORMAT(NAME, TEMPER_Q5_K) DOTM_FORMAT(NAME, TEMPER_Q6_K)                                           \
    }                                                                                                       \
}
#define DOTM_CASE(NAME, F, R, A)                                                                           \
    case ((F) * 2 + ((R) == MROWS)) * MACTS + (A) - 1:                                                      \
        NAME##_body(F, R, A, w, row_bytes, blocks, xq, k, xd, xs, out, ldo); break;
#define DOTM_ACTS(NAME, F, R) DOTM_CASE(NAME, F, R, 1) DOTM_CASE(NAME, F, R, 2) DOTM_CASE(NAME, F, R, 3) DOTM_CASE(NAME, F, R, 4)
#define DOTM_FORMAT(NAME, F) DOTM_ACTS(NAME, F, 1) DOTM_ACTS(NAME, F, MROWS)
DEFINE_DOTM(dot_tile_avx2, AVX2, product_avx2, avx2)
DEFINE_DOTM(dot_tile_vnni, VNNI, product_vnni, vnni)
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
// roundf on eight floats: to nearest, ties away from zero. |v| - trunc|v| is exact, so the tie
// test is too (adding 0.5 first would round 0.49999997 up).
AVX2 __attribute__((always_inline)) static inline __m256i round_away(__m256 v) {
    const __m256 sign = _mm256_set1_ps(-0.0f);
    __m256 a = _mm256_andnot_ps(sign, v);
    __m256 t = _mm256_round_ps(a, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
    __m256 up = _mm256_and_ps(_mm256_cmp_ps(_mm256_sub_ps(a, t), _mm256_set1_ps(0.5f), _CMP_GE_OQ), _mm256_set1_ps(1.0f));
    return _mm256_cvtps_epi32(_mm256_or_ps(_mm256_add_ps(t, up), _mm256_and_ps(sign, v)));
}

// The AVX2 form of `temper_q8_quantize_activations`, with the same codes as the portable loop
// (roundf's rounding), so every dot-product path sees the same activations.
AVX2 static void quantize_activations_avx2(const float *x, long n, int8_t *q, float *d, float *s) {
    const __m256 sign = _mm256_set1_ps(-0.0f);
    for (long b = 0; b < n / QK; b++) {
        const float *xb = x + b * QK;
        __m256 v0 = _mm256_loadu_ps(xb), v1 = _mm256_loadu_ps(xb + 8), v2 = _mm256_loadu_ps(xb + 16), v3 = _mm256_loadu_ps(xb + 24);
        __m256 amax = _mm256_max_ps(_mm256_max_ps(_mm256_andnot_ps(sign, v0), _mm256_andnot_ps(sign, v1)),
                                    _mm256_max_ps(_mm256_andnot_ps(sign, v2), _mm256_andnot_ps(sign, v3)));
        __m128 m = _mm_max_ps(_mm256_castps256_ps128(amax), _mm256_extractf128_ps(amax, 1));
        m = _mm_max_ps(m, _mm_movehl_ps(m, m));
        m = _mm_max_ss(m, _mm_movehdup_ps(m));
        float scale = _mm_cvtss_f32(m) / 127.0f, inv = scale > 0 ? 1.0f / scale : 0.0f;
        __m256 mul = _mm256_set1_ps(inv);
        __m256i i0 = round_away(_mm256_mul_ps(v0, mul));
        __m256i i1 = round_away(_mm256_mul_ps(v1, mul));
        __m256i i2 = round_away(_mm256_mul_ps(v2, mul));
        __m256i i3 = round_away(_mm256_mul_ps(v3, mul));
        __m256i sum = _mm256_add_epi32(_mm256_add_epi32(i0, i1), _mm256_add_epi32(i2, i3));
        __m128i t = _mm_add_epi32(_mm256_castsi256_si128(sum), _mm256_extracti128_si256(sum, 1));
        t = _mm_add_epi32(t, _mm_shuffle_epi32(t, 0x4E));
        t = _mm_add_epi32(t, _mm_shuffle_epi32(t, 0xB1));
        // Pack the 32 int32 to int8 in value order: packs interleave 128-bit lanes, the permute undoes it.
        __m256i p = _mm256_packs_epi16(_mm256_packs_epi32(i0, i1), _mm256_packs_epi32(i2, i3));
        p = _mm256_permutevar8x32_epi32(p, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
        _mm256_storeu_si256((__m256i *)(q + b * QK), p);
        d[b] = scale;
        s[b] = scale * (float)_mm_cvtsi128_si32(t);
    }
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

#if defined(__x86_64__)
// ROWS weight rows against one float activation row (decoding one sequence with float
// activations), one FMA chain per row as in `dot_rows_*`: each block's codes become floats and
// meet x, d scales the block's sum once, and the offset term (Q4_0's zero point, Q4_1's minimum)
// is Σ_b m_b · Σx_b, both from `block_scales` with unit activation scales and the blocks' sums
// `xsum`. Q4 codes stay unsigned here; the offset term carries Q4_0's -8.
AVX2 __attribute__((always_inline)) static inline void dot_rows_float_body(const int format, const uint8_t *w,
        long row_bytes, long blocks, const float *x, const float *ones, const float *xsum, float *out) {
    __m256 acc[ROWS];
    float corr[ROWS], scale[ROWS][SCALE_CHUNK];
    for (int r = 0; r < ROWS; r++) { acc[r] = _mm256_setzero_ps(); corr[r] = 0; }
    for (long c0 = 0; c0 < blocks; c0 += SCALE_CHUNK) {
        const long cn = blocks - c0 < SCALE_CHUNK ? blocks - c0 : SCALE_CHUNK;
        for (int r = 0; r < ROWS; r++) corr[r] += block_scales(format, w + r * row_bytes, c0, cn, ones, xsum, scale[r]);
        for (long b = 0; b < cn; b++) {
            const float *xb = x + (c0 + b) * QK;
            __m256 x0 = _mm256_loadu_ps(xb), x1 = _mm256_loadu_ps(xb + 8), x2 = _mm256_loadu_ps(xb + 16), x3 = _mm256_loadu_ps(xb + 24);
            for (int r = 0; r < ROWS; r++) {
                const uint8_t *blk = w + r * row_bytes + (c0 + b) * block_bytes(format);
                _mm_prefetch((const char *)(blk + ROWS * row_bytes), _MM_HINT_T0);
                __m128i lo, hi;  // codes of values 0-15 and 16-31 as bytes
                if (format == TEMPER_Q8_0) {
                    lo = _mm_loadu_si128((const __m128i *)(blk + 2));
                    hi = _mm_loadu_si128((const __m128i *)(blk + 18));
                } else {
                    __m128i q = _mm_loadu_si128((const __m128i *)(blk + nibbles_offset(format)));
                    lo = _mm_and_si128(q, _mm_set1_epi8(15));
                    hi = _mm_and_si128(_mm_srli_epi16(q, 4), _mm_set1_epi8(15));
                }
                __m256 w0 = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(lo));
                __m256 w1 = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(lo, 8)));
                __m256 w2 = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(hi));
                __m256 w3 = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(hi, 8)));
                __m256 sum = _mm256_fmadd_ps(w3, x3, _mm256_fmadd_ps(w2, x2, _mm256_fmadd_ps(w1, x1, _mm256_mul_ps(w0, x0))));
                acc[r] = _mm256_fmadd_ps(sum, _mm256_broadcast_ss(&scale[r][b]), acc[r]);
            }
        }
    }
    for (int r = 0; r < ROWS; r++) {
        __m128 s = _mm_add_ps(_mm256_castps256_ps128(acc[r]), _mm256_extractf128_ps(acc[r], 1));
        s = _mm_add_ps(s, _mm_movehl_ps(s, s));
        s = _mm_add_ss(s, _mm_movehdup_ps(s));
        out[r] = _mm_cvtss_f32(s) + corr[r];
    }
}

AVX2 static void dot_rows_float(int format, const uint8_t *w, long row_bytes, long blocks, const float *x,
                                const float *ones, const float *xsum, float *out) {
    switch (format) {
    case TEMPER_Q8_0: dot_rows_float_body(TEMPER_Q8_0, w, row_bytes, blocks, x, ones, xsum, out); break;
    case TEMPER_Q4_0: dot_rows_float_body(TEMPER_Q4_0, w, row_bytes, blocks, x, ones, xsum, out); break;
    case TEMPER_Q4_1: dot_rows_float_body(TEMPER_Q4_1, w, row_bytes, blocks, x, ones, xsum, out); break;
    default: break; // the caller sends no other format here (`has_rows_float`)
    }
}

// Each 32-block's sum of x, for the offset terms of `dot_rows_float`.
AVX2 static void block_sums(const float *x, long blocks, float *ones, float *xsum) {
    for (long b = 0; b < blocks; b++) {
        const float *xb = x + b * QK;
        __m256 v = _mm256_add_ps(_mm256_add_ps(_mm256_loadu_ps(xb), _mm256_loadu_ps(xb + 8)),
                                 _mm256_add_ps(_mm256_loadu_ps(xb + 16), _mm256_loadu_ps(xb + 24)));
        __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
        s = _mm_add_ps(s, _mm_movehl_ps(s, s));
        s = _mm_add_ss(s, _mm_movehdup_ps(s));
        xsum[b] = _mm_cvtss_f32(s);
        ones[b] = 1.0f;
    }
}
#endif

void temper_qdot_rows_float(int format, int path, const uint8_t *w, long row_bytes, long r0, long r1, long k,
                            const float *x, long m, float *y, long ldy, float *row_buffer) {
    long blocks = k / QK;
#if defined(__x86_64__)
    int has_rows_float = format == TEMPER_Q8_0 || format == TEMPER_Q4_0 || format == TEMPER_Q4_1;
    if (path != TEMPER_QPATH_SCALAR && m == 1 && r1 - r0 >= ROWS && has_rows_float) {
        // One activation row: groups of ROWS weight rows, the last (r1 - r0) mod ROWS below.
        float ones[blocks], xsum[blocks];
        block_sums(x, blocks, ones, xsum);
        for (; r0 + ROWS <= r1; r0 += ROWS) dot_rows_float(format, w + r0 * row_bytes, row_bytes, blocks, x, ones, xsum, y + r0);
    }
#endif
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
    for (long r = r0; r < r1; ) {
#if defined(__x86_64__)
        if (path != TEMPER_QPATH_SCALAR && m > 1) {
            // Tiles of MROWS weight rows by up to MACTS activation rows; the last rows one at a time.
            int rows = r1 - r >= MROWS ? MROWS : 1;
            for (long i = 0; i < m; i += MACTS) {
                int acts = m - i < MACTS ? (int)(m - i) : MACTS;
                if (path == TEMPER_QPATH_VNNI) dot_tile_vnni(format, rows, acts, w + r * row_bytes, row_bytes, blocks, xq + i * k, k, xd + i * blocks, xs + i * blocks, y + i * ldy + r, ldy);
                else dot_tile_avx2(format, rows, acts, w + r * row_bytes, row_bytes, blocks, xq + i * k, k, xd + i * blocks, xs + i * blocks, y + i * ldy + r, ldy);
            }
            r += rows;
            continue;
        }
        if (path != TEMPER_QPATH_SCALAR) {
            // Groups of ROWS weight rows; the last (r1 - r0) mod ROWS rows one at a time.
            int rows = r1 - r >= ROWS ? ROWS : 1;
            for (long i = 0; i < m; i++) {
                const int8_t *q = xq + i * k;
                const float *d = xd + i * blocks, *s = xs + i * blocks;
                if (path == TEMPER_QPATH_VNNI) dot_rows_vnni(format, rows, w + r * row_bytes, row_bytes, blocks, q, d, s, y + i * ldy + r);
                else dot_rows_avx2(format, rows, w + r * row_bytes, row_bytes, blocks, q, d, s, y + i * ldy + r);
            }
            r += rows;
            continue;
        }
#endif
        for (long i = 0; i < m; i++)
            y[i * ldy + r] = dot_row_scalar(format, w + r * row_bytes, blocks, xq + i * k, xd + i * blocks, xs + i * blocks);
        r++;
    }
}

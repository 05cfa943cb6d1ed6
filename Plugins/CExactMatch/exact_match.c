// Exact-match reward written in C, loaded by temper through libffi (see temper-plugin.json).
// Same normalisation as the Swift exact-match reward on ASCII text.
#include <ctype.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

// Writes the normalised form of `s` into a new buffer the caller frees.
static char *normalize(const char *s, int ignore_case, int ignore_whitespace, int ignore_punctuation) {
    size_t n = strlen(s);
    char *out = malloc(n + 1);
    if (!out) return NULL;
    size_t k = 0;
    int pending_space = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (ignore_punctuation && c < 128 && ispunct(c)) continue;
        if (ignore_whitespace && c < 128 && isspace(c)) {
            pending_space = k > 0;
            continue;
        }
        if (pending_space) { out[k++] = ' '; pending_space = 0; }
        out[k++] = (char)(ignore_case && c < 128 ? tolower(c) : c);
    }
    out[k] = '\0';
    return out;
}

// columns[0] is the answer column named in the manifest; params are ignore_case,
// ignore_whitespace, ignore_punctuation (as 0/1). NaN means "no answer for this row".
double temper_c_exact_match(const char *prompt, const char *completion, const int32_t *completion_ids,
                            int64_t n_ids, const char *const *columns, const double *params) {
    (void)prompt; (void)completion_ids; (void)n_ids;
    const char *answer = columns[0];
    if (answer == NULL) return NAN;
    int ic = params[0] != 0, iw = params[1] != 0, ip = params[2] != 0;
    char *a = normalize(completion, ic, iw, ip);
    char *b = normalize(answer, ic, iw, ip);
    double result = (a && b && strcmp(a, b) == 0) ? 1.0 : 0.0;
    free(a);
    free(b);
    return result;
}

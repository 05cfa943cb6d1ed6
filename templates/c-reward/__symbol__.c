// __component__: a reward written in C, called by temper through libffi as described in
// temper-plugin.json. Replace the body with your reward. Return NAN for "not applicable".
#include <math.h>
#include <stdint.h>
#include <string.h>

// columns[i] is the i-th column named in the manifest (NULL when the row has none);
// params[i] is the i-th parameter of the manifest, as a double.
double __symbol__(const char *prompt, const char *completion, const int32_t *completion_ids,
                  int64_t n_ids, const char *const *columns, const double *params) {
    (void)prompt; (void)completion_ids; (void)columns;
    double target = params[0];
    if (target <= 0) return NAN;
    double length = (double)n_ids > 0 ? (double)n_ids : (double)strlen(completion);
    // 1 at the target length, falling linearly to 0 at twice (or zero times) the target.
    double score = 1.0 - fabs(length - target) / target;
    return score < 0 ? 0 : score;
}

#include "sampling_flags.h"
#include "common.h"

#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef enum value_kind { VALUE_F32, VALUE_U32, VALUE_U64 } value_kind;

typedef struct flag {
    const char *name;
    value_kind kind;
    size_t offset; /* of the field in dsvk_sampler_settings */
    const char *help;
} flag;

#define FIELD(f) offsetof(dsvk_sampler_settings, f)

/* One table drives parsing, applying and --help. */
static const flag flags[] = {
    {"--temp", VALUE_F32, FIELD(temperature), "temperature; 0: greedy"},
    {"--top-k", VALUE_U32, FIELD(top_k), "keep the N likeliest; 0: all"},
    {"--top-p", VALUE_F32, FIELD(top_p),
     "likeliest tokens up to sum F; 1: all"},
    {"--min-p", VALUE_F32, FIELD(min_p),
     "drop below F x the likeliest; 0: off"},
    {"--repeat-penalty", VALUE_F32, FIELD(repeat_penalty),
     "penalise tokens in the window; 1: off"},
    {"--repeat-last-n", VALUE_U32, FIELD(repeat_last_n),
     "penalty window (prompt too); 0: off"},
    {"--presence-penalty", VALUE_F32, FIELD(presence_penalty),
     "minus F for tokens in the window; 0: off"},
    {"--frequency-penalty", VALUE_F32, FIELD(frequency_penalty),
     "minus F per occurrence in the window; 0: off"},
    {"--seed", VALUE_U64, FIELD(seed), "random seed; default: the clock"},
};

#define N_FLAGS (sizeof flags / sizeof flags[0])

static bool parse_value(const flag *fl, const char *text, void *field)
{
    char *end;
    errno = 0;
    if (fl->kind == VALUE_F32) {
        float v = strtof(text, &end);
        if (errno || end == text || *end || !isfinite(v))
            return false;
        memcpy(field, &v, sizeof v);
        return true;
    }
    if (*text < '0' || *text > '9')
        return false;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno || *end || (fl->kind == VALUE_U32 && v > UINT32_MAX))
        return false;
    if (fl->kind == VALUE_U32) {
        uint32_t u = (uint32_t)v;
        memcpy(field, &u, sizeof u);
    } else {
        uint64_t u = v;
        memcpy(field, &u, sizeof u);
    }
    return true;
}

bool sampling_flags_parse(sampling_flags *f, const char *command, int argc,
                          char **argv, int *i, bool *ok)
{
    *ok = true;
    for (unsigned k = 0; k < N_FLAGS; k++) {
        const flag *fl = &flags[k];
        if (strcmp(argv[*i], fl->name) != 0)
            continue;
        const char *value = *i + 1 < argc ? argv[*i + 1] : NULL;
        if (!value ||
            !parse_value(fl, value, (char *)&f->values + fl->offset)) {
            cli_error("%s: %s needs %s, not '%s'", command, fl->name,
                      fl->kind == VALUE_F32 ? "a number"
                                            : "a non-negative integer",
                      value ? value : "");
            *ok = false;
        }
        f->given |= 1u << k;
        *i += 1;
        return true;
    }
    return false;
}

dsvk_sampler_settings sampling_flags_apply(const sampling_flags *f,
                                           dsvk_sampler_settings base)
{
    for (unsigned k = 0; k < N_FLAGS; k++)
        if (f->given & (1u << k)) {
            const size_t size = flags[k].kind == VALUE_U64 ? 8 : 4;
            memcpy((char *)&base + flags[k].offset,
                   (const char *)&f->values + flags[k].offset, size);
        }
    bool seed_given = false;
    for (unsigned k = 0; k < N_FLAGS; k++)
        if (flags[k].offset == FIELD(seed))
            seed_given = f->given & (1u << k);
    if (!seed_given) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        base.seed = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
    }
    return base;
}

void sampling_flags_usage(FILE *out, const dsvk_sampler_settings *base)
{
    for (unsigned k = 0; k < N_FLAGS; k++) {
        const flag *fl = &flags[k];
        const char *field = (const char *)base + fl->offset;
        char left[40], def[32] = "";
        snprintf(left, sizeof left, "%s %s", fl->name,
                 fl->kind == VALUE_F32 ? "F" : "N");
        if (fl->kind == VALUE_F32) {
            float v;
            memcpy(&v, field, sizeof v);
            snprintf(def, sizeof def, " (default %g)", v);
        } else if (fl->kind == VALUE_U32) {
            uint32_t v;
            memcpy(&v, field, sizeof v);
            snprintf(def, sizeof def, " (default %u)", v);
        }
        fprintf(out, "  %-22s %s%s\n", left, fl->help, def);
    }
}

/* dsvk logits: token ids -> the raw logits after each of them, as one
 * sequence from position 0, on the GPU (forward.h) or on the CPU reference
 * (reference.h). For comparisons between implementations and feeding
 * patterns; the output is plain float32 so any tool can read it. */
#include "commands.h"
#include "common.h"

#include "forward/forward.h"
#include "gguf/gguf.h"
#include "model/model.h"
#include "reference/reference.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *out)
{
    fputs("usage: dsvk logits --model FILE --tokens \"ID ID ...\" --out FILE "
          "[options]\n"
          "\n"
          "Evaluates the token ids as one sequence from position 0 and "
          "writes the\n"
          "logits after every token to the output file: float32, little "
          "endian,\n"
          "row-major [n_tokens][n_vocab].\n"
          "\n"
          "options:\n"
          "  -m, --model FILE   GGUF model (deepseek2)\n"
          "  --tokens IDS       token ids separated by spaces or commas\n"
          "  -o, --out FILE     where to write the logits\n"
          "  --chunk N          feed N tokens per evaluation (1: token by "
          "token;\n"
          "                     default: the whole sequence at once)\n"
          "  --ctx N            context length (default: the model's, at most "
          "4096)\n"
          "  --device N         Vulkan device (see dsvk devices)\n"
          "  --reference        run the plain CPU reference instead of the "
          "GPU\n"
          "  --dump-routing     print the experts chosen per MoE layer and "
          "token\n"
          "                     to stderr\n"
          "  -h, --help         show this help\n",
          out);
}

typedef struct options {
    const char *model;
    const char *tokens_text;
    const char *out;
    uint32_t chunk; /* 0: whole sequence */
    uint32_t n_ctx; /* 0: default */
    bool reference;
    bool dump_routing;
    rt_device_desc device;
} options;

static bool parse_count(const char *text, uint32_t *out)
{
    char *end;
    errno = 0;
    if (*text < '0' || *text > '9')
        return false;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno || *end || v == 0 || v > UINT32_MAX)
        return false;
    *out = (uint32_t)v;
    return true;
}

/* Returns -1 to go on, else the exit code (help printed, or an error). */
static int parse_args(int argc, char **argv, options *o)
{
    *o = (options){0};
    if (!cli_device_desc(&o->device))
        return 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *value = i + 1 < argc ? argv[i + 1] : NULL;
        bool ok;
        if (cli_is_help(a)) {
            usage(stdout);
            return 0;
        } else if (cli_device_option(argc, argv, &i, &o->device, &ok)) {
            if (!ok)
                return 1;
        } else if (strcmp(a, "--reference") == 0) {
            o->reference = true;
        } else if (strcmp(a, "--dump-routing") == 0) {
            o->dump_routing = true;
        } else if (strcmp(a, "-m") == 0 || strcmp(a, "--model") == 0 ||
                   strcmp(a, "--tokens") == 0 || strcmp(a, "-o") == 0 ||
                   strcmp(a, "--out") == 0 || strcmp(a, "--chunk") == 0 ||
                   strcmp(a, "--ctx") == 0) {
            if (!value)
                return cli_error("logits: %s needs a value", a);
            i++;
            if (strcmp(a, "-m") == 0 || strcmp(a, "--model") == 0)
                o->model = value;
            else if (strcmp(a, "--tokens") == 0)
                o->tokens_text = value;
            else if (strcmp(a, "-o") == 0 || strcmp(a, "--out") == 0)
                o->out = value;
            else if (strcmp(a, "--chunk") == 0 &&
                     !parse_count(value, &o->chunk))
                return cli_error("logits: --chunk needs a positive number, "
                                 "not '%s'",
                                 value);
            else if (strcmp(a, "--ctx") == 0 && !parse_count(value, &o->n_ctx))
                return cli_error("logits: --ctx needs a positive number, not "
                                 "'%s'",
                                 value);
        } else {
            return cli_error("logits: unknown option '%s' (try dsvk logits "
                             "--help)",
                             a);
        }
    }
    if (!o->model)
        return cli_error("logits: no model (--model FILE)");
    if (!o->tokens_text)
        return cli_error("logits: no tokens (--tokens \"ID ID ...\")");
    if (!o->out)
        return cli_error("logits: no output file (--out FILE)");
    return -1;
}

/* Parses ids separated by spaces or commas into a malloc'd array. */
static int parse_tokens(const char *text, uint32_t n_vocab, uint32_t **out,
                        uint32_t *count)
{
    size_t cap = strlen(text) / 2 + 1;
    uint32_t *ids = malloc(cap * sizeof *ids);
    if (!ids)
        return cli_error("out of memory");
    uint32_t n = 0;
    const char *p = text;
    for (;;) {
        while (*p == ' ' || *p == ',' || *p == '\t' || *p == '\n')
            p++;
        if (!*p)
            break;
        char *end = (char *)p;
        errno = 0;
        unsigned long long v = 0;
        if (*p >= '0' && *p <= '9')
            v = strtoull(p, &end, 10);
        if (end == p || errno || v > UINT32_MAX ||
            (*end && *end != ' ' && *end != ',' && *end != '\t' &&
             *end != '\n')) {
            free(ids);
            return cli_error("logits: '%.20s' is not a token id", p);
        }
        if (v >= n_vocab) {
            free(ids);
            return cli_error("logits: token %llu (index %u) is outside the "
                             "vocabulary of %u",
                             v, n, n_vocab);
        }
        ids[n++] = (uint32_t)v;
        p = end;
    }
    if (n == 0) {
        free(ids);
        return cli_error("logits: no token ids in --tokens");
    }
    *out = ids;
    *count = n;
    return -1;
}

/* "routing layer 1 position 3: 5 (0.612) 2 (0.388)" */
static void print_routing(uint32_t layer, uint32_t position, uint32_t n_used,
                          const uint32_t *chosen, const float *weights)
{
    fprintf(stderr, "routing layer %u position %u:", layer, position);
    for (uint32_t i = 0; i < n_used; i++)
        fprintf(stderr, " %u (%.4f)", chosen[i], weights[i]);
    fputc('\n', stderr);
}

static void print_gpu_routing(const forward_routing *r, void *user)
{
    (void)user;
    print_routing(r->layer, r->position, r->n_used, r->chosen, r->weights);
}

static void print_ref_routing(const ref_routing *r, void *user)
{
    (void)user;
    print_routing(r->layer, r->position, r->n_used, r->chosen, r->weights);
}

/* The context both paths use when --ctx is not given. */
static uint32_t context_length(const options *o, const model *m)
{
    if (o->n_ctx)
        return o->n_ctx;
    const uint32_t trained = m->hp.n_ctx_train;
    return trained && trained < FORWARD_DEFAULT_MAX_CTX
               ? trained
               : FORWARD_DEFAULT_MAX_CTX;
}

static int run_reference(const options *o, const model *m,
                         const uint32_t *tokens, uint32_t n, float *logits)
{
    char err[512] = "";
    ref_desc desc = {.n_ctx = context_length(o, m),
                     .on_routing = o->dump_routing ? print_ref_routing : NULL};
    ref *r = NULL;
    if (ref_create(m, &desc, &r, err, sizeof err) != DSVK_OK)
        return cli_error("%s", err);
    const uint32_t chunk = o->chunk ? o->chunk : n;
    int code = 0;
    for (uint32_t at = 0; at < n && code == 0; at += chunk) {
        uint32_t count = n - at < chunk ? n - at : chunk;
        if (ref_eval(r, tokens + at, count, logits + (size_t)at * m->hp.n_vocab,
                     err, sizeof err) != DSVK_OK)
            code = cli_error("%s", err);
    }
    ref_destroy(r);
    return code;
}

static int run_gpu(const options *o, const model *m, const uint32_t *tokens,
                   uint32_t n, float *logits)
{
    char err[512] = "";
    rt_device *dev = NULL;
    gpu_weights *w = NULL;
    forward *f = NULL;
    int code = 1;
    forward_desc desc = {.n_ctx = context_length(o, m),
                         .on_routing =
                             o->dump_routing ? print_gpu_routing : NULL};
    if (rt_device_create(&o->device, &dev, err, sizeof err) != DSVK_OK)
        cli_error("%s", err);
    else if (gpu_weights_create(dev, m, &w, err, sizeof err) != DSVK_OK)
        cli_error("%s: %s", o->model, err);
    else if (forward_create(w, &desc, &f, err, sizeof err) != DSVK_OK)
        cli_error("%s", err);
    else
        code = 0;
    const uint32_t chunk = o->chunk ? o->chunk : n;
    for (uint32_t at = 0; at < n && code == 0; at += chunk) {
        uint32_t count = n - at < chunk ? n - at : chunk;
        if (forward_eval(f, tokens + at, count, FORWARD_LOGITS_ALL,
                         logits + (size_t)at * m->hp.n_vocab, NULL) != DSVK_OK)
            code = cli_error("%s", forward_error(f));
    }
    forward_destroy(f);
    gpu_weights_destroy(w);
    if (dev && rt_device_validation_messages(dev) && code == 0)
        code = cli_error("the Vulkan validation layer reported problems");
    rt_device_destroy(dev);
    return code;
}

/* Writes the floats little endian, whatever the host's byte order. */
static int write_logits(const char *path, const float *logits, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return cli_error("cannot create %s: %s", path, strerror(errno));
    bool ok = true;
    for (size_t i = 0; i < n && ok; i++) {
        uint32_t bits;
        memcpy(&bits, &logits[i], 4);
        const unsigned char bytes[4] = {bits & 0xff, (bits >> 8) & 0xff,
                                        (bits >> 16) & 0xff, bits >> 24};
        ok = fwrite(bytes, 1, 4, f) == 4;
    }
    ok = fclose(f) == 0 && ok;
    return ok ? 0 : cli_error("cannot write %s", path);
}

int cmd_logits(int argc, char **argv)
{
    options o;
    int code = parse_args(argc, argv, &o);
    if (code >= 0)
        return code;

    char err[512] = "";
    gguf_file *file = NULL;
    model *m = NULL;
    uint32_t *tokens = NULL, n = 0;
    float *logits = NULL;
    code = 1;
    if (gguf_open(o.model, &file, err, sizeof err) != DSVK_OK)
        cli_error("%s", err);
    else if (model_load(file, &m, err, sizeof err) != DSVK_OK)
        cli_error("%s: %s", o.model, err);
    else
        code = parse_tokens(o.tokens_text, m->hp.n_vocab, &tokens, &n);
    if (code < 0) {
        const size_t n_values = (size_t)n * m->hp.n_vocab;
        logits = malloc(n_values * sizeof *logits);
        if (!logits)
            code =
                cli_error("out of memory for %u x %u logits", n, m->hp.n_vocab);
        else if (o.reference)
            code = run_reference(&o, m, tokens, n, logits);
        else
            code = run_gpu(&o, m, tokens, n, logits);
        if (code == 0)
            code = write_logits(o.out, logits, n_values);
    }
    free(logits);
    free(tokens);
    model_free(m);
    gguf_close(file);
    return code;
}

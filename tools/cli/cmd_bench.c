/* dsvk bench: how fast a model runs on a device, through the public API.
 * Prompt processing (tokens/s evaluating a prompt of -p tokens) and
 * generation (tokens/s choosing and evaluating -n tokens after it), as the
 * median and range of -r runs after one warm-up run; then the GPU time of
 * each op in one prefill step and one decode step, from timestamps. */
#include "commands.h"
#include "common.h"
#include "interrupt.h"
#include "op_table.h"
#include "open_model.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *out)
{
    fputs("usage: dsvk bench -m MODEL [-p N] [-n N] [-r N] [options]\n"
          "\n"
          "Measures prompt processing (a prompt of -p tokens) and generation "
          "(-n tokens\n"
          "after it, greedy choice on the GPU, never stopping at an end "
          "token) over -r\n"
          "runs after a warm-up run, and prints tokens/s as the median "
          "(min - max).\n"
          "Then times every GPU op of one prefill step and one decode step "
          "with\n"
          "timestamps. The prompt is made of fixed token ids.\n"
          "\n"
          "options:\n"
          "  -m, --model FILE   GGUF model (deepseek2)\n"
          "  -p, --prompt N     prompt tokens (default 512)\n"
          "  -n, --n-gen N      generated tokens (default 128)\n"
          "  -r, --runs N       measured runs (default 5)\n"
          "  --cache-type T     latent cache: f16 (default) or q8_0\n"
          "  --device N         Vulkan device (see dsvk devices)\n"
          "  -h, --help         show this help\n"
          "\n"
          "Ctrl-C stops it at the next step, with exit status 130.\n",
          out);
}

typedef struct options {
    const char *model;
    uint32_t n_prompt;
    uint32_t n_gen;
    uint32_t runs;
    dsvk_cache_type cache_type;
    dsvk_context_desc device;
} options;

/* The field of a count option (-p, -n, -r), or NULL. */
static uint32_t *count_option(options *o, const char *a)
{
    if (strcmp(a, "-p") == 0 || strcmp(a, "--prompt") == 0)
        return &o->n_prompt;
    if (strcmp(a, "-n") == 0 || strcmp(a, "--n-gen") == 0)
        return &o->n_gen;
    if (strcmp(a, "-r") == 0 || strcmp(a, "--runs") == 0)
        return &o->runs;
    return NULL;
}

/* Returns -1 to go on, else the exit code (help printed, or an error). */
static int parse_args(int argc, char **argv, options *o)
{
    *o = (options){.n_prompt = 512, .n_gen = 128, .runs = 5};
    if (!cli_device_desc(&o->device))
        return 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *value = i + 1 < argc ? argv[i + 1] : NULL;
        bool ok;
        uint32_t *count;
        if (cli_is_help(a)) {
            usage(stdout);
            return 0;
        } else if (cli_device_option(argc, argv, &i, &o->device, &ok)) {
            if (!ok)
                return 1;
        } else if (strcmp(a, "-m") == 0 || strcmp(a, "--model") == 0) {
            if (!value)
                return cli_error("bench: %s needs a GGUF file", a);
            o->model = argv[++i];
        } else if (strcmp(a, "--cache-type") == 0) {
            if (!value || !cli_parse_cache_type(value, &o->cache_type))
                return cli_error("bench: --cache-type is f16 or q8_0, not "
                                 "'%s'",
                                 value ? value : "");
            i++;
        } else if ((count = count_option(o, a))) {
            if (!value || !cli_parse_count(value, false, count))
                return cli_error("bench: %s needs a positive number, not "
                                 "'%s'",
                                 a, value ? value : "");
            i++;
        } else {
            return cli_error("bench: unknown option '%s' (try dsvk bench "
                             "--help)",
                             a);
        }
    }
    if (!o->model)
        return cli_error("bench: no model (-m FILE)");
    if ((uint64_t)o->n_prompt + o->n_gen > UINT32_MAX)
        return cli_error("bench: -p plus -n is too large");
    return -1;
}

/* Fixed, varied ids spread over the vocabulary: the speed does not depend
 * on which tokens they are, but the run should be repeatable. */
static void fill_prompt(dsvk_token *tokens, uint32_t n, uint32_t n_vocab)
{
    uint64_t state = 1;
    for (uint32_t i = 0; i < n; i++) {
        state = state * 6364136223846793005u + 1442695040888963407u;
        tokens[i] = (dsvk_token)((state >> 33) % n_vocab);
    }
}

static int compare_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* "median (min - max)" of n rates, sorted in place. */
static void print_rate(const char *what, const char *test, double *rates,
                       uint32_t n)
{
    qsort(rates, n, sizeof *rates, compare_double);
    const double median =
        n % 2 ? rates[n / 2] : (rates[n / 2 - 1] + rates[n / 2]) / 2;
    printf("%-18s %-8s %12.2f   (%.2f - %.2f)\n", what, test, median, rates[0],
           rates[n - 1]);
}

/* Stops a run at Ctrl-C. It costs a token's decoding per token, nothing
 * next to the step that evaluates it. */
static bool on_token(void *user, dsvk_token token, const char *text, size_t len)
{
    (void)user, (void)token, (void)text, (void)len;
    return !interrupt_requested();
}

/* The -r measured runs after a warm-up, each from position 0; returns the
 * exit code (0 also when Ctrl-C stopped them, with nothing printed). */
static int measure(const options *o, const open_model *m,
                   const dsvk_token *prompt)
{
    const dsvk_session_desc desc = {.n_ctx = o->n_prompt + o->n_gen,
                                    .cache_type = o->cache_type};
    dsvk_session *session = NULL;
    if (dsvk_session_create(m->model, &desc, &session) != DSVK_OK)
        return cli_error("%s", dsvk_model_error(m->model));
    double *rates = malloc(2 * (size_t)o->runs * sizeof *rates);
    int code = rates ? 0 : cli_error("out of memory");
    /* Greedy choice on the GPU (no sampler), and never an early stop: every
     * run evaluates the same tokens. */
    const dsvk_generate_desc gen = {
        .max_tokens = o->n_gen, .ignore_eog = true, .on_token = on_token};
    for (uint32_t run = 0; run <= o->runs && code == 0; run++) {
        dsvk_generate_result r;
        dsvk_session_rewind(session, 0);
        if (dsvk_generate(session, prompt, o->n_prompt, &gen, &r) != DSVK_OK) {
            code = cli_error("%s", dsvk_session_error(session));
        } else if (interrupt_requested()) {
            break;
        } else if (run > 0) { /* run 0 is the warm-up */
            rates[run - 1] = r.n_prompt / r.prompt_seconds;
            rates[o->runs + run - 1] = r.n_generated / r.generate_seconds;
        }
    }
    if (code == 0 && !interrupt_requested()) {
        char pp[32], tg[32];
        snprintf(pp, sizeof pp, "pp%u", o->n_prompt);
        snprintf(tg, sizeof tg, "tg%u", o->n_gen);
        printf("%-18s %-8s %12s   (min - max)\n", "", "", "tokens/s");
        print_rate("prompt processing", pp, rates, o->runs);
        print_rate("generation", tg, rates + o->runs, o->runs);
    }
    free(rates);
    dsvk_session_destroy(session);
    return code;
}

/* One prefill and one decode step with timestamps (a session of its own:
 * timing costs a little, so the measured runs go without). Ctrl-C stops
 * it between the two. */
static int profile(const options *o, const open_model *m,
                   const dsvk_token *prompt)
{
    const dsvk_session_desc desc = {.n_ctx = o->n_prompt + 1,
                                    .cache_type = o->cache_type,
                                    .timestamps = true};
    dsvk_session *session = NULL;
    if (dsvk_session_create(m->model, &desc, &session) != DSVK_OK)
        return cli_error("%s", dsvk_model_error(m->model));
    dsvk_session_info info;
    dsvk_session_get_info(session, &info);
    float *logits = malloc(m->info.n_vocab * sizeof *logits);
    dsvk_op_timing *timings = NULL;
    int code = logits ? 0 : cli_error("out of memory");
    if (code == 0 && !info.timestamps)
        printf("\nGPU time per op: not available (the device has no "
               "timestamps)\n");
    for (int step = 0;
         step < 2 && code == 0 && info.timestamps && !interrupt_requested();
         step++) {
        /* Step 0: the whole prompt, whose last step is timed; step 1: one
         * token after it, as in generation. */
        const uint32_t n = step == 0 ? o->n_prompt : 1;
        if (dsvk_session_eval(session, prompt, n, DSVK_LOGITS_LAST, logits,
                              m->info.n_vocab) != DSVK_OK) {
            code = cli_error("%s", dsvk_session_error(session));
            break;
        }
        uint32_t count = 0;
        dsvk_session_timings(session, NULL, 0, &count);
        free(timings);
        timings = malloc((count ? count : 1) * sizeof *timings);
        if (!timings) {
            code = cli_error("out of memory");
            break;
        }
        dsvk_session_timings(session, timings, count, &count);
        const uint32_t end = dsvk_session_position(session);
        const uint32_t last = step == 0 ? (n - 1) % info.max_batch + 1 : 1;
        char title[160];
        if (step == 0)
            snprintf(title, sizeof title,
                     "\nGPU time per op, one prefill step (%u tokens at "
                     "positions %u-%u)",
                     last, end - last, end - 1);
        else
            snprintf(title, sizeof title,
                     "\nGPU time per op, one decode step (position %u)",
                     end - 1);
        if (!op_table_print(stdout, title, timings, count))
            code = 1;
        /* What fusing ops saves is counted here: each dispatch is a
         * fork/join on CPU drivers and a launch on GPUs. */
        else
            printf("  %u dispatches, %.1f per layer\n", count,
                   (double)count / m->info.n_layer);
    }
    free(timings);
    free(logits);
    dsvk_session_destroy(session);
    return code;
}

int cmd_bench(int argc, char **argv)
{
    options o;
    int code = parse_args(argc, argv, &o);
    if (code >= 0)
        return code;

    open_model m;
    if (!open_model_load(&m, &o.device, o.model))
        return open_model_close(&m, 1);
    /* From here on Ctrl-C stops the benchmark cleanly; while the model
     * loads it still ends the process at once. */
    interrupt_arm();
    dsvk_device_info device;
    dsvk_context_device(m.ctx, &device);
    printf("device  %s (%s, %s)\n", device.name, device.driver_name,
           device.driver_info);
    printf("model   %s: %s, %" PRIu64 " parameters, %.1f MiB of weights, "
           "loaded in %.2f s\n",
           o.model, m.info.name, m.info.n_params,
           m.info.weight_bytes / 1048576.0, m.load_seconds);
    printf("cache   %s, %" PRIu64 " bytes per token\n",
           dsvk_cache_type_name(o.cache_type),
           dsvk_cache_bytes_per_token(m.model, o.cache_type));
    printf("runs    %u after a warm-up run\n\n", o.runs);
    fflush(stdout);

    dsvk_token *prompt = malloc(o.n_prompt * sizeof *prompt);
    code = prompt ? 0 : cli_error("out of memory");
    if (code == 0) {
        fill_prompt(prompt, o.n_prompt, m.info.n_vocab);
        code = measure(&o, &m, prompt);
    }
    if (code == 0 && !interrupt_requested())
        code = profile(&o, &m, prompt);
    if (code == 0 && interrupt_requested()) {
        cli_error("interrupted");
        code = INTERRUPT_EXIT_CODE;
    }
    free(prompt);
    return open_model_close(&m, code);
}

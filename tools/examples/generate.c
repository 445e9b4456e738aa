/* generate: the smallest complete program on the dsvk library. It loads a
 * model, puts one user message into the model's chat format, streams the
 * reply to stdout and prints the speed to stderr. Only <dsvk.h> is used,
 * so it builds against an installed dsvk:
 *
 *     cc generate.c $(pkg-config --cflags --libs dsvk) -o generate
 *     ./generate model.gguf "Why is the sky blue?" 128
 *
 * Arguments: MODEL [MESSAGE [MAX_TOKENS [FORMAT]]]; FORMAT is auto (the
 * model's own template, the default), deepseek2 or deepseek3. */
#include <dsvk.h>

#include <stdio.h>
#include <stdlib.h>

/* Called with each new piece of the reply; always whole UTF-8 characters. */
static bool print_piece(void *user, dsvk_token token, const char *text,
                        size_t len)
{
    (void)user;
    (void)token;
    fwrite(text, 1, len, stdout);
    fflush(stdout);
    return true; /* false would stop the generation here */
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 5) {
        fprintf(stderr, "usage: %s MODEL [MESSAGE [MAX_TOKENS [FORMAT]]]\n",
                argv[0]);
        return 2;
    }
    const dsvk_chat_message message = {
        DSVK_ROLE_USER, argc > 2 ? argv[2] : "Tell me about the sea."};
    const uint32_t max_tokens = argc > 3 ? (uint32_t)atoi(argv[3]) : 64;
    dsvk_chat_format format = DSVK_CHAT_FORMAT_AUTO;
    if (argc > 4 && dsvk_chat_format_from_name(argv[4], &format) != DSVK_OK) {
        fprintf(stderr, "unknown chat format '%s'\n", argv[4]);
        return 2;
    }

    int code = 1;
    dsvk_context *ctx = NULL;
    dsvk_model *model = NULL;
    dsvk_session *session = NULL;
    dsvk_sampler *sampler = NULL;
    dsvk_token *prompt = NULL;
    char err[512];

    /* {0} everywhere: the best GPU, the model's defaults. */
    if (dsvk_context_create(NULL, &ctx, err, sizeof err) != DSVK_OK) {
        fprintf(stderr, "%s\n", err);
        goto done;
    }
    const dsvk_model_desc model_desc = {.path = argv[1]};
    if (dsvk_model_load(ctx, &model_desc, &model) != DSVK_OK) {
        fprintf(stderr, "%s\n", dsvk_context_error(ctx));
        goto done;
    }

    /* Asking with no room returns the size needed. */
    size_t n_prompt = 0;
    dsvk_chat_tokenize(model, format, &message, 1, 0, true, NULL, 0, &n_prompt);
    prompt = malloc(n_prompt * sizeof *prompt);
    if (!prompt ||
        dsvk_chat_tokenize(model, format, &message, 1, 0, true, prompt,
                           n_prompt, &n_prompt) != DSVK_OK ||
        dsvk_session_create(model, NULL, &session) != DSVK_OK) {
        fprintf(stderr, "%s\n", dsvk_model_error(model));
        goto done;
    }

    dsvk_sampler_settings settings = dsvk_sampler_defaults();
    settings.seed = 42;
    if (dsvk_sampler_create(&settings, &sampler, err, sizeof err) != DSVK_OK) {
        fprintf(stderr, "%s\n", err);
        goto done;
    }
    const dsvk_generate_desc gen = {
        .sampler = sampler, .max_tokens = max_tokens, .on_token = print_piece};
    dsvk_generate_result result;
    if (dsvk_generate(session, prompt, (uint32_t)n_prompt, &gen, &result) !=
        DSVK_OK) {
        fprintf(stderr, "\n%s\n", dsvk_session_error(session));
        goto done;
    }
    fprintf(stderr,
            "\n%u prompt tokens at %.1f tokens/s, %u generated at "
            "%.1f tokens/s\n",
            result.n_prompt, result.n_prompt / result.prompt_seconds,
            result.n_generated, result.n_generated / result.generate_seconds);
    code = 0;
done:
    dsvk_sampler_destroy(sampler);
    dsvk_session_destroy(session);
    free(prompt);
    dsvk_model_destroy(model);
    dsvk_context_destroy(ctx);
    return code;
}

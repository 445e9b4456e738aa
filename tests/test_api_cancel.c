/* Cancelling evaluations (dsvk_session_desc.cancel) and sessions on
 * several threads, on the tiny-v2 fixture: a cancelled evaluation keeps
 * the steps before it, a continued one gives the logits of an evaluation
 * never cancelled, dsvk_generate stops with DSVK_ERROR_CANCELLED, a flag
 * set on another thread reaches the evaluating one, and two threads
 * evaluating long prompts take the context's lock in turns. */
#include "test_api_support.h"
#include "testlib.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <threads.h>
#include <time.h>

#define N_VOCAB 512 /* of the fixture */
#define N_TOKENS 24
#define STEP 4 /* max_batch of the sessions that are cancelled */

/* A cancelled and continued evaluation runs the same steps of STEP tokens
 * as one that is not: the same shaders, in the same order, so the logits
 * agree bit for bit. */

static dsvk_token tokens[N_TOKENS];

/* Cancels at the call numbered `cancel_at` (0 is before the first step). */
typedef struct countdown {
    int calls;
    int cancel_at;
} countdown;

static bool cancel_at(void *user)
{
    countdown *c = user;
    return c->calls++ == c->cancel_at;
}

static dsvk_session *new_session(const dsvk_model *model,
                                 const dsvk_session_desc *desc)
{
    dsvk_session *s = NULL;
    CHECK(dsvk_session_create(model, desc, &s) == DSVK_OK,
          "dsvk_session_create: %s", dsvk_model_error(model));
    return s;
}

static void test_cancel_eval(const dsvk_model *model)
{
    countdown c = {.cancel_at = 2};
    dsvk_session *s = new_session(
        model, &(dsvk_session_desc){
                   .max_batch = STEP, .cancel = cancel_at, .cancel_user = &c});
    dsvk_session *ref =
        new_session(model, &(dsvk_session_desc){.max_batch = STEP});
    float *got = malloc(sizeof(float) * N_VOCAB);
    float *want = malloc(sizeof(float) * N_VOCAB);
    if (!s || !ref || !got || !want)
        goto done;
    dsvk_status status =
        dsvk_session_eval(s, tokens, N_TOKENS, DSVK_LOGITS_LAST, got, N_VOCAB);
    CHECK(status == DSVK_ERROR_CANCELLED, "cancelled eval: %s",
          dsvk_status_string(status));
    CHECK(dsvk_session_position(s) == 2 * STEP,
          "two steps stay evaluated: position %u", dsvk_session_position(s));
    CHECK(strstr(dsvk_session_error(s), "cancelled after 8 of 24"),
          "error '%s'", dsvk_session_error(s));

    /* Cancelled before its first step: nothing is evaluated. */
    c = (countdown){.cancel_at = 0};
    status = dsvk_session_eval(s, tokens + 2 * STEP, 1, DSVK_LOGITS_LAST, got,
                               N_VOCAB);
    CHECK(status == DSVK_ERROR_CANCELLED && dsvk_session_position(s) == 8,
          "cancel before the first step: %s, position %u",
          dsvk_status_string(status), dsvk_session_position(s));

    /* Going on from where it stopped gives the uncancelled logits. */
    c = (countdown){.cancel_at = -1};
    status = dsvk_session_eval(s, tokens + 2 * STEP, N_TOKENS - 2 * STEP,
                               DSVK_LOGITS_LAST, got, N_VOCAB);
    CHECK(status == DSVK_OK, "continued eval: %s", dsvk_status_string(status));
    CHECK(c.calls == (N_TOKENS - 2 * STEP) / STEP,
          "asked once per step: %d calls", c.calls);
    CHECK(dsvk_session_eval(ref, tokens, N_TOKENS, DSVK_LOGITS_LAST, want,
                            N_VOCAB) == DSVK_OK,
          "reference eval");
    CHECK(memcmp(got, want, sizeof(float) * N_VOCAB) == 0,
          "continued logits differ (max %g)",
          test_max_abs_diff(got, want, N_VOCAB));
done:
    free(got);
    free(want);
    dsvk_session_destroy(s);
    dsvk_session_destroy(ref);
}

/* dsvk_generate asks before the prompt's steps and before every generated
 * token's evaluation. */
static void test_cancel_generate(const dsvk_model *model)
{
    countdown c = {.cancel_at = -1};
    dsvk_session *s = new_session(
        model, &(dsvk_session_desc){
                   .max_batch = STEP, .cancel = cancel_at, .cancel_user = &c});
    if (!s)
        return;
    /* The prompt takes N_TOKENS / STEP calls; then one per token. */
    c.cancel_at = N_TOKENS / STEP + 3;
    dsvk_generate_result r;
    dsvk_status status = dsvk_generate(
        s, tokens, N_TOKENS,
        &(dsvk_generate_desc){.max_tokens = 20, .ignore_eog = true}, &r);
    CHECK(status == DSVK_ERROR_CANCELLED, "cancelled generation: %s",
          dsvk_status_string(status));
    CHECK(r.n_prompt == N_TOKENS && r.n_generated == 4 &&
              dsvk_session_position(s) == N_TOKENS + 3,
          "stopped after 3 evaluated tokens: prompt %u, generated %u, "
          "position %u",
          r.n_prompt, r.n_generated, dsvk_session_position(s));

    /* Cancelled during the prompt: nothing generated. */
    CHECK(dsvk_session_rewind(s, 0) == DSVK_OK, "rewind");
    c = (countdown){.cancel_at = 1};
    status = dsvk_generate(s, tokens, N_TOKENS, NULL, &r);
    CHECK(status == DSVK_ERROR_CANCELLED && r.n_generated == 0 &&
              dsvk_session_position(s) == STEP,
          "cancelled prompt: %s, generated %u, position %u",
          dsvk_status_string(status), r.n_generated, dsvk_session_position(s));
    dsvk_session_destroy(s);
}

/* A flag set on another thread. The evaluation's first call waits (up to
 * 60 s) until the other thread has set it, so that the test does not race
 * the other thread's start. */
typedef struct cross_thread {
    atomic_bool cancel;
    atomic_int calls;
} cross_thread;

static bool poll_flag(void *user)
{
    cross_thread *x = user;
    if (atomic_fetch_add(&x->calls, 1) == 0)
        for (int i = 0; i < 60000 && !atomic_load(&x->cancel); i++)
            thrd_sleep(&(struct timespec){.tv_nsec = 1000000}, NULL);
    return atomic_load(&x->cancel);
}

static int set_flag(void *user)
{
    cross_thread *x = user;
    while (atomic_load(&x->calls) == 0)
        thrd_yield();
    atomic_store(&x->cancel, true);
    return 0;
}

static void test_cancel_from_thread(const dsvk_model *model)
{
    cross_thread x = {0};
    dsvk_session *s = new_session(
        model, &(dsvk_session_desc){
                   .max_batch = 1, .cancel = poll_flag, .cancel_user = &x});
    thrd_t t;
    if (!s || thrd_create(&t, set_flag, &x) != thrd_success) {
        CHECK(false, "set-up");
        dsvk_session_destroy(s);
        return;
    }
    dsvk_status status =
        dsvk_session_eval(s, tokens, N_TOKENS, DSVK_LOGITS_NONE, NULL, 0);
    thrd_join(t, NULL);
    CHECK(status == DSVK_ERROR_CANCELLED && dsvk_session_position(s) == 0,
          "cancelled from another thread: %s, position %u",
          dsvk_status_string(status), dsvk_session_position(s));
    dsvk_session_destroy(s);
}

/* Two threads evaluate N_TOKENS one step at a time; each step's turn is
 * logged (the cancel callback runs just before the step takes the lock).
 * Once both have started, the lock passes in order, so they take turns
 * until one finishes. */
typedef struct turn_log {
    mtx_t guard;
    char order[2 * N_TOKENS + 1];
    int n;
    atomic_int started;
} turn_log;

typedef struct runner {
    turn_log *log;
    char name;
    dsvk_session *session;
    dsvk_status status;
} runner;

static bool log_turn(void *user)
{
    runner *r = user;
    mtx_lock(&r->log->guard);
    if (r->log->n < 2 * N_TOKENS)
        r->log->order[r->log->n++] = r->name;
    mtx_unlock(&r->log->guard);
    return false;
}

static int run_prompt(void *user)
{
    runner *r = user;
    /* Start together, so that both are waiting for the lock early. */
    atomic_fetch_add(&r->log->started, 1);
    while (atomic_load(&r->log->started) < 2)
        thrd_yield();
    r->status = dsvk_session_eval(r->session, tokens, N_TOKENS,
                                  DSVK_LOGITS_NONE, NULL, 0);
    return 0;
}

static void test_turns(const dsvk_model *model)
{
    turn_log log = {0};
    mtx_init(&log.guard, mtx_plain);
    runner runners[2] = {{.log = &log, .name = 'a'},
                         {.log = &log, .name = 'b'}};
    thrd_t threads[2];
    int started = 0;
    for (int i = 0; i < 2; i++) {
        runners[i].session = new_session(
            model, &(dsvk_session_desc){.max_batch = 1,
                                        .cancel = log_turn,
                                        .cancel_user = &runners[i]});
        if (runners[i].session &&
            thrd_create(&threads[i], run_prompt, &runners[i]) == thrd_success)
            started++;
        else
            break;
    }
    for (int i = 0; i < started; i++)
        thrd_join(threads[i], NULL);
    CHECK(started == 2, "set-up");
    if (started == 2) {
        CHECK(runners[0].status == DSVK_OK && runners[1].status == DSVK_OK,
              "both prompts evaluated");
        /* Where each thread's last step is. In turns, the first to finish
         * leaves the other a step or two; a plain mutex lets one thread
         * run most of its prompt alone (logs like 18 b, then a and b in
         * turns, then 18 a). The slack allows for a thread's late start
         * and for a callback that runs late on a busy machine. */
        int last[2] = {-1, -1};
        for (int i = 0; i < log.n; i++)
            last[log.order[i] == 'b'] = i;
        const int first_done = last[0] < last[1] ? last[0] : last[1];
        printf("turns: %s\n", log.order);
        CHECK(log.n == 2 * N_TOKENS, "%d steps logged", log.n);
        CHECK(first_done >= 2 * N_TOKENS - 1 - N_TOKENS / 4,
              "the threads did not take turns: %s", log.order);
    }
    for (int i = 0; i < 2; i++)
        dsvk_session_destroy(runners[i].session);
    mtx_destroy(&log.guard);
}

int main(void)
{
    const dsvk_context_desc desc = test_api_desc();
    dsvk_context *ctx = test_api_context(&desc);
    dsvk_model *model = test_api_load(ctx, test_fixture("models/tiny-v2.gguf"));
    for (int i = 0; i < N_TOKENS; i++)
        tokens[i] = (dsvk_token)((i * 37 + 11) % N_VOCAB);
    test_cancel_eval(model);
    test_cancel_generate(model);
    test_cancel_from_thread(model);
    test_turns(model);
    dsvk_model_destroy(model);
    return test_api_finish(ctx, "api_cancel");
}

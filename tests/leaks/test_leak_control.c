/* Negative control of tests/leaks.cmake: the same load, evaluate and
 * unload as test_api_errors, with libdsvk told to forget one allocation
 * (api_leak_context_on_destroy, compiled into sanitizer builds only).
 * LeakSanitizer, with the suppressions and the kept-loaded libraries the
 * leak tests use, must report it: ctest passes this test only when the
 * report names dsvk_context_create. */
#include "api/api_leak_control.h"
#include "test_api_support.h"
#include "testlib.h"

#include <stdio.h>

int main(void)
{
    const dsvk_context_desc desc = test_api_desc();
    dsvk_context *ctx = test_api_context(&desc);
    dsvk_model *model = test_api_load(ctx, test_fixture("models/tiny-v2.gguf"));
    dsvk_session *session = NULL;
    CHECK(dsvk_session_create(model, NULL, &session) == DSVK_OK, "session: %s",
          dsvk_model_error(model));
    const dsvk_token prompt[] = {1, 2, 3};
    CHECK(session && dsvk_session_eval(session, prompt, 3, DSVK_LOGITS_NONE,
                                       NULL, 0) == DSVK_OK,
          "eval: %s", session ? dsvk_session_error(session) : "no session");
    dsvk_session_destroy(session);
    dsvk_model_destroy(model);
    api_leak_context_on_destroy(ctx);
    const int status = test_api_finish(ctx, "leak_control");
    /* Before LeakSanitizer's report, which ctest expects to follow. */
    fflush(stdout);
    return status;
}

/* Fuzz target: a GGUF file given to the public API's dsvk_model_open, in
 * both modes, as `dsvk info` and `dsvk tokenize` do. The input is written
 * to a memory file (memfd) so that the library opens and maps it as it
 * would any file. When it opens, everything a model says about itself is
 * read and checked against the header's promises: the info, every tensor,
 * every metadata key and its text (into a buffer that fits and one that
 * does not), tokenizing and detokenizing, and chat formatting. fuzz_gguf
 * covers the reader beneath; this covers the API's copies and formatting
 * on top of it. */
#include "fuzz.h"

#include "dsvk.h"

#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static volatile uint8_t sink;

/* The error contract of the calls that create: no object, one line. */
static void check_failure(const dsvk_model *model, const char *err)
{
    FUZZ_CHECK(model == NULL);
    FUZZ_CHECK(err[0] != '\0' && strchr(err, '\n') == NULL);
}

static void walk_tensors(const dsvk_model *model, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        dsvk_tensor_info t;
        FUZZ_CHECK(dsvk_model_tensor(model, i, &t) == DSVK_OK);
        sink ^= (uint8_t)strlen(t.name) ^ (uint8_t)t.type[0];
        FUZZ_CHECK(t.n_dims >= 1 && t.n_dims <= 4);
        uint64_t elements = 1;
        for (uint32_t d = 0; d < 4; d++)
            elements *= t.dims[d];
        FUZZ_CHECK(elements == t.n_elements);
    }
    dsvk_tensor_info past;
    FUZZ_CHECK(dsvk_model_tensor(model, n, &past) ==
               DSVK_ERROR_INVALID_ARGUMENT);
}

/* A value's text, whole and into a buffer too small for most. */
static void read_value(const dsvk_model *model, const char *key)
{
    char value[256];
    size_t len = 0;
    const dsvk_status whole =
        dsvk_model_metadata(model, key, value, sizeof value, &len);
    FUZZ_CHECK(whole == (len + 1 > sizeof value ? DSVK_ERROR_BUFFER_TOO_SMALL
                                                : DSVK_OK));
    if (whole == DSVK_OK)
        FUZZ_CHECK(value[len] == '\0');
    char small[4];
    size_t small_len = 0;
    const dsvk_status part =
        dsvk_model_metadata(model, key, small, sizeof small, &small_len);
    FUZZ_CHECK(small_len == len);
    FUZZ_CHECK(part == (len + 1 > sizeof small ? DSVK_ERROR_BUFFER_TOO_SMALL
                                               : DSVK_OK));
}

static void walk_metadata(const dsvk_model *model)
{
    const uint32_t n = dsvk_model_metadata_count(model);
    for (uint32_t i = 0; i < n; i++) {
        const char *key = dsvk_model_metadata_key(model, i);
        FUZZ_CHECK(key != NULL);
        read_value(model, key);
    }
    FUZZ_CHECK(dsvk_model_metadata_key(model, n) == NULL);
    size_t len;
    char value[8];
    FUZZ_CHECK(dsvk_model_metadata(model, "fuzz.no.such.key", value,
                                   sizeof value, &len) == DSVK_ERROR_NOT_FOUND);
}

static void use_text(const dsvk_model *model)
{
    static const char text[] = "Hello world! 123 你好 <｜User｜> \xff";
    dsvk_token ids[64];
    size_t n = 0;
    const dsvk_status status =
        dsvk_tokenize(model, text, sizeof text - 1, false, true, ids, 64, &n);
    FUZZ_CHECK(status == DSVK_OK || status == DSVK_ERROR_BUFFER_TOO_SMALL);
    char out[1024];
    size_t len;
    if (status == DSVK_OK)
        sink ^= (uint8_t)dsvk_detokenize(model, ids, n, true, out, sizeof out,
                                         &len);
    const dsvk_chat_message m[] = {{DSVK_ROLE_SYSTEM, "s"},
                                   {DSVK_ROLE_USER, "u"}};
    sink ^= (uint8_t)dsvk_chat_apply(model, DSVK_CHAT_FORMAT_AUTO, m, 2, 0,
                                     true, out, sizeof out, &len);
}

static void open_and_read(const char *path, dsvk_open_mode mode)
{
    dsvk_model *model = NULL;
    char err[512] = "";
    if (dsvk_model_open(path, mode, &model, err, sizeof err) != DSVK_OK) {
        check_failure(model, err);
        return;
    }
    dsvk_model_info info;
    dsvk_model_get_info(model, &info);
    FUZZ_CHECK(!info.on_device && info.n_vocab > 0);
    FUZZ_CHECK(mode == DSVK_OPEN_VOCAB
                   ? !info.has_weights
                   : info.has_weights == (info.n_tensors > 0));
    dsvk_session *session = NULL;
    FUZZ_CHECK(dsvk_session_create(model, NULL, &session) ==
                   DSVK_ERROR_UNSUPPORTED &&
               session == NULL);
    walk_tensors(model, info.n_tensors);
    walk_metadata(model);
    use_text(model);
    dsvk_model_destroy(model);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* One memory file per process, rewritten for each input. */
    static int fd = -1;
    static char path[64];
    if (fd < 0) {
        fd = memfd_create("fuzz_model_open", 0);
        FUZZ_CHECK(fd >= 0);
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    }
    FUZZ_CHECK(ftruncate(fd, 0) == 0);
    FUZZ_CHECK(pwrite(fd, data, size, 0) == (ssize_t)size);
    open_and_read(path, DSVK_OPEN_MODEL);
    open_and_read(path, DSVK_OPEN_VOCAB);
    return 0;
}

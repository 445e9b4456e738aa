/* GGUF writer. Layout and field encodings are the ones host/gguf/gguf.c reads;
 * data offsets are padded to GGUF's default alignment of 32. */
#include "gguf_writer.h"
#include "gguf/gguf.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define ALIGNMENT 32u
#define GGUF_VERSION 3u
/* The writer's stdio buffer: large writes, few syscalls. */
#define FILE_BUFFER_BYTES (4u << 20)

static void append(gguf_writer *w, byte_buffer *b, const void *data, size_t n)
{
    if (w->out_of_memory)
        return;
    if (n > b->capacity - b->size) {
        size_t capacity = b->capacity ? b->capacity : 4096;
        while (capacity - b->size < n) {
            if (capacity > SIZE_MAX / 2) {
                w->out_of_memory = true;
                return;
            }
            capacity *= 2;
        }
        uint8_t *grown = realloc(b->bytes, capacity);
        if (!grown) {
            w->out_of_memory = true;
            return;
        }
        b->bytes = grown;
        b->capacity = capacity;
    }
    memcpy(b->bytes + b->size, data, n);
    b->size += n;
}

static void append_le(gguf_writer *w, byte_buffer *b, uint64_t v, unsigned n)
{
    uint8_t bytes[8];
    for (unsigned i = 0; i < n; i++)
        bytes[i] = (uint8_t)(v >> (8 * i));
    append(w, b, bytes, n);
}

static void append_str(gguf_writer *w, byte_buffer *b, const char *s)
{
    size_t n = strlen(s);
    append_le(w, b, n, 8);
    append(w, b, s, n);
}

static void begin_kv(gguf_writer *w, const char *key, gguf_value_type type)
{
    append_str(w, &w->key_values, key);
    append_le(w, &w->key_values, type, 4);
    w->n_kv++;
}

void writer_init(gguf_writer *w)
{
    memset(w, 0, sizeof *w);
}

void writer_free(gguf_writer *w)
{
    free(w->key_values.bytes);
    free(w->tensor_infos.bytes);
    free(w->tensor_bytes);
    memset(w, 0, sizeof *w);
}

void writer_kv_str(gguf_writer *w, const char *key, const char *value)
{
    begin_kv(w, key, GGUF_TYPE_STRING);
    append_str(w, &w->key_values, value);
}

void writer_kv_u32(gguf_writer *w, const char *key, uint32_t value)
{
    begin_kv(w, key, GGUF_TYPE_UINT32);
    append_le(w, &w->key_values, value, 4);
}

void writer_kv_f32(gguf_writer *w, const char *key, float value)
{
    uint32_t bits;
    memcpy(&bits, &value, sizeof bits);
    begin_kv(w, key, GGUF_TYPE_FLOAT32);
    append_le(w, &w->key_values, bits, 4);
}

void writer_kv_bool(gguf_writer *w, const char *key, bool value)
{
    begin_kv(w, key, GGUF_TYPE_BOOL);
    append_le(w, &w->key_values, value ? 1 : 0, 1);
}

void writer_kv_str_array(gguf_writer *w, const char *key,
                         const char *const *items, uint64_t count)
{
    begin_kv(w, key, GGUF_TYPE_ARRAY);
    append_le(w, &w->key_values, GGUF_TYPE_STRING, 4);
    append_le(w, &w->key_values, count, 8);
    for (uint64_t i = 0; i < count; i++)
        append_str(w, &w->key_values, items[i]);
}

void writer_kv_i32_array(gguf_writer *w, const char *key, const int32_t *items,
                         uint64_t count)
{
    begin_kv(w, key, GGUF_TYPE_ARRAY);
    append_le(w, &w->key_values, GGUF_TYPE_INT32, 4);
    append_le(w, &w->key_values, count, 8);
    for (uint64_t i = 0; i < count; i++)
        append_le(w, &w->key_values, (uint32_t)items[i], 4);
}

bool writer_tensor(gguf_writer *w, const char *name, uint32_t n_dims,
                   const uint64_t *ne, uint32_t type, char *err,
                   size_t err_size)
{
    uint64_t rows = 1, n_bytes, padded, end;
    for (uint32_t d = 1; d < n_dims; d++) {
        if (__builtin_mul_overflow(rows, ne[d], &rows)) {
            snprintf(err, err_size, "%s: element count overflows", name);
            return false;
        }
    }
    uint64_t row_bytes = gguf_row_bytes(type, ne[0]);
    if (row_bytes == 0 || __builtin_mul_overflow(row_bytes, rows, &n_bytes) ||
        __builtin_add_overflow(n_bytes, ALIGNMENT - 1, &padded) ||
        __builtin_add_overflow(w->data_size,
                               padded & ~(uint64_t)(ALIGNMENT - 1), &end)) {
        snprintf(err, err_size,
                 "%s: size overflows (or %s rows of %llu are not whole "
                 "blocks)",
                 name, gguf_type_name(type), (unsigned long long)ne[0]);
        return false;
    }
    if (w->n_tensors == w->tensor_capacity) {
        uint64_t capacity = w->tensor_capacity ? 2 * w->tensor_capacity : 64;
        uint64_t *grown = realloc(w->tensor_bytes, capacity * sizeof *grown);
        if (!grown) {
            snprintf(err, err_size, "out of memory");
            return false;
        }
        w->tensor_bytes = grown;
        w->tensor_capacity = capacity;
    }
    byte_buffer *b = &w->tensor_infos;
    append_str(w, b, name);
    append_le(w, b, n_dims, 4);
    for (uint32_t d = 0; d < n_dims; d++)
        append_le(w, b, ne[d], 8);
    append_le(w, b, type, 4);
    append_le(w, b, w->data_size, 8);
    w->tensor_bytes[w->n_tensors++] = n_bytes;
    w->data_size = end;
    return true;
}

static uint64_t header_size(const gguf_writer *w)
{
    uint64_t size = 4 + 4 + 8 + 8 + w->key_values.size + w->tensor_infos.size;
    return (size + ALIGNMENT - 1) & ~(uint64_t)(ALIGNMENT - 1);
}

uint64_t writer_file_size(const gguf_writer *w)
{
    return header_size(w) + w->data_size;
}

static bool write_zeros(FILE *out, uint64_t n)
{
    static const uint8_t zeros[ALIGNMENT];
    return n == 0 || fwrite(zeros, 1, n, out) == n;
}

static bool write_file(gguf_writer *w, FILE *out, writer_data_fn data,
                       void *ctx, char *err, size_t err_size)
{
    byte_buffer header = {0};
    append(w, &header, "GGUF", 4);
    append_le(w, &header, GGUF_VERSION, 4);
    append_le(w, &header, w->n_tensors, 8);
    append_le(w, &header, w->n_kv, 8);
    bool ok = !w->out_of_memory &&
              fwrite(header.bytes, 1, header.size, out) == header.size &&
              fwrite(w->key_values.bytes, 1, w->key_values.size, out) ==
                  w->key_values.size &&
              fwrite(w->tensor_infos.bytes, 1, w->tensor_infos.size, out) ==
                  w->tensor_infos.size;
    uint64_t written = header.size + w->key_values.size + w->tensor_infos.size;
    free(header.bytes);
    if (!ok || !write_zeros(out, header_size(w) - written)) {
        snprintf(err, err_size,
                 w->out_of_memory ? "out of memory" : "write failed: %s",
                 strerror(errno));
        return false;
    }
    for (uint64_t i = 0; i < w->n_tensors; i++) {
        uint64_t n = w->tensor_bytes[i];
        off_t before = ftello(out);
        if (!data(ctx, i, n, out, err, err_size))
            return false;
        if (ftello(out) - before != (off_t)n) {
            snprintf(err, err_size, "tensor %llu: wrote %lld bytes, not %llu",
                     (unsigned long long)i, (long long)(ftello(out) - before),
                     (unsigned long long)n);
            return false;
        }
        if (!write_zeros(out, (ALIGNMENT - n % ALIGNMENT) % ALIGNMENT)) {
            snprintf(err, err_size, "write failed: %s", strerror(errno));
            return false;
        }
    }
    return true;
}

bool writer_save(gguf_writer *w, const char *path, writer_data_fn data,
                 void *ctx, char *err, size_t err_size)
{
    size_t n = strlen(path);
    char *temp = malloc(n + 16);
    if (!temp) {
        snprintf(err, err_size, "out of memory");
        return false;
    }
    /* Next to the target, so the final rename stays on one file system. */
    snprintf(temp, n + 16, "%s.tmp-XXXXXX", path);
    int fd = mkstemp(temp);
    FILE *out = fd >= 0 ? fdopen(fd, "wb") : NULL;
    if (!out) {
        snprintf(err, err_size, "%s: cannot create: %s", temp, strerror(errno));
        if (fd >= 0) {
            close(fd);
            unlink(temp);
        }
        free(temp);
        return false;
    }
    /* mkstemp creates the file private (0600); give it the permissions a
     * plain fopen would. */
    mode_t mask = umask(0);
    umask(mask);
    fchmod(fd, 0666 & ~mask);
    setvbuf(out, NULL, _IOFBF, FILE_BUFFER_BYTES);
    bool ok = write_file(w, out, data, ctx, err, err_size);
    if (ok && (fflush(out) != 0 || fsync(fileno(out)) != 0)) {
        snprintf(err, err_size, "%s: write failed: %s", temp, strerror(errno));
        ok = false;
    }
    if (fclose(out) != 0 && ok) {
        snprintf(err, err_size, "%s: close failed: %s", temp, strerror(errno));
        ok = false;
    }
    if (ok && rename(temp, path) != 0) {
        snprintf(err, err_size, "cannot rename %s to %s: %s", temp, path,
                 strerror(errno));
        ok = false;
    }
    if (!ok)
        unlink(temp);
    free(temp);
    return ok;
}

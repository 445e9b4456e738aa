/* GGUF parser: maps the file and validates every count, length, dimension,
 * offset and size against the bytes that are actually there before using
 * it. Layout (all little-endian):
 *
 *   "GGUF" u32 version  u64 n_tensors  u64 n_kv
 *   n_kv x      { string key, u32 type, value }
 *   n_tensors x { string name, u32 n_dims, u64 ne[n_dims], u32 type,
 *                 u64 offset }
 *   padding to general.alignment, then the tensor data section
 *
 * A string is u64 length + bytes; an array is u32 element type + u64 count +
 * elements. Allocations are bounded by the file size: a count is checked
 * against the smallest encoding its elements could have in the remaining
 * bytes before anything is allocated for it. */
#include "gguf_private.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "array and tensor data are used in place: little-endian hosts only"
#endif

#define GGUF_MAGIC "GGUF"
#define GGUF_DEFAULT_ALIGNMENT 32

/* Smallest possible encodings, used to bound counts before allocating:
 * a key/value is a key length (8) + type (4) + a 1-byte value; a tensor
 * info is a name length (8) + n_dims (4) + one dimension (8) + type (4) +
 * offset (8); a string is its length (8). */
#define MIN_KV_BYTES 13u
#define MIN_TENSOR_INFO_BYTES 32u
#define MIN_STRING_BYTES 8u

/* Longest part of a name quoted in an error message. */

typedef struct reader {
    const uint8_t *bytes;
    uint64_t size;
    uint64_t pos;
    uint64_t wanted; /* bytes the last failed read asked for */
    const char *file_name;
    char *err;
    size_t err_size;
    dsvk_status status;
} reader;

static bool fail_with(reader *r, dsvk_status status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static bool fail_with(reader *r, dsvk_status status, const char *fmt, ...)
{
    r->status = status;
    if (!r->err || r->err_size == 0)
        return false;
    int n = snprintf(r->err, r->err_size, "%s: ", r->file_name);
    if (n >= 0 && (size_t)n < r->err_size) {
        va_list args;
        va_start(args, fmt);
        vsnprintf(r->err + n, r->err_size - (size_t)n, fmt, args);
        va_end(args);
    }
    return false;
}

#define fail(r, ...) fail_with((r), DSVK_ERROR_BAD_FILE, __VA_ARGS__)

/* "truncated in <what>: needs N bytes at offset P, M left". */
static bool truncated(reader *r, const char *what)
{
    return fail(r,
                "truncated in %s: needs %llu bytes at offset %llu, %llu left",
                what, (unsigned long long)r->wanted, (unsigned long long)r->pos,
                (unsigned long long)(r->size - r->pos));
}

static uint64_t remaining(const reader *r)
{
    return r->size - r->pos;
}

static bool take(reader *r, uint64_t n, const uint8_t **out)
{
    if (n > remaining(r)) {
        r->wanted = n;
        return false;
    }
    *out = r->bytes + r->pos;
    r->pos += n;
    return true;
}

static uint64_t load_le(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static bool read_u32(reader *r, uint32_t *out)
{
    const uint8_t *p;
    if (!take(r, 4, &p))
        return false;
    *out = (uint32_t)load_le(p, 4);
    return true;
}

static bool read_u64(reader *r, uint64_t *out)
{
    const uint8_t *p;
    if (!take(r, 8, &p))
        return false;
    *out = load_le(p, 8);
    return true;
}

static bool read_str(reader *r, gguf_str *out)
{
    const uint8_t *p;
    uint64_t len;
    if (!read_u64(r, &len) || !take(r, len, &p))
        return false;
    out->data = (const char *)p;
    out->len = len;
    return true;
}

const char *gguf_quote(gguf_str s, char buf[GGUF_QUOTE_MAX + 4])
{
    uint64_t n = s.len < GGUF_QUOTE_MAX ? s.len : GGUF_QUOTE_MAX;
    for (uint64_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s.data[i];
        buf[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
    }
    strcpy(buf + n, s.len > n ? "..." : "");
    return buf;
}

static bool is_scalar_type(uint32_t type)
{
    return type <= GGUF_TYPE_FLOAT64 && type != GGUF_TYPE_STRING &&
           type != GGUF_TYPE_ARRAY;
}

/* Encoded size of a fixed-size value type, 0 for string/array/unknown. */
static uint32_t scalar_size(uint32_t type)
{
    switch (type) {
    case GGUF_TYPE_UINT8:
    case GGUF_TYPE_INT8:
    case GGUF_TYPE_BOOL:
        return 1;
    case GGUF_TYPE_UINT16:
    case GGUF_TYPE_INT16:
        return 2;
    case GGUF_TYPE_UINT32:
    case GGUF_TYPE_INT32:
    case GGUF_TYPE_FLOAT32:
        return 4;
    case GGUF_TYPE_UINT64:
    case GGUF_TYPE_INT64:
    case GGUF_TYPE_FLOAT64:
        return 8;
    default:
        return 0;
    }
}

static void decode_scalar(uint32_t type, const uint8_t *p, gguf_kv *kv)
{
    uint64_t raw = load_le(p, scalar_size(type));
    switch (type) {
    case GGUF_TYPE_INT8:
        kv->v.i64 = (int8_t)raw;
        break;
    case GGUF_TYPE_INT16:
        kv->v.i64 = (int16_t)raw;
        break;
    case GGUF_TYPE_INT32:
        kv->v.i64 = (int32_t)raw;
        break;
    case GGUF_TYPE_INT64:
        kv->v.i64 = (int64_t)raw;
        break;
    case GGUF_TYPE_FLOAT32: {
        uint32_t bits = (uint32_t)raw;
        float f;
        memcpy(&f, &bits, sizeof f);
        kv->v.f64 = f;
        break;
    }
    case GGUF_TYPE_FLOAT64:
        memcpy(&kv->v.f64, &raw, sizeof kv->v.f64);
        break;
    case GGUF_TYPE_BOOL:
        kv->v.b = raw != 0;
        break;
    default: /* unsigned integers */
        kv->v.u64 = raw;
        break;
    }
}

static bool parse_array(reader *r, gguf_kv *kv, const char *where)
{
    char what[256];
    uint32_t type;
    uint64_t count;
    snprintf(what, sizeof what, "%s array header", where);
    if (!read_u32(r, &type) || !read_u64(r, &count))
        return truncated(r, what);
    if (type == GGUF_TYPE_ARRAY)
        return fail(r, "%s is an array of arrays (not supported)", where);
    if (type != GGUF_TYPE_STRING && !is_scalar_type(type))
        return fail(r, "%s is an array of unknown value type %u", where, type);
    kv->v.arr.type = (gguf_value_type)type;
    kv->v.arr.count = count;
    kv->v.arr.data = r->bytes + r->pos;

    if (type != GGUF_TYPE_STRING) {
        uint64_t bytes;
        if (__builtin_mul_overflow(count, scalar_size(type), &bytes))
            bytes = UINT64_MAX;
        const uint8_t *p;
        snprintf(what, sizeof what, "%s array of %llu elements", where,
                 (unsigned long long)count);
        return take(r, bytes, &p) || truncated(r, what);
    }

    if (count > remaining(r) / MIN_STRING_BYTES) {
        r->wanted = count > UINT64_MAX / MIN_STRING_BYTES
                        ? UINT64_MAX
                        : count * MIN_STRING_BYTES;
        snprintf(what, sizeof what, "%s array of %llu strings", where,
                 (unsigned long long)count);
        return truncated(r, what);
    }
    gguf_str *strings = calloc(count ? count : 1, sizeof *strings);
    if (!strings)
        return fail_with(r, DSVK_ERROR_OUT_OF_HOST_MEMORY,
                         "out of memory for %s (%llu strings)", where,
                         (unsigned long long)count);
    kv->v.arr.strings = strings;
    for (uint64_t i = 0; i < count; i++) {
        if (!read_str(r, &strings[i])) {
            snprintf(what, sizeof what, "%s string array element %llu", where,
                     (unsigned long long)i);
            return truncated(r, what);
        }
    }
    return true;
}

static bool parse_kv(reader *r, gguf_kv *kv, uint64_t index)
{
    char where[GGUF_QUOTE_MAX + 64], name[GGUF_QUOTE_MAX + 4], what[256];
    snprintf(where, sizeof where, "key/value %llu", (unsigned long long)index);
    if (!read_str(r, &kv->key)) {
        snprintf(what, sizeof what, "%s key", where);
        return truncated(r, what);
    }
    snprintf(where, sizeof where, "key/value %llu ('%s')",
             (unsigned long long)index, gguf_quote(kv->key, name));
    /* Keys are looked up as C strings (and listed as such by the API): one
     * with a NUL inside would be listed under another name. */
    if (memchr(kv->key.data, '\0', kv->key.len))
        return fail(r, "%s: the key holds a NUL byte", where);

    uint32_t type;
    if (!read_u32(r, &type)) {
        snprintf(what, sizeof what, "%s type", where);
        return truncated(r, what);
    }
    if (type > GGUF_TYPE_FLOAT64)
        return fail(r, "%s has unknown value type %u", where, type);
    kv->type = (gguf_value_type)type;

    if (type == GGUF_TYPE_ARRAY)
        return parse_array(r, kv, where);
    snprintf(what, sizeof what, "%s value", where);
    if (type == GGUF_TYPE_STRING)
        return read_str(r, &kv->v.str) || truncated(r, what);
    const uint8_t *p;
    if (!take(r, scalar_size(type), &p))
        return truncated(r, what);
    decode_scalar(type, p, kv);
    return true;
}

/* Reads one tensor info and computes its element count and byte size. The
 * data offset is checked later, once the data section's start is known. */
static bool parse_tensor_info(reader *r, gguf_tensor *t, uint64_t index)
{
    char where[GGUF_QUOTE_MAX + 64], name[GGUF_QUOTE_MAX + 4], what[256];
    snprintf(where, sizeof where, "tensor %llu", (unsigned long long)index);
    if (!read_str(r, &t->name)) {
        snprintf(what, sizeof what, "%s name", where);
        return truncated(r, what);
    }
    snprintf(where, sizeof where, "tensor %llu ('%s')",
             (unsigned long long)index, gguf_quote(t->name, name));
    if (memchr(t->name.data, '\0', t->name.len))
        return fail(r, "%s: the name holds a NUL byte", where);

    snprintf(what, sizeof what, "%s shape", where);
    if (!read_u32(r, &t->n_dims))
        return truncated(r, what);
    if (t->n_dims < 1 || t->n_dims > GGUF_MAX_DIMS)
        return fail(r, "%s has %u dimensions (must be 1 to %d)", where,
                    t->n_dims, GGUF_MAX_DIMS);
    t->n_elements = 1;
    for (uint32_t d = 0; d < GGUF_MAX_DIMS; d++) {
        t->ne[d] = 1;
        if (d < t->n_dims && !read_u64(r, &t->ne[d]))
            return truncated(r, what);
        /* ggml keeps element counts in int64_t. */
        if (t->ne[d] == 0 || t->ne[d] > INT64_MAX)
            return fail(r, "%s dimension %u is %llu (must be 1 to 2^63-1)",
                        where, d, (unsigned long long)t->ne[d]);
        if (__builtin_mul_overflow(t->n_elements, t->ne[d], &t->n_elements) ||
            t->n_elements > INT64_MAX)
            return fail(r, "%s element count overflows", where);
    }

    snprintf(what, sizeof what, "%s type and offset", where);
    if (!read_u32(r, &t->type) || !read_u64(r, &t->file_offset))
        return truncated(r, what);
    uint32_t block_elements, block_bytes;
    if (!gguf_type_block(t->type, &block_elements, &block_bytes))
        return fail(r, "%s has unknown type %u", where, t->type);
    if (t->ne[0] % block_elements != 0)
        return fail(r,
                    "%s row length %llu is not a multiple of the %s block "
                    "size %u",
                    where, (unsigned long long)t->ne[0],
                    gguf_type_name(t->type), block_elements);
    uint64_t row_bytes = gguf_row_bytes(t->type, t->ne[0]);
    if (row_bytes == 0 || __builtin_mul_overflow(
                              row_bytes, t->n_elements / t->ne[0], &t->n_bytes))
        return fail(r, "%s byte size overflows", where);
    return true;
}

/* general.alignment: any integer type that fits, a power of two. */
static bool read_alignment(reader *r, gguf_file *f)
{
    f->alignment = GGUF_DEFAULT_ALIGNMENT;
    const gguf_kv *kv = gguf_find_kv(f, "general.alignment");
    if (!kv)
        return true;
    uint32_t alignment;
    if (!gguf_get_u32(f, "general.alignment", &alignment))
        return fail(r, "general.alignment is not a 32-bit unsigned integer");
    if (alignment == 0 || (alignment & (alignment - 1)) != 0)
        return fail(r, "general.alignment %u is not a power of two", alignment);
    f->alignment = alignment;
    return true;
}

/* Tensor data must lie, aligned, inside the data section. */
static bool check_tensor_data(reader *r, gguf_file *f)
{
    char name[GGUF_QUOTE_MAX + 4];
    for (uint64_t i = 0; i < f->n_tensors; i++) {
        gguf_tensor *t = &f->tensors[i];
        if (t->file_offset % f->alignment != 0)
            return fail(r,
                        "tensor %llu ('%s') data offset %llu is not a "
                        "multiple of the alignment %llu",
                        (unsigned long long)i, gguf_quote(t->name, name),
                        (unsigned long long)t->file_offset,
                        (unsigned long long)f->alignment);
        uint64_t start, end;
        if (__builtin_add_overflow(f->data_offset, t->file_offset, &start) ||
            __builtin_add_overflow(start, t->n_bytes, &end) || end > f->size)
            return fail(r,
                        "tensor %llu ('%s') data (offset %llu, %llu bytes) "
                        "runs past the end of the file (%llu bytes)",
                        (unsigned long long)i, gguf_quote(t->name, name),
                        (unsigned long long)t->file_offset,
                        (unsigned long long)t->n_bytes,
                        (unsigned long long)f->size);
        t->file_offset = start;
        t->data = f->bytes + start;
    }
    return true;
}

static int compare_kv_keys(const void *a, const void *b)
{
    return gguf_str_compare((*(const gguf_kv *const *)a)->key,
                            (*(const gguf_kv *const *)b)->key);
}

static int compare_tensor_names(const void *a, const void *b)
{
    return gguf_str_compare((*(const gguf_tensor *const *)a)->name,
                            (*(const gguf_tensor *const *)b)->name);
}

/* Builds the sorted indexes; equal neighbours are duplicates. */
static bool index_names(reader *r, gguf_file *f)
{
    char name[GGUF_QUOTE_MAX + 4];
    f->kvs_by_key = malloc((f->n_kv ? f->n_kv : 1) * sizeof *f->kvs_by_key);
    f->tensors_by_name =
        malloc((f->n_tensors ? f->n_tensors : 1) * sizeof *f->tensors_by_name);
    if (!f->kvs_by_key || !f->tensors_by_name)
        return fail_with(r, DSVK_ERROR_OUT_OF_HOST_MEMORY,
                         "out of memory for the name index");
    for (uint64_t i = 0; i < f->n_kv; i++)
        f->kvs_by_key[i] = &f->kvs[i];
    for (uint64_t i = 0; i < f->n_tensors; i++)
        f->tensors_by_name[i] = &f->tensors[i];
    qsort(f->kvs_by_key, f->n_kv, sizeof *f->kvs_by_key, compare_kv_keys);
    qsort(f->tensors_by_name, f->n_tensors, sizeof *f->tensors_by_name,
          compare_tensor_names);
    for (uint64_t i = 1; i < f->n_kv; i++)
        if (compare_kv_keys(&f->kvs_by_key[i - 1], &f->kvs_by_key[i]) == 0)
            return fail(r, "duplicate key '%s'",
                        gguf_quote(f->kvs_by_key[i]->key, name));
    for (uint64_t i = 1; i < f->n_tensors; i++)
        if (compare_tensor_names(&f->tensors_by_name[i - 1],
                                 &f->tensors_by_name[i]) == 0)
            return fail(r, "duplicate tensor name '%s'",
                        gguf_quote(f->tensors_by_name[i]->name, name));
    return true;
}

static bool parse_header(reader *r, gguf_file *f)
{
    const uint8_t *magic;
    if (!take(r, 4, &magic))
        return truncated(r, "header");
    if (memcmp(magic, GGUF_MAGIC, 4) != 0)
        return fail(r, "not a GGUF file (bad magic %02x %02x %02x %02x)",
                    magic[0], magic[1], magic[2], magic[3]);
    if (!read_u32(r, &f->version))
        return truncated(r, "header");
    if (f->version == 1)
        return fail(r, "GGUF version 1 is not supported (only 2 and 3); "
                       "convert the file again with a current llama.cpp");
    if (f->version != 2 && f->version != 3)
        return fail(r, "unsupported GGUF version %u (only 2 and 3%s)",
                    f->version,
                    (f->version & 0xffff) == 0 ? "; a big-endian file?" : "");
    if (!read_u64(r, &f->n_tensors) || !read_u64(r, &f->n_kv))
        return truncated(r, "header");

    /* Bound both counts by what the rest of the file could hold. */
    uint64_t kv_bytes, tensor_bytes, total;
    if (__builtin_mul_overflow(f->n_kv, MIN_KV_BYTES, &kv_bytes) ||
        __builtin_mul_overflow(f->n_tensors, MIN_TENSOR_INFO_BYTES,
                               &tensor_bytes) ||
        __builtin_add_overflow(kv_bytes, tensor_bytes, &total) ||
        total > remaining(r))
        return fail(r,
                    "header claims %llu key/values and %llu tensors, more "
                    "than the %llu bytes after the header can hold",
                    (unsigned long long)f->n_kv,
                    (unsigned long long)f->n_tensors,
                    (unsigned long long)remaining(r));
    return true;
}

static bool parse(reader *r, gguf_file *f)
{
    if (!parse_header(r, f))
        return false;
    f->kvs = calloc(f->n_kv ? f->n_kv : 1, sizeof *f->kvs);
    f->tensors = calloc(f->n_tensors ? f->n_tensors : 1, sizeof *f->tensors);
    if (!f->kvs || !f->tensors)
        return fail_with(r, DSVK_ERROR_OUT_OF_HOST_MEMORY,
                         "out of memory for %llu key/values and %llu tensors",
                         (unsigned long long)f->n_kv,
                         (unsigned long long)f->n_tensors);
    for (uint64_t i = 0; i < f->n_kv; i++)
        if (!parse_kv(r, &f->kvs[i], i))
            return false;
    for (uint64_t i = 0; i < f->n_tensors; i++)
        if (!parse_tensor_info(r, &f->tensors[i], i))
            return false;
    if (!index_names(r, f) || !read_alignment(r, f))
        return false;
    /* The data section starts at the next multiple of the alignment; a file
     * without tensors may end before it. */
    if (__builtin_add_overflow(r->pos, f->alignment - 1, &f->data_offset))
        return fail(r, "data section offset overflows");
    f->data_offset &= ~(f->alignment - 1);
    return check_tensor_data(r, f);
}

static dsvk_status open_bytes(const uint8_t *bytes, uint64_t size, bool mapped,
                              const char *file_name, gguf_file **out, char *err,
                              size_t err_size)
{
    reader r = {.bytes = bytes,
                .size = size,
                .file_name = file_name,
                .err = err,
                .err_size = err_size,
                .status = DSVK_OK};
    gguf_file *f = calloc(1, sizeof *f);
    if (!f) {
        fail_with(&r, DSVK_ERROR_OUT_OF_HOST_MEMORY, "out of memory");
        return r.status;
    }
    f->bytes = bytes;
    f->size = size;
    if (!parse(&r, f)) {
        f->mapped = false; /* the caller unmaps on failure */
        gguf_close(f);
        return r.status;
    }
    f->mapped = mapped;
    *out = f;
    return DSVK_OK;
}

dsvk_status gguf_open_memory(const void *data, size_t size, gguf_file **out,
                             char *err, size_t err_size)
{
    if (out)
        *out = NULL;
    if (!out || (!data && size)) {
        snprintf(err, err_size, "gguf_open_memory: invalid argument");
        return DSVK_ERROR_INVALID_ARGUMENT;
    }
    return open_bytes(data, size, false, "<memory>", out, err, err_size);
}

dsvk_status gguf_open(const char *path, gguf_file **out, char *err,
                      size_t err_size)
{
    if (out)
        *out = NULL;
    if (!path || !out) {
        snprintf(err, err_size, "gguf_open: invalid argument");
        return DSVK_ERROR_INVALID_ARGUMENT;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        snprintf(err, err_size, "%s: cannot open: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return DSVK_ERROR_IO;
    }
    if (!S_ISREG(st.st_mode) || st.st_size == 0) {
        snprintf(err, err_size, "%s: %s", path,
                 S_ISREG(st.st_mode) ? "empty file" : "not a regular file");
        close(fd);
        return S_ISREG(st.st_mode) ? DSVK_ERROR_BAD_FILE : DSVK_ERROR_IO;
    }
    size_t size = (size_t)st.st_size;
    void *bytes = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
    int map_errno = errno;
    close(fd); /* the mapping keeps the file open */
    if (bytes == MAP_FAILED) {
        snprintf(err, err_size, "%s: cannot map: %s", path,
                 strerror(map_errno));
        return DSVK_ERROR_IO;
    }
    dsvk_status status =
        open_bytes(bytes, size, true, path, out, err, err_size);
    if (status != DSVK_OK)
        munmap(bytes, size);
    return status;
}

void gguf_close(gguf_file *f)
{
    if (!f)
        return;
    for (uint64_t i = 0; f->kvs && i < f->n_kv; i++)
        if (f->kvs[i].type == GGUF_TYPE_ARRAY)
            free((void *)f->kvs[i].v.arr.strings);
    free(f->kvs);
    free(f->tensors);
    free(f->kvs_by_key);
    free(f->tensors_by_name);
    if (f->mapped)
        munmap((void *)f->bytes, f->size);
    free(f);
}

/* Lookups and typed getters on a parsed GGUF file. Names are found by
 * binary search in the sorted indexes built at open time. */
#include "gguf_private.h"

#include <string.h>

int gguf_str_compare(gguf_str a, gguf_str b)
{
    uint64_t n = a.len < b.len ? a.len : b.len;
    int c = n ? memcmp(a.data, b.data, n) : 0;
    if (c != 0)
        return c;
    return a.len < b.len ? -1 : a.len > b.len;
}

bool gguf_str_eq(gguf_str s, const char *cstr)
{
    size_t n = strlen(cstr);
    return s.len == n && (n == 0 || memcmp(s.data, cstr, n) == 0);
}

uint32_t gguf_version(const gguf_file *f)
{
    return f->version;
}

uint64_t gguf_kv_count(const gguf_file *f)
{
    return f->n_kv;
}

const gguf_kv *gguf_kv_at(const gguf_file *f, uint64_t i)
{
    return i < f->n_kv ? &f->kvs[i] : NULL;
}

uint64_t gguf_tensor_count(const gguf_file *f)
{
    return f->n_tensors;
}

const gguf_tensor *gguf_tensor_at(const gguf_file *f, uint64_t i)
{
    return i < f->n_tensors ? &f->tensors[i] : NULL;
}

/* Binary search over an array of pointers sorted by the gguf_str found at
 * `name_offset` inside each pointed-to struct. */
static const void *find_sorted(const void *const *sorted, uint64_t count,
                               size_t name_offset, const char *name)
{
    gguf_str key = {name, strlen(name)};
    uint64_t lo = 0, hi = count;
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        gguf_str probe;
        memcpy(&probe, (const char *)sorted[mid] + name_offset, sizeof probe);
        int c = gguf_str_compare(probe, key);
        if (c == 0)
            return sorted[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

const gguf_kv *gguf_find_kv(const gguf_file *f, const char *key)
{
    return find_sorted((const void *const *)f->kvs_by_key, f->n_kv,
                       offsetof(gguf_kv, key), key);
}

const gguf_tensor *gguf_find_tensor(const gguf_file *f, const char *name)
{
    return find_sorted((const void *const *)f->tensors_by_name, f->n_tensors,
                       offsetof(gguf_tensor, name), name);
}

static bool is_unsigned(gguf_value_type t)
{
    return t == GGUF_TYPE_UINT8 || t == GGUF_TYPE_UINT16 ||
           t == GGUF_TYPE_UINT32 || t == GGUF_TYPE_UINT64;
}

static bool is_signed(gguf_value_type t)
{
    return t == GGUF_TYPE_INT8 || t == GGUF_TYPE_INT16 ||
           t == GGUF_TYPE_INT32 || t == GGUF_TYPE_INT64;
}

bool gguf_get_u64(const gguf_file *f, const char *key, uint64_t *out)
{
    const gguf_kv *kv = gguf_find_kv(f, key);
    if (!kv)
        return false;
    if (is_unsigned(kv->type)) {
        *out = kv->v.u64;
        return true;
    }
    if (is_signed(kv->type) && kv->v.i64 >= 0) {
        *out = (uint64_t)kv->v.i64;
        return true;
    }
    return false;
}

bool gguf_get_u32(const gguf_file *f, const char *key, uint32_t *out)
{
    uint64_t v;
    if (!gguf_get_u64(f, key, &v) || v > UINT32_MAX)
        return false;
    *out = (uint32_t)v;
    return true;
}

bool gguf_get_f32(const gguf_file *f, const char *key, float *out)
{
    const gguf_kv *kv = gguf_find_kv(f, key);
    if (!kv || (kv->type != GGUF_TYPE_FLOAT32 && kv->type != GGUF_TYPE_FLOAT64))
        return false;
    *out = (float)kv->v.f64;
    return true;
}

bool gguf_get_bool(const gguf_file *f, const char *key, bool *out)
{
    const gguf_kv *kv = gguf_find_kv(f, key);
    if (!kv || kv->type != GGUF_TYPE_BOOL)
        return false;
    *out = kv->v.b;
    return true;
}

bool gguf_get_str(const gguf_file *f, const char *key, gguf_str *out)
{
    const gguf_kv *kv = gguf_find_kv(f, key);
    if (!kv || kv->type != GGUF_TYPE_STRING)
        return false;
    *out = kv->v.str;
    return true;
}

gguf_str gguf_array_str(const gguf_kv *kv, uint64_t i)
{
    gguf_str none = {NULL, 0};
    if (!kv || kv->type != GGUF_TYPE_ARRAY ||
        kv->v.arr.type != GGUF_TYPE_STRING || i >= kv->v.arr.count)
        return none;
    return kv->v.arr.strings[i];
}

/* Little-endian element i of a fixed-size array, `size` bytes wide. */
static uint64_t array_element(const gguf_kv *kv, uint64_t i, unsigned size)
{
    const uint8_t *p = kv->v.arr.data + i * size;
    uint64_t v = 0;
    for (unsigned b = 0; b < size; b++)
        v |= (uint64_t)p[b] << (8 * b);
    return v;
}

bool gguf_array_int(const gguf_kv *kv, uint64_t i, int64_t *out)
{
    if (!kv || kv->type != GGUF_TYPE_ARRAY || i >= kv->v.arr.count)
        return false;
    switch (kv->v.arr.type) {
    case GGUF_TYPE_UINT8:
    case GGUF_TYPE_BOOL:
        *out = (uint8_t)array_element(kv, i, 1);
        return true;
    case GGUF_TYPE_INT8:
        *out = (int8_t)array_element(kv, i, 1);
        return true;
    case GGUF_TYPE_UINT16:
        *out = (uint16_t)array_element(kv, i, 2);
        return true;
    case GGUF_TYPE_INT16:
        *out = (int16_t)array_element(kv, i, 2);
        return true;
    case GGUF_TYPE_UINT32:
        *out = (uint32_t)array_element(kv, i, 4);
        return true;
    case GGUF_TYPE_INT32:
        *out = (int32_t)array_element(kv, i, 4);
        return true;
    case GGUF_TYPE_INT64:
        *out = (int64_t)array_element(kv, i, 8);
        return true;
    case GGUF_TYPE_UINT64: {
        uint64_t v = array_element(kv, i, 8);
        if (v > INT64_MAX)
            return false;
        *out = (int64_t)v;
        return true;
    }
    default:
        return false;
    }
}

bool gguf_array_f32(const gguf_kv *kv, uint64_t i, float *out)
{
    if (!kv || kv->type != GGUF_TYPE_ARRAY || i >= kv->v.arr.count)
        return false;
    if (kv->v.arr.type == GGUF_TYPE_FLOAT32) {
        uint32_t bits = (uint32_t)array_element(kv, i, 4);
        memcpy(out, &bits, sizeof *out);
        return true;
    }
    if (kv->v.arr.type == GGUF_TYPE_FLOAT64) {
        uint64_t bits = array_element(kv, i, 8);
        double d;
        memcpy(&d, &bits, sizeof d);
        *out = (float)d;
        return true;
    }
    return false;
}

/* dsvk — DeepSeek-architecture language models on any Vulkan GPU.
 *
 * This is the only public header, and its comments are the manual.
 *
 * Objects, each an opaque handle with a create/destroy pair (every destroy
 * accepts NULL):
 *
 *   dsvk_context  one Vulkan device and the options it was made with.
 *   dsvk_model    a model file loaded onto a context's device: weights,
 *                 tokenizer, chat format. Immutable once loaded. Opened
 *                 on the host only (dsvk_model_open), it can be inspected
 *                 and tokenize, but not evaluate.
 *   dsvk_session  one sequence being evaluated on a model: its own latent
 *                 (MLA) cache and activations. Many sessions may share one
 *                 model; its weights are in device memory once.
 *   dsvk_sampler  chooses tokens from logits (temperature, top-k, ...), with
 *                 its own random stream and penalty window.
 *
 * Lifetimes: a context must outlive its models, a model its sessions.
 * Destroying an object that others still depend on is a bug, not an error.
 *
 * Errors: every fallible call returns a dsvk_status. dsvk_status_string()
 * names it; the object the call was made on keeps a one-line detail, read
 * with dsvk_context_error(), dsvk_model_error(), dsvk_session_error() or
 * dsvk_sampler_error(). Calls that create an object report their detail on
 * the object they were made from (dsvk_model_load on the context,
 * dsvk_session_create on the model); dsvk_context_create and
 * dsvk_list_devices, which have none, write it into a caller buffer. The
 * library never exits, aborts or prints: it reports through statuses,
 * error strings and the context's logger.
 *
 * Threads:
 *   - All GPU work of one context is serialized by a lock inside the
 *     context (a Vulkan queue and the device's memory, pipeline and staging
 *     state are shared). So every function below may be called from any
 *     thread, subject only to the rules that follow; work on different
 *     sessions overlaps on the host, not on the GPU.
 *   - A model is immutable and may be used by several threads at once
 *     (tokenize, chat, info, creating sessions).
 *   - A session and a sampler are each used by one thread at a time.
 *   - An evaluation takes the context's lock for one GPU step at a time
 *     (dsvk_session_desc.max_batch tokens), so that sessions on other
 *     threads get their steps in between: a long prompt on one session
 *     delays, but does not stall, the token-by-token generation of
 *     another.
 *   - Error strings: each object keeps the detail of the last failed call
 *     made on it. It stays unchanged until another call on that object
 *     fails. When calls on one context or model fail on several threads at
 *     the same moment, the string may be overwritten while it is read; an
 *     application that needs every detail then serializes those calls
 *     itself or gives each thread its own object.
 *   - Callbacks (logger, load progress, generated tokens, routing) run on
 *     the thread that made the call, except validation-layer messages,
 *     which a driver may deliver on a thread of its own: a logger must be
 *     thread-safe. The load progress and routing callbacks run while the
 *     context's lock is held (they may call the library itself, but must
 *     not wait for another thread that uses the same context); on_token
 *     runs without it.
 *
 * Untrusted input: model files, text and token ids are checked; a
 * malformed file or an out-of-range id gives an error status, never a
 * crash. Pointers and sizes passed by the application are trusted.
 *
 * No global state: the library reads no environment variables and keeps
 * nothing outside the objects. A program maps its own settings (the dsvk
 * CLI's DSVK_DEVICE, DSVK_EMULATE, DSVK_VALIDATION) onto desc fields. */
#ifndef DSVK_H
#define DSVK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(DSVK_BUILDING_LIBRARY) && defined(__GNUC__)
#define DSVK_API __attribute__((visibility("default")))
#else
#define DSVK_API
#endif

/* ---------------------------------------------------------------- status */

/* Status codes: one table, expanded into the enum and into
 * dsvk_status_string(). X(name, value, description) */
#define DSVK_STATUS_LIST(X)                                                    \
    X(DSVK_OK, 0, "ok")                                                        \
    X(DSVK_ERROR_INVALID_ARGUMENT, 1, "invalid argument")                      \
    X(DSVK_ERROR_OUT_OF_HOST_MEMORY, 2, "out of host memory")                  \
    X(DSVK_ERROR_OUT_OF_DEVICE_MEMORY, 3, "out of device memory")              \
    X(DSVK_ERROR_NO_VULKAN, 4, "no Vulkan loader or driver")                   \
    X(DSVK_ERROR_NO_DEVICE, 5, "no suitable Vulkan device")                    \
    X(DSVK_ERROR_VULKAN, 6, "Vulkan call failed")                              \
    X(DSVK_ERROR_UNSUPPORTED, 7, "unsupported by this device or build")        \
    X(DSVK_ERROR_IO, 8, "file input/output error")                             \
    X(DSVK_ERROR_BAD_FILE, 9, "malformed model file")                          \
    X(DSVK_ERROR_BAD_MODEL, 10, "model not supported")                         \
    X(DSVK_ERROR_CONTEXT_FULL, 11, "context length exceeded")                  \
    X(DSVK_ERROR_CANCELLED, 12, "cancelled")                                   \
    X(DSVK_ERROR_VALIDATION, 13, "Vulkan validation layer reported a problem") \
    X(DSVK_ERROR_BUFFER_TOO_SMALL, 14, "output buffer too small")              \
    X(DSVK_ERROR_NOT_FOUND, 15, "not found")

typedef enum dsvk_status {
#define DSVK_STATUS_ENUM_(name, value, text) name = value,
    DSVK_STATUS_LIST(DSVK_STATUS_ENUM_)
#undef DSVK_STATUS_ENUM_
} dsvk_status;

/* A short, static, human-readable name for a status. Never NULL. */
DSVK_API const char *dsvk_status_string(dsvk_status status);

/* A token id of the model's vocabulary, in [0, n_vocab). */
typedef int32_t dsvk_token;
#define DSVK_TOKEN_NONE (-1) /* "no such token", e.g. a model without BOS */

/* --------------------------------------------------------------- context */

/* Weak-device profiles: the library pretends the device is weaker than it
 * is, so the fallback paths a weak GPU would take run on a strong one. */
typedef enum dsvk_emulation {
    DSVK_EMULATION_NONE = 0, /* use the device as it is */
    /* The weakest conformant Vulkan 1.2 compute device: no optional
     * features, 16 KiB shared memory, 128-invocation workgroups, 128 MiB
     * maxStorageBufferRange. */
    DSVK_EMULATION_BASELINE = 1,
} dsvk_emulation;

/* "none" / "baseline". dsvk_emulation_from_name returns
 * DSVK_ERROR_INVALID_ARGUMENT for any other name (out is unchanged);
 * dsvk_emulation_name returns NULL for a value outside the enum. */
DSVK_API dsvk_status dsvk_emulation_from_name(const char *name,
                                              dsvk_emulation *out);
DSVK_API const char *dsvk_emulation_name(dsvk_emulation emulation);

/* The shape of the matrix-vector kernels. GPUs want each row spread over a
 * workgroup that reduces its partial sums; CPU drivers (lavapipe,
 * SwiftShader), which run a workgroup as one SIMD loop on one thread, want
 * each invocation to own whole rows, with no barriers. Results agree to
 * float rounding either way. */
typedef enum dsvk_kernel_class {
    DSVK_KERNELS_AUTO = 0, /* CPU class on CPU-type devices, else GPU class */
    DSVK_KERNELS_GPU = 1,
    DSVK_KERNELS_CPU = 2,
} dsvk_kernel_class;

/* "auto" / "gpu" / "cpu", as dsvk_emulation_from_name and _name. */
DSVK_API dsvk_status dsvk_kernel_class_from_name(const char *name,
                                                 dsvk_kernel_class *out);
DSVK_API const char *dsvk_kernel_class_name(dsvk_kernel_class kernels);

/* Receives one line of text (no newline): device choice, a missing
 * validation layer, and every validation-layer message, which start with
 * "validation error: " or "validation warning: ". The message is valid
 * during the call only. See "Threads" above. */
typedef void (*dsvk_log_fn)(void *user, const char *message);

/* Device selection: 0 means the best device (discrete GPU, else integrated,
 * else virtual, else CPU). To pick a device by the index that
 * dsvk_list_devices reports, write DSVK_DEVICE_INDEX(index). (An index of
 * 0 is a real device, so the field stores index + 1 to keep {0} the
 * default.) */
#define DSVK_DEVICE_BEST 0u
#define DSVK_DEVICE_INDEX(index) ((uint32_t)(index) + 1u)

/* Options of a context. {0} is valid: the best device, as it is, without
 * validation, pipeline cache or logger, and all its device memory. */
typedef struct dsvk_context_desc {
    uint32_t device;          /* DSVK_DEVICE_BEST or DSVK_DEVICE_INDEX(i) */
    dsvk_emulation emulation; /* DSVK_EMULATION_NONE */
    /* Enable the Khronos validation layer (VK_LAYER_KHRONOS_validation).
     * When it is not installed the context is still created, the logger is
     * told, and dsvk_context_validation_active() returns false. Slow: for
     * tests and debugging. */
    bool validation;
    /* Directory for the compiled-pipeline cache, created if missing; NULL:
     * no cache on disk (pipelines are compiled on each run). */
    const char *pipeline_cache_dir;
    dsvk_log_fn log; /* NULL: silent */
    void *log_user;  /* passed to log */
    /* Most bytes of device-local memory this context may allocate, for its
     * models and sessions together; 0: no limit but the device's. The
     * context behaves as if each device-local heap had only this much: a
     * load or session that would need more fails with
     * DSVK_ERROR_OUT_OF_DEVICE_MEMORY, saying needed vs available, and
     * frees what it had taken. Memory is counted as allocated from the
     * driver, in blocks (64 MiB, or one per buffer over 32 MiB), so the limit
     * is reached sooner than the sum of the tensors suggests. For applications
     * that share a GPU, and for testing the out-of-memory path. */
    uint64_t device_memory_limit;
    /* DSVK_KERNELS_AUTO; forcing a class is for tests and measurements. */
    dsvk_kernel_class kernels;
} dsvk_context_desc;

typedef enum dsvk_device_type {
    DSVK_DEVICE_TYPE_OTHER = 0,
    DSVK_DEVICE_TYPE_INTEGRATED_GPU = 1,
    DSVK_DEVICE_TYPE_DISCRETE_GPU = 2,
    DSVK_DEVICE_TYPE_VIRTUAL_GPU = 3,
    DSVK_DEVICE_TYPE_CPU = 4, /* a software driver such as lavapipe */
} dsvk_device_type;

/* One device-memory heap. */
typedef struct dsvk_memory_heap {
    uint64_t size;
    bool device_local;
} dsvk_memory_heap;

#define DSVK_MAX_MEMORY_HEAPS 16

/* What a device offers a compute program, after the desc's emulation
 * profile: the limits and optional features that decide which kernels dsvk
 * builds. For `dsvk devices` and for an application's own choice of device;
 * filled only for a usable device (dsvk_device_info.usable). */
typedef struct dsvk_device_caps {
    uint32_t min_subgroup_size, max_subgroup_size;
    bool subgroup_size_control; /* a pipeline may ask for a subgroup size */
    bool subgroup_arithmetic;   /* subgroupAdd and the like */
    bool subgroup_shuffle;
    uint32_t max_shared_memory; /* bytes of shared memory per workgroup */
    uint32_t max_workgroup_invocations;
    uint32_t max_workgroup_size[3];
    uint32_t max_workgroup_count[3];
    uint64_t max_storage_buffer_range; /* bytes one binding may span */
    uint64_t min_storage_buffer_offset_alignment;
    uint32_t max_memory_allocation_count;
    uint64_t max_memory_allocation_size;
    uint32_t heap_count; /* entries of heaps, at most DSVK_MAX_MEMORY_HEAPS */
    dsvk_memory_heap heaps[DSVK_MAX_MEMORY_HEAPS];
    bool shader_float16, shader_int8;
    bool storage_16bit, storage_8bit; /* 16-/8-bit values in storage buffers */
    bool integer_dot_product;         /* VK_KHR_shader_integer_dot_product */
    bool cooperative_matrix;          /* VK_KHR_cooperative_matrix */
    bool buffer_device_address;
    bool push_descriptors;
    bool timestamps;           /* the compute queue can time dispatches */
    float timestamp_period_ns; /* nanoseconds per timestamp tick */
} dsvk_device_caps;

/* One Vulkan physical device. Strings are NUL-terminated copies. */
typedef struct dsvk_device_info {
    uint32_t index; /* what DSVK_DEVICE_INDEX() takes */
    char name[256];
    char driver_name[256]; /* e.g. "llvmpipe" */
    char driver_info[256]; /* e.g. "Mesa 22.3.6 (LLVM 15.0.6)" */
    dsvk_device_type type;
    uint32_t vendor_id, device_id;
    uint32_t api_version; /* VK_MAKE_API_VERSION encoding */
    /* Size of the largest device-local memory heap, in bytes (for a CPU
     * driver, system memory). */
    uint64_t device_memory;
    bool unified_memory; /* device-local memory is visible to the host */
    uint32_t subgroup_size;
    bool usable;               /* Vulkan 1.2 with a compute queue */
    char unusable_reason[128]; /* why not, when !usable; else "" */
    bool chosen; /* the device a context made with this desc would use */
    /* The kernel class the desc's `kernels` gives on this device:
     * DSVK_KERNELS_GPU or DSVK_KERNELS_CPU. */
    dsvk_kernel_class kernels;
    dsvk_device_caps caps; /* zero when !usable */
} dsvk_device_info;

/* Lists the physical devices without creating a context (no VkDevice is
 * made). desc may be NULL; its device and emulation fields decide
 * `chosen` and the capabilities reported. Fills up to `capacity` entries of
 * out (out may be NULL when capacity is 0) and sets *count to the number of
 * devices present, which may exceed capacity (that is not an error). On
 * failure (DSVK_ERROR_NO_VULKAN: no loader or driver) err, when not NULL,
 * receives one NUL-terminated line of at most err_size bytes. When the
 * devices are listed but none would be chosen (none is usable, or
 * desc.device names none), the call succeeds, no entry is `chosen`, and
 * err says why; otherwise err is "". */
DSVK_API dsvk_status dsvk_list_devices(const dsvk_context_desc *desc,
                                       dsvk_device_info *out, uint32_t capacity,
                                       uint32_t *count, char *err,
                                       size_t err_size);

typedef struct dsvk_context dsvk_context;

/* Creates a context: opens the Vulkan device desc chooses (desc may be
 * NULL: defaults). Errors: DSVK_ERROR_NO_VULKAN, DSVK_ERROR_NO_DEVICE (no
 * usable device, or the index does not exist), DSVK_ERROR_VULKAN,
 * DSVK_ERROR_INVALID_ARGUMENT (an emulation value outside the enum); then
 * *out is NULL and err, when not NULL, receives one line. */
DSVK_API dsvk_status dsvk_context_create(const dsvk_context_desc *desc,
                                         dsvk_context **out, char *err,
                                         size_t err_size);
/* Accepts NULL. Every model of the context must be destroyed first. */
DSVK_API void dsvk_context_destroy(dsvk_context *ctx);

/* The detail of the last failed call on this context (dsvk_model_load);
 * "" when none. Owned by the context. */
DSVK_API const char *dsvk_context_error(const dsvk_context *ctx);

/* The device the context uses (after emulation); `chosen` is true. */
DSVK_API void dsvk_context_device(const dsvk_context *ctx,
                                  dsvk_device_info *out);

/* Whether desc.validation took effect (the layer was found), and how many
 * messages (errors and warnings) it has reported so far. A test fails on
 * any message. */
DSVK_API bool dsvk_context_validation_active(const dsvk_context *ctx);
DSVK_API uint32_t dsvk_context_validation_messages(const dsvk_context *ctx);

/* Device-local memory the context has allocated now, in bytes (weights of
 * every model, caches and activations of every session). */
DSVK_API uint64_t dsvk_context_memory_used(const dsvk_context *ctx);

/* ----------------------------------------------------------------- model */

/* Called during dsvk_model_load with the fraction done, from 0 to 1 (the
 * bytes of weights uploaded so far). Return true to go on, false to cancel:
 * the load then frees everything it made and returns DSVK_ERROR_CANCELLED. */
typedef bool (*dsvk_progress_fn)(void *user, float fraction);

/* Options of a model. Only path is required. */
typedef struct dsvk_model_desc {
    const char *path; /* a llama.cpp `deepseek2` GGUF file */
    /* The context length of sessions that do not set their own n_ctx; 0:
     * the model's trained context_length, at most 4096 (DeepSeek's 163840
     * positions would cost gigabytes of latent cache). */
    uint32_t n_ctx;
    dsvk_progress_fn progress; /* NULL: no progress reports */
    void *progress_user;       /* passed to progress */
} dsvk_model_desc;

typedef struct dsvk_model dsvk_model;

/* Loads a model: maps the file, checks every tensor and the tokenizer,
 * uploads the weights to the context's device. The file stays open (mapped)
 * until the model is destroyed. Safe on untrusted files. Errors:
 * DSVK_ERROR_IO (cannot open or map), DSVK_ERROR_BAD_FILE (not a valid
 * GGUF, or its tokenizer keys are missing or malformed),
 * DSVK_ERROR_BAD_MODEL (valid GGUF, but not a model or tokenizer dsvk
 * runs), DSVK_ERROR_UNSUPPORTED (a weight type or shape this
 * device cannot run), DSVK_ERROR_OUT_OF_DEVICE_MEMORY (needed vs available
 * in the detail), DSVK_ERROR_CANCELLED (by progress),
 * DSVK_ERROR_OUT_OF_HOST_MEMORY, DSVK_ERROR_VULKAN. On failure *out is
 * NULL, nothing stays allocated and dsvk_context_error(ctx) has the detail,
 * which names the file. */
DSVK_API dsvk_status dsvk_model_load(dsvk_context *ctx,
                                     const dsvk_model_desc *desc,
                                     dsvk_model **out);
/* Accepts NULL. Every session of the model must be destroyed first. */
DSVK_API void dsvk_model_destroy(dsvk_model *model);

/* What dsvk_model_open reads. */
typedef enum dsvk_open_mode {
    /* A deepseek2 file: its hyperparameters (refused as dsvk_model_load
     * refuses them), the tokenizer, and every tensor's name, type and shape
     * checked as for a load, without reading the weights. A file without
     * tensors (vocab-only) is accepted: has_weights is then false. */
    DSVK_OPEN_MODEL = 0,
    /* Only the tokenizer, of any architecture: for tokenizing with a
     * vocab-only file such as llama.cpp's ggml-vocab-*.gguf. The shape
     * fields of dsvk_model_info are then 0 (n_vocab is the tokenizer's);
     * tensors are listed, not checked against a model's shape. */
    DSVK_OPEN_VOCAB = 1,
} dsvk_open_mode;

/* Opens a model file on the host only, with no context or device: for
 * inspecting a file (`dsvk info`) and for tokenizing without a GPU. Every
 * function that reads a model works on the result (info, weight types,
 * tensors, metadata, tokenizing, chat formatting) except
 * dsvk_session_create, which fails with DSVK_ERROR_UNSUPPORTED. The file
 * stays mapped until dsvk_model_destroy. Errors as dsvk_model_load's,
 * without the device ones (DSVK_ERROR_INVALID_ARGUMENT for a mode outside
 * the enum); then *out is NULL and err, when not NULL, receives one line
 * naming the file. Safe on untrusted files. */
DSVK_API dsvk_status dsvk_model_open(const char *path, dsvk_open_mode mode,
                                     dsvk_model **out, char *err,
                                     size_t err_size);

/* The detail of the last failed call on this model (dsvk_session_create,
 * tokenizing, chat formatting); "" when none. Owned by the model. */
DSVK_API const char *dsvk_model_error(const dsvk_model *model);

typedef enum dsvk_rope_scaling {
    DSVK_ROPE_SCALING_NONE = 0,
    DSVK_ROPE_SCALING_LINEAR = 1,
    DSVK_ROPE_SCALING_YARN = 2,
} dsvk_rope_scaling;

typedef enum dsvk_gating {
    DSVK_GATING_SOFTMAX = 1, /* DeepSeek-V2: softmax over the experts */
    DSVK_GATING_SIGMOID = 2, /* DeepSeek-V3: sigmoid, choice with a bias */
} dsvk_gating;

/* What a model is. Shapes use DeepSeek's names: MLA compresses keys and
 * values into one latent of kv_lora_rank values per token. */
typedef struct dsvk_model_info {
    char name[128]; /* general.name, or "" */
    uint32_t n_vocab;
    uint32_t n_ctx_train; /* context the model was trained for */
    uint32_t n_ctx;       /* default context of its sessions (the desc's) */
    uint32_t n_embd;
    uint32_t n_layer;
    uint32_t n_layer_dense; /* leading dense layers; the rest are MoE */
    uint32_t n_head;
    uint32_t n_ff;             /* width of the dense feed-forward */
    uint32_t q_lora_rank;      /* 0: queries are not compressed */
    uint32_t kv_lora_rank;     /* latent width r */
    uint32_t qk_nope_head_dim; /* dn */
    uint32_t qk_rope_head_dim; /* dr */
    uint32_t v_head_dim;       /* dv */
    uint32_t n_expert;         /* routed experts per MoE layer */
    uint32_t n_expert_used;    /* chosen per token */
    uint32_t n_expert_shared;  /* always used */
    uint32_t n_ff_exp;         /* width of one expert */
    uint32_t n_expert_groups;  /* <= 1: no group-limited choice */
    uint32_t n_expert_groups_used;
    dsvk_gating gating;
    float rope_freq_base;
    float rope_scaling_factor;      /* 1: no scaling */
    uint32_t rope_original_context; /* YaRN's original context, or 0 */
    uint64_t n_params;              /* every weight */
    uint64_t n_params_active; /* used per token (routed experts: k of E) */
    uint64_t weight_bytes;    /* device memory the weights occupy; 0
                                 unless on_device */
    /* Latent cache with DSVK_CACHE_F16, every layer (other types:
     * dsvk_cache_bytes_per_token). */
    uint64_t cache_bytes_per_token;
    /* An ordinary multi-head cache of the same model, for comparison. */
    uint64_t mha_cache_bytes_per_token;
    dsvk_token bos, eos;    /* DSVK_TOKEN_NONE when the model has none */
    bool add_bos;           /* prompts should start with BOS */
    size_t max_piece_bytes; /* longest text of one token */

    /* What the file holds, and the details `dsvk info` prints. */
    uint32_t gguf_version;
    /* Whether the tensors were bound as a model's. False for a file
     * without tensors opened with DSVK_OPEN_MODEL, and for every file
     * opened with DSVK_OPEN_VOCAB: the shape above is then the metadata's
     * (0 with DSVK_OPEN_VOCAB; n_vocab the tokenizer's where the metadata
     * has none), and the counts of parameters, bytes and cache sizes are
     * 0. */
    bool has_weights;
    bool on_device; /* loaded with dsvk_model_load: sessions can be made */
    uint32_t n_tensors;
    float rms_norm_eps;
    float attention_scale; /* of the scores, YaRN's mscale included */
    /* attn_k_b and attn_v_b (llama.cpp's files since 2025) rather than the
     * legacy attn_kv_b; only meaningful with has_weights. */
    bool kv_b_split;
    dsvk_rope_scaling rope_scaling;
    float yarn_log_multiplier;
    float yarn_ramp[2];       /* YaRN's correction range, in rotated pairs */
    bool expert_weights_norm; /* the k weights are normalised to sum 1 */
    float expert_weights_scale;
} dsvk_model_info;

/* Fills *out. Cannot fail. */
DSVK_API void dsvk_model_get_info(const dsvk_model *model,
                                  dsvk_model_info *out);

/* One weight type of the model and how much of the model uses it. */
typedef struct dsvk_weight_type_usage {
    const char *type; /* "Q4_K", "F32", ...: a static string */
    uint32_t n_tensors;
    uint64_t n_params;
    uint64_t file_bytes; /* bytes in the file */
} dsvk_weight_type_usage;

/* The mix of weight types in the file, most bytes first. Fills up to
 * `capacity` entries and sets *count to the number of distinct types,
 * which may exceed capacity. Cannot fail. */
DSVK_API void dsvk_model_weight_types(const dsvk_model *model,
                                      dsvk_weight_type_usage *out,
                                      uint32_t capacity, uint32_t *count);

/* One tensor of the file. */
typedef struct dsvk_tensor_info {
    const char *name; /* NUL-terminated, owned by the model */
    const char *type; /* "Q4_K", "F32", ...: a static string */
    uint32_t n_dims;
    uint64_t dims[4]; /* GGUF order: dims[0] is the length of a row; 1 from
                         n_dims on */
    uint64_t n_elements;
    uint64_t file_bytes;
} dsvk_tensor_info;

/* The tensors in file order: dsvk_model_info.n_tensors of them, in every
 * mode of dsvk_model_open. DSVK_ERROR_INVALID_ARGUMENT for an index past
 * the last. */
DSVK_API dsvk_status dsvk_model_tensor(const dsvk_model *model, uint32_t index,
                                       dsvk_tensor_info *out);

/* The file's metadata (GGUF key-value pairs), in file order. */
DSVK_API uint32_t dsvk_model_metadata_count(const dsvk_model *model);
/* Key `index` (NUL-terminated, owned by the model); NULL past the last. */
DSVK_API const char *dsvk_model_metadata_key(const dsvk_model *model,
                                             uint32_t index);
/* The value of `key` as text: a string as it is (it may hold any bytes,
 * NULs included, which *len counts), a number in decimal (a float as
 * printf's %g), a bool as true or false, an array as "[N TYPE]" (e.g.
 * "[102400 string]"; TYPE is uint8, int8, uint16, int16, uint32, int32,
 * uint64, int64, float32, float64, bool or string). Written into out
 * (out_size bytes, NUL-terminated); *len always receives the length
 * without the NUL, and when len + 1 exceeds out_size the call fails with
 * DSVK_ERROR_BUFFER_TOO_SMALL and writes nothing (out may be NULL with
 * out_size 0, to ask the length). DSVK_ERROR_NOT_FOUND when the file has
 * no such key. Errors leave their detail in dsvk_model_error. */
DSVK_API dsvk_status dsvk_model_metadata(const dsvk_model *model,
                                         const char *key, char *out,
                                         size_t out_size, size_t *len);

/* ------------------------------------------------------------------ text */

/* Encodes len bytes of UTF-8 text (not NUL-terminated; invalid bytes become
 * U+FFFD as in llama.cpp) into token ids, exactly as llama.cpp does.
 * add_bos: start with BOS (DSVK_ERROR_INVALID_ARGUMENT for a model without
 * one; dsvk_model_info.add_bos says whether the model wants it).
 * parse_special: control tokens written in the text, such as
 * "<｜User｜>", become their ids; otherwise they are plain text. *n_tokens
 * always receives the number of ids the text needs; when that exceeds
 * capacity the call fails with DSVK_ERROR_BUFFER_TOO_SMALL and `tokens`
 * holds the first `capacity` of them (call with capacity 0 to ask the
 * size). Safe on untrusted text. */
DSVK_API dsvk_status dsvk_tokenize(const dsvk_model *model, const char *text,
                                   size_t len, bool add_bos, bool parse_special,
                                   dsvk_token *tokens, size_t capacity,
                                   size_t *n_tokens);

/* Decodes ids into text (out_size bytes, no NUL added). render_special:
 * control tokens give their text ("<｜end▁of▁sentence｜>"), else nothing.
 * *len always receives the full length; when that exceeds out_size the
 * call fails with DSVK_ERROR_BUFFER_TOO_SMALL and out holds the first
 * out_size bytes. DSVK_ERROR_INVALID_ARGUMENT for an id out of range. Text
 * cut at the end of `tokens` may end inside a UTF-8 character: for text
 * that grows a token at a time use dsvk_text_stream. */
DSVK_API dsvk_status dsvk_detokenize(const dsvk_model *model,
                                     const dsvk_token *tokens, size_t n_tokens,
                                     bool render_special, char *out,
                                     size_t out_size, size_t *len);

/* Whether a token ends generation (EOS, end-of-turn and the like). False
 * for an id out of range. */
DSVK_API bool dsvk_token_is_eog(const dsvk_model *model, dsvk_token token);

/* Streaming detokenizer: turns tokens, one at a time, into text that never
 * splits a UTF-8 character. Bytes that begin a character are held until a
 * later token completes it; bytes that can never become valid UTF-8 pass
 * unchanged. A plain value: zero-initialise it ({0}); one per generated
 * sequence; no destroy. Its fields are private. */
typedef struct dsvk_text_stream {
    char held_[4];
    uint8_t n_held_;
} dsvk_text_stream;

/* Feeds one token; writes the text that is complete to out and its length
 * to *len (may be 0). An out_size of dsvk_model_info.max_piece_bytes + 4
 * is always enough. DSVK_ERROR_INVALID_ARGUMENT for an id out of range,
 * DSVK_ERROR_BUFFER_TOO_SMALL (the stream is unchanged) otherwise. */
DSVK_API dsvk_status dsvk_text_stream_push(dsvk_text_stream *stream,
                                           const dsvk_model *model,
                                           dsvk_token token,
                                           bool render_special, char *out,
                                           size_t out_size, size_t *len);
/* Ends the sequence: writes the held bytes (at most 4, an incomplete
 * character) to out, resets the stream and returns their count. */
DSVK_API size_t dsvk_text_stream_flush(dsvk_text_stream *stream, char out[4]);

/* ------------------------------------------------------------------ chat */

/* The chat formats of DeepSeek models, each exactly as the official
 * template renders it. */
typedef enum dsvk_chat_format {
    DSVK_CHAT_FORMAT_AUTO = 0, /* detect from the model's chat_template */
    /* DeepSeek-V2/V2.5/V2-Lite Chat, DeepSeek-LLM Chat:
     * "User: ...\n\nAssistant: ...<EOS>" */
    DSVK_CHAT_FORMAT_DEEPSEEK2 = 1,
    /* DeepSeek-V3 and R1: "<｜User｜>...<｜Assistant｜>...<EOS>" */
    DSVK_CHAT_FORMAT_DEEPSEEK3 = 2,
} dsvk_chat_format;

/* "deepseek2" / "deepseek3" (and "auto"); NULL / DSVK_ERROR_INVALID_ARGUMENT
 * for anything else. */
DSVK_API const char *dsvk_chat_format_name(dsvk_chat_format format);
DSVK_API dsvk_status dsvk_chat_format_from_name(const char *name,
                                                dsvk_chat_format *out);

typedef enum dsvk_role {
    DSVK_ROLE_SYSTEM = 0,
    DSVK_ROLE_USER = 1,
    DSVK_ROLE_ASSISTANT = 2,
} dsvk_role;

typedef struct dsvk_chat_message {
    dsvk_role role;
    const char *content; /* NUL-terminated UTF-8 */
} dsvk_chat_message;

/* The format `format` resolves to for this model: itself, or for AUTO the
 * one detected from the file's tokenizer.chat_template. There is no
 * fallback for a missing or unknown template (a guessed format makes a
 * model answer badly without saying why): DSVK_ERROR_UNSUPPORTED, and the
 * detail asks the caller to name a format. */
DSVK_API dsvk_status dsvk_chat_resolve_format(const dsvk_model *model,
                                              dsvk_chat_format format,
                                              dsvk_chat_format *out);

/* Renders messages[from..n) as the text the model continues, into out
 * (out_size bytes, NUL-terminated when it fits). from == 0: the whole
 * conversation, starting with the BOS text; from > 0: only what follows the
 * rendering of messages[0..from) — for the next turn of a chat whose
 * earlier messages are already in a session. add_generation_prompt: end
 * with the prompt for the assistant's reply. The text contains special
 * tokens as text: tokenize it with parse_special and without add_bos (or
 * use dsvk_chat_tokenize). *len always receives the length without the
 * NUL; when len + 1 exceeds out_size the call fails with
 * DSVK_ERROR_BUFFER_TOO_SMALL. DSVK_ERROR_INVALID_ARGUMENT for from > n, a
 * role outside the enum, or (deepseek3) a system message after from > 0.
 * Errors of format resolution as dsvk_chat_resolve_format. */
DSVK_API dsvk_status dsvk_chat_apply(const dsvk_model *model,
                                     dsvk_chat_format format,
                                     const dsvk_chat_message *messages,
                                     size_t n, size_t from,
                                     bool add_generation_prompt, char *out,
                                     size_t out_size, size_t *len);

/* The same, tokenized (with parse_special, without another BOS), into
 * `tokens` with the size rules of dsvk_tokenize. */
DSVK_API dsvk_status dsvk_chat_tokenize(const dsvk_model *model,
                                        dsvk_chat_format format,
                                        const dsvk_chat_message *messages,
                                        size_t n, size_t from,
                                        bool add_generation_prompt,
                                        dsvk_token *tokens, size_t capacity,
                                        size_t *n_tokens);

/* Where the reply's content starts in text the model generated after the
 * generation prompt: in deepseek2 after the one space the format puts
 * after "Assistant:", in deepseek3 at 0. Store the reply from there as the
 * assistant message, so that rendering the conversation again gives the
 * text the model has seen. `format` must be resolved (not AUTO); returns 0
 * otherwise. */
DSVK_API size_t dsvk_chat_reply_start(dsvk_chat_format format,
                                      const char *reply, size_t len);

/* --------------------------------------------------------------- session */

/* How the latent cache stores each position's latent c (kv_lora_rank
 * values) and rope key kpe (qk_rope_head_dim values), in every layer. */
typedef enum dsvk_cache_type {
    /* f16, 2 bytes a value: what llama.cpp keeps by default. */
    DSVK_CACHE_F16 = 0,
    /* ggml's q8_0 in blocks of 32 values (int8 quants and an f16 scale,
     * 34 bytes per 32 values): 53 % of f16's bytes, twice the context in
     * the same memory. Needs kv_lora_rank and qk_rope_head_dim to be
     * multiples of 4. On the test models the logits move by an RMS of 0.5
     * to 1.4 % of their standard deviation (bound 2 %,
     * tests/test_forward_cache_type.c); a single position moves more where
     * the change tips a router's near-tie to another expert. */
    DSVK_CACHE_Q8_0 = 1,
} dsvk_cache_type;

/* "f16", "q8_0"; NULL for a value outside the enum. */
DSVK_API const char *dsvk_cache_type_name(dsvk_cache_type type);
/* DSVK_ERROR_INVALID_ARGUMENT for a name that is none of those. */
DSVK_API dsvk_status dsvk_cache_type_from_name(const char *name,
                                               dsvk_cache_type *out);

/* Device memory the latent cache of `type` takes per position, all layers
 * together: a session of n_ctx positions keeps n_ctx times this. 0 when
 * the model's shape cannot be stored as `type`. For a model without
 * weights, of the metadata's shape (0 with DSVK_OPEN_VOCAB). */
DSVK_API uint64_t dsvk_cache_bytes_per_token(const dsvk_model *model,
                                             dsvk_cache_type type);

/* Asked before each GPU step of an evaluation (dsvk_session_eval, and the
 * prompt and every generated token of dsvk_generate), on the thread that
 * evaluates and without the context's lock. Return true to stop: the call
 * returns DSVK_ERROR_CANCELLED, the steps before stay in the cache and
 * dsvk_session_position says how far it got. It is the way to stop a long
 * prefill from another thread: that thread sets a flag (an atomic) which
 * this function reads. It must be quick. */
typedef bool (*dsvk_cancel_fn)(void *user);

/* The experts one MoE layer chose for one token. */
typedef struct dsvk_routing {
    uint32_t layer;          /* counting every layer, dense ones included */
    uint32_t position;       /* of the token in the session */
    uint32_t n_used;         /* dsvk_model_info.n_expert_used */
    const uint32_t *experts; /* [n_used] expert ids, best score first */
    const float *weights;    /* [n_used] mixing weights, as applied */
} dsvk_routing;

/* Called after each GPU step of an evaluation (dsvk_session_eval, and the
 * prompt and every generated token of dsvk_generate), once for every MoE
 * layer and every token of the step: token by token in position order, the
 * layers of a token in order. So each (MoE layer, position) evaluated is
 * reported exactly once, and positions continue from one step and one
 * evaluation to the next (after a rewind they repeat: those tokens are
 * evaluated again). Dense layers are not reported. Runs on the thread that
 * evaluates, in the middle of the evaluation, while the context's lock is
 * held: it must not evaluate on any session of the context, nor wait for
 * another thread that uses it. The pointers are valid during the call
 * only. Expert-usage statistics, to decide which experts to keep in fast
 * memory, are made from these. */
typedef void (*dsvk_routing_fn)(void *user, const dsvk_routing *routing);

/* Options of a session. {0} is valid: the model's n_ctx, 64-token steps, an
 * f16 cache, no timing, no cancelling, no routing reports. */
typedef struct dsvk_session_desc {
    /* Positions the latent cache holds; 0: the model desc's n_ctx. */
    uint32_t n_ctx;
    /* Most tokens evaluated in one GPU step; 0: 64. Longer evaluations run
     * as several steps. It may be lowered to fit the device's buffer
     * limits, and to at most 8192 / n_expert_used tokens (the expert
     * grouping's loop bound): dsvk_session_get_info says what was
     * chosen. */
    uint32_t max_batch;
    /* Time every GPU dispatch (dsvk_session_timings); costs a little. */
    bool timestamps;
    dsvk_cache_type cache_type;
    dsvk_cancel_fn cancel; /* NULL: evaluations are not cancelled */
    void *cancel_user;     /* passed to cancel */
    /* NULL: no routing reports. Set, each step also copies the choices of
     * every MoE layer back from the GPU, one wait per MoE layer; the
     * logits are the same either way. */
    dsvk_routing_fn on_routing;
    void *routing_user; /* passed to on_routing */
} dsvk_session_desc;

typedef struct dsvk_session dsvk_session;

/* Creates a session at position 0 with its own latent cache. desc may be
 * NULL. Errors: DSVK_ERROR_UNSUPPORTED (a model from dsvk_model_open, which
 * is on the host only: load it with dsvk_model_load to evaluate),
 * DSVK_ERROR_INVALID_ARGUMENT (a cache type outside the enum),
 * DSVK_ERROR_UNSUPPORTED (a cache type the model's shape cannot be stored
 * as), DSVK_ERROR_OUT_OF_DEVICE_MEMORY (needed vs available),
 * DSVK_ERROR_UNSUPPORTED (one layer's cache for n_ctx positions exceeds a
 * storage buffer), DSVK_ERROR_OUT_OF_HOST_MEMORY, DSVK_ERROR_VULKAN; then
 * *out is NULL and dsvk_model_error(model) has the detail. */
DSVK_API dsvk_status dsvk_session_create(const dsvk_model *model,
                                         const dsvk_session_desc *desc,
                                         dsvk_session **out);
DSVK_API void dsvk_session_destroy(dsvk_session *session); /* accepts NULL */

/* The detail of the last failed call on this session; "" when none. Owned
 * by the session. */
DSVK_API const char *dsvk_session_error(const dsvk_session *session);

typedef struct dsvk_session_info {
    uint32_t n_ctx;
    uint32_t max_batch;
    uint32_t position;    /* tokens in the cache */
    uint64_t cache_bytes; /* device memory of the latent cache */
    dsvk_cache_type cache_type;
    bool timestamps; /* requested and supported by the device */
} dsvk_session_info;

/* Fills *out. Cannot fail. */
DSVK_API void dsvk_session_get_info(const dsvk_session *session,
                                    dsvk_session_info *out);

/* Which logits an evaluation returns. */
typedef enum dsvk_logits {
    DSVK_LOGITS_NONE = 0, /* none: the tokens only fill the cache */
    DSVK_LOGITS_LAST = 1, /* n_vocab floats: the distribution of the token
                             after the last one */
    DSVK_LOGITS_ALL = 2,  /* n_tokens * n_vocab floats: after each token */
} dsvk_logits;

/* Evaluates n_tokens tokens at the session's position and advances it.
 * logits (capacity in floats) receives what `which` asks for; it may be
 * NULL with DSVK_LOGITS_NONE. Fails without evaluating anything with
 * DSVK_ERROR_INVALID_ARGUMENT (an id outside the vocabulary, n_tokens 0
 * with DSVK_LOGITS_LAST), DSVK_ERROR_BUFFER_TOO_SMALL (capacity less than
 * `which` needs) or DSVK_ERROR_CONTEXT_FULL (position + n_tokens > n_ctx).
 * When a device error stops it midway, the steps before stay evaluated:
 * dsvk_session_position() says how far it got. Safe on untrusted ids. */
DSVK_API dsvk_status dsvk_session_eval(dsvk_session *session,
                                       const dsvk_token *tokens,
                                       uint32_t n_tokens, dsvk_logits which,
                                       float *logits, size_t capacity);

/* Tokens in the cache: the position the next evaluation starts at. */
DSVK_API uint32_t dsvk_session_position(const dsvk_session *session);

/* Moves the position back to `position` (<= the current one): the cache
 * keeps tokens [0, position) and later evaluations overwrite the rest.
 * Costs nothing; for regenerating a reply or editing a chat. Position 0
 * empties the session.
 * DSVK_ERROR_INVALID_ARGUMENT when position is past the current one. */
DSVK_API dsvk_status dsvk_session_rewind(dsvk_session *session,
                                         uint32_t position);

/* One GPU dispatch of the last step. */
typedef struct dsvk_op_timing {
    const char *op; /* a static string naming the shader, e.g. "matvec" */
    double microseconds;
} dsvk_op_timing;

/* The dispatches of the session's last GPU step, in recording order, each
 * timed from the end of the earlier work to its own end (so they add up to
 * the step's GPU time). Empty unless desc.timestamps was set and the
 * device supports timestamps. Fills up to `capacity` entries and sets
 * *count to the number available. Cannot fail. */
DSVK_API void dsvk_session_timings(const dsvk_session *session,
                                   dsvk_op_timing *out, uint32_t capacity,
                                   uint32_t *count);

/* --------------------------------------------------------------- sampler */

/* How the next token is chosen; mirrors llama.cpp's samplers. Applied in
 * this order: penalties, then greedy choice when temperature <= 0, else
 * top-k, softmax at the temperature, top-p, min-p and a seeded draw.
 * {0} is valid: greedy choice without penalties (deterministic).
 * dsvk_sampler_defaults() gives llama.cpp's sampling defaults. */
typedef struct dsvk_sampler_settings {
    float temperature; /* <= 0: greedy (argmax after the penalties) */
    uint32_t top_k;    /* keep the k most likely tokens; 0: off */
    float top_p;       /* keep the most likely tokens whose probability
                          reaches top_p, in (0, 1]; 0 or 1: off */
    float min_p;       /* drop tokens less likely than min_p times the most
                          likely one, in [0, 1]; 0: off */
    /* llama.cpp's repeat penalty: the logit l of a token seen in the last
     * repeat_last_n tokens becomes l / penalty when l > 0, else
     * l * penalty. 0 or 1: off. */
    float repeat_penalty;
    float presence_penalty; /* subtracted once from the logit of every token
                               seen in the window; 0: off */
    /* Subtracted from the logit of a token once for each time it occurs in
     * the window (OpenAI's frequency_penalty, applied as llama.cpp does);
     * 0: off. */
    float frequency_penalty;
    uint32_t repeat_last_n; /* window of the penalties; 0: no penalties */
    uint64_t seed;          /* of the random draws (xoshiro256**); the
                               library never picks one by itself */
} dsvk_sampler_settings;

/* llama.cpp's defaults: temperature 0.8, top-k 40, top-p 0.95, min-p 0.05,
 * a 64-token window with the penalties off, seed 0. */
DSVK_API dsvk_sampler_settings dsvk_sampler_defaults(void);

typedef struct dsvk_sampler dsvk_sampler;

/* Creates a sampler for one generated sequence (settings may be NULL: {0}).
 * DSVK_ERROR_INVALID_ARGUMENT for values out of range or NaN, then *out is
 * NULL and err, when not NULL, names the field. */
DSVK_API dsvk_status dsvk_sampler_create(const dsvk_sampler_settings *settings,
                                         dsvk_sampler **out, char *err,
                                         size_t err_size);
DSVK_API void dsvk_sampler_destroy(dsvk_sampler *sampler); /* accepts NULL */

/* The detail of the last failed call on this sampler; "" when none. */
DSVK_API const char *dsvk_sampler_error(const dsvk_sampler *sampler);

/* Records a token in the penalty window without sampling (prompt tokens,
 * or tokens chosen elsewhere). dsvk_generate does this itself. */
DSVK_API void dsvk_sampler_accept(dsvk_sampler *sampler, dsvk_token token);

/* Draws a token from n_vocab logits and records it in the penalty window.
 * NaN logits are never drawn. DSVK_ERROR_INVALID_ARGUMENT when n_vocab is
 * 0 or no logit is above -inf. */
DSVK_API dsvk_status dsvk_sampler_sample(dsvk_sampler *sampler,
                                         const float *logits, uint32_t n_vocab,
                                         dsvk_token *token);

/* ------------------------------------------------------------ generation */

/* Called for each generated token with the text it completes: UTF-8-safe
 * (never part of a character; may be empty while a character is being
 * completed), not NUL-terminated, valid during the call only. Control
 * tokens give their text only with render_special. Return true to go on,
 * false to stop after this token. The token that ends generation (EOS) is
 * not passed. When generation ends with bytes held that never became a
 * character, they are passed once more with token DSVK_TOKEN_NONE (the
 * return value is then ignored). */
typedef bool (*dsvk_token_fn)(void *user, dsvk_token token, const char *text,
                              size_t len);

/* Options of a generation. {0} is valid: greedy choice on the GPU, until an
 * end-of-generation token or a full context, text without control tokens,
 * no callback. */
typedef struct dsvk_generate_desc {
    /* Chooses the tokens, and gets every prompt token through
     * dsvk_sampler_accept (its penalty window spans prompt and reply).
     * NULL: greedy argmax taken on the GPU, which copies no logits. */
    dsvk_sampler *sampler;
    uint32_t max_tokens;    /* most tokens generated; 0: no limit */
    bool ignore_eog;        /* keep going after end-of-generation tokens */
    bool render_special;    /* control tokens' text reaches on_token */
    dsvk_token_fn on_token; /* NULL: none (read the result) */
    void *user;             /* passed to on_token */
} dsvk_generate_desc;

/* Why a generation ended. */
typedef enum dsvk_stop {
    DSVK_STOP_EOG = 1,          /* the model generated an end token */
    DSVK_STOP_MAX_TOKENS = 2,   /* desc.max_tokens reached */
    DSVK_STOP_CALLBACK = 3,     /* on_token returned false */
    DSVK_STOP_CONTEXT_FULL = 4, /* the session's context is full */
} dsvk_stop;

typedef struct dsvk_generate_result {
    dsvk_stop stop;
    uint32_t n_prompt;    /* prompt tokens evaluated */
    uint32_t n_generated; /* tokens chosen, the last (`pending`) included */
    /* The last token chosen (the EOS, with DSVK_STOP_EOG): it is NOT in the
     * cache yet. To continue the sequence exactly, pass it first in the
     * next prompt; a chat does so with the EOS, which its format expects
     * before the next turn. DSVK_TOKEN_NONE when nothing was generated. */
    dsvk_token pending;
    double prompt_seconds;   /* wall time of the prompt's evaluation */
    double generate_seconds; /* wall time of choosing and evaluating the
                                generated tokens */
} dsvk_generate_result;

/* Evaluates the prompt at the session's position, then generates: chooses
 * a token from the last logits, passes it to on_token, evaluates it, and
 * so on, until a stop condition (dsvk_stop). The prompt must hold at least
 * one token. Returns DSVK_OK for every stop condition; result (may be
 * NULL) says which and how fast. Errors: those of dsvk_session_eval for the
 * prompt (DSVK_ERROR_CONTEXT_FULL when it does not fit, before anything is
 * evaluated), of sampling, and device errors; result then says how far it
 * got. Tokens chosen are written to nothing but on_token and the result:
 * collect them in the callback when needed. */
DSVK_API dsvk_status dsvk_generate(dsvk_session *session,
                                   const dsvk_token *prompt, uint32_t n_prompt,
                                   const dsvk_generate_desc *desc,
                                   dsvk_generate_result *result);

#ifdef __cplusplus
}
#endif
#endif

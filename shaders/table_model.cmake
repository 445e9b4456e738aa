# The DeepSeek-specific ops (host/forward/ops_mla.c, host/forward/ops_moe.c). The indexed
# products read weights: one module per weight type, and for the matvec one
# with subgroup arithmetic and one with the shared-memory fallback
# (reduce.glsl), like the generic matvec. Head- or expert-indexing and the
# SwiGLU gate are push constants, not variants.
foreach(type IN LISTS DSVK_WEIGHT_TYPES)
  string(TOUPPER ${type} TYPE)
  list(APPEND DSVK_SHADER_TABLE
    "moe_indexed_matvec_${type} moe_indexed_matvec.comp WEIGHT_TYPE=DSVK_TYPE_${TYPE}"
    "moe_indexed_matvec_${type}_subgroup moe_indexed_matvec.comp WEIGHT_TYPE=DSVK_TYPE_${TYPE} SUBGROUP_ARITHMETIC=1"
    "moe_indexed_matvec_${type}_cpu moe_indexed_matvec.comp WEIGHT_TYPE=DSVK_TYPE_${TYPE} CPU_KERNELS=1"
    "moe_indexed_matvec_${type}_cpu_ubo moe_indexed_matvec.comp WEIGHT_TYPE=DSVK_TYPE_${TYPE} CPU_KERNELS=1 X_UNIFORM=1"
    "moe_indexed_matmul_${type} moe_indexed_matmul.comp WEIGHT_TYPE=DSVK_TYPE_${TYPE}")
endforeach()

foreach(type IN LISTS DSVK_WIDE_WEIGHT_TYPES)
  string(TOUPPER ${type} TYPE)
  list(APPEND DSVK_SHADER_TABLE
    "moe_indexed_matvec_${type}_cpu_wide moe_indexed_matvec.comp WEIGHT_TYPE=DSVK_TYPE_${TYPE} CPU_KERNELS=1 WIDE_ROWS=1"
    "moe_indexed_matvec_${type}_cpu_wide_ubo moe_indexed_matvec.comp WEIGHT_TYPE=DSVK_TYPE_${TYPE} CPU_KERNELS=1 WIDE_ROWS=1 X_UNIFORM=1")
endforeach()

list(APPEND DSVK_SHADER_TABLE
  "mla_prepare mla_prepare.comp"
  "mla_prepare_subgroup mla_prepare.comp SUBGROUP_ARITHMETIC=1"
  "mla_attention mla_attention.comp"
  "moe_route moe_route.comp"
  "moe_group moe_group.comp"
  "moe_combine moe_combine.comp"
  "moe_gather moe_gather.comp"
)

# The generic ops (runtime/op_*.c). Weight-reading shaders get one module
# per weight type (WEIGHT_TYPE, see weights.glsl); reducing shaders one with
# subgroup arithmetic and one with the shared-memory fallback (reduce.glsl).
# A weight type gains matvec/matmul/gather support by a decoder in
# weights.glsl, its name in DSVK_WEIGHT_TYPES (shaders.cmake) and its entry
# in runtime/op_launch.c.
foreach(type IN LISTS DSVK_WEIGHT_TYPES)
  string(TOUPPER ${type} TYPE)
  list(APPEND DSVK_SHADER_TABLE
    "matvec_${type} matvec.comp WEIGHT_TYPE=DSVK_TYPE_${TYPE}"
    "matvec_${type}_subgroup matvec.comp WEIGHT_TYPE=DSVK_TYPE_${TYPE} SUBGROUP_ARITHMETIC=1"
    "matvec_${type}_cpu matvec.comp WEIGHT_TYPE=DSVK_TYPE_${TYPE} CPU_KERNELS=1"
    "matvec_${type}_cpu_ubo matvec.comp WEIGHT_TYPE=DSVK_TYPE_${TYPE} CPU_KERNELS=1 X_UNIFORM=1"
    "matmul_${type} matmul.comp WEIGHT_TYPE=DSVK_TYPE_${TYPE}"
    "gather_rows_${type} gather_rows.comp WEIGHT_TYPE=DSVK_TYPE_${TYPE}")
endforeach()

foreach(type IN LISTS DSVK_WIDE_WEIGHT_TYPES)
  string(TOUPPER ${type} TYPE)
  list(APPEND DSVK_SHADER_TABLE
    "matvec_${type}_cpu_wide matvec.comp WEIGHT_TYPE=DSVK_TYPE_${TYPE} CPU_KERNELS=1 WIDE_ROWS=1"
    "matvec_${type}_cpu_wide_ubo matvec.comp WEIGHT_TYPE=DSVK_TYPE_${TYPE} CPU_KERNELS=1 WIDE_ROWS=1 X_UNIFORM=1")
endforeach()

foreach(op rms_norm softmax argmax)
  list(APPEND DSVK_SHADER_TABLE
    "${op} ${op}.comp"
    "${op}_subgroup ${op}.comp SUBGROUP_ARITHMETIC=1")
endforeach()

list(APPEND DSVK_SHADER_TABLE
  "rope rope.comp"
)

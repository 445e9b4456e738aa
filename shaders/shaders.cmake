# The shader table: one entry per embedded SPIR-V module,
#   "<name> <source .comp> [defines...]"
# Type variants are -D defines on the same source; tunables are
# specialization constants, not variants. Each op family lists its entries
# in its own shaders/table_<family>.cmake (list(APPEND DSVK_SHADER_TABLE ...)).
set(DSVK_SHADER_TABLE)
# Every weight type weights.glsl decodes: each weight-reading shader gets
# one module per type, and the tables iterate this one list.
set(DSVK_WEIGHT_TYPES f32 f16 bf16 q8_0 q4_0 q4_1 q5_0 q5_1 q4_k q5_k q6_k)
# The types with a decode in 16-byte reads (weight_dot_wide): their
# CPU-class matrix-vector products get a _cpu_wide module too, used where
# rows and x are 16-byte aligned (runtime/op_launch.c; op_weight_type.wide_cols in runtime/weight_layout.c).
set(DSVK_WIDE_WEIGHT_TYPES f32 f16 bf16 q8_0 q4_k q5_k q6_k)
file(GLOB DSVK_SHADER_TABLE_FILES CONFIGURE_DEPENDS
     ${CMAKE_CURRENT_SOURCE_DIR}/shaders/table_*.cmake)
foreach(table IN LISTS DSVK_SHADER_TABLE_FILES)
  include(${table})
endforeach()

set(DSVK_SHADER_DIR ${CMAKE_CURRENT_SOURCE_DIR}/shaders)
set(DSVK_SHADER_OUT ${CMAKE_CURRENT_BINARY_DIR}/shaders)
file(MAKE_DIRECTORY ${DSVK_SHADER_OUT})
file(GLOB DSVK_SHADER_INCLUDES CONFIGURE_DEPENDS ${DSVK_SHADER_DIR}/*.glsl
     ${DSVK_SHADER_DIR}/*.h)

set(DSVK_SHADER_HEADERS)
set(DSVK_SHADER_REGISTRY_INCLUDES "")
set(DSVK_SHADER_REGISTRY_ENTRIES "")
foreach(entry IN LISTS DSVK_SHADER_TABLE)
  string(REPLACE " " ";" fields "${entry}")
  list(POP_FRONT fields name source)
  set(defines)
  foreach(d IN LISTS fields)
    list(APPEND defines "-D${d}")
  endforeach()
  set(header ${DSVK_SHADER_OUT}/spv_${name}.h)
  add_custom_command(
    OUTPUT ${header}
    COMMAND Vulkan::glslangValidator --target-env vulkan1.2 -V
            -I${DSVK_SHADER_DIR} ${defines} --vn dsvk_spv_${name}
            -o ${header} ${DSVK_SHADER_DIR}/${source}
    DEPENDS ${DSVK_SHADER_DIR}/${source} ${DSVK_SHADER_INCLUDES}
    COMMENT "GLSL -> SPIR-V ${name}"
    VERBATIM)
  list(APPEND DSVK_SHADER_HEADERS ${header})
  string(APPEND DSVK_SHADER_REGISTRY_INCLUDES "#include \"spv_${name}.h\"\n")
  string(APPEND DSVK_SHADER_REGISTRY_ENTRIES
         "    {\"${name}\", dsvk_spv_${name}, sizeof dsvk_spv_${name}},\n")
endforeach()

configure_file(${DSVK_SHADER_DIR}/registry.c.in
               ${DSVK_SHADER_OUT}/shader_registry.c @ONLY)
add_custom_target(dsvk_shaders DEPENDS ${DSVK_SHADER_HEADERS})
set(DSVK_SHADER_SOURCES ${DSVK_SHADER_OUT}/shader_registry.c)

# The DeepSeek-specific GPU ops (host/forward/ops_mla.c, host/forward/ops_moe.c) against
# their C references (tests/ref/ref_model_ops.c). They reuse the generic op
# tests' fixture (tests/ops.cmake: device, buffers, weights of every type).
add_library(dsvk_model_ops_ref STATIC ${DSVK_TEST_DIR}/ref/ref_model_ops.c)
target_link_libraries(dsvk_model_ops_ref PUBLIC dsvk_testlib)

foreach(suite mla route experts)
  dsvk_add_gpu_test(test_model_ops_${suite}
                    ${DSVK_TEST_DIR}/test_model_ops_${suite}.c)
  target_link_libraries(test_model_ops_${suite} PRIVATE dsvk_model_ops_ref
                        dsvk_ops_test_support)
endforeach()

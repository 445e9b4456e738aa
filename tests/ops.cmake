# The generic GPU ops (runtime/op_*.c) against their C references
# (tests/ref/ref_ops.c).
add_library(dsvk_ops_test_support STATIC
            ${DSVK_TEST_DIR}/test_ops_fixture.c ${DSVK_TEST_DIR}/ref/ref_ops.c)
target_link_libraries(dsvk_ops_test_support PUBLIC dsvk_testlib)

foreach(suite products norm_after rows)
  dsvk_add_gpu_test(test_ops_${suite} ${DSVK_TEST_DIR}/test_ops_${suite}.c)
  target_link_libraries(test_ops_${suite} PRIVATE dsvk_ops_test_support)
endforeach()

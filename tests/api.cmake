# The public embedding API (include/dsvk.h, host/api/*.c): sessions on a
# shared model, generation, chat, errors and device faults, and the example
# program tools/examples/generate.c. The tests use only <dsvk.h> (plus the
# test helpers), as an application would, except the oracles of
# test_api_routing and test_api_inspect.
add_library(dsvk_api_test_support STATIC ${DSVK_TEST_DIR}/test_api_support.c)
target_link_libraries(dsvk_api_test_support PUBLIC dsvk_testlib)

foreach(suite session generate errors cancel devices)
  dsvk_add_gpu_test(test_api_${suite} ${DSVK_TEST_DIR}/test_api_${suite}.c)
  target_link_libraries(test_api_${suite} PRIVATE dsvk_api_test_support)
endforeach()

# The routing reports against the CPU reference's routes: that oracle is
# internal (dsvk_add_gpu_test links dsvk_testlib, which brings it).
dsvk_add_gpu_test(test_api_routing ${DSVK_TEST_DIR}/test_api_routing.c)
target_link_libraries(test_api_routing PRIVATE dsvk_api_test_support)

# dsvk_model_open against dsvk_model_load, and against host/gguf's and
# host/text's own reading of the same files (the internal oracle). What
# needs no device runs as a host test too, which tools/test.sh repeats
# under ASan+UBSan.
dsvk_add_gpu_test(test_api_inspect ${DSVK_TEST_DIR}/test_api_inspect.c)
target_link_libraries(test_api_inspect PRIVATE dsvk_api_test_support)
add_test(NAME test_api_inspect.host COMMAND test_api_inspect --host-only)
set_tests_properties(test_api_inspect.host PROPERTIES
  ENVIRONMENT "DSVK_FIXTURES=${DSVK_FIXTURES}" LABELS host)

# The example program, built as an application would build it (only
# <dsvk.h>), run on a generated model: the reply streams and the speed line
# appears. Generated models have no chat template, so the format is named.
add_executable(example_generate ${CMAKE_SOURCE_DIR}/tools/examples/generate.c)
target_link_libraries(example_generate PRIVATE dsvk_api)
if(TARGET gen-model)
  add_test(NAME example_generate
           COMMAND sh -c "mkdir -p \"$1\" && \"$2\" --preset tiny -o \"$1/tiny.gguf\" && \"$3\" \"$1/tiny.gguf\" 'Hello there' 12 deepseek3"
                   sh ${CMAKE_CURRENT_BINARY_DIR}/api_models
                   $<TARGET_FILE:gen-model> $<TARGET_FILE:example_generate>)
  set_tests_properties(example_generate PROPERTIES LABELS gpu
    PASS_REGULAR_EXPRESSION
    "[0-9]+ prompt tokens at [0-9.]+ tokens/s, [0-9]+ generated at [0-9.]+ tokens/s")
endif()

# The GPU forward pass (host/forward/*.c, host/model/weights_gpu.c) and
# `dsvk logits`: against the CPU reference on generated models (and
# ref-logits), against llama.cpp on the model fixtures, and the CLI's
# behaviour.
add_library(dsvk_forward_test_support STATIC
            ${DSVK_TEST_DIR}/test_forward_support.c)
target_link_libraries(dsvk_forward_test_support PUBLIC dsvk_testlib)

foreach(suite session fixtures cache_type)
  dsvk_add_gpu_test(test_forward_${suite}
                    ${DSVK_TEST_DIR}/test_forward_${suite}.c)
  target_link_libraries(test_forward_${suite} PRIVATE
                        dsvk_forward_test_support)
endforeach()

# Models are written by gen-model when the test runs, into the build tree.
if(TARGET gen-model)
  dsvk_add_gpu_test(test_forward_generated
                    ${DSVK_TEST_DIR}/test_forward_generated.c)
  target_link_libraries(test_forward_generated PRIVATE
                        dsvk_forward_test_support)
  target_compile_definitions(test_forward_generated PRIVATE
    DSVK_GEN_MODEL="$<TARGET_FILE:gen-model>"
    DSVK_FORWARD_MODELS="${CMAKE_CURRENT_BINARY_DIR}/forward_models")
  add_dependencies(test_forward_generated gen-model)
endif()

# dsvk logits as a user runs it, with the developer tool ref-logits as its
# oracle, under both profiles with validation on.
add_executable(test_forward_cli ${DSVK_TEST_DIR}/test_forward_cli.c)
target_link_libraries(test_forward_cli PRIVATE dsvk_forward_test_support)
add_dependencies(test_forward_cli dsvk ref-logits)
foreach(profile none baseline)
  add_test(NAME test_forward_cli.${profile}
           COMMAND test_forward_cli $<TARGET_FILE:dsvk> $<TARGET_FILE:ref-logits>
                   ${CMAKE_CURRENT_BINARY_DIR}/forward_cli_${profile})
  set_tests_properties(test_forward_cli.${profile} PROPERTIES
    ENVIRONMENT "DSVK_FIXTURES=${DSVK_FIXTURES};DSVK_EMULATE=${profile};DSVK_VALIDATION=1")
endforeach()

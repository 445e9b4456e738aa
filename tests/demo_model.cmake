# The trained demo model (assets/demo-kjv.gguf, written by
# tools/train-demo/train.py; issue #7) checked independently: the GPU
# forward pass against the PyTorch logits and greedy continuation the
# training tool exported with it, and `dsvk run` without -m picking it up.
# Both tests are registered whether or not the model is there yet, and fail
# when it is missing: the demo model is part of the repository.
set(DSVK_DEMO_DIR ${CMAKE_SOURCE_DIR}/assets)

dsvk_add_gpu_test(test_demo_model ${DSVK_TEST_DIR}/test_demo_model.c)
target_link_libraries(test_demo_model PRIVATE dsvk_forward_test_support)
foreach(test IN LISTS test_demo_model_TESTS)
  set_property(TEST ${test} APPEND PROPERTY
               ENVIRONMENT "DSVK_DEMO_DIR=${DSVK_DEMO_DIR}")
endforeach()

# dsvk run without -m, as a user first runs it from the build tree
# (tools/cli/demo_model.c): it must find assets/demo-kjv.gguf, say so on
# stderr and generate.
foreach(profile none baseline)
  add_test(NAME cli_run_demo_trained.${profile}
           COMMAND ${CMAKE_COMMAND} "-DCMD=$<TARGET_FILE:dsvk>|run|-n|16|--seed|1"
           "-DSTDERR=^dsvk: no -m given: using the demo model, a small model trained on the King James Bible \\([^\n]*/demo-kjv\\.gguf\\)\n.*generated [0-9]+ tokens"
           -P ${DSVK_TEST_DIR}/cli/expect.cmake)
  set_tests_properties(cli_run_demo_trained.${profile} PROPERTIES
    ENVIRONMENT "DSVK_EMULATE=${profile};DSVK_VALIDATION=1" LABELS gpu)
endforeach()

# A dsvk that cannot find the demo model says so and stops.
add_test(NAME cli_run_demo_missing
         COMMAND ${CMAKE_COMMAND} -DDSVK=$<TARGET_FILE:dsvk>
                 -DWORK=${CMAKE_CURRENT_BINARY_DIR}/demo_missing
                 -P ${DSVK_TEST_DIR}/cli/demo_missing.cmake)
set_tests_properties(cli_run_demo_missing PROPERTIES LABELS host)

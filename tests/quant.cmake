# Quantized weights end to end (issue #5): the GPU forward pass against the
# CPU reference on Q4_0, Q4_K_M and Q6_K models gen-model writes at test
# time. (The quantizers' own test is in gen_model.cmake, the decoders' in
# the op tests, llama.cpp's quantized fixtures in forward.cmake.)
if(TARGET gen-model)
  dsvk_add_gpu_test(test_quant_forward
                    ${DSVK_TEST_DIR}/test_quant_forward.c)
  target_link_libraries(test_quant_forward PRIVATE dsvk_forward_test_support)
  target_compile_definitions(test_quant_forward PRIVATE
    DSVK_GEN_MODEL="$<TARGET_FILE:gen-model>"
    DSVK_QUANT_MODELS="${CMAKE_CURRENT_BINARY_DIR}/quant_models")
  add_dependencies(test_quant_forward gen-model)
endif()

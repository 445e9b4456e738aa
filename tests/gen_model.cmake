# tools/gen-model: generates small models at test time (both layouts, every
# type it writes, V2- and V3-like) and reads them back with the GGUF reader.
if(TARGET gen-model)
  add_executable(test_gguf_gen_model
                 ${CMAKE_CURRENT_LIST_DIR}/test_gguf_gen_model.c)
  target_link_libraries(test_gguf_gen_model PRIVATE dsvk_testlib)
  add_test(NAME test_gguf_gen_model
           COMMAND test_gguf_gen_model $<TARGET_FILE:gen-model>
                   ${CMAKE_CURRENT_BINARY_DIR}/gen_model_out)
  set_tests_properties(test_gguf_gen_model PROPERTIES
    ENVIRONMENT "DSVK_FIXTURES=${DSVK_FIXTURES}")
endif()

# gen-model's quantizers, compiled in directly: round trip through
# host/model/dequant.c within stated bounds, and llama.cpp's bytes reproduced.
dsvk_add_host_test(test_quant_encode
                   ${CMAKE_CURRENT_LIST_DIR}/test_quant_encode.c
                   ${PROJECT_SOURCE_DIR}/tools/gen-model/encode.c
                   ${PROJECT_SOURCE_DIR}/tools/gen-model/encode_kquants.c)
target_include_directories(test_quant_encode PRIVATE
                           ${PROJECT_SOURCE_DIR}/tools/gen-model)

# GGUF reader: fixtures, hostile input, f16/bf16 conversions.
dsvk_add_host_test(test_gguf ${CMAKE_CURRENT_LIST_DIR}/test_gguf.c)
dsvk_add_host_test(test_gguf_corrupt ${CMAKE_CURRENT_LIST_DIR}/test_gguf_corrupt.c)
dsvk_add_host_test(test_gguf_half ${CMAKE_CURRENT_LIST_DIR}/test_gguf_half.c)

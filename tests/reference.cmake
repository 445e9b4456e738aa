# Model loader, CPU dequantization and the CPU reference forward pass.
dsvk_add_host_test(test_dequant ${CMAKE_CURRENT_LIST_DIR}/test_dequant.c)
dsvk_add_host_test(test_reference_model
                   ${CMAKE_CURRENT_LIST_DIR}/test_reference_model.c)
dsvk_add_host_test(test_reference ${CMAKE_CURRENT_LIST_DIR}/test_reference.c)

# The Vulkan runtime: device and capabilities, memory, pipelines, recorder.
dsvk_add_gpu_test(test_runtime_dispatch ${DSVK_TEST_DIR}/test_runtime_dispatch.c)
dsvk_add_gpu_test(test_runtime_memory ${DSVK_TEST_DIR}/test_runtime_memory.c)
dsvk_add_gpu_test(test_runtime_device ${DSVK_TEST_DIR}/test_runtime_device.c)
dsvk_add_gpu_test(test_runtime_pipeline_cache
                  ${DSVK_TEST_DIR}/test_runtime_pipeline_cache.c)

# Fuzz targets (tools/fuzz), one per kind of untrusted input. In the clang
# DSVK_FUZZ build they are libFuzzer programs, which tools/test.sh runs for
# a bounded time. In every other build the same sources are linked with
# tools/fuzz/replay.c into programs that run tests/fuzz-corpus/<target>
# once: each seed and each saved finding stays a host test, under ASan and
# UBSan in the sanitizer build.
# fuzz_model_open starts from fuzz_gguf's seeds (tools/test.sh too).
set(DSVK_FUZZ_SEEDS_model_open gguf)
foreach(target gguf model_open tokenizer chat serve_request)
  set(seeds ${target})
  if(DEFINED DSVK_FUZZ_SEEDS_${target})
    set(seeds ${DSVK_FUZZ_SEEDS_${target}})
  endif()
  set(exe fuzz_${target})
  if(DSVK_FUZZ)
    add_executable(${exe} ${CMAKE_SOURCE_DIR}/tools/fuzz/${exe}.c)
    target_link_options(${exe} PRIVATE -fsanitize=fuzzer)
  else()
    add_executable(${exe} ${CMAKE_SOURCE_DIR}/tools/fuzz/${exe}.c
                   ${CMAKE_SOURCE_DIR}/tools/fuzz/replay.c)
    add_test(NAME ${exe}_corpus
             COMMAND ${exe} ${DSVK_TEST_DIR}/fuzz-corpus/${seeds})
    set_tests_properties(${exe}_corpus PROPERTIES LABELS host)
  endif()
  target_link_libraries(${exe} PRIVATE dsvk_static)
endforeach()
# The request parser and the rest of dsvk serve's text layer.
target_link_libraries(fuzz_serve_request PRIVATE dsvk_serve_text)
# Loaded once per process; the real vocabulary has the real special tokens.
target_compile_definitions(fuzz_tokenizer PRIVATE
  DSVK_FUZZ_VOCAB="${DSVK_FIXTURES}/tokenizer/ggml-vocab-deepseek-v3.gguf")

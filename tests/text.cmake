# Text around the model: the sampler, the DeepSeek chat formats, and the
# `dsvk info` command.
dsvk_add_host_test(test_sampler ${CMAKE_CURRENT_LIST_DIR}/test_sampler.c)
dsvk_add_host_test(test_chat ${CMAKE_CURRENT_LIST_DIR}/test_chat.c)

# tiny-v2: 265248 parameters (its .gguf.json), 191520 active per token
# (2 of 8 experts of width 32 in 2 MoE layers of d = 64: 265248 - 2*6*3*64*32),
# latent cache 3 layers * (32 + 8) * 2 bytes = 240, multi-head
# 3 * 4 * (24 + 16) * 2 = 960.
add_test(NAME cli_info
         COMMAND dsvk info -m ${DSVK_FIXTURES}/models/tiny-v2.gguf)
set_tests_properties(cli_info PROPERTIES PASS_REGULAR_EXPRESSION
  "parameters +265248 [^\n]*\n +active per token +191520 .*F32 +44 tensors.*latent \\(MLA\\) +240 bytes per token.*multi-head equivalent +960 bytes.*4\\.0x smaller.*pre-tokenizer +deepseek-v3")
# Vocab-only V3: hyperparameters and tokenizer, no weights.
add_test(NAME cli_info_vocab_only
         COMMAND dsvk info -m ${DSVK_FIXTURES}/tokenizer/ggml-vocab-deepseek-v3.gguf)
set_tests_properties(cli_info_vocab_only PROPERTIES PASS_REGULAR_EXPRESSION
  "layers +61 \\(3 dense, 58 MoE\\).*kv_lora_rank +512.*routed experts +256, 8 used.*factor +40.*none: a vocab-only file.*129280 tokens.*chat format +deepseek3")
# Errors: one line, exit code 1.
add_test(NAME cli_info_bad_file
         COMMAND dsvk info -m ${DSVK_FIXTURES}/models/README.md)
set_tests_properties(cli_info_bad_file PROPERTIES
                     PASS_REGULAR_EXPRESSION "^dsvk: [^\n]*README.md[^\n]*\n$")
add_test(NAME cli_info_bad_file_status
         COMMAND dsvk info -m ${DSVK_FIXTURES}/models/README.md)
set_tests_properties(cli_info_bad_file_status PROPERTIES WILL_FAIL TRUE)
add_test(NAME cli_info_help COMMAND dsvk info --help)
set_tests_properties(cli_info_help PROPERTIES
                     PASS_REGULAR_EXPRESSION "^usage: dsvk info -m MODEL")

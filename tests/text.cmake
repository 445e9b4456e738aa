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
# --tensors: after the report, every tensor in file order with its type,
# shape (row length first) and bytes: tiny-v2's embedding is 512 rows of
# 64 F32 values, 131072 bytes.
add_test(NAME cli_info_tensors
         COMMAND dsvk info -m ${DSVK_FIXTURES}/models/tiny-v2.gguf --tensors)
set_tests_properties(cli_info_tensors PROPERTIES PASS_REGULAR_EXPRESSION
  "chat format [^\n]*\n\ntensors \\(44: [^\n]*\n  token_embd\\.weight +F32 +\\[64, 512\\] +131072 bytes\n  blk\\.0\\.attn_norm\\.weight +F32 +\\[64\\] +256 bytes\n.*  blk\\.0\\.attn_k_b\\.weight +F32 +\\[16, 32, 4\\] +8192 bytes\n.*  output\\.weight +F32 +\\[64, 512\\] +131072 bytes\n$")
# --metadata: every key with its value as text (string, integer, float,
# bool, array); the V3 vocabulary's chat template is cut at 80 bytes.
add_test(NAME cli_info_metadata
         COMMAND dsvk info -m ${DSVK_FIXTURES}/tokenizer/ggml-vocab-deepseek-v3.gguf --metadata)
set_tests_properties(cli_info_metadata PROPERTIES PASS_REGULAR_EXPRESSION
  "\n\nmetadata \\(48 keys\\)\n  general\\.architecture = deepseek2\n.*  deepseek2\\.block_count = 61\n.*  deepseek2\\.attention\\.layer_norm_rms_epsilon = 1e-06\n.*  deepseek2\\.expert_weights_norm = true\n.*  tokenizer\\.ggml\\.tokens = \\[129280 string\\]\n.*  tokenizer\\.chat_template = \\{% if not add_generation_prompt is defined %\\}[^\n]*\\.\\.\\.\n$")
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

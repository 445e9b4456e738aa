# Tokenizer: exact ids against independent implementations, the BPE and
# special-token rules on synthetic vocabularies, hostile text and streaming
# decode, and the `dsvk tokenize` command.
dsvk_add_host_test(test_tokenizer_vectors
                   ${CMAKE_CURRENT_LIST_DIR}/test_tokenizer_vectors.c)
dsvk_add_host_test(test_tokenizer_rules
                   ${CMAKE_CURRENT_LIST_DIR}/test_tokenizer_rules.c)
dsvk_add_host_test(test_tokenizer_text
                   ${CMAKE_CURRENT_LIST_DIR}/test_tokenizer_text.c)

set(DSVK_TOKENIZER_VOCABS ${DSVK_FIXTURES}/tokenizer)

# "<｜User｜>Hello world" on DeepSeek-V3 (ids from the fixture README and
# deepseek-v3.public.jsonl), with BOS, and with control tokens as text.
add_test(NAME cli_tokenize
         COMMAND dsvk tokenize -m ${DSVK_TOKENIZER_VOCABS}/ggml-vocab-deepseek-v3.gguf
                 "<｜User｜>Hello world")
set_tests_properties(cli_tokenize PROPERTIES
                     PASS_REGULAR_EXPRESSION "^128803 19923 2058\n$")
add_test(NAME cli_tokenize_bos
         COMMAND dsvk tokenize --bos -m ${DSVK_TOKENIZER_VOCABS}/ggml-vocab-deepseek-v3.gguf
                 -- "Hello world")
set_tests_properties(cli_tokenize_bos PROPERTIES
                     PASS_REGULAR_EXPRESSION "^0 19923 2058\n$")
add_test(NAME cli_tokenize_no_special
         COMMAND dsvk tokenize --no-special
                 -m ${DSVK_TOKENIZER_VOCABS}/ggml-vocab-deepseek-v3.gguf
                 "<｜User｜>hi<｜Assistant｜>")
set_tests_properties(cli_tokenize_no_special PROPERTIES
                     PASS_REGULAR_EXPRESSION
                     "^30 28217 6756 28217 32 6366 30 28217 88031 28217 32\n$")
# Emoji of Unicode 14.0 and 15.0 (U+1FABF GOOSE): ids of HF tokenizers
# and llama.cpp. PCRE2 10.42's Unicode 14 tables, which dsvk used before,
# left the goose unassigned and gave "82644 223 3574 106 126" at the end.
add_test(NAME cli_tokenize_unicode15
         COMMAND dsvk tokenize -m ${DSVK_TOKENIZER_VOCABS}/ggml-vocab-deepseek-v3.gguf
                 "🫠🫡🫢 newer emoji 🪿")
set_tests_properties(cli_tokenize_unicode15 PROPERTIES PASS_REGULAR_EXPRESSION
  "^3574 107 257 3574 107 97 3574 107 98 42346 980 82644 7351 106 126\n$")
# -f reads the text from a file: the first llama.cpp vector file's bytes.
add_test(NAME cli_tokenize_file
         COMMAND dsvk tokenize -m ${DSVK_TOKENIZER_VOCABS}/ggml-vocab-deepseek-llm.gguf
                 -f ${DSVK_TOKENIZER_VOCABS}/ggml-vocab-deepseek-llm.gguf.inp)
set_tests_properties(cli_tokenize_file PROPERTIES
                     PASS_REGULAR_EXPRESSION "^[0-9]+( [0-9]+)+\n$")
# Errors: one line, exit code 1.
add_test(NAME cli_tokenize_bad_file
         COMMAND dsvk tokenize -m ${DSVK_TOKENIZER_VOCABS}/README.md "hi")
set_tests_properties(cli_tokenize_bad_file PROPERTIES
                     PASS_REGULAR_EXPRESSION "^dsvk: [^\n]*README.md[^\n]*\n$")
add_test(NAME cli_tokenize_bad_file_status
         COMMAND dsvk tokenize -m ${DSVK_TOKENIZER_VOCABS}/no-such.gguf "hi")
set_tests_properties(cli_tokenize_bad_file_status PROPERTIES WILL_FAIL TRUE)
add_test(NAME cli_tokenize_bad_flag
         COMMAND dsvk tokenize --frobnicate)
set_tests_properties(cli_tokenize_bad_flag PROPERTIES
                     PASS_REGULAR_EXPRESSION "unknown option '--frobnicate'")

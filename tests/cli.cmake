# dsvk run, chat and bench as a user runs them, on a tiny model that
# gen-model writes when the tests start (fixture cli_model). Each test is
# one tests/cli/expect.cmake check (exit code, stdout/stderr patterns, or
# two commands compared). GPU runs have the validation layer on, which
# makes a command fail on any message; the cheap ones run again under the
# baseline emulation profile.
set(DSVK_CLI_WORK ${CMAKE_CURRENT_BINARY_DIR}/cli)
set(M ${DSVK_CLI_WORK}/tiny.gguf)
set(dsvk $<TARGET_FILE:dsvk>)
file(MAKE_DIRECTORY ${DSVK_CLI_WORK})

add_test(NAME cli_model COMMAND gen-model --preset tiny --seed 7 -o ${M})
set_tests_properties(cli_model PROPERTIES FIXTURES_SETUP cli_model)

# dsvk_cli_test(name LABEL host|gpu [PROFILES none baseline] DEFS -D...):
# DEFS are expect.cmake's definitions (arguments separated by "|").
function(dsvk_cli_test name)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "LABEL" "PROFILES;DEFS")
  if(NOT arg_PROFILES)
    set(arg_PROFILES none)
  endif()
  foreach(profile IN LISTS arg_PROFILES)
    set(test ${name})
    if(NOT profile STREQUAL none)
      set(test ${name}.${profile})
    endif()
    add_test(NAME ${test} COMMAND ${CMAKE_COMMAND} ${arg_DEFS}
             -DTEST_NAME=${test} -P ${DSVK_TEST_DIR}/cli/expect.cmake)
    set_tests_properties(${test} PROPERTIES
      ENVIRONMENT "DSVK_EMULATE=${profile};DSVK_VALIDATION=1"
      LABELS ${arg_LABEL})
    if(arg_LABEL STREQUAL gpu)
      set_tests_properties(${test} PROPERTIES FIXTURES_REQUIRED cli_model)
    endif()
  endforeach()
endfunction()

set(stats "load [0-9.]+ s, prompt [0-9]+ tokens in [0-9.]+ s \\([0-9.]+ tokens/s\\), generated [0-9]+ tokens in [0-9.]+ s \\([0-9.]+ tokens/s\\)")

# run: greedy is repeatable; BOS + "Hello world" is 9 tokens in the tiny
# vocabulary; stats at the end.
set(greedy "${dsvk}|run|-m|${M}|-p|Hello world|-n|8|--temp|0")
dsvk_cli_test(cli_run_greedy LABEL gpu PROFILES none baseline DEFS
  "-DCMD=${greedy}" "-DSAME_AS=${greedy}"
  "-DSTDERR=^load [0-9.]+ s, prompt 9 tokens in [0-9.]+ s \\([0-9.]+ tokens/s\\), generated 8 tokens in [0-9.]+ s \\([0-9.]+ tokens/s\\): -n reached\n$")
# A seed gives the same draws, another seed others.
set(seeded "${dsvk}|run|-m|${M}|-p|Hello world|-n|16|--temp|1.5|--top-k|0|--top-p|1|--min-p|0")
dsvk_cli_test(cli_run_seed LABEL gpu DEFS
  "-DCMD=${seeded}|--seed|42" "-DSAME_AS=${seeded}|--seed|42")
dsvk_cli_test(cli_run_seed_differs LABEL gpu DEFS
  "-DCMD=${seeded}|--seed|42" "-DDIFFERENT_FROM=${seeded}|--seed|43")
# -f - reads the prompt from stdin: the same as -p.
dsvk_cli_test(cli_run_prompt_stdin LABEL gpu DEFS
  "-DCMD=${dsvk}|run|-m|${M}|-f|-|-n|8|--temp|0" "-DSTDIN=Hello world"
  "-DSAME_AS=${greedy}")
# A prompt longer than one 64-token step is prefilled step by step before
# dsvk_generate takes the last step (tools/cli/stream.c); the penalties see
# all of it. Sampled runs name their seed: the default seed comes from the
# clock, and an early end token would make the count differ.
string(REPEAT "In the beginning was the Word. " 5 long_prompt)
dsvk_cli_test(cli_run_long_prompt LABEL gpu DEFS
  "-DCMD=${dsvk}|run|-m|${M}|-f|-|-n|4|--repeat-penalty|1.3|--seed|1"
  "-DSTDIN=${long_prompt}"
  "-DSTDERR=prompt ([7-9][0-9]|[1-9][0-9][0-9]) tokens in .*generated 4 tokens")
dsvk_cli_test(cli_run_chat LABEL gpu DEFS
  "-DCMD=${dsvk}|run|-m|${M}|--chat|--chat-format|deepseek2|--system|Be brief.|-p|Hi|-n|4|--seed|1|-v"
  "-DSTDERR=prompt [0-9]+ tokens.*${stats}")
# No -m: the demo model of assets/.
dsvk_cli_test(cli_run_demo LABEL gpu DEFS "-DCMD=${dsvk}|run|-n|4|--seed|1"
  "-DSTDERR=^dsvk: no -m given[^\n]*King James Bible.*${stats}")

# chat: turn accounting and /reset (tests/cli/chat_turns.cmake).
foreach(profile none baseline)
  set(test cli_chat_turns)
  if(profile STREQUAL baseline)
    set(test cli_chat_turns.baseline)
  endif()
  add_test(NAME ${test} COMMAND ${CMAKE_COMMAND} -DDSVK=${dsvk} -DMODEL=${M}
           -DWORK=${DSVK_CLI_WORK}/${test}
           -P ${DSVK_TEST_DIR}/cli/chat_turns.cmake)
  set_tests_properties(${test} PROPERTIES
    ENVIRONMENT "DSVK_EMULATE=${profile};DSVK_VALIDATION=1"
    FIXTURES_REQUIRED cli_model LABELS gpu)
endforeach()
# Turn 1 takes 21 + 7 positions of 32; turn 2's 24 tokens do not fit: one
# error line, and the chat goes on to end normally.
dsvk_cli_test(cli_chat_context_full LABEL gpu DEFS
  "-DCMD=${dsvk}|chat|-m|${M}|--chat-format|deepseek2|-n|8|--temp|0|--ctx|32|-v"
  "-DSTDIN=Hello there\\nHow are you\\n"
  "-DSTDERR=^seed [0-9]+\nturn 1: [^\n]*\ndsvk: [^\n]*context[^\n]*; /reset starts a new conversation\n$")

# Ctrl-C: a real SIGINT stops run (in the generation and in the prompt's
# steps), chat (a reply, then the chat at its prompt) and bench cleanly,
# with exit status 130 (tests/cli/interrupt.cmake, driven by
# tests/cli/interrupt_driver.c).
add_executable(cli_interrupt_driver ${DSVK_TEST_DIR}/cli/interrupt_driver.c)
foreach(case run prefill chat bench)
  set(test cli_interrupt_${case})
  add_test(NAME ${test} COMMAND ${CMAKE_COMMAND} -DDSVK=${dsvk}
           -DDRIVER=$<TARGET_FILE:cli_interrupt_driver> -DMODEL=${M}
           -DWORK=${DSVK_CLI_WORK}/${test} -DCASE=${case}
           -P ${DSVK_TEST_DIR}/cli/interrupt.cmake)
  set_tests_properties(${test} PROPERTIES ENVIRONMENT "DSVK_VALIDATION=1"
    FIXTURES_REQUIRED cli_model LABELS gpu)
endforeach()

# bench: both rates, and the op tables where the device has timestamps
# (lavapipe has; the baseline profile has not).
set(rates "prompt processing +pp16 +[0-9.]+ +\\([0-9.]+ - [0-9.]+\\)\ngeneration +tg4 +[0-9.]+ +\\([0-9.]+ - [0-9.]+\\)\n")
set(bench "${dsvk}|bench|-m|${M}|-p|16|-n|4|-r|2")
dsvk_cli_test(cli_bench LABEL gpu DEFS "-DCMD=${bench}"
  "-DSTDOUT=^device +[^\n]+\nmodel +[^\n]+tiny.gguf[^\n]*\ncache +f16, 240 bytes per token\nruns +2 after a warm-up run\n.*${rates}\nGPU time per op, one prefill step \\(16 tokens at positions 0-15\\): [0-9.]+ ms\n +op +calls +total ms +% of step\n +[a-z_]+ +[0-9]+ +[0-9.]+ +[0-9.]+\n.*GPU time per op, one decode step \\(position 16\\): [0-9.]+ ms\n +op +calls +total ms +% of step\n +[a-z_]+ +[0-9]+ +[0-9.]+ +[0-9.]+\n.*\n  [0-9]+ dispatches, [0-9.]+ per layer\n$")
dsvk_cli_test(cli_bench LABEL gpu PROFILES baseline DEFS "-DCMD=${bench}"
  "-DSTDOUT=${rates}\nGPU time per op")
# A q8_0 cache: 3 layers of r 32 + 4 scale bytes and dr 8 + 4.
dsvk_cli_test(cli_bench_q8_cache LABEL gpu
  DEFS "-DCMD=${bench}|--cache-type|q8_0"
  "-DSTDOUT=\ncache +q8_0, 144 bytes per token\n.*${rates}")

# Errors: one line "dsvk: ...", exit status 1.
foreach(case
    "run_no_prompt|host|${dsvk}|run|-m|${M}|^dsvk: run: no prompt \\(-p TEXT or -f FILE\\)\n$"
    "run_unknown_option|host|${dsvk}|run|--bogus|^dsvk: run: unknown option '--bogus' \\(try dsvk run --help\\)\n$"
    "run_bad_temp|host|${dsvk}|run|--temp|warm|^dsvk: run: --temp needs a number, not 'warm'\n$"
    "run_no_value|host|${dsvk}|run|-n|^dsvk: run: -n needs a value\n$"
    "run_bad_cache_type|host|${dsvk}|run|--cache-type|q4_0|^dsvk: run: --cache-type is f16 or q8_0, not 'q4_0'\n$"
    "run_prompt_twice|host|${dsvk}|run|-m|${M}|-p|a|-f|b|^dsvk: run: give -p TEXT or -f FILE, not both\n$"
    "run_system_without_chat|host|${dsvk}|run|--system|x|^dsvk: run: --system and --chat-format need --chat\n$"
    "run_no_prompt_file|host|${dsvk}|run|-m|${M}|-f|${DSVK_CLI_WORK}/absent.txt|^dsvk: cannot read [^\n]*absent.txt: No such file or directory\n$"
    "run_no_model_file|gpu|${dsvk}|run|-m|${DSVK_CLI_WORK}/absent.gguf|-p|x|^dsvk: [^\n]*absent.gguf[^\n]*\n$"
    "run_bad_model_file|gpu|${dsvk}|run|-m|${DSVK_FIXTURES}/models/README.md|-p|x|^dsvk: [^\n]*README.md[^\n]*\n$"
    "run_bad_top_p|host|${dsvk}|run|-m|${M}|-p|x|--top-p|2|^dsvk: run: [^\n]*top-p[^\n]*\n$"
    "run_context_full|gpu|${dsvk}|run|-m|${M}|-p|Hello world|--ctx|4|^dsvk: [^\n]*context[^\n]* \\(--ctx\\)\n$"
    "chat_no_model|host|${dsvk}|chat|^dsvk: chat: no model \\(-m FILE\\)\n$"
    "chat_bad_format|host|${dsvk}|chat|-m|${M}|--chat-format|llama3|^dsvk: chat: --chat-format is deepseek2 or deepseek3, not 'llama3'\n$"
    "chat_no_template|gpu|${dsvk}|chat|-m|${M}|^dsvk: the model has no chat template[^\n]*--chat-format\n$"
    "bench_no_model|host|${dsvk}|bench|^dsvk: bench: no model \\(-m FILE\\)\n$"
    "bench_zero_runs|host|${dsvk}|bench|-m|${M}|-r|0|^dsvk: bench: -r needs a positive number, not '0'\n$")
  string(REPLACE "|" ";" parts "${case}")
  list(POP_FRONT parts name label)
  list(POP_BACK parts regex)
  list(JOIN parts "|" cmd)
  dsvk_cli_test(cli_${name} LABEL ${label} DEFS "-DCMD=${cmd}" -DEXIT=1
                "-DSTDERR=${regex}")
endforeach()

foreach(command run chat bench)
  dsvk_cli_test(cli_${command}_help LABEL host DEFS
    "-DCMD=${dsvk}|${command}|--help"
    "-DSTDOUT=^usage: dsvk ${command} .*-h, --help")
endforeach()

# devices: the listing through the public API's device caps, the
# baseline profile's limits, and an index past the last (listed, then one
# error line).
dsvk_cli_test(cli_devices LABEL gpu DEFS "-DCMD=${dsvk}|devices"
  "-DSTDOUT=^\\* 0: [^\n]+  \\(default\\)\n    type             [^\n]+\n.*    subgroup size    [0-9]+ \\([0-9]+-[0-9]+, size control (yes|no).*    kernels          (CPU|GPU) class\n.*    heap 0  .*push descriptors (yes|no), timestamps (yes|no)")
dsvk_cli_test(cli_devices_baseline LABEL gpu DEFS
  "-DCMD=${CMAKE_COMMAND}|-E|env|DSVK_EMULATE=baseline|${dsvk}|devices"
  "-DSTDOUT=^emulating the 'baseline' profile.*shared memory    16384 bytes\n    workgroup        128 invocations.*shaderFloat16 no, shaderInt8 no, 16-bit storage no, 8-bit storage no\n.*timestamps no\n")
dsvk_cli_test(cli_devices_past_last LABEL gpu DEFS
  "-DCMD=${dsvk}|devices|--device|99" "-DEXIT=1" "-DSTDOUT=^  0: "
  "-DSTDERR=^dsvk: no Vulkan device 99 \\(found [0-9]+, numbered from 0\\)\n$")

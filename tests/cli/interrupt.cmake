# Ctrl-C stops dsvk run, chat and bench cleanly. Each case runs the real
# command under interrupt_driver (tests/cli/interrupt_driver.c), which
# sends a real SIGINT once the command is under way, then checks what the
# command printed.
#   cmake -DDSVK=<dsvk> -DDRIVER=<interrupt_driver> -DMODEL=<gguf>
#         -DWORK=<dir> -DCASE=run|prefill|chat|bench -P interrupt.cmake
# The tiny model never ends a greedy text by itself: it runs until the
# context is full, so with a long --ctx each command goes on far longer
# than the test waits before the signal, on any machine.

cmake_minimum_required(VERSION 3.25)
include(${CMAKE_CURRENT_LIST_DIR}/checks.cmake)
include(${CMAKE_CURRENT_LIST_DIR}/validation_notice.cmake)

file(MAKE_DIRECTORY "${WORK}")
set(out_file "${WORK}/stdout.txt")
set(err_file "${WORK}/stderr.txt")

# Runs `command` (a list) through the driver's `steps` (a list); sets err
# to what it printed on stderr (stdout, which may hold any byte, stays in
# out_file).
function(drive steps command)
  execute_process(
    COMMAND "${DRIVER}" "${out_file}" "${err_file}" ${steps} -- ${command}
    RESULT_VARIABLE code ERROR_VARIABLE log)
  if(NOT code EQUAL 0)
    message(FATAL_ERROR "${CASE}: ${log}")
  endif()
  message(STATUS "${log}")
  file(READ "${err_file}" text)
  drop_validation_notice(text)
  set(err "${text}" PARENT_SCOPE)
endfunction()

# Sets CMAKE_MATCH_<n> in the caller too.
function(expect_match what text regex)
  if(NOT text MATCHES "${regex}")
    message(FATAL_ERROR "${what} does not match '${regex}':\n${text}")
  endif()
  foreach(i RANGE 1 9)
    set(CMAKE_MATCH_${i} "${CMAKE_MATCH_${i}}" PARENT_SCOPE)
  endforeach()
endfunction()

set(run "${DSVK};run;-m;${MODEL};--temp;0;--ctx;4096")

if(CASE STREQUAL "run")
  # Ctrl-C during the generation: the text so far is exactly what a run
  # generating that many tokens prints.
  drive("stdout;int;exit=130" "${run};-p;Hello world;-n;0")
  expect_match("stderr" "${err}"
    "^dsvk: interrupted after ([0-9]+) generated tokens\n$")
  set(n ${CMAKE_MATCH_1})
  execute_process(COMMAND ${run} -p "Hello world" -n ${n}
                  OUTPUT_FILE "${WORK}/reference.txt" RESULT_VARIABLE code)
  expect_equal("dsvk run -n ${n}" ${code} 0)
  file(SHA256 "${out_file}" interrupted)
  file(SHA256 "${WORK}/reference.txt" reference)
  if(NOT interrupted STREQUAL reference)
    message(FATAL_ERROR "the interrupted text differs from dsvk run -n ${n}")
  endif()

elseif(CASE STREQUAL "prefill")
  # Ctrl-C while a prompt of about 45 steps is evaluated step by step. -v
  # says that the evaluation starts. On a machine fast enough to finish it
  # before the signal lands, the generation is interrupted instead.
  string(REPEAT "In the beginning was the Word. " 140 prompt)
  file(WRITE "${WORK}/prompt.txt" "${prompt}")
  drive("stderr=steps of;int;exit=130"
        "${run};-f;${WORK}/prompt.txt;-n;0;-v")
  expect_match("stderr" "${err}"
    "\ndsvk: interrupted after ([0-9]+) (of ([0-9]+) prompt|generated) tokens\n$")
  if(CMAKE_MATCH_3)
    message(STATUS "interrupted after ${CMAKE_MATCH_1} of ${CMAKE_MATCH_3} prompt tokens")
    if(NOT CMAKE_MATCH_1 LESS CMAKE_MATCH_3)
      message(FATAL_ERROR "the whole prompt was evaluated:\n${err}")
    endif()
    # Nothing generated: the newline alone ends the output.
    file(READ "${out_file}" out)
    if(NOT out STREQUAL "\n")
      message(FATAL_ERROR "stdout is not one newline: '${out}'")
    endif()
  else()
    message(STATUS "the prompt was evaluated before the signal came")
  endif()

elseif(CASE STREQUAL "chat")
  # Ctrl-C during the first reply ends it, and the second turn goes on
  # from where it stopped; Ctrl-C at the prompt ends the chat with 130.
  # The second reply runs until the context is full: it needs no signal.
  drive("send=Hello there\\n;stdout;int;stderr=turn 1: ;send=How are you\\n;stderr=turn 2: ;int;exit=130"
        "${DSVK};chat;-m;${MODEL};--chat-format;deepseek2;-n;0;--temp;0;--ctx;1024;-v")
  expect_match("stderr" "${err}"
    "^seed [0-9]+\n\\(interrupted\\)\nturn 1: [^\n]*\nturn 2: [^\n]*\n$")
  expect_match("stderr" "${err}"
    "\nturn 1: prefill ([0-9]+) tokens \\(0 owed by the last reply\\) at position 0, generated ([0-9]+), position now ([0-9]+)\n")
  set(prefill1 ${CMAKE_MATCH_1})
  set(generated1 ${CMAKE_MATCH_2})
  set(end1 ${CMAKE_MATCH_3})
  expect_match("stderr" "${err}"
    "\nturn 2: prefill ([0-9]+) tokens \\(([0-9]+) owed by the last reply\\) at position ([0-9]+), generated [1-9]")
  set(prefill2 ${CMAKE_MATCH_1})
  set(owed2 ${CMAKE_MATCH_2})
  set(start2 ${CMAKE_MATCH_3})
  math(EXPR expected_end1 "${prefill1} + ${generated1} - 1")
  expect_equal("turn 1 end" ${end1} ${expected_end1})
  expect_equal("turn 2 starts where the interrupted reply stopped"
               ${start2} ${end1})
  # The reply's last token and the EOS a reply cut short still lacks.
  expect_equal("turn 2 owed" ${owed2} 2)
  execute_process(
    COMMAND "${DSVK}" tokenize -m "${MODEL}" -- "User: How are you\n\nAssistant:"
    OUTPUT_VARIABLE ids RESULT_VARIABLE code)
  expect_equal("dsvk tokenize" ${code} 0)
  string(STRIP "${ids}" ids)
  string(REPLACE " " ";" ids "${ids}")
  list(LENGTH ids n_turn2)
  math(EXPR expected_prefill2 "${owed2} + ${n_turn2}")
  expect_equal("turn 2 prefill" ${prefill2} ${expected_prefill2})

elseif(CASE STREQUAL "bench")
  # Ctrl-C in the first (warm-up) run: no rates are printed.
  drive("stdout;int;exit=130"
        "${DSVK};bench;-m;${MODEL};-p;64;-n;4000;-r;50")
  expect_match("stderr" "${err}" "^dsvk: interrupted\n$")
  file(READ "${out_file}" out)
  expect_match("stdout" "${out}" "^device [^\n]+\nmodel [^\n]+\ncache [^\n]+\nruns [^\n]+\n\n$")

else()
  message(FATAL_ERROR "unknown CASE '${CASE}'")
endif()

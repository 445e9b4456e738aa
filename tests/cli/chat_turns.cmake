# dsvk chat keeps earlier turns in the session's latent cache: checks the
# position accounting its --verbose lines report, against token counts
# from dsvk tokenize.
#   cmake -DDSVK=<dsvk> -DMODEL=<gguf> -DWORK=<dir> -P chat_turns.cmake
# The model has no chat template; deepseek2 renders a user turn as
# "User: TEXT\n\n" and the generation prompt as "Assistant:".

cmake_minimum_required(VERSION 3.25)
include(${CMAKE_CURRENT_LIST_DIR}/checks.cmake)

file(MAKE_DIRECTORY "${WORK}")

# Feeds `input` to dsvk chat; sets <prefix>_out and the numbers of each
# turn line as <prefix>_<turn>_{prefill,owed,start,generated,end}.
function(chat prefix input)
  file(WRITE "${WORK}/${prefix}.txt" "${input}")
  execute_process(
    COMMAND "${DSVK}" chat -m "${MODEL}" --chat-format deepseek2 -n 8
            --temp 0 -v
    INPUT_FILE "${WORK}/${prefix}.txt"
    OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE code)
  if(NOT code EQUAL 0)
    message(FATAL_ERROR "dsvk chat exited with ${code}:\n${err}")
  endif()
  string(REGEX MATCHALL "turn [0-9]+: [^\n]*" lines "${err}")
  list(LENGTH lines n)
  if(NOT n EQUAL 2)
    message(FATAL_ERROR "expected 2 turn lines, got ${n}:\n${err}")
  endif()
  foreach(line IN LISTS lines)
    if(NOT line MATCHES "^turn ([0-9]+): prefill ([0-9]+) tokens \\(([0-9]+) owed by the last reply\\) at position ([0-9]+), generated ([0-9]+), position now ([0-9]+)$")
      message(FATAL_ERROR "unexpected turn line: ${line}")
    endif()
    set(t ${CMAKE_MATCH_1})
    set(${prefix}_${t}_prefill ${CMAKE_MATCH_2} PARENT_SCOPE)
    set(${prefix}_${t}_owed ${CMAKE_MATCH_3} PARENT_SCOPE)
    set(${prefix}_${t}_start ${CMAKE_MATCH_4} PARENT_SCOPE)
    set(${prefix}_${t}_generated ${CMAKE_MATCH_5} PARENT_SCOPE)
    set(${prefix}_${t}_end ${CMAKE_MATCH_6} PARENT_SCOPE)
  endforeach()
  set(${prefix}_out "${out}" PARENT_SCOPE)
  message(STATUS "${prefix}:\n${err}")
endfunction()

# Number of tokens of `text` (extra: more dsvk tokenize flags).
function(count_tokens var text extra)
  execute_process(COMMAND "${DSVK}" tokenize -m "${MODEL}" ${extra} -- "${text}"
                  OUTPUT_VARIABLE ids RESULT_VARIABLE code)
  if(NOT code EQUAL 0)
    message(FATAL_ERROR "dsvk tokenize failed on '${text}'")
  endif()
  string(STRIP "${ids}" ids)
  string(REPLACE " " ";" ids "${ids}")
  list(LENGTH ids n)
  set(${var} ${n} PARENT_SCOPE)
endfunction()

# Two turns: the second evaluates only what the cache lacks.
chat(two "Hello there\nHow are you\n")
count_tokens(first "User: Hello there\n\nAssistant:" --bos)
count_tokens(second "User: How are you\n\nAssistant:" "")
expect_equal("turn 1 start" ${two_1_start} 0)
expect_equal("turn 1 prefill (BOS + its rendering)" ${two_1_prefill} ${first})
# dsvk_generate leaves the last chosen token unevaluated.
math(EXPR end1 "${two_1_prefill} + ${two_1_generated} - 1")
expect_equal("turn 1 end" ${two_1_end} ${end1})
expect_equal("turn 2 starts where turn 1 ended" ${two_2_start} ${two_1_end})
# What the cache owes: the reply's last token, and EOS when -n cut it.
if(NOT two_2_owed MATCHES "^[12]$")
  message(FATAL_ERROR "turn 2 owed ${two_2_owed} tokens, expected 1 or 2")
endif()
math(EXPR prefill2 "${two_2_owed} + ${second}")
expect_equal("turn 2 prefill (only its new tokens)" ${two_2_prefill}
             ${prefill2})
math(EXPR end2 "${two_2_start} + ${two_2_prefill} + ${two_2_generated} - 1")
expect_equal("turn 2 end" ${two_2_end} ${end2})

# /reset: the same first turn again, from position 0, with the same reply.
chat(reset "Hello there\n/reset\nHello there\n")
expect_equal("turn 2 after /reset: start" ${reset_2_start} 0)
expect_equal("turn 2 after /reset: owed" ${reset_2_owed} 0)
expect_equal("turn 2 after /reset: prefill" ${reset_2_prefill} ${first})
string(LENGTH "${reset_out}" len)
math(EXPR half "${len} / 2")
string(SUBSTRING "${reset_out}" 0 ${half} reply1)
string(SUBSTRING "${reset_out}" ${half} -1 reply2)
if(NOT reply1 STREQUAL reply2)
  message(FATAL_ERROR "replies before and after /reset differ:\n${reset_out}")
endif()

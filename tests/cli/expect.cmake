# Runs one dsvk command and checks what it did, for tests/cli.cmake:
#   cmake -DCMD=<args> [-DSTDIN=<text>] [-DEXIT=<code>] [-DSTDOUT=<regex>]
#         [-DSTDERR=<regex>] [-DSAME_AS=<args> | -DDIFFERENT_FROM=<args>]
#         -P expect.cmake
# Arguments are separated by "|" (add_test would split a ";" list into
# arguments of cmake itself); "\n" in STDIN is a newline. EXIT defaults to
# 0. SAME_AS / DIFFERENT_FROM run a second command and compare the two
# stdouts.
cmake_minimum_required(VERSION 3.25)
include(${CMAKE_CURRENT_LIST_DIR}/validation_notice.cmake)

function(run_command args_text out_var err_var code_var)
  string(REPLACE "|" ";" args "${args_text}")
  set(input_args)
  if(DEFINED STDIN)
    string(REPLACE "\\n" "\n" text "${STDIN}")
    # One file per test and command: two tests (the profiles of one) with
    # the same command may run at once.
    string(MD5 hash "${TEST_NAME}${args_text}${STDIN}")
    set(input "${CMAKE_CURRENT_BINARY_DIR}/expect-stdin-${hash}.txt")
    file(WRITE "${input}" "${text}")
    set(input_args INPUT_FILE "${input}")
  endif()
  execute_process(COMMAND ${args} ${input_args}
                  OUTPUT_VARIABLE out ERROR_VARIABLE err
                  RESULT_VARIABLE code)
  drop_validation_notice(err)
  set(${out_var} "${out}" PARENT_SCOPE)
  set(${err_var} "${err}" PARENT_SCOPE)
  set(${code_var} "${code}" PARENT_SCOPE)
endfunction()

if(NOT DEFINED EXIT)
  set(EXIT 0)
endif()
run_command("${CMD}" out err code)
set(report "command: ${CMD}\nexit: ${code}\nstdout:\n${out}\nstderr:\n${err}")
if(NOT code STREQUAL EXIT)
  message(FATAL_ERROR "expected exit ${EXIT}\n${report}")
endif()
if(DEFINED STDOUT AND NOT out MATCHES "${STDOUT}")
  message(FATAL_ERROR "stdout does not match '${STDOUT}'\n${report}")
endif()
if(DEFINED STDERR AND NOT err MATCHES "${STDERR}")
  message(FATAL_ERROR "stderr does not match '${STDERR}'\n${report}")
endif()
foreach(mode SAME_AS DIFFERENT_FROM)
  if(DEFINED ${mode})
    run_command("${${mode}}" out2 err2 code2)
    if(NOT code2 EQUAL 0)
      message(FATAL_ERROR "second command failed: ${${mode}}\n${err2}")
    endif()
    if(mode STREQUAL SAME_AS AND NOT out STREQUAL out2)
      message(FATAL_ERROR "outputs differ\n${report}\nsecond: ${out2}")
    endif()
    if(mode STREQUAL DIFFERENT_FROM AND out STREQUAL out2)
      message(FATAL_ERROR "outputs are equal\n${report}")
    endif()
  endif()
endforeach()

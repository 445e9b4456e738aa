# dsvk run without -m, from a copy of dsvk that is neither in its build
# tree nor installed next to share/dsvk/demo-kjv.gguf: it must say in one
# line which file is missing and exit 1, not make up a model.
#   cmake -DDSVK=<dsvk> -DWORK=<empty folder> -P demo_missing.cmake
cmake_minimum_required(VERSION 3.25)
file(REMOVE_RECURSE "${WORK}")
file(MAKE_DIRECTORY "${WORK}/bin")
file(COPY "${DSVK}" DESTINATION "${WORK}/bin")
execute_process(COMMAND "${WORK}/bin/dsvk" run -n 4
                OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE code)
set(expected "^dsvk: no model given \\(-m FILE\\), and the demo model is not installed: [^\n]*/bin/\\.\\./share/dsvk/demo-kjv\\.gguf is missing\n$")
if(NOT code EQUAL 1 OR NOT out STREQUAL "" OR NOT err MATCHES "${expected}")
  message(FATAL_ERROR "exit ${code}\nstdout:\n${out}\nstderr:\n${err}")
endif()
file(GLOB left RELATIVE "${WORK}" "${WORK}/*")
if(NOT left STREQUAL "bin")
  message(FATAL_ERROR "dsvk wrote files beside itself: ${left}")
endif()

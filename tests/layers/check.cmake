# The layers of the tree, checked from the sources (README, "How the code is
# laid out"):
#   - the programs of tools/ (the dsvk program: tools/cli and tools/serve;
#     the API examples) include only dsvk.h and their own headers;
#   - runtime/ includes nothing from host/ (nor host/ anything from tools/);
#   - a *_private.h header is included only by the files of its folder;
#   - every folder of tools/ is either such a program or a developer tool,
#     which may use internals.
#   cmake -DROOT=<source tree> -P check.cmake
# Prints one "layers: <file>: <problem>" line per problem and fails when
# there is any. Includes are resolved as the compiler does: the including
# file's folder first, then the include roots of its layer.
cmake_minimum_required(VERSION 3.25)

set(program_dirs tools/cli tools/serve tools/examples)
set(developer_dirs tools/fuzz tools/gen-model tools/gen-unicode tools/gpu-box
    tools/ref-logits tools/serve-bench tools/tokenizer-oracle tools/train-demo)
set(problems "")

# Sets out_var to the path (relative to ROOT) that `name`, included from a
# file in `dir`, resolves to against `roots`; "" when none exists.
function(resolve dir name roots out_var)
  foreach(base IN ITEMS ${dir} ${roots})
    if(EXISTS "${ROOT}/${base}/${name}" AND NOT IS_DIRECTORY "${ROOT}/${base}/${name}")
      file(REAL_PATH "${ROOT}/${base}/${name}" real)
      file(REAL_PATH "${ROOT}" root)
      file(RELATIVE_PATH rel "${root}" "${real}")
      set(${out_var} "${rel}" PARENT_SCOPE)
      return()
    endif()
  endforeach()
  set(${out_var} "" PARENT_SCOPE)
endfunction()

function(problem file text)
  message("layers: ${file}: ${text}")
  set(problems "${problems};${file}" PARENT_SCOPE)
endfunction()

# The quoted includes of a file, in order.
function(quoted_includes file out_var)
  file(STRINGS "${ROOT}/${file}" lines REGEX "^[ \t]*#[ \t]*include[ \t]*\"")
  set(names "")
  foreach(line IN LISTS lines)
    string(REGEX REPLACE "^[ \t]*#[ \t]*include[ \t]*\"([^\"]+)\".*" "\\1" name "${line}")
    list(APPEND names "${name}")
  endforeach()
  set(${out_var} "${names}" PARENT_SCOPE)
endfunction()

file(GLOB_RECURSE sources RELATIVE "${ROOT}" "${ROOT}/host/*.[ch]"
     "${ROOT}/runtime/*.[ch]" "${ROOT}/tools/*.[ch]" "${ROOT}/tests/*.[ch]"
     "${ROOT}/shaders/*.h")
list(FILTER sources EXCLUDE REGEX "^tests/layers/")
foreach(file IN LISTS sources)
  get_filename_component(dir "${file}" DIRECTORY)
  quoted_includes("${file}" names)
  set(program "")
  foreach(p IN LISTS program_dirs)
    if(file MATCHES "^${p}/")
      set(program "${p}")
    endif()
  endforeach()
  foreach(name IN LISTS names)
    if(program)
      # The dsvk program is tools/cli and tools/serve together.
      resolve("${dir}" "${name}" "include;tools/cli;tools/serve" target)
      if(NOT target STREQUAL "include/dsvk.h" AND
         NOT (target MATCHES "^tools/(cli|serve)/" AND program MATCHES "^tools/(cli|serve)$") AND
         NOT (target MATCHES "^${program}/"))
        problem("${file}" "includes \"${name}\", which is neither dsvk.h nor the program's own")
      endif()
    elseif(file MATCHES "^runtime/")
      resolve("${dir}" "${name}" "include;runtime;shaders" target)
      if(target STREQUAL "" OR target MATCHES "^host/")
        problem("${file}" "includes \"${name}\", which runtime/ cannot see: runtime/ uses nothing of host/")
      endif()
    else()
      resolve("${dir}" "${name}" "include;runtime;host;shaders" target)
      if(file MATCHES "^host/" AND target MATCHES "^tools/")
        problem("${file}" "includes \"${name}\" from tools/: the library uses no tool")
      endif()
    endif()
    if(name MATCHES "_private\\.h$" AND NOT target STREQUAL "")
      get_filename_component(target_dir "${target}" DIRECTORY)
      if(NOT target_dir STREQUAL dir)
        problem("${file}" "includes ${target}, which is private to ${target_dir}/")
      endif()
    endif()
  endforeach()
endforeach()

file(GLOB tool_dirs LIST_DIRECTORIES true RELATIVE "${ROOT}" "${ROOT}/tools/*")
foreach(tool IN LISTS tool_dirs)
  if(IS_DIRECTORY "${ROOT}/${tool}" AND NOT tool IN_LIST program_dirs AND
     NOT tool IN_LIST developer_dirs)
    problem("${tool}" "is neither a program on dsvk.h nor a developer tool: name it in tests/layers/check.cmake")
  endif()
endforeach()

list(REMOVE_ITEM problems "")
list(LENGTH problems count)
if(count)
  message(FATAL_ERROR "layers: ${count} problem(s)")
endif()
message("layers: ${ROOT} keeps its layers")

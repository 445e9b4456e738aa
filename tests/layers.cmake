# The layers of the tree (tests/layers/check.cmake): the sources keep them,
# and each kind of breach is caught, on small trees made here that break
# one rule each.
add_test(NAME layers
  COMMAND ${CMAKE_COMMAND} -DROOT=${CMAKE_SOURCE_DIR}
          -P ${CMAKE_CURRENT_SOURCE_DIR}/layers/check.cmake)
set_tests_properties(layers PROPERTIES LABELS host)

set(DSVK_LAYERS_WORK ${CMAKE_CURRENT_BINARY_DIR}/layers)
# dsvk_layers_breach(name EXPECT regex FILES path content [path content...])
function(dsvk_layers_breach name)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "EXPECT" "FILES")
  set(root ${DSVK_LAYERS_WORK}/${name})
  file(REMOVE_RECURSE ${root})
  # The rooms the rules speak of, with a public header and a private one.
  file(WRITE ${root}/include/dsvk.h "")
  file(WRITE ${root}/host/gguf/gguf.h "")
  file(WRITE ${root}/host/gguf/gguf_private.h "")
  file(WRITE ${root}/host/gguf/gguf.c "#include \"gguf_private.h\"\n")
  file(WRITE ${root}/runtime/device.h "#include \"dsvk.h\"\n")
  file(WRITE ${root}/tools/cli/common.h "#include \"dsvk.h\"\n")
  list(LENGTH arg_FILES n)
  math(EXPR last "${n} - 1")
  foreach(i RANGE 0 ${last} 2)
    math(EXPR j "${i} + 1")
    list(GET arg_FILES ${i} path)
    list(GET arg_FILES ${j} content)
    file(WRITE ${root}/${path} "${content}\n")
  endforeach()
  add_test(NAME layers_breach_${name}
    COMMAND ${CMAKE_COMMAND} -DROOT=${root}
            -P ${CMAKE_CURRENT_SOURCE_DIR}/layers/check.cmake)
  set_tests_properties(layers_breach_${name} PROPERTIES LABELS host
    PASS_REGULAR_EXPRESSION "${arg_EXPECT}")
endfunction()

dsvk_layers_breach(clean EXPECT "keeps its layers"
  FILES tools/cli/main.c "#include \"common.h\"\n#include \"dsvk.h\"")
dsvk_layers_breach(program EXPECT
  "layers: tools/cli/main.c: includes \"gguf/gguf.h\", which is neither dsvk.h nor the program's own"
  FILES tools/cli/main.c "#include \"gguf/gguf.h\"")
dsvk_layers_breach(runtime EXPECT
  "layers: runtime/device.c: includes \"gguf/gguf.h\", which runtime/ cannot see"
  FILES runtime/device.c "#include \"gguf/gguf.h\"")
dsvk_layers_breach(private EXPECT
  "layers: tests/test_gguf.c: includes host/gguf/gguf_private.h, which is private to host/gguf/"
  FILES tests/test_gguf.c "#include \"gguf/gguf_private.h\"")
dsvk_layers_breach(tool EXPECT
  "layers: tools/newtool: is neither a program on dsvk.h nor a developer tool"
  FILES tools/newtool/main.c "#include \"dsvk.h\"")

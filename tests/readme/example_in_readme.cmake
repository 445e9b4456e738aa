# The README's "Use it from C" code must be the example the tests build:
# fails when tools/examples/generate.c and the README drift apart.
file(READ ${README} readme)
file(READ ${EXAMPLE} example)
string(FIND "${readme}" "${example}" at)
if(at EQUAL -1)
  message(FATAL_ERROR "README.md does not contain tools/examples/generate.c verbatim")
endif()

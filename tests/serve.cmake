# dsvk serve end to end (tests/serve/*.mjs): the real server on 127.0.0.1,
# on a port the system picks, serving the demo model with the validation
# layer on, driven by the official openai npm package and by curl. Each
# test stops its server with SIGTERM and requires exit status 0, which a
# crash or a validation message would change. The serve_npm fixture
# installs the client into the build tree from tests/serve's lock file.
set(DSVK_SERVE_WORK ${CMAKE_CURRENT_BINARY_DIR}/serve)
find_program(DSVK_NODE node)
find_program(DSVK_NPM npm)
find_program(DSVK_CURL curl)
set(serve_tests chat concurrent prefix_reuse cancel errors)

if(NOT DSVK_NODE OR NOT DSVK_NPM OR NOT DSVK_CURL)
  # Registered all the same, so that a missing tool fails the suite
  # instead of thinning it.
  foreach(test IN LISTS serve_tests)
    add_test(NAME serve_${test} COMMAND ${CMAKE_COMMAND} -E false)
    set_tests_properties(serve_${test} PROPERTIES LABELS gpu)
  endforeach()
  message(WARNING "the serve tests need node, npm and curl (tools/test.sh "
                  "installs them); they fail until then")
  return()
endif()

file(MAKE_DIRECTORY ${DSVK_SERVE_WORK})
configure_file(${DSVK_TEST_DIR}/serve/package.json
               ${DSVK_SERVE_WORK}/package.json COPYONLY)
configure_file(${DSVK_TEST_DIR}/serve/package-lock.json
               ${DSVK_SERVE_WORK}/package-lock.json COPYONLY)
add_test(NAME serve_npm COMMAND ${DSVK_NPM} ci --prefix ${DSVK_SERVE_WORK}
         --no-audit --no-fund)
set_tests_properties(serve_npm PROPERTIES FIXTURES_SETUP serve_npm)

# serve_chat.baseline: the same chat test on the weak-device profile.
foreach(test IN LISTS serve_tests ITEMS chat.baseline)
  string(REGEX REPLACE "\\..*" "" script ${test})
  set(profile none)
  if(test MATCHES "\\.baseline$")
    set(profile baseline)
  endif()
  add_test(NAME serve_${test}
           COMMAND ${DSVK_NODE} ${DSVK_TEST_DIR}/serve/${script}.mjs)
  set_tests_properties(serve_${test} PROPERTIES
    ENVIRONMENT "DSVK=$<TARGET_FILE:dsvk>;DSVK_SERVE_MODEL=${CMAKE_SOURCE_DIR}/assets/demo-kjv.gguf;DSVK_SERVE_NODE_MODULES=${DSVK_SERVE_WORK}/node_modules;DSVK_VALIDATION=1;DSVK_EMULATE=${profile}"
    FIXTURES_REQUIRED serve_npm LABELS gpu TIMEOUT 600)
endforeach()

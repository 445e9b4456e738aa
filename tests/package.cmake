# Packaging: install into a temporary prefix, build an application against
# it through pkg-config and find_package, check the exported symbols
# (tests/package/check.sh). Not in sanitizer builds, whose libraries need
# the sanitizer runtime in every program; the fuzzing build installs nothing.
if(TARGET dsvk_shared AND NOT DSVK_SANITIZE)
  add_test(NAME package
           COMMAND ${DSVK_TEST_DIR}/package/check.sh ${CMAKE_BINARY_DIR}
                   ${CMAKE_INSTALL_LIBDIR} ${CMAKE_C_COMPILER}
                   $<TARGET_FILE:gen-model>)
  # gpu too: the example runs a model on the Vulkan device. No TIMEOUT of
  # its own: it compiles volk three times, which on a loaded one-core
  # machine takes minutes; tools/test.sh gives every test the same limit.
  set_tests_properties(package PROPERTIES LABELS "package;gpu")
endif()

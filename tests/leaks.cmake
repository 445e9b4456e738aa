# Host memory leaks, checked by LeakSanitizer in DSVK_SANITIZE builds (label
# `leaks`, which tools/test.sh runs there): the 100-fold load/fail/unload
# of test_api_errors (tests/api.cmake), plus two controls that show the
# check is neither blind nor flaky. Every program it checks links
# leaks/keep_libraries_loaded.c and runs with leaks/lsan.supp, so that
# leaks inside the Vulkan loader, the drivers, LLVM and the layers do not
# fail the suite on one CPU and pass it on another, while libdsvk's do.
set(DSVK_LSAN_OPTIONS
    "LSAN_OPTIONS=suppressions=${DSVK_TEST_DIR}/leaks/lsan.supp")

add_library(dsvk_keep_libraries_loaded OBJECT
            ${DSVK_TEST_DIR}/leaks/keep_libraries_loaded.c)

# Makes a program one that LeakSanitizer checks: `tests` are its ctest
# names (a GPU test has one per profile).
function(dsvk_check_leaks target)
  target_sources(${target} PRIVATE
                 $<TARGET_OBJECTS:dsvk_keep_libraries_loaded>)
  target_link_options(${target} PRIVATE
                      -Wl,--export-dynamic-symbol=dlclose)
  foreach(test IN LISTS ARGN)
    set_property(TEST ${test} APPEND PROPERTY LABELS leaks)
    set_property(TEST ${test} APPEND PROPERTY ENVIRONMENT
                 ${DSVK_LSAN_OPTIONS})
  endforeach()
endfunction()

dsvk_check_leaks(test_api_errors ${test_api_errors_TESTS})

if(DSVK_SANITIZE)
  # Positive control: memory that a library keeps in its globals is not
  # reported when the library is dlclose'd before the check (the failure
  # seen on AMD machines, where LLVM keeps 384 bytes so).
  add_library(dsvk_held_by_library SHARED
              ${DSVK_TEST_DIR}/leaks/held_by_library.c)
  add_executable(test_leak_unloaded_library
                 ${DSVK_TEST_DIR}/leaks/test_leak_unloaded_library.c)
  target_link_libraries(test_leak_unloaded_library PRIVATE ${CMAKE_DL_LIBS})
  add_test(NAME test_leak_unloaded_library
           COMMAND test_leak_unloaded_library
                   $<TARGET_FILE:dsvk_held_by_library>)
  dsvk_check_leaks(test_leak_unloaded_library test_leak_unloaded_library)

  # Negative control: libdsvk forgets to free its context; LeakSanitizer
  # must say so and name the allocation, suppressions and all. The exit
  # status alone would also accept a crash, so the report is matched.
  add_executable(test_leak_control ${DSVK_TEST_DIR}/leaks/test_leak_control.c)
  target_link_libraries(test_leak_control PRIVATE dsvk_api_test_support)
  add_test(NAME test_leak_control COMMAND test_leak_control)
  set_tests_properties(test_leak_control PROPERTIES
    ENVIRONMENT "DSVK_FIXTURES=${DSVK_FIXTURES};DSVK_VALIDATION=1"
    SKIP_RETURN_CODE 77 LABELS gpu)
  dsvk_check_leaks(test_leak_control test_leak_control)
  set_tests_properties(test_leak_control PROPERTIES PASS_REGULAR_EXPRESSION
    "leak_control: all checks passed.*ERROR: LeakSanitizer: detected memory leaks.*in dsvk_context_create .*SUMMARY: AddressSanitizer: [0-9]+ byte\\(s\\) leaked in 1 allocation\\(s\\)")
endif()

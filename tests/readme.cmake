add_test(NAME readme_example
  COMMAND ${CMAKE_COMMAND} -DREADME=${CMAKE_SOURCE_DIR}/README.md
          -DEXAMPLE=${CMAKE_SOURCE_DIR}/tools/examples/generate.c
          -P ${CMAKE_CURRENT_SOURCE_DIR}/readme/example_in_readme.cmake)
set_tests_properties(readme_example PROPERTIES LABELS host)

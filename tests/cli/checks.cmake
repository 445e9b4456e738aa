# Checks the CLI test scripts share (tests/cli/*.cmake, run with -P).

function(expect_equal what actual expected)
  if(NOT actual EQUAL expected)
    message(FATAL_ERROR "${what}: ${actual}, expected ${expected}")
  endif()
endfunction()

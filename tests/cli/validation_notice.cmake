# drop_validation_notice(var): on a machine without the validation layer
# that the tests may run without (DSVK_VALIDATION_OPTIONAL=1, a lent GPU
# box), the runtime says so in a line of stderr. The checks are about the
# command's own lines, so that line is taken out of var.
function(drop_validation_notice var)
  if("$ENV{DSVK_VALIDATION_OPTIONAL}" STREQUAL "1")
    string(REGEX REPLACE
           "dsvk: VK_LAYER_KHRONOS_validation is not installed[^\n]*\n" ""
           text "${${var}}")
    set(${var} "${text}" PARENT_SCOPE)
  endif()
endfunction()

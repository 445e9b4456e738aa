# The runtime's own test shader (tests/test_runtime_*.c).
list(APPEND DSVK_SHADER_TABLE
  "runtime_add runtime_add.comp"
)

list(APPEND DSVK_SHADER_TABLE
  "add add.comp"
)

# The pre-tokenizer's Unicode character classes (letters, marks, numbers,
# punctuation, symbols, White_Space), generated at build time from the
# Unicode Character Database of the Debian package unicode-data by
# tools/gen-unicode, rather than PCRE2's own tables, which are older
# (Unicode 14.0 in Debian 12's PCRE2 10.42). Sets DSVK_UNICODE_SOURCES
# (the generated header, to list among a target's sources) and
# DSVK_UNICODE_INCLUDE_DIR.
set(DSVK_UCD_DIR /usr/share/unicode CACHE PATH
    "Unicode Character Database (from the Debian package unicode-data)")
foreach(file UnicodeData.txt PropList.txt)
  if(NOT EXISTS ${DSVK_UCD_DIR}/${file})
    message(FATAL_ERROR
      "${DSVK_UCD_DIR}/${file} is missing: dsvk's tokenizer takes its "
      "Unicode character classes from the Unicode Character Database. "
      "Install the Debian package unicode-data (apt-get install "
      "unicode-data), or set DSVK_UCD_DIR to a folder holding "
      "UnicodeData.txt and PropList.txt.")
  endif()
endforeach()

add_executable(gen-unicode ${CMAKE_CURRENT_SOURCE_DIR}/tools/gen-unicode/gen_unicode.c)
set(DSVK_UNICODE_INCLUDE_DIR ${CMAKE_CURRENT_BINARY_DIR}/unicode)
set(DSVK_UNICODE_SOURCES ${DSVK_UNICODE_INCLUDE_DIR}/ucd_classes.h)
file(MAKE_DIRECTORY ${DSVK_UNICODE_INCLUDE_DIR})
add_custom_command(
  OUTPUT ${DSVK_UNICODE_SOURCES}
  COMMAND gen-unicode ${DSVK_UCD_DIR}/UnicodeData.txt
          ${DSVK_UCD_DIR}/PropList.txt ${DSVK_UNICODE_SOURCES}
  DEPENDS gen-unicode ${DSVK_UCD_DIR}/UnicodeData.txt
          ${DSVK_UCD_DIR}/PropList.txt
  COMMENT "Unicode classes from ${DSVK_UCD_DIR}"
  VERBATIM)

# The installable libraries, their pkg-config and CMake packages, and the
# install rules. Both libraries are built from the same objects as the
# internal dsvk_static that tools and tests link, and both expose only the
# public dsvk_* symbols.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

# libdsvk.so.0 -> libdsvk.so.0.1.0. The version script repeats what
# -fvisibility=hidden already does (cmake/dsvk.map).
add_library(dsvk_shared SHARED $<TARGET_OBJECTS:dsvk_objects>
            $<TARGET_OBJECTS:dsvk_volk>)
set_target_properties(dsvk_shared PROPERTIES
  OUTPUT_NAME dsvk
  EXPORT_NAME dsvk
  VERSION ${PROJECT_VERSION}
  SOVERSION ${PROJECT_VERSION_MAJOR}
  LINK_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/cmake/dsvk.map)
target_link_options(dsvk_shared PRIVATE
  -Wl,--version-script=${CMAKE_CURRENT_SOURCE_DIR}/cmake/dsvk.map)
if(NOT DSVK_SANITIZE)
  # Every dependency must be recorded in the library (DT_NEEDED). Not under
  # sanitizers: clang leaves their runtime for the executable to provide.
  target_link_options(dsvk_shared PRIVATE -Wl,--no-undefined)
endif()
target_link_libraries(dsvk_shared PRIVATE PkgConfig::PCRE2 m ${CMAKE_DL_LIBS})
target_include_directories(dsvk_shared INTERFACE
  $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)

# A static archive cannot hide symbols from the linker: hidden visibility
# only matters for shared objects, so an application linking the plain
# archive would see volk's vk* globals (data pointers named like the loader's
# functions: a call to vkCreateInstance would jump into our pointer) and
# every internal function. So the installed libdsvk.a holds one relocatable
# object, the partial link (ld -r) of all our objects and volk's, in which
# objcopy --localize-hidden turns every hidden symbol local. References
# between our files were resolved by the partial link, and what remains
# global is the dsvk_* API and the undefined references to libc, pcre2, m
# and dl. tests/package checks this with nm. Being one object, it is linked
# whole, as the shared library is loaded whole.
set(DSVK_DIST_OBJECT ${CMAKE_CURRENT_BINARY_DIR}/dsvk_dist.o)
add_custom_command(
  OUTPUT ${DSVK_DIST_OBJECT}
  COMMAND ${CMAKE_LINKER} -r -o ${DSVK_DIST_OBJECT}
          $<TARGET_OBJECTS:dsvk_objects> $<TARGET_OBJECTS:dsvk_volk>
  COMMAND ${CMAKE_OBJCOPY} --localize-hidden ${DSVK_DIST_OBJECT}
  DEPENDS dsvk_objects dsvk_volk $<TARGET_OBJECTS:dsvk_objects>
          $<TARGET_OBJECTS:dsvk_volk>
  COMMENT "Partial link of libdsvk.a, internal symbols made local"
  COMMAND_EXPAND_LISTS VERBATIM)
add_library(dsvk_dist_static STATIC ${DSVK_DIST_OBJECT})
set_source_files_properties(${DSVK_DIST_OBJECT} PROPERTIES
  EXTERNAL_OBJECT TRUE GENERATED TRUE)
# Its own directory: the internal dsvk_static is libdsvk.a in the build root.
set_target_properties(dsvk_dist_static PROPERTIES
  OUTPUT_NAME dsvk
  EXPORT_NAME dsvk_static
  LINKER_LANGUAGE C
  ARCHIVE_OUTPUT_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR}/dist)
# By name (-lpcre2-8), as dsvk.pc's Libs.private, so the CMake package needs
# no pkg-config of its own; Debian installs libpcre2-8 on the default path.
target_link_libraries(dsvk_dist_static INTERFACE ${PCRE2_LIBRARIES} m
                      ${CMAKE_DL_LIBS})
target_include_directories(dsvk_dist_static INTERFACE
  $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)

install(FILES include/dsvk.h DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS dsvk_shared dsvk_dist_static EXPORT dsvkTargets
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(TARGETS dsvk RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
# An installed dsvk looks for its demo model in ../share/dsvk
# (tools/cli/demo_model.c).
install(FILES assets/demo-kjv.gguf DESTINATION ${CMAKE_INSTALL_DATADIR}/dsvk)

# pkg-config finds the prefix relative to dsvk.pc (${pcfiledir}), because
# the prefix is often chosen only at install time (cmake --install --prefix).
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}")
  message(FATAL_ERROR "dsvk.pc needs a CMAKE_INSTALL_LIBDIR relative to the prefix")
endif()
file(RELATIVE_PATH DSVK_PC_PREFIX_FROM_PCDIR
     /prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig /prefix)
string(REGEX REPLACE "/$" "" DSVK_PC_PREFIX_FROM_PCDIR
       "${DSVK_PC_PREFIX_FROM_PCDIR}")
configure_file(cmake/dsvk.pc.in ${CMAKE_CURRENT_BINARY_DIR}/dsvk.pc @ONLY)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/dsvk.pc
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

set(DSVK_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/dsvk)
install(EXPORT dsvkTargets NAMESPACE dsvk:: DESTINATION ${DSVK_CMAKE_DIR})
configure_package_config_file(cmake/dsvkConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/dsvkConfig.cmake
  INSTALL_DESTINATION ${DSVK_CMAKE_DIR})
# The soname changes with the major version, and so does compatibility.
write_basic_package_version_file(
  ${CMAKE_CURRENT_BINARY_DIR}/dsvkConfigVersion.cmake
  COMPATIBILITY SameMajorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/dsvkConfig.cmake
              ${CMAKE_CURRENT_BINARY_DIR}/dsvkConfigVersion.cmake
        DESTINATION ${DSVK_CMAKE_DIR})

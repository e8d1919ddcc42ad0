# attnroof as a CMake package: `cmake --install BUILD --prefix P` installs the CPU libraries
# (model, reference, calibrate: static, as built), their public headers under
# P/include/attnroof/ and the package config under P/lib/cmake/attnroof/, so a consumer writes
#   find_package(attnroof 0.1 REQUIRED)
#   target_link_libraries(app PRIVATE attnroof::model attnroof::reference)
# The CUDA libraries, the CLI (studies/) and the tests are not part of it.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(ATTNROOF_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/attnroof)
set(ATTNROOF_INSTALL_INCLUDEDIR ${CMAKE_INSTALL_INCLUDEDIR}/attnroof)
set(ATTNROOF_PACKAGE_TARGETS attnroof_model attnroof_reference attnroof_calibrate)

# The headers keep their path from the source root ("model/presets.h"). Installing the file sets
# already makes include/attnroof the exported include directory for CMake >= 3.23 consumers;
# stated here as well, it holds for older ones too.
foreach(target IN LISTS ATTNROOF_PACKAGE_TARGETS)
  target_include_directories(${target} INTERFACE
                             $<INSTALL_INTERFACE:${ATTNROOF_INSTALL_INCLUDEDIR}>)
endforeach()

if(ATTNROOF_SANITIZE)
  # A sanitized static library links only with the sanitizer runtimes; the build tree gets them
  # from add_link_options (cmake/Warnings.cmake), an installed consumer from here.
  target_link_options(attnroof_model INTERFACE $<INSTALL_INTERFACE:${ATTNROOF_SANITIZE_FLAG}>)
endif()

install(TARGETS ${ATTNROOF_PACKAGE_TARGETS} EXPORT attnroofTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        FILE_SET HEADERS DESTINATION ${ATTNROOF_INSTALL_INCLUDEDIR})
install(EXPORT attnroofTargets NAMESPACE attnroof:: DESTINATION ${ATTNROOF_INSTALL_CMAKEDIR})

configure_package_config_file(cmake/attnroofConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/attnroofConfig.cmake
                              INSTALL_DESTINATION ${ATTNROOF_INSTALL_CMAKEDIR})
# 0.x: a minor release may change the API, so only the same major.minor is compatible
# (SameMajorVersion would let a 0.2 satisfy a request for 0.1). From 1.0 on: SameMajorVersion.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/attnroofConfigVersion.cmake
                                 VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/attnroofConfig.cmake
              ${PROJECT_BINARY_DIR}/attnroofConfigVersion.cmake
        DESTINATION ${ATTNROOF_INSTALL_CMAKEDIR})

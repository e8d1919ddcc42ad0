# attnroof as a CMake package: `cmake --install BUILD --prefix P` installs the CPU libraries
# (model, reference, calibrate: static, as built), their public headers under
# P/include/attnroof/ and the package config under P/lib/cmake/attnroof/, so a consumer writes
#   find_package(attnroof 0.1 REQUIRED)
#   target_link_libraries(app PRIVATE attnroof::model attnroof::reference)
# The command line goes to P/bin/attnroof with its data (the study definitions and the report
# files they read, in the source tree's layout) under P/share/attnroof/, where the installed
# binary finds them relative to itself (studies/data_dir.h). The CUDA libraries, the CLI's
# libraries and the tests are not part of it.
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

# attnroof::sanitize (cmake/Warnings.cmake) goes with them: the libraries link it, and with
# ATTNROOF_SANITIZE=ON it gives a consumer's link the sanitizer runtimes (empty otherwise).
install(TARGETS ${ATTNROOF_PACKAGE_TARGETS} attnroof_sanitize EXPORT attnroofTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        FILE_SET HEADERS DESTINATION ${ATTNROOF_INSTALL_INCLUDEDIR})
install(EXPORT attnroofTargets NAMESPACE attnroof:: DESTINATION ${ATTNROOF_INSTALL_CMAKEDIR})

install(TARGETS attnroof RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
foreach(file IN LISTS ATTNROOF_DATA_FILES)   # studies/CMakeLists.txt
  get_filename_component(dir ${file} DIRECTORY)
  install(FILES ${PROJECT_SOURCE_DIR}/${file} DESTINATION ${CMAKE_INSTALL_DATADIR}/attnroof/${dir})
endforeach()

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

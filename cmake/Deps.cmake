# Every dependency of the design card, found as installed packages (scripts/setup.sh installs
# Debian's). Major versions are pinned so a move (Catch2 v3, say) is a deliberate change.
# The libraries' public dependencies: their versions also go into the installed package's
# find_dependency calls (cmake/attnroofConfig.cmake.in).
set(ATTNROOF_FMT_VERSION 9)
set(ATTNROOF_NLOHMANN_JSON_VERSION 3.10)
set(ATTNROOF_EIGEN3_VERSION 3.4)
find_package(fmt ${ATTNROOF_FMT_VERSION} REQUIRED)
find_package(CLI11 2 REQUIRED)
find_package(nlohmann_json ${ATTNROOF_NLOHMANN_JSON_VERSION} REQUIRED)
find_package(Eigen3 ${ATTNROOF_EIGEN3_VERSION} REQUIRED NO_MODULE)
if(BUILD_TESTING)
  find_package(Catch2 2 REQUIRED)
  include(Catch)
endif()

# Every dependency of the design card, found as installed packages (scripts/setup.sh installs
# Debian's). Major versions are pinned so a move (Catch2 v3, say) is a deliberate change.
find_package(fmt 9 REQUIRED)
find_package(CLI11 2 REQUIRED)
find_package(nlohmann_json 3.10 REQUIRED)
find_package(Eigen3 3.4 REQUIRED NO_MODULE)
find_package(Catch2 2 REQUIRED)
include(Catch)

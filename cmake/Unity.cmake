# Unity builds (CMake merges up to 8 of a target's sources into one unit) for the targets whose
# sources share heavy headers (fmt, nlohmann/json, CLI11, Catch2): each merged unit parses them and
# instantiates their templates once instead of once per file. Measured on 2 cores, a fresh clone
# (.ci/run): 36 min -> 17 min in all; under ASan + UBSan the CLI library compiled in 86 s instead
# of 314 s, its tests in 71 s instead of 214 s. The Eigen reference (kernels/reference) is left
# out: merged, its files compiled slower (339 -> 363 s), and one after the other. Files of a unity
# target must not define the same internal names: each command file has its own namespace
# (studies/commands), and helpers are named apart.
set(ATTNROOF_UNITY_TARGETS attnroof_model attnroof_calibrate attnroof_cli_core attnroof_cli_lib)
if(BUILD_TESTING)
  list(APPEND ATTNROOF_UNITY_TARGETS attnroof_tests_model attnroof_tests_cli
       attnroof_tests_reference attnroof_tests_calibrate)
endif()
foreach(target IN LISTS ATTNROOF_UNITY_TARGETS)
  set_target_properties(${target} PROPERTIES UNITY_BUILD ON)
endforeach()

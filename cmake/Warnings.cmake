# Project code builds with warnings as errors; third-party headers come in as SYSTEM includes
# through their imported targets, so their warnings do not count.
add_library(attnroof_warnings INTERFACE)
target_compile_options(attnroof_warnings INTERFACE
  $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wno-sign-conversion
                            -Wnon-virtual-dtor -Wold-style-cast -Woverloaded-virtual -Werror>
  $<$<COMPILE_LANGUAGE:CUDA>:-Werror=all-warnings -Xcompiler=-Wall,-Wextra,-Werror>)

# The sanitizers of ATTNROOF_SANITIZE builds, as a target that the project's targets link (the
# libraries PUBLIC, so every executable that links one also links the sanitizer runtimes). The
# compile flags hold in this tree only; the link flag also goes to an installed package's
# consumers (cmake/Package.cmake exports the target as attnroof::sanitize), whose link of a
# sanitized static library needs the runtimes. Empty when ATTNROOF_SANITIZE is OFF.
add_library(attnroof_sanitize INTERFACE)
set_target_properties(attnroof_sanitize PROPERTIES EXPORT_NAME sanitize)
if(ATTNROOF_SANITIZE)
  set(ATTNROOF_SANITIZE_FLAG -fsanitize=address,undefined)
  target_compile_options(attnroof_sanitize INTERFACE
    $<BUILD_INTERFACE:$<$<COMPILE_LANGUAGE:CXX>:${ATTNROOF_SANITIZE_FLAG};-fno-sanitize-recover=all;-fno-omit-frame-pointer>>)
  target_link_options(attnroof_sanitize INTERFACE ${ATTNROOF_SANITIZE_FLAG})
endif()

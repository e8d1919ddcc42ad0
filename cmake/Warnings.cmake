# Project code builds with warnings as errors; third-party headers come in as SYSTEM includes
# through their imported targets, so their warnings do not count.
add_library(attnroof_warnings INTERFACE)
target_compile_options(attnroof_warnings INTERFACE
  $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wno-sign-conversion
                            -Wnon-virtual-dtor -Wold-style-cast -Woverloaded-virtual -Werror>
  $<$<COMPILE_LANGUAGE:CUDA>:-Werror=all-warnings -Xcompiler=-Wall,-Wextra,-Werror>)

# The sanitizers of ATTNROOF_SANITIZE builds; cmake/Package.cmake passes the same flag to the
# installed libraries' consumers, whose link needs the sanitizer runtimes.
set(ATTNROOF_SANITIZE_FLAG -fsanitize=address,undefined)
if(ATTNROOF_SANITIZE)
  add_compile_options($<$<COMPILE_LANGUAGE:CXX>:${ATTNROOF_SANITIZE_FLAG}>
                      $<$<COMPILE_LANGUAGE:CXX>:-fno-sanitize-recover=all>
                      $<$<COMPILE_LANGUAGE:CXX>:-fno-omit-frame-pointer>)
  add_link_options(${ATTNROOF_SANITIZE_FLAG})
endif()

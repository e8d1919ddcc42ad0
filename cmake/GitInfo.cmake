# cmake -DSOURCE_DIR=... -DIN=build_info.h.in -DOUT=build_info.h -DPROJECT_VERSION=...
#       -DATTNROOF_BUILD_KIND=... -P GitInfo.cmake
# Runs at every build (not only at configure time), so reports name the commit the binary was
# built from; the header is rewritten only when something changed, so nothing rebuilds needlessly.
set(ATTNROOF_GIT_COMMIT "unknown")
set(ATTNROOF_GIT_DIRTY "false")
find_package(Git QUIET)
if(GIT_FOUND)
  execute_process(COMMAND ${GIT_EXECUTABLE} -C ${SOURCE_DIR} rev-parse HEAD
                  OUTPUT_VARIABLE commit RESULT_VARIABLE rc ERROR_QUIET
                  OUTPUT_STRIP_TRAILING_WHITESPACE)
  if(rc EQUAL 0)
    set(ATTNROOF_GIT_COMMIT "${commit}")
    execute_process(COMMAND ${GIT_EXECUTABLE} -C ${SOURCE_DIR} status --porcelain
                            --untracked-files=no
                    OUTPUT_VARIABLE changes ERROR_QUIET OUTPUT_STRIP_TRAILING_WHITESPACE)
    if(NOT changes STREQUAL "")
      set(ATTNROOF_GIT_DIRTY "true")
    endif()
  endif()
endif()
configure_file(${IN} ${OUT}.tmp @ONLY)
file(COPY_FILE ${OUT}.tmp ${OUT} ONLY_IF_DIFFERENT)
file(REMOVE ${OUT}.tmp)

# The Python module `import attnroof` (python/), built with pybind11 from the same C++ as the
# command line (studies/ attnroof_cli_core). Default: ON when Python 3 (interpreter and
# development files) and pybind11 are found (Debian: python3-dev, pybind11-dev; the tests need
# python3-pytest: scripts/setup.sh installs all three). Pick an interpreter with
# -DPython3_EXECUTABLE=... (scripts/build.sh passes Debian's /usr/bin/python3).
find_package(Python3 COMPONENTS Interpreter Development.Module QUIET)
set(ATTNROOF_PYTHON_DEFAULT OFF)
if(Python3_FOUND)
  find_package(pybind11 2.6 CONFIG QUIET)
  if(pybind11_FOUND)
    set(ATTNROOF_PYTHON_DEFAULT ON)
  endif()
endif()
if(ATTNROOF_SANITIZE)
  # An extension built with ASan loads only into a process whose first library is the ASan
  # runtime, which the Debian python3 is not: the module is left out of sanitizer builds (the
  # same C++ runs in their Catch2 tests, and the module is tested in the Release build).
  set(ATTNROOF_PYTHON_DEFAULT OFF)
endif()
option(ATTNROOF_PYTHON "Build the Python module attnroof (needs pybind11 and Python 3)"
       ${ATTNROOF_PYTHON_DEFAULT})
if(ATTNROOF_PYTHON AND ATTNROOF_SANITIZE)
  message(STATUS "attnroof: ATTNROOF_PYTHON is ON under ATTNROOF_SANITIZE: the module builds, "
                 "but its tests are not registered (an ASan extension cannot load into python3)")
elseif(ATTNROOF_SANITIZE)
  message(STATUS "attnroof: Python module skipped under ATTNROOF_SANITIZE (an ASan-instrumented "
                 "extension cannot load into an uninstrumented python3)")
endif()
if(ATTNROOF_PYTHON)
  if(NOT Python3_FOUND)
    message(FATAL_ERROR "ATTNROOF_PYTHON=ON needs Python 3 with its development files (python3-dev)")
  endif()
  if(NOT pybind11_FOUND)
    find_package(pybind11 2.6 CONFIG REQUIRED)
  endif()
  # The module is a shared object linking the static libraries: they are built as
  # position-independent code.
  set(CMAKE_POSITION_INDEPENDENT_CODE ON)
  message(STATUS "attnroof: Python module for ${Python3_EXECUTABLE} (${Python3_VERSION}), "
                 "pybind11 ${pybind11_VERSION}")
elseif(NOT ATTNROOF_SANITIZE)
  message(STATUS "attnroof: Python module not built (ATTNROOF_PYTHON is OFF, or Python 3 "
                 "development files or pybind11 were not found)")
endif()

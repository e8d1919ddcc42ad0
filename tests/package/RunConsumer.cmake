# cmake -DBUILD_DIR= -DSOURCE_DIR= -DPREFIX= -DCONSUMER_SOURCE_DIR= -DCONSUMER_BINARY_DIR=
#       -DGENERATOR= -DMAKE_PROGRAM= -DCXX_COMPILER= -DBUILD_TYPE= -P RunConsumer.cmake
# Installs BUILD_DIR into PREFIX (both wiped first: a file left from an earlier run must not
# make this one pass), checks what was installed, then builds and runs the consumer against
# PREFIX and compares its output with values derived by hand.

function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT rc EQUAL 0)
    string(JOIN " " command ${ARGN})
    message(FATAL_ERROR "`${command}` failed (${rc}):\n${out}")
  endif()
  set(run_output "${out}" PARENT_SCOPE)
endfunction()

function(expect_entries dir expected)
  file(GLOB entries RELATIVE ${dir} ${dir}/*)
  list(SORT entries)
  if(NOT entries STREQUAL expected)
    message(FATAL_ERROR "${dir} holds '${entries}', expected '${expected}'")
  endif()
endfunction()

file(REMOVE_RECURSE ${PREFIX} ${CONSUMER_BINARY_DIR})
run(${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${PREFIX})

# Only the three CPU libraries, and only their headers' directories (no studies/, tests/,
# kernels/cuda, ...).
file(GLOB_RECURSE libraries RELATIVE ${PREFIX} ${PREFIX}/*.a ${PREFIX}/*.so)
list(TRANSFORM libraries REPLACE ".*/" "")
list(SORT libraries)
set(expected libattnroof_calibrate.a libattnroof_model.a libattnroof_reference.a)
if(NOT libraries STREQUAL expected)
  message(FATAL_ERROR "installed libraries: '${libraries}', expected '${expected}'")
endif()
expect_entries(${PREFIX}/include/attnroof "calibrate;kernels;model")
expect_entries(${PREFIX}/include/attnroof/kernels "decode_params.h;reference")

# The package names no path of this machine's checkout or build: it works wherever it is copied.
file(GLOB package_files ${PREFIX}/lib/cmake/attnroof/*.cmake)
if(NOT package_files)
  message(FATAL_ERROR "no package files under ${PREFIX}/lib/cmake/attnroof")
endif()
foreach(f IN LISTS package_files)
  file(READ ${f} text)
  string(FIND "${text}" "${SOURCE_DIR}" at)
  if(NOT at EQUAL -1)
    message(FATAL_ERROR "${f} names the source tree ${SOURCE_DIR}")
  endif()
endforeach()

run(${CMAKE_COMMAND} -S ${CONSUMER_SOURCE_DIR} -B ${CONSUMER_BINARY_DIR} -G ${GENERATOR}
    -DCMAKE_MAKE_PROGRAM=${MAKE_PROGRAM} -DCMAKE_CXX_COMPILER=${CXX_COMPILER}
    -DCMAKE_BUILD_TYPE=${BUILD_TYPE} -DCMAKE_PREFIX_PATH=${PREFIX})
file(STRINGS ${CONSUMER_BINARY_DIR}/CMakeCache.txt found REGEX "^attnroof_DIR:")
if(NOT found STREQUAL "attnroof_DIR:PATH=${PREFIX}/lib/cmake/attnroof")
  message(FATAL_ERROR "the consumer found attnroof elsewhere: ${found}")
endif()
run(${CMAKE_COMMAND} --build ${CONSUMER_BINARY_DIR})
run(${CONSUMER_BINARY_DIR}/consumer)

# Llama-3-70B at TP 8: one of the 8 KV heads per device, K and V rows of d_head 128 (2*128 = 256
# elements), 2 bytes each over 80 layers (40960 bytes); the rest as main.cpp derives it.
string(CONCAT expected
  "llama3_70b: GQA 64q/8kv, 80 layers\n"
  "kv elements per token per layer at TP 8: 256\n"
  "kv bytes per token at TP 8 (bf16, all layers): 40960\n"
  "h200_sxm calibration: NVIDIA H200\n"
  "decode_reference o: 1.0000 3.0000 lse: 1.3863\n"
  "median read ceiling: 2000000000000 B/s\n")
if(NOT run_output STREQUAL expected)
  message(FATAL_ERROR "consumer printed:\n${run_output}\nexpected:\n${expected}")
endif()
message(STATUS "consumer built against ${PREFIX} and printed the expected values:\n${run_output}")

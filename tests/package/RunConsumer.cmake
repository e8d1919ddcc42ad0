# cmake -DBUILD_DIR= -DSOURCE_DIR= -DPREFIX= -DCONSUMER_SOURCE_DIR= -DCONSUMER_BINARY_DIR=
#       -DGENERATOR= -DMAKE_PROGRAM= -DCXX_COMPILER= -DBUILD_TYPE= [-DSANITIZE=ON]
#       -P RunConsumer.cmake
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

# Only the three CPU libraries (the CLI's are linked into bin/attnroof), and only their headers'
# directories (no studies/, tests/, kernels/cuda, ...).
file(GLOB_RECURSE libraries RELATIVE ${PREFIX} ${PREFIX}/*.a ${PREFIX}/*.so)
list(TRANSFORM libraries REPLACE ".*/" "")
list(SORT libraries)
set(expected libattnroof_calibrate.a libattnroof_model.a libattnroof_reference.a)
if(NOT libraries STREQUAL expected)
  message(FATAL_ERROR "installed libraries: '${libraries}', expected '${expected}'")
endif()
expect_entries(${PREFIX}/include/attnroof "calibrate;kernels;model")
expect_entries(${PREFIX}/include/attnroof/kernels "decode_params.h;reference")

# The command line and its data (studies/CMakeLists.txt, ATTNROOF_DATA_FILES), which the
# installed binary finds relative to itself (studies/data_dir.h), not in the source tree: with
# no ATTNROOF_DATA_DIR, `study` looks up studies in PREFIX/share/attnroof/studies.
foreach(f bin/attnroof share/attnroof/studies/paper.json share/attnroof/reports/kernels/h100/bench_kernels.json)
  if(NOT EXISTS ${PREFIX}/${f})
    message(FATAL_ERROR "${PREFIX}/${f} was not installed")
  endif()
endforeach()
if(EXISTS ${PREFIX}/bin/attnroof-source-dir)
  message(FATAL_ERROR "the build tree's marker attnroof-source-dir was installed")
endif()
unset(ENV{ATTNROOF_DATA_DIR})
execute_process(COMMAND ${PREFIX}/bin/attnroof study no_such_study WORKING_DIRECTORY ${PREFIX}
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
string(FIND "${out}" "studies in ${PREFIX}/share/attnroof/studies: paper" at)
if(NOT rc EQUAL 2 OR at EQUAL -1)
  message(FATAL_ERROR "the installed attnroof did not look up studies in its share/attnroof (${rc}):\n${out}")
endif()
set(ENV{ATTNROOF_DATA_DIR} ${PREFIX}/no_such_dir)
execute_process(COMMAND ${PREFIX}/bin/attnroof study paper WORKING_DIRECTORY ${PREFIX}
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
string(FIND "${out}" "$ATTNROOF_DATA_DIR is '${PREFIX}/no_such_dir', which is not a directory" at)
if(NOT rc EQUAL 1 OR at EQUAL -1)
  message(FATAL_ERROR "a missing $ATTNROOF_DATA_DIR was not reported (${rc}):\n${out}")
endif()
unset(ENV{ATTNROOF_DATA_DIR})
# The installed data is complete: the default study runs on it (its "bench" and "measurements"
# files are read from PREFIX/share/attnroof/reports/). Not in the sanitizer build (SANITIZE ON):
# unoptimized under the sanitizers the study takes two minutes, the cli test "study paper: ..."
# runs it there already, and the optimized build's run of this test proves the data complete.
if(NOT SANITIZE)
  file(REMOVE_RECURSE ${PREFIX}/study_out)
  run(${PREFIX}/bin/attnroof study paper --no-plots --out-dir ${PREFIX}/study_out)
  if(NOT EXISTS ${PREFIX}/study_out/paper/report.json)
    message(FATAL_ERROR "the installed `attnroof study paper` wrote no report:\n${run_output}")
  endif()
  file(READ ${PREFIX}/study_out/paper/report.json report)
  string(FIND "${report}" "\"study_file\": \"${PREFIX}/share/attnroof/studies/paper.json\"" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "the installed `attnroof study paper` did not read ${PREFIX}/share/attnroof/studies/paper.json")
  endif()
  file(REMOVE_RECURSE ${PREFIX}/study_out)
endif()

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

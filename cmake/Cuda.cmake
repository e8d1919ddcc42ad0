# CUDA is optional: without nvcc the CPU build (model, reference, CLI, reports, tests) is complete.
# With nvcc the kernels compile even where no GPU exists (CI); only a GPU runs them.
set(ATTNROOF_HAVE_CUDA OFF)
if(ATTNROOF_ENABLE_CUDA)
  include(CheckLanguage)
  check_language(CUDA)
  if(CMAKE_CUDA_COMPILER)
    if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
      set(CMAKE_CUDA_ARCHITECTURES 90)   # H100/H200; "native" fails where no GPU is present
    endif()
    enable_language(CUDA)
    # CMake 3.25 does not know nvcc 13's C++20 flag ("CUDA20 ... not supported"); newer CMake does.
    if(NOT CMAKE_CUDA20_STANDARD_COMPILE_OPTION)
      set(CMAKE_CUDA20_STANDARD_COMPILE_OPTION "-std=c++20")
      set(CMAKE_CUDA20_EXTENSION_COMPILE_OPTION "-std=c++20")
    endif()
    set(CMAKE_CUDA_STANDARD 20)
    set(CMAKE_CUDA_STANDARD_REQUIRED ON)
    find_package(CUDAToolkit REQUIRED)
    find_package(NCCL)   # cmake/FindNCCL.cmake: NCCL::nccl (kernels/tp/ only)
    set(ATTNROOF_HAVE_CUDA ON)
    message(STATUS "attnroof: CUDA build (sm_${CMAKE_CUDA_ARCHITECTURES}), NCCL: "
                   "${NCCL_VERSION} ${NCCL_LIBRARY}")
  else()
    message(STATUS "attnroof: nvcc not found: CPU-only build")
  endif()
endif()

// defines: ATTNROOF_NCCL_CHECK, throw_nccl_error, NcclComm (RAII ncclComm_t)
//
// NCCL's counterpart of ATTNROOF_CUDA_CHECK (kernels/cuda_util/cuda_check.h): throws attnroof::CudaError
// with "{file}:{line}: {expr} failed: {ncclGetErrorString} ({ncclGetLastError})".
#pragma once
#include <nccl.h>

#include "kernels/cuda_util/cuda_check.h"

namespace attnroof::kernels::tp {

[[noreturn]] void throw_nccl_error(ncclResult_t err, const char* expr, const char* file, int line);

// Destroys the communicator; logs and carries on (never throws).
class NcclComm {
 public:
  NcclComm() = default;
  explicit NcclComm(ncclComm_t c) : comm_(c) {}
  NcclComm(const NcclComm&) = delete;
  NcclComm& operator=(const NcclComm&) = delete;
  ~NcclComm();
  ncclComm_t get() const { return comm_; }

 private:
  ncclComm_t comm_ = nullptr;
};

}  // namespace attnroof::kernels::tp

#define ATTNROOF_NCCL_CHECK(expr)                                                           \
  do {                                                                                      \
    const ncclResult_t attnroof_nccl_ = (expr);                                             \
    if (attnroof_nccl_ != ncclSuccess)                                                      \
      ::attnroof::kernels::tp::throw_nccl_error(attnroof_nccl_, #expr, __FILE__, __LINE__); \
  } while (0)

// defines: allow_dependent_launch, wait_for_prerequisite_grids
//
// Programmatic dependent launch (PTX griddepcontrol, sm_90): a kernel launched with
// cudaLaunchAttributeProgrammaticStreamSerialization may start while the kernel before it on the
// stream still runs, once every CTA of that kernel has called allow_dependent_launch() or exited.
// wait_for_prerequisite_grids() then blocks until that kernel has completed and its writes are
// visible, so the early start only overlaps the dependent's launch and CTA setup with the
// tail of the one before; where to call allow_dependent_launch() decides scheduling, never
// correctness. Both are no-ops without the launch attribute and on architectures before sm_90.
#pragma once

namespace attnroof::kernels::cuda {

__device__ __forceinline__ void allow_dependent_launch() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  asm volatile("griddepcontrol.launch_dependents;" ::: "memory");
#endif
}

__device__ __forceinline__ void wait_for_prerequisite_grids() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  asm volatile("griddepcontrol.wait;" ::: "memory");
#endif
}

}  // namespace attnroof::kernels::cuda

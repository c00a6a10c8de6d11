// Which device the engine runs on ("auto" -> CUDA when LibTorch has it, else CPU) and
// how many CPU threads it uses (decision and measurement in docs/model.md).
#pragma once

#include <torch/torch.h>

#include <string>

namespace ei {

// "auto", "cpu", "cuda", "cuda:k". An unknown name is ei::UsageError; CUDA asked for but
// not available (CPU-only LibTorch, no GPU, k out of range) is ei::ModelError.
torch::Device resolveDevice(const std::string& name);
std::string deviceName(const torch::Device& device);  // "cpu", "cuda:0"

// CPU threading. Debian's LibTorch calls OpenBLAS (pthread build) for every matrix
// product, and OpenBLAS runs its own thread pool; LibTorch's OpenMP intra-op threads on
// top of it fight for the same cores (measured in docs/benchmarks.md: on 2 cores the
// default of one intra-op thread per core is 2.6x slower than the policy below).
// Policy for a budget of N threads (EIVIEW_THREADS, else one per core):
//   BLAS with its own pool (OpenBLAS found): BLAS N threads, LibTorch 1 intra-op thread;
//   otherwise (single-threaded BLAS): LibTorch N intra-op threads.
// EIVIEW_INTRAOP_THREADS / EIVIEW_BLAS_THREADS override either side (benchmarks).
// bf16 passes on the CPU multiply in oneDNN on the intra-op threads instead; they take
// the budget for their duration (MatmulPrecisionScope, models/Precision.h).
struct CpuThreads {
    int intraOp = 1;
    int blas = 0;  // 0: no controllable BLAS pool found
};

// Applies the policy for `budget` threads (<= 0: EIVIEW_THREADS, else one per core).
CpuThreads setCpuThreads(int budget);
// The policy with the default budget and the allocator setting below, once per process
// (idempotent).
void configureCpuThreads();

// glibc serves blocks above 32 MiB with a fresh mmap and returns them with munmap, so
// every large activation (a 448 x 448 ViT-B attention matrix is 51 MB) is page-faulted
// in again on each use; on a virtual machine that costs more than the arithmetic
// (measured in docs/benchmarks.md). keep = true serves everything from the heap and
// keeps up to 1 GiB of freed memory for reuse; false restores glibc's defaults.
// EIVIEW_MALLOC=default leaves glibc alone in configureCpuThreads().
void keepFreedMemory(bool keep);
// What is in effect now.
CpuThreads currentCpuThreads();
// Sets exactly this split (blas ignored where no OpenBLAS pool is found), no policy.
void applyCpuThreads(const CpuThreads& threads);

}  // namespace ei

// The arithmetic the engine runs in (docs/model.md, "Precision"): the frozen backbone and
// the MoR sets in the compute type; the INT adapters, heads, gate, softmax / sigmoid and
// the similarity maps always in float32.
//   fp32  float32 throughout, TF32 off (on CUDA, also for the patch convolution)
//   tf32  float32 storage, TF32 matrix products on CUDA (on the CPU the same as fp32)
//   bf16  bfloat16 backbone and MoR (CPU and CUDA)
//   fp16  float16 backbone and MoR (CUDA only)
//   auto  bf16 on a CUDA device that supports it, else fp16; on the CPU bf16 where it
//         has AMX (oneDNN's bf16 tile products: 3x fp32 for a ViT-B study, measured in
//         docs/benchmarks.md), else fp32 (without it bf16 is a scalar loop, 20x slower).
//         Training's auto is fp32 on the CPU (models/train/Trainer.cpp).
#pragma once

#include "models/Device.h"

#include <torch/torch.h>

#include <string>

namespace ei {

enum class Precision { Auto, Fp32, Tf32, Bf16, Fp16 };

// "auto", "fp32", "tf32", "bf16", "fp16"; anything else is ei::UsageError.
Precision parsePrecision(const std::string& name);
std::string precisionName(Precision p);
// Auto resolved for a device; a precision the device cannot run (fp16 on the CPU) is
// ei::UsageError naming both.
Precision resolvePrecision(Precision p, const torch::Device& device);
// Whether this CPU multiplies bf16 in hardware tiles (AMX) and LibTorch has oneDNN to use
// them: /proc/cpuinfo, read once. The parser, for tests: a /proc/cpuinfo text.
bool cpuMultipliesBf16();
bool cpuFlagsMultiplyBf16(const std::string& cpuinfo);
// The storage / compute type of the backbone for a resolved precision.
torch::ScalarType computeType(Precision resolved);
bool isReduced(Precision resolved);

// The CPU thread split a resolved precision runs with, from the split in effect: bf16
// gives the whole budget to LibTorch and one thread to OpenBLAS; others keep `now`.
CpuThreads cpuThreadsFor(Precision resolved, const CpuThreads& now);

// The matrix-product settings of a resolved precision, restored on destruction:
// - CUDA: the process-wide TF32 switches (cuBLAS and cuDNN);
// - CPU, bf16: the thread split. LibTorch multiplies bf16 in oneDNN, on its own intra-op
//   threads, not in OpenBLAS, so the thread budget (models/Device.h) goes to LibTorch and
//   OpenBLAS keeps one thread (measured in docs/benchmarks.md: one intra-op thread left a
//   core idle and halved the bf16 GEMM rate). The intra-op count is the calling thread's.
class MatmulPrecisionScope {
public:
    MatmulPrecisionScope(Precision resolved, const torch::Device& device);
    ~MatmulPrecisionScope();
    MatmulPrecisionScope(const MatmulPrecisionScope&) = delete;
    MatmulPrecisionScope& operator=(const MatmulPrecisionScope&) = delete;

private:
    bool active_ = false;
    bool cublas_ = false;
    bool cudnn_ = false;
    bool threads_ = false;
    int intraOp_ = 1;
    int blas_ = 0;
};

}  // namespace ei

// The arithmetic the engine runs in (docs/model.md, "Precision"): the frozen backbone and
// the MoR sets in the compute type; the INT adapters, heads, gate, softmax / sigmoid and
// the similarity maps always in float32.
//   fp32  float32 throughout, TF32 off (on CUDA, also for the patch convolution)
//   tf32  float32 storage, TF32 matrix products on CUDA (on the CPU the same as fp32)
//   bf16  bfloat16 backbone and MoR (CPU and CUDA)
//   fp16  float16 backbone and MoR (CUDA only)
//   auto  bf16 on a CUDA device that supports it, else fp16; fp32 on the CPU (measured
//         in docs/benchmarks.md: bf16 is not faster on the 2-core CPU)
#pragma once

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
// The storage / compute type of the backbone for a resolved precision.
torch::ScalarType computeType(Precision resolved);
bool isReduced(Precision resolved);

// Sets CUDA's process-wide TF32 switches (cuBLAS and cuDNN) for a resolved precision and
// restores them on destruction; nothing on the CPU.
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
};

}  // namespace ei

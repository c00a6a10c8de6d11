// The machine's measured matrix-product rate (torch::mm), the denominator of the
// benchmark's "achieved / GEMM peak" ratio. Measured in the same run, with the same
// thread settings, on the same device and in the same type as the engine's products.
#pragma once

#include <torch/torch.h>

namespace ei::bench {

struct GemmRate {
    int size = 0;         // n of the n x n x n products
    double gflops = 0;    // best of the repetitions
    static GemmRate measure(int size, int repetitions, const torch::Device& device = torch::kCPU,
                            torch::ScalarType type = torch::kFloat);
};

}  // namespace ei::bench

// The machine's measured matrix-product rate (torch::mm, float32), the denominator of
// the benchmark's "achieved / GEMM peak" ratio. Measured in the same run, with the same
// thread settings, so the ratio says how much of the machine the engine uses.
#pragma once

namespace ei::bench {

struct GemmRate {
    int size = 0;         // n of the n x n x n products
    double gflops = 0;    // best of the repetitions
    static GemmRate measure(int size, int repetitions);
};

}  // namespace ei::bench

// Times torch::mm on large square float32 matrices and keeps the best repetition (the
// peak the engine's GEMMs could reach at these thread settings).
#include "bench/GemmRate.h"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>

namespace ei::bench {

GemmRate GemmRate::measure(int size, int repetitions)
{
    torch::InferenceMode guard;
    auto a = torch::randn({size, size});
    auto b = torch::randn({size, size});
    auto c = torch::mm(a, b);  // warm-up: thread pools, page faults
    double best = 0;
    for (int r = 0; r < std::max(1, repetitions); ++r) {
        const auto t0 = std::chrono::steady_clock::now();
        c = torch::mm(a, b);
        const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        best = std::max(best, 2.0 * size * double(size) * size / s / 1e9);
    }
    return {size, best};
}

}  // namespace ei::bench

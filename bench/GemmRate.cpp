// Times torch::mm on large square matrices and keeps the best repetition (the peak the
// engine's GEMMs could reach at these settings).
#include "bench/GemmRate.h"

#include "bench/BenchSupport.h"

#include <algorithm>
#include <chrono>

namespace ei::bench {

GemmRate GemmRate::measure(int size, int repetitions, const torch::Device& device, torch::ScalarType type)
{
    torch::InferenceMode guard;
    const auto opts = torch::TensorOptions().device(device).dtype(type);
    auto a = torch::randn({size, size}, opts);
    auto b = torch::randn({size, size}, opts);
    auto c = torch::mm(a, b);  // warm-up: thread pools, page faults, kernel selection
    const int inner = device.is_cuda() ? 20 : 1;  // a GPU product is too short to time alone
    double best = 0;
    for (int r = 0; r < std::max(1, repetitions); ++r) {
        synchronize(device);
        const auto t0 = std::chrono::steady_clock::now();
        for (int k = 0; k < inner; ++k)
            c = torch::mm(a, b);
        synchronize(device);
        const double s = secondsSince(t0) / inner;
        best = std::max(best, 2.0 * size * double(size) * size / s / 1e9);
    }
    return {size, best};
}

}  // namespace ei::bench

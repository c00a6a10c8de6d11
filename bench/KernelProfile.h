// One run of a piece of work under LibTorch's Kineto profiler, saved as a Chrome trace
// (chrome://tracing, Perfetto). On a GPU the trace holds every kernel with its duration;
// bench/profile_summary.py ranks them. Used by `eiview-bench infer|train --profile FILE`.
#pragma once

#include <torch/torch.h>

#include <functional>
#include <string>

namespace ei::bench {

// Runs `work` once with the profiler on (CPU operators, and the device's kernels on CUDA),
// waits for the device, and writes the trace to `path`. Returns false, having said why on
// stderr, where this LibTorch cannot profile or write a trace (Debian's, built without
// Kineto, runs `work` and then cannot save). A trace that cannot be written is an
// ei::BadInputError naming the file; a missing folder is found before `work` runs.
bool profileRun(const std::string& path, const torch::Device& device, const std::function<void()>& work);

}  // namespace ei::bench

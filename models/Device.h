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

// Sets LibTorch's intra-op threads once per process (idempotent). EIVIEW_THREADS
// overrides the default.
void configureCpuThreads();

}  // namespace ei

// What the benchmarks share: the --device / --precision options, random models of a
// config, random inputs on the device, timing that waits for the device, and medians.
#pragma once

#include "models/Precision.h"
#include "models/ei/EiModel.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace ei::bench {

// The value after option args[i], advancing i; ei::UsageError "OPT needs a value".
std::string optionValue(const std::vector<std::string>& args, std::size_t& i);
// The same as an integer of at least `lo`; ei::UsageError naming the option otherwise.
int intOptionValue(const std::vector<std::string>& args, std::size_t& i, int lo);

struct DeviceOptions {
    std::string device = "cpu";
    std::string precision = "auto";
    // Consumes --device / --precision at args[i] (advancing i); false for other options.
    bool take(const std::vector<std::string>& args, std::size_t& i);
};

// A model of `config` with random backbone and random adapters (every term live), moved
// to the device and set to the precision.
std::shared_ptr<EiModel> randomModel(const nlohmann::json& config, unsigned seed, const torch::Device& device,
                                     Precision precision);
// Random inputs of the configured sizes: images [B, 3, H, W], volumes [B, S, 3, H, W].
std::vector<torch::Tensor> randomInputs(const ModelConfig& config, int batch, unsigned seed,
                                        const torch::Device& device = torch::kCPU);

// Waits until the device has finished its queued work (CUDA) or returns (CPU).
void synchronize(const torch::Device& device);
// Seconds of each of `reps` runs of `work` after `warmup` untimed ones, each ended by synchronize.
std::vector<double> timeRuns(int warmup, int reps, const torch::Device& device, const std::function<void()>& work);
double median(std::vector<double> v);
// Writes a benchmark's JSON report to `path` (nothing when empty); BadInputError naming it
// when it cannot be written.
void writeJsonReport(const std::string& path, const nlohmann::json& report);
double secondsSince(std::chrono::steady_clock::time_point t0);
std::string shellQuote(const std::string& s);
// Runs a shell command and returns its stdout; "" when it fails.
std::string capture(const std::string& command, int* exitCode = nullptr);
// This process's GPU memory as nvidia-smi reports it (MiB), -1 when unknown.
double processGpuMemoryMiB();
// ATen operator calls that `work` makes on this thread, nested calls and views included:
// a rough measure of the dispatch work a forward pays on the host, whatever the device.
long long countOperatorCalls(const std::function<void()>& work);

}  // namespace ei::bench

// Device choice and CPU threading for the engine.
#include "models/Device.h"

#include "models/Error.h"

#include <cstdlib>
#include <mutex>
#include <thread>

namespace ei {

torch::Device resolveDevice(const std::string& name)
{
    if (name == "auto" || name.empty())
        return torch::cuda::is_available() ? torch::Device(torch::kCUDA, 0) : torch::Device(torch::kCPU);
    if (name == "cpu")
        return torch::Device(torch::kCPU);
    if (name == "cuda" || name.rfind("cuda:", 0) == 0) {
        int index = 0;
        if (name.size() > 5) {
            const std::string digits = name.substr(5);
            if (digits.empty() || digits.size() > 3 || digits.find_first_not_of("0123456789") != std::string::npos)
                throw UsageError("device '" + name + "': expected auto, cpu, cuda or cuda:K");
            index = std::stoi(digits);
        }
        if (!torch::cuda::is_available())
            throw ModelError("", "device '" + name + "': CUDA is not available (this LibTorch build or machine has no usable GPU)");
        if (index >= static_cast<int>(torch::cuda::device_count()))
            throw ModelError("", "device '" + name + "': only " + std::to_string(torch::cuda::device_count()) + " CUDA device(s)");
        return torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(index));
    }
    throw UsageError("device '" + name + "': expected auto, cpu, cuda or cuda:K");
}

std::string deviceName(const torch::Device& device)
{
    if (device.is_cuda())
        return "cuda:" + std::to_string(device.has_index() ? device.index() : 0);
    return "cpu";
}

void configureCpuThreads()
{
    static std::once_flag once;
    std::call_once(once, [] {
        int threads = 0;
        if (const char* env = std::getenv("EIVIEW_THREADS"))
            threads = std::atoi(env);
        if (threads <= 0) {
            // One intra-op thread per core (measured in docs/model.md).
            threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
        }
        torch::set_num_threads(threads);
    });
}

}  // namespace ei

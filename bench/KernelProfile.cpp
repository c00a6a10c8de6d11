// Kineto profiling of one run (see KernelProfile.h).
#include "bench/KernelProfile.h"

#include "bench/BenchSupport.h"
#include "models/Error.h"

#include <torch/csrc/autograd/profiler_kineto.h>

#include <filesystem>
#include <iostream>
#include <set>

namespace ei::bench {

bool profileRun(const std::string& path, const torch::Device& device, const std::function<void()>& work)
{
    namespace profiler = torch::autograd::profiler;
    using torch::profiler::impl::ActivityType;
    using torch::profiler::impl::ProfilerConfig;
    using torch::profiler::impl::ProfilerState;
    std::set<ActivityType> activities{ActivityType::CPU};
    if (device.is_cuda())
        activities.insert(ActivityType::CUDA);
    const ProfilerConfig config(ProfilerState::KINETO);
    const std::filesystem::path target(path);
    if (target.has_parent_path() && !std::filesystem::is_directory(target.parent_path()))
        throw BadInputError(path, "the folder for the profile does not exist");
    synchronize(device);
    try {
        profiler::prepareProfiler(config, activities);
        profiler::enableProfiler(config, activities);
    } catch (const c10::Error& e) {
        std::cerr << "eiview-bench: no profile: this LibTorch cannot profile (" << e.what_without_backtrace() << ")\n";
        return false;
    }
    try {
        work();
        synchronize(device);
    } catch (...) {
        (void)profiler::disableProfiler();
        throw;
    }
    const std::unique_ptr<profiler::ProfilerResult> result = profiler::disableProfiler();
    try {
        result->save(path);
    } catch (const c10::Error& e) {
        std::cerr << "eiview-bench: no profile: this LibTorch cannot write a trace (" << e.what_without_backtrace()
                  << ")\n";
        return false;
    }
    if (!std::filesystem::is_regular_file(target))
        throw BadInputError(path, "the profile could not be written");
    return true;
}

}  // namespace ei::bench

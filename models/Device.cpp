// Device choice and CPU threading for the engine.
#include "models/Device.h"

#include "models/Error.h"

#include <algorithm>
#include <cstdlib>
#include <dlfcn.h>
#include <malloc.h>
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

namespace {

// OpenBLAS's pool, looked up at run time: LibTorch links libblas.so.3, which Debian's
// alternatives resolve to OpenBLAS, BLIS or the reference BLAS.
using SetThreads = void (*)(int);
using GetThreads = int (*)();

SetThreads blasSetThreads()
{
    return reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"));
}

GetThreads blasGetThreads()
{
    return reinterpret_cast<GetThreads>(dlsym(RTLD_DEFAULT, "openblas_get_num_threads"));
}

int envInt(const char* name)
{
    const char* v = std::getenv(name);
    return v ? std::atoi(v) : 0;
}

}  // namespace

CpuThreads setCpuThreads(int budget)
{
    if (budget <= 0)
        budget = envInt("EIVIEW_THREADS");
    if (budget <= 0)
        budget = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    CpuThreads t;
    const SetThreads setBlas = blasSetThreads();
    if (setBlas) {
        t.intraOp = 1;
        t.blas = budget;
    } else {
        t.intraOp = budget;
    }
    if (const int v = envInt("EIVIEW_INTRAOP_THREADS"); v > 0)
        t.intraOp = v;
    if (const int v = envInt("EIVIEW_BLAS_THREADS"); v > 0 && setBlas)
        t.blas = v;
    applyCpuThreads(t);
    return t;
}

void applyCpuThreads(const CpuThreads& threads)
{
    torch::set_num_threads(std::max(1, threads.intraOp));
    if (const SetThreads setBlas = blasSetThreads(); setBlas && threads.blas > 0)
        setBlas(threads.blas);
}

void configureCpuThreads()
{
    static std::once_flag once;
    std::call_once(once, [] {
        setCpuThreads(0);
        const char* m = std::getenv("EIVIEW_MALLOC");
        if (!m || std::string(m) != "default")
            keepFreedMemory(true);
    });
}

void keepFreedMemory(bool keep)
{
    // glibc's defaults: mmap for blocks from 128 KiB (dynamic up to 32 MiB), at most
    // 65536 mappings, trim the heap top above 128 KiB.
    mallopt(M_MMAP_MAX, keep ? 0 : 65536);
    mallopt(M_TRIM_THRESHOLD, keep ? (1 << 30) : 128 * 1024);
}

CpuThreads currentCpuThreads()
{
    CpuThreads t;
    t.intraOp = torch::get_num_threads();
    if (const GetThreads get = blasGetThreads())
        t.blas = get();
    return t;
}

}  // namespace ei

// Precision names, resolution per device and the TF32 switches.
#include "models/Precision.h"

#include "models/Device.h"
#include "models/Error.h"

#include <ATen/Context.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>

namespace ei {

Precision parsePrecision(const std::string& name)
{
    if (name == "auto" || name.empty())
        return Precision::Auto;
    if (name == "fp32")
        return Precision::Fp32;
    if (name == "tf32")
        return Precision::Tf32;
    if (name == "bf16")
        return Precision::Bf16;
    if (name == "fp16")
        return Precision::Fp16;
    throw UsageError("precision '" + name + "': expected auto, fp32, tf32, bf16 or fp16");
}

std::string precisionName(Precision p)
{
    switch (p) {
    case Precision::Auto: return "auto";
    case Precision::Fp32: return "fp32";
    case Precision::Tf32: return "tf32";
    case Precision::Bf16: return "bf16";
    case Precision::Fp16: return "fp16";
    }
    return "auto";
}

namespace {

bool cudaSupportsBf16(const torch::Device& device)
{
    // Ampere (compute capability 8.0) and later multiply bfloat16 natively. Probed by a
    // tiny product, once per device (a model load resolves its precision several times):
    // LibTorch has no portable capability query without the CUDA headers.
    static std::mutex mutex;
    static std::map<int, bool> known;
    std::lock_guard<std::mutex> lock(mutex);
    const int index = device.has_index() ? device.index() : 0;
    if (const auto it = known.find(index); it != known.end())
        return it->second;
    bool ok = true;
    try {
        const auto a = torch::ones({8, 8}, torch::TensorOptions().device(device).dtype(torch::kBFloat16));
        (void)torch::mm(a, a);
    } catch (const c10::Error&) {
        ok = false;
    }
    return known[index] = ok;
}

}  // namespace

bool cpuFlagsMultiplyBf16(const std::string& cpuinfo)
{
    // The kernel lists only the features it enabled; "amx_bf16" is the tile unit.
    std::istringstream lines(cpuinfo);
    std::string line;
    while (std::getline(lines, line)) {
        if (line.rfind("flags", 0) != 0)
            continue;
        const std::size_t colon = line.find(':');
        std::istringstream words(colon == std::string::npos ? std::string() : line.substr(colon + 1));
        std::string w;
        while (words >> w)
            if (w == "amx_bf16")
                return true;
        return false;  // the first processor's flags speak for all
    }
    return false;
}

bool cpuMultipliesBf16()
{
    static const bool fast = [] {
        if (!at::hasMKLDNN())
            return false;  // without oneDNN LibTorch multiplies bf16 in a scalar loop
        std::ifstream in("/proc/cpuinfo");
        std::stringstream text;
        text << in.rdbuf();
        return cpuFlagsMultiplyBf16(text.str());
    }();
    return fast;
}

Precision resolvePrecision(Precision p, const torch::Device& device)
{
    if (p == Precision::Auto) {
        if (!device.is_cuda())
            return cpuMultipliesBf16() ? Precision::Bf16 : Precision::Fp32;
        return cudaSupportsBf16(device) ? Precision::Bf16 : Precision::Fp16;
    }
    if (p == Precision::Fp16 && !device.is_cuda())
        throw UsageError("precision 'fp16' needs a CUDA device (device " + deviceName(device) +
                         "); use bf16 or fp32 on the CPU");
    return p;
}

torch::ScalarType computeType(Precision resolved)
{
    switch (resolved) {
    case Precision::Bf16: return torch::kBFloat16;
    case Precision::Fp16: return torch::kHalf;
    default: return torch::kFloat;
    }
}

bool isReduced(Precision resolved)
{
    return resolved == Precision::Bf16 || resolved == Precision::Fp16;
}

CpuThreads cpuThreadsFor(Precision resolved, const CpuThreads& now)
{
    if (resolved != Precision::Bf16)
        return now;
    return {std::max(now.intraOp, now.blas), now.blas > 0 ? 1 : 0};
}

MatmulPrecisionScope::MatmulPrecisionScope(Precision resolved, const torch::Device& device)
{
    if (!device.is_cuda()) {
        const CpuThreads now = currentCpuThreads();
        const CpuThreads want = cpuThreadsFor(resolved, now);
        if (want.intraOp == now.intraOp && want.blas == now.blas)
            return;
        threads_ = true;
        intraOp_ = now.intraOp;
        blas_ = now.blas;
        applyCpuThreads(want);
        return;
    }
    auto& ctx = at::globalContext();
    active_ = true;
    cublas_ = ctx.allowTF32CuBLAS();
    cudnn_ = ctx.allowTF32CuDNN();
    const bool tf32 = resolved == Precision::Tf32;
    ctx.setAllowTF32CuBLAS(tf32);
    ctx.setAllowTF32CuDNN(tf32);
}

MatmulPrecisionScope::~MatmulPrecisionScope()
{
    if (threads_)
        applyCpuThreads({intraOp_, blas_});
    if (!active_)
        return;
    auto& ctx = at::globalContext();
    ctx.setAllowTF32CuBLAS(cublas_);
    ctx.setAllowTF32CuDNN(cudnn_);
}

}  // namespace ei

// Shared benchmark helpers (see BenchSupport.h).
#include "bench/BenchSupport.h"

#include "models/Device.h"
#include "models/Error.h"
#include "models/vit/VisionTransformer.h"

#include <ATen/record_function.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <unistd.h>

namespace ei::bench {

std::string optionValue(const std::vector<std::string>& args, std::size_t& i)
{
    if (i + 1 >= args.size())
        throw UsageError(args[i] + " needs a value");
    return args[++i];
}

int intOptionValue(const std::vector<std::string>& args, std::size_t& i, int lo)
{
    const std::string& option = args[i];
    const std::string v = optionValue(args, i);
    int n = 0;
    try {
        n = std::stoi(v);
    } catch (const std::logic_error&) {
        throw UsageError(option + ": not a number: " + v);
    }
    if (n < lo)
        throw UsageError(option + " must be at least " + std::to_string(lo));
    return n;
}

bool DeviceOptions::take(const std::vector<std::string>& args, std::size_t& i)
{
    if (args[i] != "--device" && args[i] != "--precision")
        return false;
    const bool isDevice = args[i] == "--device";
    (isDevice ? device : precision) = optionValue(args, i);
    return true;
}

std::shared_ptr<EiModel> randomModel(const nlohmann::json& config, unsigned seed, const torch::Device& device,
                                     Precision precision)
{
    const ModelConfig c = ModelConfig::fromJson(config, "eiview-bench");
    torch::manual_seed(seed);
    auto backbone = std::make_shared<VisionTransformer>(c.backbone, VisionTransformer::randomWeights(c.backbone), "eiview-bench");
    auto model = std::make_shared<EiModel>(c, backbone, EiModel::initialParameters(c, true), "eiview-bench");
    model->to(device);
    model->setPrecision(precision);
    return model;
}

std::vector<torch::Tensor> randomInputs(const ModelConfig& c, int batch, unsigned seed, const torch::Device& device)
{
    torch::manual_seed(seed);
    std::vector<torch::Tensor> xs;
    for (const auto& m : c.modalities)
        xs.push_back((m.isVolume() ? torch::randn({batch, m.slices, 3, m.size[0], m.size[1]})
                                   : torch::randn({batch, 3, m.size[0], m.size[1]}))
                         .to(device));
    return xs;
}

void synchronize(const torch::Device& device)
{
    if (device.is_cuda())
        torch::cuda::synchronize(device.index());
}

double secondsSince(std::chrono::steady_clock::time_point t0)
{
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

std::vector<double> timeRuns(int warmup, int reps, const torch::Device& device, const std::function<void()>& work)
{
    std::vector<double> out;
    for (int r = 0; r < warmup + reps; ++r) {
        synchronize(device);
        const auto t0 = std::chrono::steady_clock::now();
        work();
        synchronize(device);
        if (r >= warmup)
            out.push_back(secondsSince(t0));
    }
    return out;
}

void writeJsonReport(const std::string& path, const nlohmann::json& report)
{
    if (path.empty())
        return;
    std::ofstream f(path);
    f << report.dump(1) << "\n";
    if (!f)
        throw BadInputError(path, "cannot write the JSON report");
}

double median(std::vector<double> v)
{
    if (v.empty())
        return 0;
    std::sort(v.begin(), v.end());
    return v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
}

std::string shellQuote(const std::string& s)
{
    std::string out = "'";
    for (char c : s)
        out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

std::string capture(const std::string& command, int* exitCode)
{
    FILE* pipe = popen(command.c_str(), "r");
    if (!pipe) {
        if (exitCode)
            *exitCode = -1;
        return "";
    }
    std::string out;
    char buf[4096];
    std::size_t n;
    while ((n = fread(buf, 1, sizeof buf, pipe)) > 0)
        out.append(buf, n);
    const int rc = pclose(pipe);
    if (exitCode)
        *exitCode = rc;
    return out;
}

namespace {

std::atomic<long long> operatorCalls{0};

std::unique_ptr<at::ObserverContext> countCall(const at::RecordFunction&)
{
    operatorCalls.fetch_add(1, std::memory_order_relaxed);
    return nullptr;
}

}  // namespace

long long countOperatorCalls(const std::function<void()>& work)
{
    operatorCalls = 0;
    const auto handle = at::addThreadLocalCallback(
        at::RecordFunctionCallback(countCall).scopes({at::RecordScope::FUNCTION}));
    try {
        work();
    } catch (...) {
        at::removeCallback(handle);
        throw;
    }
    at::removeCallback(handle);
    return operatorCalls.load();
}

double processGpuMemoryMiB()
{
    int rc = 0;
    const std::string out =
        capture("nvidia-smi --query-compute-apps=pid,used_memory --format=csv,noheader,nounits 2>/dev/null", &rc);
    if (rc != 0)
        return -1;
    std::istringstream lines(out);
    std::string line;
    const std::string me = std::to_string(getpid());
    while (std::getline(lines, line)) {
        const auto comma = line.find(',');
        if (comma == std::string::npos)
            continue;
        if (line.substr(0, comma) == me)
            return std::atof(line.substr(comma + 1).c_str());
    }
    return -1;
}

}  // namespace ei::bench

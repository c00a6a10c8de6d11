// `eiview-bench infer`: one EI study (M = 2, 448 x 448, DINOv2 ViT-B/14 with 4 registers,
// random weights, maps on) through the engine's C++ API on the CPU; prints seconds per
// study, the analytic matrix-product FLOPs, the GEMM rate measured in the same run, the
// ratio achieved / GEMM peak, and the same study through the plain PyTorch reference
// (tests/models/reference, /usr/bin/python3, float32, same thread count) with the speed-up.
#include "bench/BenchCommand.h"
#include "bench/GemmRate.h"
#include "bench/StudyFlops.h"

#include "models/Device.h"
#include "models/ei/EiModel.h"
#include "models/Error.h"
#include "models/io/NpyFile.h"
#include "models/io/Safetensors.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <numeric>
#include <thread>

namespace ei::bench {
namespace {

namespace fs = std::filesystem;

struct Options {
    int reps = 2;
    int warmup = 1;
    int size = 448;
    int gemmSize = 2048;
    bool python = true;
    bool compareSettings = false;
    bool keepFreedMemory = true;  // EIVIEW_MALLOC=default: false
    std::string json;
};

Options parse(const std::vector<std::string>& args)
{
    Options o;
    for (size_t i = 0; i < args.size(); ++i) {
        auto value = [&]() -> std::string {
            if (i + 1 >= args.size())
                throw UsageError(args[i] + " needs a value");
            return args[++i];
        };
        auto number = [&](int lo) {
            const std::string v = value();
            try {
                int n = std::stoi(v);
                if (n < lo)
                    throw UsageError(args[i - 1] + " must be at least " + std::to_string(lo));
                return n;
            } catch (const std::logic_error&) {
                throw UsageError(args[i - 1] + ": not a number: " + v);
            }
        };
        if (args[i] == "--reps")
            o.reps = number(1);
        else if (args[i] == "--warmup")
            o.warmup = number(0);
        else if (args[i] == "--size")
            o.size = number(14);
        else if (args[i] == "--gemm-size")
            o.gemmSize = number(64);
        else if (args[i] == "--no-python")
            o.python = false;
        else if (args[i] == "--compare-settings")
            o.compareSettings = true;
        else if (args[i] == "--json")
            o.json = value();
        else
            throw UsageError("unknown option " + args[i]);
    }
    return o;
}

double seconds(std::chrono::steady_clock::time_point t0)
{
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

double median(std::vector<double> v)
{
    std::sort(v.begin(), v.end());
    return v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
}

std::string quote(const std::string& s)
{
    std::string out = "'";
    for (char c : s)
        out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

// Runs the reference; returns its JSON ({"seconds": [...], "fused": [...]}) or null.
nlohmann::json runPython(const fs::path& model, const std::vector<std::pair<std::string, fs::path>>& inputs,
                         const Options& o, const CpuThreads& t)
{
    const fs::path python = "/usr/bin/python3";
    const fs::path script = fs::path(EIVIEW_SOURCE_DIR) / "bench" / "reference_infer.py";
    if (!fs::exists(python) || !fs::exists(script))
        return nullptr;
    // The same conditions as the engine: its thread split and its allocator setting.
    std::string cmd = (t.blas > 0 ? "OPENBLAS_NUM_THREADS=" + std::to_string(t.blas) + " " : std::string()) +
                      (o.keepFreedMemory ? "MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=1073741824 " : "") +
                      quote(python.string()) + " " + quote(script.string()) + " --model " + quote(model.string()) +
                      " --reps " + std::to_string(o.reps) + " --warmup " + std::to_string(o.warmup) +
                      " --threads " + std::to_string(t.intraOp);
    for (const auto& [name, path] : inputs)
        cmd += " --input " + quote(name + "=" + path.string());
    FILE* pipe = popen(cmd.c_str(), "r");
    if (!pipe)
        return nullptr;
    std::string out;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, pipe)) > 0)
        out.append(buf, n);
    if (pclose(pipe) != 0) {
        std::cerr << "  (the PyTorch reference run failed; no comparison)\n";
        return nullptr;
    }
    return nlohmann::json::parse(out, nullptr, false);
}

int runInfer(const std::vector<std::string>& args)
{
    Options o = parse(args);
    if (const char* m = std::getenv("EIVIEW_MALLOC"))
        o.keepFreedMemory = std::string(m) != "default";
    configureCpuThreads();
    const CpuThreads policy = currentCpuThreads();
    const int threads = policy.intraOp;

    nlohmann::json cfgJson = {
        {"backbone", {{"family", "dinov2"}, {"num_register_tokens", 4}}},
        {"modalities", {{{"name", "CFP"}, {"kind", "image"}, {"size", {o.size, o.size}}},
                        {{"name", "OCT"}, {"kind", "image"}, {"size", {o.size, o.size}}}}},
        {"classes", {"normal", "dryAMD", "PCV", "wetAMD"}}};
    const ModelConfig config = ModelConfig::fromJson(cfgJson, "eiview-bench");
    torch::manual_seed(1);
    auto backboneWeights = VisionTransformer::randomWeights(config.backbone);
    auto backbone = std::make_shared<VisionTransformer>(config.backbone, backboneWeights, "eiview-bench");
    EiModel model(config, backbone, EiModel::initialParameters(config, true), "eiview-bench");

    std::vector<torch::Tensor> inputs;
    for (int m = 0; m < config.numModalities(); ++m)
        inputs.push_back(torch::randn({1, 3, o.size, o.size}));

    std::cout << "eiview-bench infer: EI, DINOv2 ViT-B/14 + 4 registers (random weights), M = 2, " << o.size << "x"
              << o.size << ", maps on, CPU, " << policy.intraOp << " LibTorch intra-op + "
              << policy.blas << " OpenBLAS threads\n";

    torch::Tensor fused;
    auto timeStudies = [&](int warmup, int reps) {
        std::vector<double> out;
        torch::InferenceMode guard;
        for (int r = 0; r < warmup + reps; ++r) {
            const auto t0 = std::chrono::steady_clock::now();
            EiOutputs result = model.forward(inputs, true);
            const double s = seconds(t0);
            if (r >= warmup)
                out.push_back(s);
            fused = result.fused.reshape({-1}).clone();
        }
        return out;
    };
    const std::vector<double> cppSeconds = timeStudies(o.warmup, o.reps);
    const StudyFlops flops = StudyFlops::forStudy(config, true);
    const GemmRate gemm = GemmRate::measure(o.gemmSize, 5);
    const double cppMedian = median(cppSeconds);
    const double achieved = flops.total() / cppMedian / 1e9;

    std::cout << std::fixed << std::setprecision(3);
    std::cout << "  C++ engine      : " << cppMedian << " s/study (median of " << o.reps << "; min "
              << *std::min_element(cppSeconds.begin(), cppSeconds.end()) << ")\n";
    std::cout << std::setprecision(1);
    std::cout << "  work            : " << flops.total() / 1e9 << " GFLOP in " << flops.passes
              << " backbone passes (backbone " << flops.backbone / 1e9 << ", MoR " << flops.mor / 1e9
              << ", heads/adapters/gate " << flops.heads / 1e9 << ")\n";
    std::cout << "  achieved        : " << achieved << " GFLOP/s\n";
    std::cout << "  GEMM peak       : " << gemm.gflops << " GFLOP/s (torch::mm " << gemm.size << "^3, best of 5)\n";
    std::cout << std::setprecision(3) << "  achieved / peak : " << achieved / gemm.gflops << "\n";

    nlohmann::json report = {{"threads", threads},
                             {"blas_threads", policy.blas},
                             {"size", o.size},
                             {"cpp_seconds", cppSeconds},
                             {"cpp_seconds_median", cppMedian},
                             {"gflop", flops.total() / 1e9},
                             {"passes", flops.passes},
                             {"achieved_gflops", achieved},
                             {"gemm_gflops", gemm.gflops},
                             {"ratio_to_gemm_peak", achieved / gemm.gflops}};

    if (o.compareSettings) {
        // LibTorch's own default (one intra-op thread per core) with OpenBLAS's pool on
        // top: the setting the policy in models/Device.h replaces.
        const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
        torch::set_num_threads(cores);
        const double naive = median(timeStudies(o.warmup, o.reps));
        setCpuThreads(0);
        std::cout << std::setprecision(3) << "  LibTorch default threads: " << naive << " s/study (" << cores
                  << " intra-op threads + OpenBLAS pool); policy speed-up " << naive / cppMedian << "x\n";
        report["libtorch_default_threads_seconds_median"] = naive;
        report["thread_policy_speedup"] = naive / cppMedian;
        // glibc's own malloc settings (large blocks mmapped and unmapped each time).
        keepFreedMemory(false);
        const double plainMalloc = median(timeStudies(o.warmup, o.reps));
        keepFreedMemory(o.keepFreedMemory);
        std::cout << "  glibc default malloc    : " << plainMalloc << " s/study; keeping freed memory speed-up "
                  << plainMalloc / cppMedian << "x\n";
        report["glibc_malloc_seconds_median"] = plainMalloc;
        report["malloc_setting_speedup"] = plainMalloc / cppMedian;
    }

    if (o.python) {
        // The same model and inputs, through files, for the reference.
        char tmpl[] = "/tmp/eiview-bench-XXXXXX";
        if (!mkdtemp(tmpl))
            throw ModelError("/tmp", "cannot create a temporary folder");
        const fs::path dir = tmpl;
        std::map<std::string, torch::Tensor> tensors = model.parameters();
        for (const auto& [name, t] : backbone->weights())
            tensors["backbone." + name] = t;
        const fs::path modelPath = dir / "bench.eimodel";
        writeSafetensors(modelPath.string(), tensors,
                         {{"format", "eiview-model"}, {"format_version", "1"}, {"config", config.toJsonText()},
                          {"intended_use", "benchmark, random weights"}});
        std::vector<std::pair<std::string, fs::path>> inputFiles;
        for (int m = 0; m < config.numModalities(); ++m) {
            const fs::path p = dir / (config.modalities[m].name + ".npy");
            const auto x = inputs[m].contiguous();
            writeNpy(p.string(), {1, 3, o.size, o.size}, x.data_ptr<float>());
            inputFiles.emplace_back(config.modalities[m].name, p);
        }
        std::cout << "  running the PyTorch reference (python3, float32, same threads and malloc settings)...\n"
                  << std::flush;
        const nlohmann::json py = runPython(modelPath, inputFiles, o, policy);
        std::error_code ec;
        fs::remove_all(dir, ec);
        if (py.is_object() && py.contains("seconds")) {
            const double pyMedian = median(py["seconds"].get<std::vector<double>>());
            double diff = 0;
            const auto ref = py["fused"].get<std::vector<double>>();
            for (size_t c = 0; c < ref.size() && c < size_t(fused.numel()); ++c)
                diff = std::max(diff, std::abs(ref[c] - fused[c].item<double>()));
            std::cout << std::setprecision(3) << "  PyTorch (Python): " << pyMedian << " s/study (median of " << o.reps
                      << ")\n  speed-up        : " << pyMedian / cppMedian << "x\n"
                      << "  fused logits, C++ vs reference: max |diff| " << std::scientific << diff << "\n";
            report["python_seconds"] = py["seconds"];
            report["python_seconds_median"] = pyMedian;
            report["speedup"] = pyMedian / cppMedian;
            report["fused_max_abs_diff"] = diff;
        } else {
            std::cout << "  PyTorch reference not available; no speed-up reported\n";
        }
    }
    if (!o.json.empty()) {
        std::ofstream f(o.json);
        f << report.dump(1) << "\n";
        if (!f)
            throw BadInputError(o.json, "cannot write the JSON report");
    }
    return 0;
}

}  // namespace

EI_BENCH_COMMAND({"infer", "[--reps N] [--warmup N] [--size PX] [--gemm-size N] [--no-python] [--compare-settings] [--json OUT]",
                  "seconds per EI study on the CPU vs GEMM peak and plain PyTorch", runInfer});

}  // namespace ei::bench

// `eiview-bench infer`: one EI study (M = 2, 448 x 448, DINOv2 ViT-B/14 with 4 registers,
// random weights, maps on) through the engine's C++ API on a device (--device) in a
// precision (--precision); prints seconds per study, the analytic matrix-product FLOPs,
// the GEMM rate measured in the same run on the same device and type, the ratio achieved
// / GEMM peak, fp32 on the same device for the difference and the speed ratio of a
// reduced precision, and plain PyTorch in the same run: on the CPU the reference model
// (tests/models/reference, float32, same thread count), on a GPU the same backbone work
// written plainly (bench/reference_gpu.py: one pass at a time, and batched in bf16; timm's
// ViT where installed). --studies N runs N studies in a row and reports the GPU memory.
#include "bench/BenchCommand.h"
#include "bench/BenchSupport.h"
#include "bench/GemmRate.h"
#include "bench/KernelProfile.h"
#include "bench/StudyFlops.h"

#include "models/Device.h"
#include "models/ei/EiModel.h"
#include "models/ei/GraphedForward.h"
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
    int studies = 0;              // > 0: memory over that many studies in a row
    std::string json;
    std::string profile;          // a Kineto trace of one plain forward
    DeviceOptions dev;
};

Options parse(const std::vector<std::string>& args)
{
    Options o;
    for (size_t i = 0; i < args.size(); ++i) {
        if (o.dev.take(args, i))
            continue;
        if (args[i] == "--reps")
            o.reps = intOptionValue(args, i, 1);
        else if (args[i] == "--warmup")
            o.warmup = intOptionValue(args, i, 0);
        else if (args[i] == "--size")
            o.size = intOptionValue(args, i, 14);
        else if (args[i] == "--gemm-size")
            o.gemmSize = intOptionValue(args, i, 64);
        else if (args[i] == "--no-python")
            o.python = false;
        else if (args[i] == "--compare-settings")
            o.compareSettings = true;
        else if (args[i] == "--studies")
            o.studies = intOptionValue(args, i, 1);
        else if (args[i] == "--json")
            o.json = optionValue(args, i);
        else if (args[i] == "--profile")
            o.profile = optionValue(args, i);
        else
            throw UsageError("unknown option " + args[i]);
    }
    return o;
}

// Runs the reference; returns its JSON ({"seconds": [...], "fused": [...]}) or null.
// In bf16 the reference runs under CPU autocast; t is the split the engine's passes ran with.
nlohmann::json runPython(const fs::path& model, const std::vector<std::pair<std::string, fs::path>>& inputs,
                         const Options& o, Precision precision, const CpuThreads& t)
{
    const fs::path python = "/usr/bin/python3";
    const fs::path script = fs::path(EIVIEW_SOURCE_DIR) / "bench" / "reference_infer.py";
    if (!fs::exists(python) || !fs::exists(script))
        return nullptr;
    // The same conditions as the engine: its thread split and its allocator setting.
    std::string cmd = (t.blas > 0 ? "OPENBLAS_NUM_THREADS=" + std::to_string(t.blas) + " " : std::string()) +
                      (o.keepFreedMemory ? "MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=1073741824 " : "") +
                      shellQuote(python.string()) + " " + shellQuote(script.string()) + " --model " + shellQuote(model.string()) +
                      " --reps " + std::to_string(o.reps) + " --warmup " + std::to_string(o.warmup) +
                      " --threads " + std::to_string(t.intraOp) + (precision == Precision::Bf16 ? " --bf16" : "");
    for (const auto& [name, path] : inputs)
        cmd += " --input " + shellQuote(name + "=" + path.string());
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

// Plain PyTorch on the GPU: bench/reference_gpu.py's JSON, or null.
nlohmann::json runGpuReference(const Options& o, const std::string& device)
{
    const std::string script = std::string(EIVIEW_SOURCE_DIR) + "/bench/reference_gpu.py";
    const char* py = std::getenv("EIVIEW_PYTHON");
    const std::string cmd = shellQuote(py ? py : "python3") + " " + shellQuote(script) + " --size " +
                            std::to_string(o.size) + " --device " + shellQuote(device) + " --reps " +
                            std::to_string(std::max(o.reps, 5)) + " --warmup " + std::to_string(std::max(o.warmup, 3));
    int rc = 0;
    const std::string out = capture(cmd, &rc);
    if (rc != 0)
        return nullptr;
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
    const torch::Device device = resolveDevice(o.dev.device);
    const Precision precision = resolvePrecision(parsePrecision(o.dev.precision), device);
    const CpuThreads passSplit = cpuThreadsFor(precision, policy);  // what MatmulPrecisionScope sets

    nlohmann::json cfgJson = {
        {"backbone", {{"family", "dinov2"}, {"num_register_tokens", 4}}},
        {"modalities", {{{"name", "CFP"}, {"kind", "image"}, {"size", {o.size, o.size}}},
                        {{"name", "OCT"}, {"kind", "image"}, {"size", {o.size, o.size}}}}},
        {"classes", {"normal", "dryAMD", "PCV", "wetAMD"}}};
    auto modelPtr = randomModel(cfgJson, 1, device, precision);
    EiModel& model = *modelPtr;
    const ModelConfig& config = model.config();
    const std::vector<torch::Tensor> inputs = randomInputs(config, 1, 2);  // on the host, as a study arrives
    nlohmann::json report = nlohmann::json::object();  // the --json output, filled as results come

    std::cout << "eiview-bench infer: EI, DINOv2 ViT-B/14 + 4 registers (random weights), M = 2, " << o.size << "x"
              << o.size << ", maps on, " << deviceName(device) << ", " << precisionName(precision);
    if (device.is_cpu())
        std::cout << ", " << passSplit.intraOp << " LibTorch intra-op + " << passSplit.blas << " OpenBLAS threads";
    std::cout << "\n";

    torch::Tensor fused;
    EiOutputs last;
    GraphedForward graphed(modelPtr);
    bool useGraphs = false;
    auto timeStudies = [&](int warmup, int reps) {
        torch::InferenceMode guard;
        return timeRuns(warmup, reps, device, [&] {
            last = useGraphs ? graphed.run(inputs, true) : model.forward(inputs, true);
            fused = last.fused.reshape({-1}).to(torch::kCPU).clone();
        });
    };
    // The first study after loading, without a warm-up (what a user waited for before
    // EiModel::warmUp), then the steady state: plain forwards, and where this build and
    // device can, replays of a captured CUDA graph (what the viewer and `infer` run).
    const double coldSeconds = timeStudies(0, 1).front();
    const long long opsPerStudy = countOperatorCalls([&] {
        torch::InferenceMode guard;
        (void)model.forward(inputs, true);
    });
    report["aten_operator_calls_per_study"] = opsPerStudy;
    std::vector<double> cppSeconds = timeStudies(o.warmup, o.reps);
    if (graphed.active()) {
        const double eager = median(cppSeconds);
        useGraphs = true;
        cppSeconds = timeStudies(o.warmup, o.reps);
        std::cout << std::fixed << std::setprecision(5) << "  C++ engine, plain forwards: " << eager
                  << " s/study; with CUDA graphs " << median(cppSeconds) << " (" << eager / median(cppSeconds)
                  << "x)\n";
        report["eager_seconds_median"] = eager;
    }
    report["cuda_graphs"] = useGraphs;
    const StudyFlops flops = StudyFlops::forStudy(config, true);
    const GemmRate gemm = [&] {
        const MatmulPrecisionScope settings(precision, device);  // the engine's settings for this precision
        return GemmRate::measure(o.gemmSize, 5, device, computeType(precision));
    }();
    const double cppMedian = median(cppSeconds);
    const double achieved = flops.total() / cppMedian / 1e9;

    std::cout << std::fixed << std::setprecision(device.is_cuda() ? 5 : 3);
    std::cout << "  C++ engine      : " << cppMedian << " s/study (median of " << o.reps << "; min "
              << *std::min_element(cppSeconds.begin(), cppSeconds.end()) << "; first study cold " << coldSeconds
              << ")\n";
    std::cout << std::setprecision(1);
    std::cout << "  work            : " << flops.total() / 1e9 << " GFLOP in " << flops.passes
              << " backbone passes (backbone " << flops.backbone / 1e9 << ", MoR " << flops.mor / 1e9
              << ", heads/adapters/gate " << flops.heads / 1e9 << ")\n";
    std::cout << "  achieved        : " << achieved << " GFLOP/s\n";
    std::cout << "  GEMM peak       : " << gemm.gflops << " GFLOP/s (torch::mm " << gemm.size << "^3, "
              << precisionName(precision) << ", best of 5)\n";
    std::cout << std::setprecision(3) << "  achieved / peak : " << achieved / gemm.gflops << "\n";
    std::cout << "  operator calls  : " << opsPerStudy << " ATen calls per study (plain forward)\n";

    report.update(nlohmann::json{{"device", deviceName(device)},
                             {"precision", precisionName(precision)},
                             {"threads", threads},
                             {"blas_threads", policy.blas},
                             {"size", o.size},
                             {"cpp_seconds", cppSeconds},
                             {"cpp_seconds_median", cppMedian},
                             {"cold_first_study_seconds", coldSeconds},
                             {"gflop", flops.total() / 1e9},
                             {"passes", flops.passes},
                             {"achieved_gflops", achieved},
                             {"gemm_gflops", gemm.gflops},
                             {"ratio_to_gemm_peak", achieved / gemm.gflops}});

    if (precision != Precision::Fp32) {
        // The same study in fp32 on the same device: what the precision costs and gains.
        const EiOutputs reduced = last;
        const torch::Tensor reducedFused = fused;
        model.setPrecision(Precision::Fp32);
        const double fp32Median = median(timeStudies(o.warmup, o.reps));
        double dProb = (reduced.fusedProbs - last.fusedProbs).abs().max().item<double>();
        for (std::size_t m = 0; m < last.probs.size(); ++m)
            dProb = std::max(dProb, (reduced.probs[m] - last.probs[m]).abs().max().item<double>());
        double dMap = 0;
        for (std::size_t m = 0; m < last.maps.size(); ++m)
            for (std::size_t k = 0; k < last.maps[m].size(); ++k)
                dMap = std::max(dMap, (reduced.maps[m][k].values - last.maps[m][k].values).abs().max().item<double>());
        model.setPrecision(precision);
        fused = reducedFused;
        std::cout << "  fp32, same device: " << fp32Median << " s/study; " << precisionName(precision) << " is "
                  << fp32Median / cppMedian << "x faster; max |d probability| " << std::scientific << dProb
                  << ", max |d map| " << dMap << std::fixed << "\n";
        report["fp32_seconds_median"] = fp32Median;
        report["speedup_vs_fp32"] = fp32Median / cppMedian;
        report["max_abs_diff_probability_vs_fp32"] = dProb;
        report["max_abs_diff_map_vs_fp32"] = dMap;
    }

    if (!o.profile.empty()) {
        // One plain forward (no graph replay: its kernels one by one, with their launches).
        torch::InferenceMode guard;
        if (profileRun(o.profile, device, [&] { (void)model.forward(inputs, true); })) {
            std::cout << "  profile         : one plain forward, " << o.profile << "\n";
            report["profile"] = o.profile;
        }
    }

    if (o.studies > 0) {
        // Memory over many studies in a row: what the process holds after the first ten
        // and after all of them (nvidia-smi; -1 on the CPU or without nvidia-smi).
        torch::InferenceMode guard;
        double after10 = -1;
        const auto t0 = std::chrono::steady_clock::now();
        for (int k = 0; k < o.studies; ++k) {
            const EiOutputs out = useGraphs ? graphed.run(inputs, true) : model.forward(inputs, true);
            (void)out.fused.to(torch::kCPU);
            if (k == 9)
                after10 = device.is_cuda() ? processGpuMemoryMiB() : -1;
        }
        const double total = secondsSince(t0);
        const double afterAll = device.is_cuda() ? processGpuMemoryMiB() : -1;
        std::cout << std::setprecision(5) << "  " << o.studies << " studies in a row: " << total / o.studies
                  << " s/study; GPU memory after 10: " << after10 << " MiB, after " << o.studies << ": " << afterAll
                  << " MiB\n";
        report["studies_in_a_row"] = o.studies;
        report["studies_seconds_per_study"] = total / o.studies;
        report["gpu_memory_mib_after_10"] = after10;
        report["gpu_memory_mib_after_all"] = afterAll;
    }

    if (device.is_cuda() && o.python) {
        std::cout << "  running plain PyTorch on the same GPU (bench/reference_gpu.py)...\n" << std::flush;
        const nlohmann::json ref = runGpuReference(o, deviceName(device));
        if (ref.is_object()) {
            for (const auto& [key, value] : ref.items()) {
                if (!value.is_number())
                    continue;
                const double ms = value.get<double>();
                std::cout << std::setprecision(3) << "  plain PyTorch " << key << ": " << ms << " ms/study; engine "
                          << (ms / 1000.0) / cppMedian << "x as fast\n";
            }
            report["plain_pytorch_ms"] = ref;
        } else {
            std::cout << "  plain PyTorch reference not available (python3 with torch)\n";
        }
        o.python = false;  // the CPU reference below is for the CPU
    }

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

    if (o.python && device.is_cpu()) {
        // The same model and inputs, through files, for the reference.
        char tmpl[] = "/tmp/eiview-bench-XXXXXX";
        if (!mkdtemp(tmpl))
            throw ModelError("/tmp", "cannot create a temporary folder");
        const fs::path dir = tmpl;
        std::map<std::string, torch::Tensor> tensors = model.parameters();
        for (const auto& [name, t] : model.backbone().weights())
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
        const bool bf16 = precision == Precision::Bf16;
        std::cout << "  running the PyTorch reference (python3, " << (bf16 ? "bf16 autocast" : "float32")
                  << ", same threads and malloc settings)...\n"
                  << std::flush;
        const nlohmann::json py = runPython(modelPath, inputFiles, o, precision, passSplit);
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
            report["python_precision"] = bf16 ? "bf16 autocast" : "fp32";
            report["speedup"] = pyMedian / cppMedian;
            report["fused_max_abs_diff"] = diff;
        } else {
            std::cout << "  PyTorch reference not available; no speed-up reported\n";
        }
    }
    writeJsonReport(o.json, report);
    return 0;
}

}  // namespace

EI_BENCH_COMMAND({"infer",
                  "[--device D] [--precision P] [--reps N] [--warmup N] [--size PX] [--gemm-size N] [--studies N] "
                  "[--no-python] [--compare-settings] [--json OUT] [--profile TRACE]",
                  "seconds per EI study on a device vs its GEMM peak, fp32 and plain PyTorch", runInfer});

}  // namespace ei::bench

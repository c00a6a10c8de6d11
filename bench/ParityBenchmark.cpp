// `eiview-bench parity --cases CASES.json [--device D] [--precisions fp32,tf32,bf16,fp16]
// [--json OUT]`: every parity case (tests/models/parity_test.py --dump-cases) as a random
// model, run on the CPU in fp32 and on the device in each precision; the differences of
// logits, probabilities, gate weights and maps against the CPU, checked against the
// tolerances of docs/model.md ("Precision"). For a GPU box without the Qt test suite:
// bench/gpu-check.sh runs it. Exit 1 when a case is outside its tolerance.
#include "bench/BenchCommand.h"
#include "bench/BenchSupport.h"

#include "models/Device.h"
#include "models/ei/GraphedForward.h"
#include "models/Error.h"

#include <fstream>
#include <iomanip>
#include <iostream>
#include <sstream>

namespace ei::bench {
namespace {

struct Tolerance {
    double logits;  // relative: |a - b| / max(1, |b|)
    double probs;   // absolute, probabilities and gate weights
    double maps;    // absolute
};

// docs/model.md, "Precision": fp32 as the parity suite; tf32 and the 16-bit types as measured.
Tolerance toleranceFor(Precision p)
{
    switch (p) {
    case Precision::Fp32: return {1e-4, 1e-4, 1e-4};
    case Precision::Tf32: return {0.02, 0.005, 0.01};
    default: return {0.1, 0.02, 0.05};
    }
}

struct Diff {
    double logits = 0, probs = 0, maps = 0;
};

double relMax(const torch::Tensor& a, const torch::Tensor& b)
{
    const auto x = a.to(torch::kCPU, torch::kDouble), y = b.to(torch::kCPU, torch::kDouble);
    return ((x - y).abs() / y.abs().clamp_min(1.0)).max().item<double>();
}

double absMax(const torch::Tensor& a, const torch::Tensor& b)
{
    return (a.to(torch::kCPU, torch::kDouble) - b.to(torch::kCPU, torch::kDouble)).abs().max().item<double>();
}

Diff compare(const EiOutputs& got, const EiOutputs& ref)
{
    Diff d;
    auto finite = [](const torch::Tensor& t) { return t.isfinite().all().item<bool>(); };
    if (!finite(got.fused) || !finite(got.fusedProbs))
        return {1e9, 1e9, 1e9};
    d.logits = relMax(got.fused, ref.fused);
    d.probs = std::max(absMax(got.fusedProbs, ref.fusedProbs), absMax(got.gate, ref.gate));
    for (std::size_t m = 0; m < ref.logits.size(); ++m) {
        d.logits = std::max(d.logits, relMax(got.logits[m], ref.logits[m]));
        d.probs = std::max(d.probs, absMax(got.probs[m], ref.probs[m]));
    }
    for (std::size_t m = 0; m < ref.auxLogits.size(); ++m)
        d.logits = std::max(d.logits, relMax(got.auxLogits[m], ref.auxLogits[m]));
    for (std::size_t m = 0; m < ref.maps.size(); ++m)
        for (std::size_t k = 0; k < ref.maps[m].size(); ++k)
            d.maps = std::max(d.maps, absMax(got.maps[m][k].values, ref.maps[m][k].values));
    return d;
}

int runParity(const std::vector<std::string>& args)
{
    DeviceOptions dev;
    dev.device = "auto";
    std::string casesPath, jsonPath, precisionList = "fp32,tf32,bf16,fp16";
    for (std::size_t i = 0; i < args.size(); ++i) {
        if (dev.take(args, i))
            continue;
        if (args[i] == "--cases")
            casesPath = optionValue(args, i);
        else if (args[i] == "--precisions")
            precisionList = optionValue(args, i);
        else if (args[i] == "--json")
            jsonPath = optionValue(args, i);
        else
            throw UsageError("unknown option " + args[i]);
    }
    if (casesPath.empty())
        throw UsageError("--cases CASES.json is required (tests/models/parity_test.py --dump-cases CASES.json)");
    std::ifstream in(casesPath);
    const nlohmann::json cases = nlohmann::json::parse(in, nullptr, false);
    if (!cases.is_array())
        throw BadInputError(casesPath, "not a JSON list of parity cases");
    configureCpuThreads();
    const torch::Device device = resolveDevice(dev.device);
    std::vector<Precision> precisions;
    std::stringstream list(precisionList);
    for (std::string name; std::getline(list, name, ',');) {
        const Precision p = parsePrecision(name);
        if (p == Precision::Fp16 && !device.is_cuda())
            continue;  // the CPU has no fp16 path
        precisions.push_back(p);
    }

    torch::InferenceMode guard;
    nlohmann::json report = nlohmann::json::array();
    int failures = 0;
    std::cout << "eiview-bench parity: " << cases.size() << " cases, CPU fp32 vs " << deviceName(device) << "\n";
    for (const auto& c : cases) {
        const std::string name = c.at("name");
        auto model = randomModel(c.at("config"), c.value("seed", 7u), torch::kCPU, Precision::Fp32);
        const auto inputs = randomInputs(model->config(), 1, 11);
        const auto other = randomInputs(model->config(), 1, 12);
        const EiOutputs ref = model->forward(inputs, true);
        model->to(device);
        GraphedForward graphed(model);
        for (const Precision p : precisions) {
            model->setPrecision(p);
            auto check = [&](const EiOutputs& got, bool graph) {
                const Diff d = compare(got, ref);
                const Tolerance t = toleranceFor(p);
                const bool ok = d.logits <= t.logits && d.probs <= t.probs && d.maps <= t.maps;
                failures += ok ? 0 : 1;
                const std::string label = precisionName(p) + (graph ? "+graph" : "");
                std::cout << (ok ? "  PASS " : "  FAIL ") << std::left << std::setw(36) << name << std::setw(11)
                          << label << std::scientific << std::setprecision(2) << " logits " << d.logits
                          << "  probs/gate " << d.probs << "  maps " << d.maps << std::fixed << "\n";
                report.push_back({{"case", name}, {"precision", precisionName(p)}, {"device", deviceName(device)},
                                  {"cuda_graph", graph}, {"max_rel_diff_logits", d.logits},
                                  {"max_abs_diff_probs_gate", d.probs}, {"max_abs_diff_maps", d.maps}, {"pass", ok}});
            };
            check(model->forward(inputs, true), false);
            if (graphed.active()) {
                (void)graphed.run(other, true);          // captures with other inputs,
                check(graphed.run(inputs, true), true);  // so the replay must copy these in
            }
        }
    }
    std::cout << (failures ? "FAILED: " + std::to_string(failures) + " case/precision pairs outside tolerance\n"
                           : "all cases within tolerance\n");
    writeJsonReport(jsonPath, report);
    return failures ? 1 : 0;
}

}  // namespace

EI_BENCH_COMMAND({"parity", "--cases CASES.json [--device D] [--precisions fp32,tf32,bf16,fp16] [--json OUT]",
                  "every parity case, CPU fp32 vs a device in each precision, against the documented tolerances",
                  runParity});

}  // namespace ei::bench

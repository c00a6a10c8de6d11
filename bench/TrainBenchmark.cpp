// `eiview-bench train [--device D] [--precision P] [--size PX] [--batch N] [--steps N]
// [--warmup N] [--json OUT] [--profile TRACE]`: training throughput (studies per second)
// of both stages on random data: stage 1 (one unimodal model: backbone pass, head) and
// stage 2 (`ei`, M = 2: auxiliary and primary passes, the loss of MODEL.md section 5,
// backward to the MoR sets, adapters, heads and gate, the trainer's SGD step), DINOv2
// ViT-B/14 + 4 registers, frozen. Reduced precisions run as the trainer runs them (fp16
// with loss scaling). Each stage also runs with the optimiser one parameter at a time, in
// the same process, for reference. --profile writes a Kineto trace of one stage-2 step.
#include "bench/BenchCommand.h"
#include "bench/BenchSupport.h"
#include "bench/KernelProfile.h"

#include "models/Device.h"
#include "models/Error.h"
#include "models/train/Loss.h"
#include "models/train/LossScaler.h"
#include "models/train/Optimizer.h"

#include <fstream>
#include <iomanip>
#include <iostream>

namespace ei::bench {
namespace {

double stageThroughput(const nlohmann::json& config, const torch::Device& device, Precision precision, int batch,
                       int warmup, int steps, const std::string& profile = {})
{
    auto model = randomModel(config, 3, device, precision);
    for (auto& [name, t] : model->parameters())
        t.requires_grad_(true);
    const ModelConfig& c = model->config();
    const auto inputs = randomInputs(c, batch, 4, device);
    const auto target = torch::randint(0, c.numClasses(), {batch}, torch::TensorOptions().device(device).dtype(torch::kLong));
    const torch::Tensor oneHot = torch::one_hot(target, c.numClasses()).to(torch::kFloat);
    LossScaler scaler(precision == Precision::Fp16);
    LossOptions options;
    TrainConfig trainConfig;  // SGD, the trainer's default
    ScheduleValue schedule;
    schedule.lr = 1e-4;
    schedule.momentum = 0.9;
    std::map<std::string, torch::Tensor> momentum, unused;
    long long iteration = 0;
    bool perParameter = false;
    auto step = [&] {
        const EiOutputs out = model->forward(inputs);
        torch::Tensor loss;
        if (c.fusion == "unimodal") {
            loss = classificationLoss(out.logits[0], oneHot, false);
        } else {
            auto& p = model->parameters();
            const auto alpha = trainingGate(out.primaryCls, p.at("gate.weight"), p.at("gate.bias"));
            loss = fusionLoss(out.logits, out.auxLogits, alpha, oneHot, options).total;
        }
        scaler.scaled(loss).backward();
        const bool ok = scaler.unscale(model->parameters());
        ++iteration;
        if (!perParameter) {  // the trainer's own step (SGD with momentum, multi-tensor)
            stepAndResetGradients(trainConfig, schedule, iteration, model->parameters(), ok, momentum, unused);
            return;
        }
        // the reference: one parameter at a time, as before the multi-tensor step
        torch::NoGradGuard noGrad;
        for (auto& [name, t] : model->parameters()) {
            torch::Tensor g = t.grad();
            if (!g.defined())
                continue;
            if (ok)
                optimizerStep(trainConfig, schedule, iteration, t, g, momentum[name], unused[name]);
            g.zero_();
        }
    };
    // The optimiser one parameter at a time, in the same process: the reference.
    perParameter = true;
    const double perParameterSeconds = median(timeRuns(warmup, steps, device, step));
    const long long perParameterCalls = countOperatorCalls(step);
    perParameter = false;
    const auto seconds = timeRuns(warmup, steps, device, step);
    const long long calls = countOperatorCalls(step);
    std::cout << "  " << config.value("fusion", std::string("ei")) << ": " << calls << " ATen calls per step ("
              << perParameterCalls << " with the optimiser one parameter at a time, "
              << batch / perParameterSeconds << " studies/s)\n";
    if (!profile.empty() && profileRun(profile, device, step))
        std::cout << "  profile of one step: " << profile << "\n";
    return batch / median(seconds);
}

int runTrain(const std::vector<std::string>& args)
{
    DeviceOptions dev;
    dev.device = "auto";
    int size = 224, batch = 16, steps = 5, warmup = 2;
    std::string jsonPath, profile;
    for (std::size_t i = 0; i < args.size(); ++i) {
        if (dev.take(args, i))
            continue;
        if (args[i] == "--size")
            size = intOptionValue(args, i, 14);
        else if (args[i] == "--batch")
            batch = intOptionValue(args, i, 1);
        else if (args[i] == "--steps")
            steps = intOptionValue(args, i, 1);
        else if (args[i] == "--warmup")
            warmup = intOptionValue(args, i, 0);
        else if (args[i] == "--json")
            jsonPath = optionValue(args, i);
        else if (args[i] == "--profile")
            profile = optionValue(args, i);
        else
            throw UsageError("unknown option " + args[i]);
    }
    configureCpuThreads();
    const torch::Device device = resolveDevice(dev.device);
    const Precision precision = resolvePrecision(parsePrecision(dev.precision), device);
    const nlohmann::json backbone = {{"family", "dinov2"}, {"num_register_tokens", 4}};
    const nlohmann::json image1 = {{"name", "CFP"}, {"kind", "image"}, {"size", {size, size}}};
    const nlohmann::json image2 = {{"name", "OCT"}, {"kind", "image"}, {"size", {size, size}}};
    const nlohmann::json classes = {"normal", "dryAMD", "PCV", "wetAMD"};
    const nlohmann::json stage1 = {{"backbone", backbone}, {"modalities", {image1}}, {"classes", classes}, {"fusion", "unimodal"}};
    const nlohmann::json stage2 = {{"backbone", backbone}, {"modalities", {image1, image2}}, {"classes", classes}};

    std::cout << "eiview-bench train: DINOv2 ViT-B/14 + 4 registers (frozen, random), " << size << "x" << size
              << ", batch " << batch << ", " << deviceName(device) << ", " << precisionName(precision) << "\n";
    const MatmulPrecisionScope settings(precision, device);  // as the trainer: forward and backward
    const double s1 = stageThroughput(stage1, device, precision, batch, warmup, steps);
    std::cout << std::fixed << std::setprecision(1) << "  stage 1 (unimodal): " << s1 << " studies/s\n" << std::flush;
    const double s2 = stageThroughput(stage2, device, precision, batch, warmup, steps, profile);
    std::cout << "  stage 2 (ei, M = 2): " << s2 << " studies/s\n";
    const nlohmann::json report = {{"device", deviceName(device)}, {"precision", precisionName(precision)},
                                   {"size", size}, {"batch", batch}, {"steps", steps},
                                   {"stage1_studies_per_s", s1}, {"stage2_studies_per_s", s2}};
    writeJsonReport(jsonPath, report);
    return 0;
}

}  // namespace

EI_BENCH_COMMAND({"train",
                  "[--device D] [--precision P] [--size PX] [--batch N] [--steps N] [--warmup N] [--json OUT] "
                  "[--profile TRACE]",
                  "training throughput of stage 1 and stage 2 (studies/s)", runTrain});

}  // namespace ei::bench

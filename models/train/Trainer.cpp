// The two-stage trainer of MODEL.md section 5; see Trainer.h for the design.
#include "models/train/Trainer.h"

#include "models/io/Sha256.h"

#include "models/train/Augment.h"
#include "models/Device.h"
#include "models/Precision.h"
#include "models/train/LossScaler.h"
#include "models/Error.h"
#include "models/train/Loss.h"
#include "models/train/Metrics.h"
#include "models/train/TrainingBatch.h"
#include "models/io/Safetensors.h"

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <future>
#include <random>

namespace ei {
namespace {

namespace fs = std::filesystem;
using Params = std::map<std::string, torch::Tensor>;

struct Stage {
    std::string name;
    ModelConfig config;
    std::vector<int> columns;  // example columns, in the stage model's modality order
    bool fusion = false;
    int maxEpochs = 0;
};

bool startsWith(const std::string& s, const std::string& head)
{
    return s.compare(0, head.size(), head) == 0;
}

Params cloneParams(const Params& p)
{
    Params out;
    for (const auto& [k, v] : p)
        out[k] = v.detach().clone();
    return out;
}

// Stage 2 starts from stage 1 (MODEL.md section 5): aux MoR + head = modality m's
// stage-1 model, primary MoR = a copy of the same MoR; primary heads, adapters and
// the gate keep their fresh values.
void seedFromStage1(Params& params, int m, const Params& uni, bool ei)
{
    const std::string mor = "mor.uni.0.", head = "head.uni.0.";
    for (const auto& [name, value] : uni) {
        if (startsWith(name, mor)) {
            const std::string rest = name.substr(mor.size());
            params["mor.primary." + std::to_string(m) + "." + rest] = value.detach().clone();
            if (ei)
                params["mor.aux." + std::to_string(m) + "." + rest] = value.detach().clone();
        } else if (startsWith(name, head) && ei) {
            params["head.aux." + std::to_string(m) + "." + name.substr(head.size())] = value.detach().clone();
        }
    }
}

std::uint32_t mixSeed(unsigned seed, int stage, int epoch)
{
    std::seed_seq seq{static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(stage), static_cast<std::uint32_t>(epoch),
                      0x45495654u};
    std::uint32_t out;
    seq.generate(&out, &out + 1);
    return out;
}

}  // namespace

struct Trainer::Private {
    TrainConfig config;
    ModelConfig modelConfig;
    std::shared_ptr<VisionTransformer> backbone;
    fs::path runDir;
    int unimodalColumn = 0;
    bool resumeOnOtherData = false;  // setResumeOnOtherData
    torch::Device device{torch::kCPU};
    std::function<void(const nlohmann::json&)> onEvent;
    const JobControl* control = nullptr;

    std::vector<Stage> stages() const
    {
        std::vector<Stage> out;
        const int stage1Epochs = config.stage1MaxEpochs >= 0 ? config.stage1MaxEpochs : config.maxEpochs;
        if (modelConfig.fusion == "unimodal") {
            out.push_back({"stage1:" + modelConfig.modalities.at(0).name, modelConfig, {unimodalColumn}, false, config.maxEpochs});
            return out;
        }
        for (int m = 0; m < modelConfig.numModalities(); ++m) {
            ModelConfig uni = modelConfig;
            uni.fusion = "unimodal";
            uni.modalities = {modelConfig.modalities[m]};
            out.push_back({"stage1:" + modelConfig.modalities[m].name, uni, {m}, false, stage1Epochs});
        }
        std::vector<int> all;
        for (int m = 0; m < modelConfig.numModalities(); ++m)
            all.push_back(m);
        out.push_back({"stage2:" + modelConfig.fusion, modelConfig, all, true, config.maxEpochs});
        return out;
    }

    void emit(nlohmann::json event)
    {
        const std::string line = event.dump();
        std::ofstream log(runDir / "progress.jsonl", std::ios::app);
        log << line << "\n";
        if (onEvent)
            onEvent(event);
    }

    std::uintmax_t progressBytes() const
    {
        std::error_code ec;
        const auto n = fs::file_size(runDir / "progress.jsonl", ec);
        return ec ? 0 : n;
    }

    double validate(const EiModel& model, const Stage& stage, const std::vector<TrainingExample>& val,
                    EvalMetrics* metricsOut = nullptr) const
    {
        const auto probs = Trainer::predict(model, val, stage.columns, config.batchSize);
        std::vector<std::vector<int>> targets;
        for (const auto& ex : val) {
            std::vector<int> t;
            for (int c = 0; c < ex.target.size(0); ++c)
                t.push_back(ex.target[c].item<float>() > 0.5f ? 1 : 0);
            targets.push_back(t);
        }
        auto metrics = evaluateClassification(probs, probs, targets, modelConfig.classes, modelConfig.multilabel);
        if (metricsOut)
            *metricsOut = metrics;
        return metrics.mAP.value_or(0.0);
    }
};

Trainer::Trainer(TrainConfig config, ModelConfig modelConfig, std::shared_ptr<VisionTransformer> backbone,
                 std::string runDir, int unimodalColumn)
    : d(std::make_shared<Private>())
{
    d->config = std::move(config);
    d->modelConfig = std::move(modelConfig);
    d->backbone = std::move(backbone);
    d->runDir = runDir;
    d->unimodalColumn = unimodalColumn;
    std::string dev = d->config.device;
    if (dev == "auto")
        dev = torch::cuda::is_available() ? "cuda" : "cpu";
    try {
        d->device = torch::Device(dev);
    } catch (const std::exception&) {
        throw BadInputError("", "training config: unknown device '" + d->config.device + "'");
    }
    if (d->device.is_cuda() && !torch::cuda::is_available())
        throw BadInputError("", "training config: device '" + dev + "' is not available in this LibTorch build");
}

std::int64_t Trainer::trainableParameterCount(const ModelConfig& config)
{
    std::int64_t n = 0;
    for (const auto& [name, shape] : EiModel::tensorShapes(config)) {
        std::int64_t k = 1;
        for (auto s : shape)
            k *= s;
        n += k;
    }
    return n;
}

std::vector<std::vector<double>> Trainer::predict(const EiModel& model, const std::vector<TrainingExample>& examples,
                                                  const std::vector<int>& columns, int batchSize, bool logits, int without)
{
    torch::NoGradGuard noGrad;
    const auto& config = model.config();
    std::vector<std::vector<double>> out;
    for (std::size_t start = 0; start < examples.size(); start += batchSize) {
        const std::size_t end = std::min(examples.size(), start + batchSize);
        std::vector<torch::Tensor> inputs;
        for (std::size_t k = 0; k < columns.size(); ++k) {
            if (static_cast<int>(k) == without) {
                inputs.emplace_back();  // run without this modality
                continue;
            }
            std::vector<torch::Tensor> items;
            for (std::size_t i = start; i < end; ++i)
                items.push_back(preparedInput(examples[i], columns[k], config.modalities[k], config));
            inputs.push_back(toModelBatch(items, config.modalities[k]).to(model.device()));
        }
        const auto result = model.forward(inputs);
        const auto scores = (logits ? result.fused : result.fusedProbs).to(torch::kCPU, torch::kDouble).contiguous();
        for (int64_t i = 0; i < scores.size(0); ++i)
            out.emplace_back(scores[i].data_ptr<double>(), scores[i].data_ptr<double>() + scores.size(1));
    }
    return out;
}

void optimizerStep(const TrainConfig& c, const ScheduleValue& s, long long step, torch::Tensor& p, const torch::Tensor& g,
                   torch::Tensor& first, torch::Tensor& second)
{
    torch::NoGradGuard noGrad;
    if (c.optimizer == "adamw") {
        if (!first.defined())
            first = torch::zeros_like(p);
        if (!second.defined())
            second = torch::zeros_like(p);
        const double beta1 = s.momentum, beta2 = c.beta2, t = static_cast<double>(step);
        first.mul_(beta1).add_(g, 1 - beta1);
        second.mul_(beta2).addcmul_(g, g, 1 - beta2);
        const auto denom = (second / (1 - std::pow(beta2, t))).sqrt_().add_(c.adamEps);
        p.mul_(1 - s.lr * c.weightDecay);
        p.addcdiv_(first, denom, -s.lr / (1 - std::pow(beta1, t)));
        return;
    }
    const auto dp = g + c.weightDecay * p;
    if (!first.defined())
        first = dp.clone();
    else
        first.mul_(s.momentum).add_(dp);
    p.sub_(s.lr * first);
}

void Trainer::setResumeOnOtherData(bool allow) { d->resumeOnOtherData = allow; }

std::string Trainer::dataFingerprint(const TrainingData& data)
{
    Sha256 h;
    auto add = [&h](const std::vector<TrainingExample>& list, const char* split) {
        h.update(std::string(split) + ":" + std::to_string(list.size()) + ";");
        for (const TrainingExample& e : list) {
            std::string line;
            for (const auto* group : {&e.raw, &e.prepared})
                for (const torch::Tensor& t : *group) {
                    if (!t.defined()) {
                        line += "-,";
                        continue;
                    }
                    for (auto n : t.sizes())
                        line += std::to_string(n) + "x";
                    const torch::Tensor f = t.to(torch::kDouble);
                    char buf[64];
                    std::snprintf(buf, sizeof buf, "%.12g/%.12g,", f.sum().item<double>(), f.abs().sum().item<double>());
                    line += buf;
                }
            const torch::Tensor target = e.target.to(torch::kFloat).contiguous();
            for (std::int64_t k = 0; k < target.numel(); ++k)
                line += std::to_string(target.data_ptr<float>()[k]) + " ";
            h.update(line + "\n");
        }
    };
    add(data.train, "train");
    add(data.val, "val");
    return h.hexDigest();
}

TrainOutcome Trainer::run(const TrainingData& data, bool resume, const std::function<void(const nlohmann::json&)>& onEvent,
                          const JobControl* control)
{
    auto& P = *d;
    P.onEvent = onEvent;
    P.control = control;
    if (data.train.empty() || data.val.empty())
        throw BadInputError("", "training needs at least one train and one val study");
    configureCpuThreads();  // models/Device.h: thread split and allocator setting
    if (P.config.threads > 0)
        setCpuThreads(P.config.threads);
    std::error_code ec;
    fs::create_directories(P.runDir, ec);
    if (ec)
        throw BadInputError(P.runDir.string(), "cannot create the run folder: " + ec.message());
    const fs::path checkpointPath = P.runDir / "checkpoint.safetensors";
    P.backbone->to(P.device);

    const auto stages = P.stages();
    // The backbone and MoR passes in the configured precision, weights and optimizer state
    // in float32; fp16 with dynamic loss scaling. A backbone that trains stays float32.
    const Precision requested = parsePrecision(P.config.precision);
    const Precision precision =
        P.config.trainBackbone && requested == Precision::Auto ? Precision::Fp32 : resolvePrecision(requested, P.device);
    if (P.config.trainBackbone && isReduced(precision))
        throw BadInputError("", "training config: train_backbone needs precision fp32 or tf32, not " +
                                    precisionName(precision));
    LossScaler scaler(precision == Precision::Fp16);
    std::map<std::string, Params> finished;  // stage name -> best parameters
    nlohmann::json stageSummaries = nlohmann::json::array();
    int stageIndex = 0, epochsDone = 0;
    long long iteration = 0;
    double best = -1;
    int bestEpoch = 0, sinceBest = 0;
    bool midStage = false;
    Params current, momentum, secondMoment, bestParams;

    const std::string fingerprint = dataFingerprint(data);  // recorded in checkpoints, checked on resume
    if (resume) {
        if (!fs::exists(checkpointPath))
            throw BadInputError(checkpointPath.string(), "nothing to resume: no checkpoint in the run folder");
        const auto file = readSafetensors(checkpointPath.string());
        checkTensorDigest(file, checkpointPath.string());  // flipped bits must not resume
        nlohmann::json state;
        try {
            const auto text = file.metadata.find("state");
            if (text == file.metadata.end())
                throw BadInputError(checkpointPath.string(), "is not a resumable checkpoint: it holds no training state");
            state = nlohmann::json::parse(text->second);
            for (const char* key : {"stage_index", "epochs_done", "iteration", "best", "best_epoch", "since_best", "mid_stage",
                                    "stages", "progress_bytes", "train_config", "model_config"})
                if (!state.contains(key))
                    throw BadInputError(checkpointPath.string(), std::string("is not a resumable checkpoint: its state lacks '") + key + "'");
        } catch (const nlohmann::json::exception& e) {
            throw BadInputError(checkpointPath.string(), std::string("is not a resumable checkpoint: its state is not JSON (") + e.what() + ")");
        }
        if (state.at("train_config") != P.config.toJson() || state.at("model_config") != P.modelConfig.toJson())
            throw BadInputError(checkpointPath.string(), "the run was started with another training or model config");
        if (state.contains("data_fingerprint") && state.at("data_fingerprint") != fingerprint && !P.resumeOnOtherData)
            throw BadInputError(checkpointPath.string(),
                                "the run was started on another data set (other studies, labels or splits); resuming "
                                "would mix two trainings. Start a new run, or resume anyway with --resume-other-data");
        stageIndex = state.at("stage_index").get<int>();
        epochsDone = state.at("epochs_done").get<int>();
        iteration = state.at("iteration").get<long long>();
        best = state.at("best").get<double>();
        bestEpoch = state.at("best_epoch").get<int>();
        sinceBest = state.at("since_best").get<int>();
        midStage = state.at("mid_stage").get<bool>();
        stageSummaries = state.at("stages");
        for (const auto& [name, t] : file.tensors) {
            const auto slash = name.find('/');
            const std::string kind = name.substr(0, slash), rest = name.substr(slash + 1);
            if (kind == "done") {
                const auto slash2 = rest.find('/');
                finished[rest.substr(0, slash2)][rest.substr(slash2 + 1)] = t.to(torch::kFloat);
            } else if (kind == "cur") {
                current[rest] = t.to(torch::kFloat);
            } else if (kind == "mom") {
                momentum[rest] = t.to(torch::kFloat);
            } else if (kind == "sq") {
                secondMoment[rest] = t.to(torch::kFloat);
            } else if (kind == "best") {
                bestParams[rest] = t.to(torch::kFloat);
            }
        }
        // progress.jsonl holds exactly what the checkpointed run had logged.
        fs::resize_file(P.runDir / "progress.jsonl", state.at("progress_bytes").get<std::uintmax_t>(), ec);
        P.emit({{"event", "resume"}, {"stage", stageIndex < static_cast<int>(stages.size()) ? stages[stageIndex].name : "done"},
                {"epochs_done", epochsDone}});
    } else {
        if (fs::exists(checkpointPath))
            throw BadInputError(checkpointPath.string(), "the run folder already holds a run; use --resume or another --out");
        std::ofstream(P.runDir / "progress.jsonl", std::ios::trunc);
    }

    auto writeCheckpoint = [&](bool mid, int atStage) {
        std::map<std::string, torch::Tensor> tensors;
        for (const auto& [stage, params] : finished)
            for (const auto& [name, t] : params)
                tensors["done/" + stage + "/" + name] = t;
        if (mid) {
            for (const auto& [name, t] : current)
                tensors["cur/" + name] = t;
            for (const auto& [name, t] : momentum)
                if (t.defined())
                    tensors["mom/" + name] = t;
            for (const auto& [name, t] : secondMoment)
                if (t.defined())
                    tensors["sq/" + name] = t;
            for (const auto& [name, t] : bestParams)
                tensors["best/" + name] = t;
        }
        nlohmann::json state{{"stage_index", atStage}, {"epochs_done", epochsDone}, {"iteration", iteration},
                             {"best", best}, {"best_epoch", bestEpoch}, {"since_best", sinceBest}, {"mid_stage", mid},
                             {"stages", stageSummaries}, {"progress_bytes", P.progressBytes()},
                             {"train_config", P.config.toJson()}, {"model_config", P.modelConfig.toJson()},
                             {"data_fingerprint", fingerprint}};
        writeSafetensors(checkpointPath.string(), tensors,
                         {{"format", "eiview-training-checkpoint"}, {"state", state.dump()}, {kTensorDigestKey, tensorDigest(tensors)}});
    };

    const auto& train = data.train;
    const int itersPerEpoch = static_cast<int>((train.size() + P.config.batchSize - 1) / P.config.batchSize);

    for (; stageIndex < static_cast<int>(stages.size()); ++stageIndex) {
        const Stage& stage = stages[stageIndex];
        Params initial;
        if (midStage) {
            for (const auto& [name, t] : current)
                if (!startsWith(name, "backbone."))
                    initial[name] = t;
        } else {
            torch::manual_seed(static_cast<std::uint64_t>(P.config.seed) * 1000 + stageIndex);
            initial = EiModel::initialParameters(stage.config, false);
            if (stage.fusion)
                for (int m = 0; m < P.modelConfig.numModalities(); ++m)
                    seedFromStage1(initial, m, finished.at(stages[m].name), P.modelConfig.fusion == "ei");
            epochsDone = 0;
            iteration = 0;
            sinceBest = 0;
            bestEpoch = 0;
            momentum.clear();
            secondMoment.clear();
        }
        for (auto& [name, t] : initial)
            t = t.to(P.device);
        EiModel model(stage.config, P.backbone, initial, "training (" + stage.name + ")");
        model.setPrecision(precision);
        Params& params = model.parameters();
        for (auto& [name, t] : params)
            t.requires_grad_(true);
        std::int64_t trainable = 0;
        for (const auto& [name, t] : params)
            trainable += t.numel();
        // With train_backbone, the backbone's tensors join the optimised set under
        // "backbone.<name>" (checkpoints and best copies included).
        Params optimised = params;
        if (P.config.trainBackbone && !stage.fusion) {
            for (const auto& [name, t] : P.backbone->weights()) {
                t.requires_grad_(true);
                optimised["backbone." + name] = t;
                trainable += t.numel();
            }
            if (midStage)
                for (const auto& [name, t] : current)
                    if (startsWith(name, "backbone.")) {
                        torch::NoGradGuard noGrad;
                        optimised.at(name).copy_(t);
                    }
        }

        LossOptions lossOptions;
        lossOptions.multilabel = P.modelConfig.multilabel;
        lossOptions.lambda1 = P.config.lambda1;
        lossOptions.lambda2 = P.config.lambda2;
        lossOptions.priorGaps = P.config.priorGaps;
        if (stage.fusion && P.config.gatePrior == "best_modality") {
            double top = -1;
            for (int m = 0; m < P.modelConfig.numModalities(); ++m) {
                const double v = stageSummaries.at(m).at("best_val_mAP").get<double>();
                if (v > top) {
                    top = v;
                    lossOptions.fixedGateTarget = m;
                }
            }
        }

        if (!midStage) {
            P.emit({{"event", "stage_start"}, {"stage", stage.name}, {"stage_index", stageIndex},
                    {"stages", stages.size()}, {"trainable_parameters", trainable}, {"train", train.size()},
                    {"val", data.val.size()}, {"iterations_per_epoch", itersPerEpoch}, {"device", P.device.str()},
                    {"precision", precisionName(precision)}});
            best = P.validate(model, stage, data.val);
            bestParams = cloneParams(optimised);
            P.emit({{"event", "validation"}, {"stage", stage.name}, {"epoch", 0}, {"iteration", 0}, {"val_mAP", best},
                    {"best_val_mAP", best}});
            current = cloneParams(optimised);
            writeCheckpoint(true, stageIndex);
        }
        midStage = false;

        double trainSeconds = 0;
        long long trainSamples = 0;
        while (epochsDone < stage.maxEpochs && sinceBest < P.config.patience) {
            const int epoch = epochsDone;
            std::mt19937 rng(mixSeed(P.config.seed, stageIndex, epoch));
            std::vector<int> order(train.size());
            for (std::size_t i = 0; i < order.size(); ++i)
                order[i] = static_cast<int>(i);
            for (std::size_t k = order.size(); k > 1; --k)
                std::swap(order[k - 1], order[rng() % k]);
            double lossSum = 0;
            const auto start = std::chrono::steady_clock::now();
            // Batch `it`: augmented, normalised and on the device. Built on a background
            // thread one batch ahead, so the device does not wait for augmentation; the
            // batches are made in order from the one RNG, so runs stay reproducible.
            auto makeBatch = [&](int it) {
                TrainingBatch batch = makeTrainingBatch(train, order, it, P.config.batchSize, stage.columns, stage.config,
                                                        P.modelConfig, P.config.augment, rng, P.device);
                if (stage.fusion)
                    dropModality(batch, P.config.modalityDropout, rng);
                return batch;
            };
            std::future<TrainingBatch> prefetched = std::async(std::launch::async, makeBatch, 0);
            for (int it = 0; it < itersPerEpoch; ++it) {
                if (control && control->cancelled())
                    throw Cancelled();  // the pending batch is finished and dropped
                TrainingBatch batch = prefetched.get();
                if (it + 1 < itersPerEpoch)
                    prefetched = std::async(std::launch::async, makeBatch, it + 1);
                const std::vector<torch::Tensor>& inputs = batch.inputs;
                const torch::Tensor& target = batch.target;
                const int b0 = it * P.config.batchSize, b1 = b0 + batch.size;

                const auto out = model.forward(inputs);
                nlohmann::json step{{"event", "step"}, {"stage", stage.name}, {"epoch", epoch + 1}, {"iteration", iteration + 1}};
                if (batch.dropped >= 0)
                    step["dropped"] = stage.config.modalities[static_cast<std::size_t>(batch.dropped)].name;
                torch::Tensor loss;
                if (stage.fusion) {
                    const auto alpha = trainingGate(out.primaryCls, params.at("gate.weight"), params.at("gate.bias"));
                    const auto terms = fusionLoss(out.logits, stage.config.fusion == "ei" ? out.auxLogits : std::vector<torch::Tensor>{},
                                                  alpha, target, lossOptions);
                    loss = terms.total;
                    step["fused"] = terms.fused.item<double>();
                    step["primary"] = terms.primary.item<double>();
                    step["aux"] = terms.aux.item<double>();
                    step["gate"] = terms.gate.item<double>();
                } else {
                    loss = classificationLoss(out.logits.at(0), target, P.modelConfig.multilabel);
                }
                scaler.scaled(loss).backward();
                const auto sv = scheduleAt(P.config, iteration, itersPerEpoch);
                {
                    const bool step = scaler.unscale(optimised);  // fp16: skip a step that overflowed
                    torch::NoGradGuard noGrad;
                    for (auto& [name, p] : optimised) {
                        auto g = p.grad();
                        if (!g.defined())
                            continue;
                        if (step)
                            optimizerStep(P.config, sv, iteration + 1, p, g, momentum[name], secondMoment[name]);
                        g.zero_();
                    }
                }
                ++iteration;
                const double lossValue = loss.item<double>();
                lossSum += lossValue * (b1 - b0);
                trainSamples += b1 - b0;
                step["loss"] = lossValue;
                step["lr"] = sv.lr;
                P.emit(step);
                if (control)
                    control->report((stageIndex + (epoch + (it + 1.0) / itersPerEpoch) / std::max(1, stage.maxEpochs)) /
                                        stages.size(),
                                    stage.name);
            }
            trainSeconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
            ++epochsDone;
            const double value = P.validate(model, stage, data.val);
            if (value > best) {
                best = value;
                bestEpoch = epochsDone;
                sinceBest = 0;
                bestParams = cloneParams(optimised);
            } else {
                ++sinceBest;
            }
            P.emit({{"event", "validation"}, {"stage", stage.name}, {"epoch", epochsDone}, {"iteration", iteration},
                    {"train_loss", lossSum / train.size()}, {"val_mAP", value}, {"best_val_mAP", best},
                    {"samples_per_s", trainSeconds > 0 ? trainSamples / trainSeconds : 0.0}});
            current = cloneParams(optimised);
            writeCheckpoint(true, stageIndex);
            if (control && control->cancelled())
                throw Cancelled();
        }
        Params result;
        for (auto& [name, t] : bestParams) {
            if (startsWith(name, "backbone.")) {
                torch::NoGradGuard noGrad;
                const auto& w = P.backbone->weights().at(name.substr(9));
                w.requires_grad_(false);
                w.copy_(t);  // the best backbone stays in the shared model
            } else {
                result[name] = t.to(torch::kCPU);
            }
        }
        finished[stage.name] = result;
        stageSummaries.push_back({{"stage", stage.name}, {"epochs", epochsDone}, {"best_val_mAP", best},
                                  {"best_epoch", bestEpoch}, {"trainable_parameters", trainable},
                                  {"samples_per_s", trainSeconds > 0 ? trainSamples / trainSeconds : 0.0},
                                  {"stopped_early", sinceBest >= P.config.patience}});
        P.emit({{"event", "stage_end"}, {"stage", stage.name}, {"epochs", epochsDone}, {"best_val_mAP", best},
                {"best_epoch", bestEpoch}});
        current.clear();
        momentum.clear();
        secondMoment.clear();
        bestParams.clear();
        writeCheckpoint(false, stageIndex + 1);
    }

    TrainOutcome outcome;
    outcome.config = stages.back().config;
    outcome.parameters = finished.at(stages.back().name);
    outcome.summary = {{"stages", stageSummaries},
                       {"trainable_parameters", trainableParameterCount(outcome.config)},
                       {"train", train.size()}, {"val", data.val.size()}};
    P.emit({{"event", "done"}, {"trainable_parameters", trainableParameterCount(outcome.config)},
            {"best_val_mAP", stageSummaries.back().at("best_val_mAP")}});
    return outcome;
}

}  // namespace ei

// The two-stage trainer of MODEL.md section 5; see Trainer.h for the design.
#include "models/train/Trainer.h"

#include "models/train/Augment.h"
#include "models/Device.h"
#include "models/dist/DataParallel.h"
#include "models/Precision.h"
#include "models/train/LossScaler.h"
#include "models/Error.h"
#include "models/train/Loss.h"
#include "models/train/Metrics.h"
#include "models/train/TrainingBatch.h"
#include "models/train/TrainingCheckpoint.h"
#include "models/train/TrainingExamples.h"
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
    std::size_t cacheBytes = std::size_t(4) << 30;  // setDataCacheBytes
    torch::Device device{torch::kCPU};
    DataParallel parallel;  // one process unless setDistributed
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
        if (!parallel.isMain())
            return;  // rank 0 logs for the run
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

    // Rank 0 validates; every rank gets its val mAP, so all take the same decisions.
    double validate(const EiModel& model, const Stage& stage, const std::vector<TrainingExample>& val) const
    {
        return parallel.valueFromMain(parallel.isMain() ? validateHere(model, stage, val) : 0.0);
    }

    double validateHere(const EiModel& model, const Stage& stage, const std::vector<TrainingExample>& val,
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

void Trainer::setResumeOnOtherData(bool allow) { d->resumeOnOtherData = allow; }

void Trainer::setDataCacheBytes(std::size_t bytes) { d->cacheBytes = bytes; }

void Trainer::setDistributed(std::shared_ptr<Distributed> dist)
{
    if (dist)
        checkGlobalBatch(d->config.batchSize, dist->worldSize(), "training config");
    if (dist)
        d->device = rankDevice(d->device, dist->localRank());
    d->parallel = DataParallel(std::move(dist));
}

TrainOutcome Trainer::run(const TrainingData& data, bool resume, const std::function<void(const nlohmann::json&)>& onEvent,
                          const JobControl* control)
{
    auto& P = *d;
    P.onEvent = onEvent;
    P.control = control;
    if (data.train.empty() || (P.parallel.isMain() && data.val.empty()))
        throw BadInputError("", "training needs at least one train and one val study");
    configureCpuThreads();  // models/Device.h: thread split and allocator setting
    if (P.config.threads > 0)
        setCpuThreads(P.config.threads);
    std::error_code ec;
    if (P.parallel.isMain())
        fs::create_directories(P.runDir, ec);
    if (ec)
        throw BadInputError(P.runDir.string(), "cannot create the run folder: " + ec.message());
    const fs::path checkpointPath = P.runDir / "checkpoint.safetensors";
    P.backbone->to(P.device);

    const auto stages = P.stages();
    // The backbone and MoR passes in the configured precision, weights and optimizer state
    // in float32; fp16 with dynamic loss scaling. A backbone that trains stays float32.
    const Precision requested = parsePrecision(P.config.precision);
    // auto trains in fp32 on the CPU (bf16 training there is not measured) and with a
    // backbone that trains.
    const bool autoFp32 = requested == Precision::Auto && (P.config.trainBackbone || !P.device.is_cuda());
    const Precision precision = autoFp32 ? Precision::Fp32 : resolvePrecision(requested, P.device);
    if (P.config.trainBackbone && isReduced(precision))
        throw BadInputError("", "training config: train_backbone needs precision fp32 or tf32, not " +
                                    precisionName(precision));
    LossScaler scaler(precision == Precision::Fp16);
    // TF32 switches on CUDA, the thread split for bf16 on the CPU: forward and backward.
    const MatmulPrecisionScope matmulPrecision(precision, P.device);
    TrainingState st;  // what a checkpoint keeps; the names below are its fields
    int &stageIndex = st.stageIndex, &epochsDone = st.epochsDone, &bestEpoch = st.bestEpoch, &sinceBest = st.sinceBest;
    long long& iteration = st.iteration;
    double& best = st.best;
    bool& midStage = st.midStage;
    nlohmann::json& stageSummaries = st.stages;
    std::map<std::string, Params>& finished = st.finished;
    Params &current = st.current, &momentum = st.momentum, &secondMoment = st.secondMoment, &bestParams = st.bestParams;

    // Recorded in checkpoints, checked on resume.
    const CheckpointIdentity identity{P.config.toJson(), P.modelConfig.toJson(), data.fingerprint, P.resumeOnOtherData,
                                      data.fingerprintKind};
    // Rank 0 owns the run folder: it checks it and hands the checkpoint to every rank.
    std::string problem, checkpointBytes;
    if (P.parallel.isMain()) {
        if (resume && !fs::exists(checkpointPath))
            problem = BadInputError(checkpointPath.string(), "nothing to resume: no checkpoint in the run folder").what();
        else if (!resume && fs::exists(checkpointPath))
            problem = BadInputError(checkpointPath.string(), "the run folder already holds a run; use --resume or another --out").what();
        else if (resume)
            checkpointBytes = readSafetensorsBytes(checkpointPath.string());
    }
    if (const std::string agreed = P.parallel.agree(problem); !agreed.empty())
        throw BadInputError("", agreed);
    if (resume) {
        std::uintmax_t progressBytes = 0;
        st = parseCheckpoint(P.parallel.bytesFromMain(checkpointBytes), checkpointPath.string(), identity, &progressBytes);
        // progress.jsonl holds exactly what the checkpointed run had logged.
        if (P.parallel.isMain())
            fs::resize_file(P.runDir / "progress.jsonl", progressBytes, ec);
        P.emit({{"event", "resume"}, {"stage", stageIndex < static_cast<int>(stages.size()) ? stages[stageIndex].name : "done"},
                {"epochs_done", epochsDone}});
    } else if (P.parallel.isMain()) {
        std::ofstream(P.runDir / "progress.jsonl", std::ios::trunc);
    }

    auto checkpoint = [&](bool mid, int atStage) {
        if (!P.parallel.isMain())
            return;
        writeCheckpoint(checkpointPath.string(), st, mid, atStage, P.progressBytes(), identity);
    };

    const auto& train = data.train;
    TrainingExamples examples(data, P.cacheBytes);  // read on demand where data.readTrain is set
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

        P.parallel.broadcastParams(optimised);  // every rank starts from rank 0's values
        if (!midStage) {
            P.emit({{"event", "stage_start"}, {"stage", stage.name}, {"stage_index", stageIndex},
                    {"stages", stages.size()}, {"trainable_parameters", trainable}, {"train", train.size()},
                    {"val", data.val.size()}, {"iterations_per_epoch", itersPerEpoch}, {"device", P.device.str()},
                    {"precision", precisionName(precision)}, {"world_size", P.parallel.worldSize()}});
            best = P.validate(model, stage, data.val);
            bestParams = cloneParams(optimised);
            P.emit({{"event", "validation"}, {"stage", stage.name}, {"epoch", 0}, {"iteration", 0}, {"val_mAP", best},
                    {"best_val_mAP", best}});
            current = cloneParams(optimised);
            checkpoint(true, stageIndex);
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
            // With several ranks, each makes its slice of the global batch (DataParallel).
            const auto batchCount = [&](int it) {
                return std::min(static_cast<int>(train.size()), (it + 1) * P.config.batchSize) - it * P.config.batchSize;
            };
            auto makeBatch = [&](int it) {
                TrainingBatch batch = makeTrainingBatch(examples, order, it, P.config.batchSize, stage.columns, stage.config,
                                                        P.modelConfig, P.config.augment, rng, P.device,
                                                        P.parallel.shard(batchCount(it), P.config.batchSize));
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
                const int count = batchCount(it);  // the global batch; this rank holds batch.size of it

                nlohmann::json step{{"event", "step"}, {"stage", stage.name}, {"epoch", epoch + 1}, {"iteration", iteration + 1}};
                if (batch.dropped >= 0)
                    step["dropped"] = stage.config.modalities[static_cast<std::size_t>(batch.dropped)].name;
                std::vector<double> terms(stage.fusion ? 5 : 1, 0.0);  // loss (fused, primary, aux, gate)
                if (batch.size > 0) {
                    const auto out = model.forward(inputs);
                    torch::Tensor loss;
                    if (stage.fusion) {
                        const auto alpha = trainingGate(out.primaryCls, params.at("gate.weight"), params.at("gate.bias"));
                        const auto t = fusionLoss(out.logits, stage.config.fusion == "ei" ? out.auxLogits : std::vector<torch::Tensor>{},
                                                  alpha, target, lossOptions);
                        loss = t.total;
                        terms = {0.0, t.fused.item<double>(), t.primary.item<double>(), t.aux.item<double>(), t.gate.item<double>()};
                    } else {
                        loss = classificationLoss(out.logits.at(0), target, P.modelConfig.multilabel);
                    }
                    scaler.scaled(loss).backward();
                    terms[0] = loss.item<double>();
                }
                P.parallel.syncGradients(optimised, batch.size, count);
                terms = P.parallel.meanOverBatch(terms, batch.size, count);
                if (stage.fusion) {
                    step["fused"] = terms[1];
                    step["primary"] = terms[2];
                    step["aux"] = terms[3];
                    step["gate"] = terms[4];
                }
                const auto sv = scheduleAt(P.config, iteration, itersPerEpoch);
                {
                    const bool step = scaler.unscale(optimised);  // fp16: skip a step that overflowed
                    stepAndResetGradients(P.config, sv, iteration + 1, optimised, step, momentum, secondMoment);
                }
                ++iteration;
                const double lossValue = terms[0];
                lossSum += lossValue * count;
                trainSamples += count;
                step["loss"] = lossValue;
                step["lr"] = sv.lr;
                P.emit(step);
                if (control)
                    control->report((stageIndex + (epoch + (it + 1.0) / itersPerEpoch) / std::max(1, stage.maxEpochs)) /
                                        stages.size(),
                                    stage.name);
            }
            const double epochSeconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
            trainSeconds += epochSeconds;
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
            nlohmann::json validation{{"event", "validation"}, {"stage", stage.name}, {"epoch", epochsDone}, {"iteration", iteration},
                                      {"train_loss", lossSum / train.size()}, {"val_mAP", value}, {"best_val_mAP", best},
                                      {"samples_per_s", trainSeconds > 0 ? trainSamples / trainSeconds : 0.0}};
            if (data.readTrain)  // the studies this process (rank 0) read from disk in this epoch
                validation["examples_read"] = examples.takeReads();
            if (P.parallel.enabled())  // the gradient all-reduce's share of this epoch's training time
                validation["sync_share"] = epochSeconds > 0 ? P.parallel.takeSyncSeconds() / epochSeconds : 0.0;
            P.emit(validation);
            current = cloneParams(optimised);
            checkpoint(true, stageIndex);
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
        checkpoint(false, stageIndex + 1);
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

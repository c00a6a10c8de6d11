// Parses TRAIN.json strictly (see TrainConfig.h) and computes the learning-rate
// schedules of MODEL.md section 5 / OFFICIAL_EI.md section 4.
#include "models/train/TrainConfig.h"

#include "models/Error.h"
#include "models/Precision.h"

#include <cmath>
#include <fstream>
#include <set>
#include <sstream>

namespace ei {
namespace {

void rejectUnknown(const nlohmann::json& j, const std::set<std::string>& known, const std::string& source,
                   const std::string& prefix)
{
    if (!j.is_object())
        throw BadInputError(source, "'" + (prefix.empty() ? std::string("(top level)") : prefix.substr(0, prefix.size() - 1)) +
                                        "' must be a JSON object");
    for (const auto& item : j.items())
        if (!known.count(item.key()))
            throw BadInputError(source, "unknown key '" + prefix + item.key() + "'");
}

template <typename T>
void take(const nlohmann::json& j, const char* key, T& out, const std::string& source, const std::string& prefix)
{
    if (!j.contains(key))
        return;
    try {
        out = j.at(key).get<T>();
    } catch (const nlohmann::json::exception&) {
        throw BadInputError(source, "key '" + prefix + key + "' has the wrong type");
    }
}

}  // namespace

TrainConfig TrainConfig::fromJson(const nlohmann::json& j, const std::string& source)
{
    TrainConfig c;
    rejectUnknown(j, {"model", "modality", "seed", "batch_size", "max_epochs", "stage1_max_epochs", "patience", "device",
                      "precision", "threads", "intended_use", "train_backbone", "modality_dropout", "calibrate", "optimizer",
                      "schedule", "loss", "augment"},
                  source, "");
    if (!j.contains("model"))
        throw BadInputError(source, "key 'model' (the model config) is missing");
    c.model = j.at("model");
    if (!c.model.is_object())
        throw BadInputError(source, "key 'model' must be a JSON object");
    take(j, "modality", c.modality, source, "");
    take(j, "seed", c.seed, source, "");
    take(j, "batch_size", c.batchSize, source, "");
    take(j, "max_epochs", c.maxEpochs, source, "");
    take(j, "stage1_max_epochs", c.stage1MaxEpochs, source, "");
    take(j, "patience", c.patience, source, "");
    take(j, "device", c.device, source, "");
    take(j, "precision", c.precision, source, "");
    try {
        parsePrecision(c.precision);
    } catch (const UsageError& e) {
        throw BadInputError(source, std::string("key 'precision': ") + e.what());
    }
    take(j, "threads", c.threads, source, "");
    take(j, "intended_use", c.intendedUse, source, "");
    take(j, "train_backbone", c.trainBackbone, source, "");
    take(j, "modality_dropout", c.modalityDropout, source, "");
    take(j, "calibrate", c.calibrate, source, "");
    if (!(c.modalityDropout >= 0.0 && c.modalityDropout <= 1.0))
        throw BadInputError(source, "key 'modality_dropout' must lie between 0 and 1");
    if (j.contains("optimizer")) {
        const auto& o = j.at("optimizer");
        rejectUnknown(o, {"kind", "base_lr", "max_lr", "momentum", "weight_decay", "cycle_momentum", "beta2", "eps"}, source,
                      "optimizer.");
        take(o, "kind", c.optimizer, source, "optimizer.");
        take(o, "base_lr", c.baseLr, source, "optimizer.");
        take(o, "max_lr", c.maxLr, source, "optimizer.");
        take(o, "momentum", c.momentum, source, "optimizer.");
        take(o, "weight_decay", c.weightDecay, source, "optimizer.");
        take(o, "cycle_momentum", c.cycleMomentum, source, "optimizer.");
        take(o, "beta2", c.beta2, source, "optimizer.");
        take(o, "eps", c.adamEps, source, "optimizer.");
    }
    if (j.contains("schedule")) {
        const auto& s = j.at("schedule");
        rejectUnknown(s, {"kind", "half_cycle_epochs", "gamma", "warmup_epochs", "cosine_epochs", "final_lr"}, source,
                      "schedule.");
        take(s, "kind", c.schedule, source, "schedule.");
        take(s, "half_cycle_epochs", c.halfCycleEpochs, source, "schedule.");
        take(s, "gamma", c.gamma, source, "schedule.");
        take(s, "warmup_epochs", c.warmupEpochs, source, "schedule.");
        take(s, "cosine_epochs", c.cosineEpochs, source, "schedule.");
        take(s, "final_lr", c.finalLr, source, "schedule.");
    }
    if (j.contains("loss")) {
        const auto& l = j.at("loss");
        rejectUnknown(l, {"lambda1", "lambda2", "prior_gaps", "gate_prior"}, source, "loss.");
        take(l, "lambda1", c.lambda1, source, "loss.");
        take(l, "lambda2", c.lambda2, source, "loss.");
        take(l, "prior_gaps", c.priorGaps, source, "loss.");
        take(l, "gate_prior", c.gatePrior, source, "loss.");
    }
    if (j.contains("augment")) {
        const auto& a = j.at("augment");
        rejectUnknown(a, {"rotation", "edge_crop", "flip", "color_jitter", "slice_jitter"}, source, "augment.");
        take(a, "rotation", c.augment.rotation, source, "augment.");
        take(a, "edge_crop", c.augment.edgeCrop, source, "augment.");
        take(a, "flip", c.augment.flip, source, "augment.");
        take(a, "color_jitter", c.augment.colorJitter, source, "augment.");
        take(a, "slice_jitter", c.augment.sliceJitter, source, "augment.");
    }
    if (c.batchSize < 1)
        throw BadInputError(source, "key 'batch_size' must be at least 1");
    if (c.maxEpochs < 0)
        throw BadInputError(source, "key 'max_epochs' must not be negative");
    if (c.patience < 1)
        throw BadInputError(source, "key 'patience' must be at least 1");
    if (c.schedule != "cyclic" && c.schedule != "cosine")
        throw BadInputError(source, "key 'schedule.kind' must be \"cyclic\" or \"cosine\"");
    if (c.gatePrior != "gaps" && c.gatePrior != "best_modality")
        throw BadInputError(source, "key 'loss.gate_prior' must be \"gaps\" or \"best_modality\"");
    if (c.optimizer != "sgd" && c.optimizer != "adamw")
        throw BadInputError(source, "key 'optimizer.kind' must be \"sgd\" or \"adamw\"");
    if (!(c.momentum >= 0 && c.momentum < 1) || !(c.beta2 >= 0 && c.beta2 < 1) || !(c.adamEps > 0))
        throw BadInputError(source, "keys 'optimizer.momentum' / 'optimizer.beta2' need 0 <= value < 1, 'optimizer.eps' > 0");
    if (!(c.baseLr > 0) || !(c.maxLr >= c.baseLr))
        throw BadInputError(source, "keys 'optimizer.base_lr' / 'optimizer.max_lr' need 0 < base_lr <= max_lr");
    if (!(c.halfCycleEpochs > 0) || !(c.gamma > 0))
        throw BadInputError(source, "keys 'schedule.half_cycle_epochs' and 'schedule.gamma' must be positive");
    return c;
}

TrainConfig TrainConfig::fromFile(const std::string& path)
{
    std::ifstream in(path);
    if (!in)
        throw BadInputError(path, "cannot open the training config");
    std::stringstream ss;
    ss << in.rdbuf();
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(ss.str());
    } catch (const nlohmann::json::exception& e) {
        throw BadInputError(path, std::string("not valid JSON: ") + e.what());
    }
    return fromJson(j, path);
}

nlohmann::json TrainConfig::toJson() const
{
    nlohmann::json j{{"model", model},
                     {"seed", seed},
                     {"batch_size", batchSize},
                     {"max_epochs", maxEpochs},
                     {"stage1_max_epochs", stage1MaxEpochs},
                     {"patience", patience},
                     {"device", device},
                     {"precision", precision},
                     {"threads", threads},
                     {"intended_use", intendedUse},
                     {"train_backbone", trainBackbone},
                     {"modality_dropout", modalityDropout},
                     {"calibrate", calibrate},
                     {"optimizer", {{"kind", optimizer}, {"base_lr", baseLr}, {"max_lr", maxLr}, {"momentum", momentum},
                                    {"weight_decay", weightDecay}, {"cycle_momentum", cycleMomentum},
                                    {"beta2", beta2}, {"eps", adamEps}}},
                     {"schedule", {{"kind", schedule}, {"half_cycle_epochs", halfCycleEpochs}, {"gamma", gamma},
                                   {"warmup_epochs", warmupEpochs}, {"cosine_epochs", cosineEpochs},
                                   {"final_lr", finalLr}}},
                     {"loss", {{"lambda1", lambda1}, {"lambda2", lambda2}, {"prior_gaps", priorGaps},
                               {"gate_prior", gatePrior}}},
                     {"augment", {{"rotation", augment.rotation}, {"edge_crop", augment.edgeCrop},
                                  {"flip", augment.flip}, {"color_jitter", augment.colorJitter},
                                  {"slice_jitter", augment.sliceJitter}}}};
    if (!modality.empty())
        j["modality"] = modality;
    return j;
}

ScheduleValue scheduleAt(const TrainConfig& c, long long iteration, int itersPerEpoch)
{
    ScheduleValue v;
    v.momentum = c.momentum;
    const double it = static_cast<double>(iteration);
    if (c.schedule == "cosine") {
        const double warm = c.warmupEpochs * itersPerEpoch;
        const double total = c.cosineEpochs * itersPerEpoch;
        if (it < warm) {
            v.lr = c.maxLr * it / warm;
        } else {
            const double t = std::min(1.0, (it - warm) / std::max(1.0, total - warm));
            v.lr = c.finalLr + 0.5 * (c.maxLr - c.finalLr) * (1 + std::cos(3.141592653589793 * t));
        }
        return v;
    }
    // torch.optim.lr_scheduler.CyclicLR, mode "triangular" with scale_fn gamma^(cycle-1)
    // applied per cycle, step_size_up = step_size_down = half_cycle_epochs * iters/epoch.
    const double stepSize = std::max(1.0, std::round(c.halfCycleEpochs * itersPerEpoch));
    const double cycle = std::floor(1 + it / (2 * stepSize));
    const double x = 1 + it / (2 * stepSize) - cycle;
    const double scaleFactor = x <= 0.5 ? x / 0.5 : (x - 1) / (0.5 - 1);
    const double amplitude = std::pow(c.gamma, cycle - 1);
    v.lr = c.baseLr + (c.maxLr - c.baseLr) * scaleFactor * amplitude;
    if (c.cycleMomentum)
        v.momentum = 0.9 - (0.9 - 0.8) * scaleFactor * amplitude;  // PyTorch's base 0.8 / max 0.9
    return v;
}

}  // namespace ei

#include "models/train/TrainingCheckpoint.h"

#include "models/Error.h"
#include "models/io/Safetensors.h"

namespace ei {

TrainingState parseCheckpoint(const std::string& bytes, const std::string& path, const CheckpointIdentity& identity,
                              std::uintmax_t* progressBytes)
{
    const auto file = parseSafetensors(bytes, path);
    checkTensorDigest(file, path);  // flipped bits must not resume
    nlohmann::json state;
    try {
        const auto text = file.metadata.find("state");
        if (text == file.metadata.end())
            throw BadInputError(path, "is not a resumable checkpoint: it holds no training state");
        state = nlohmann::json::parse(text->second);
        for (const char* key : {"stage_index", "epochs_done", "iteration", "best", "best_epoch", "since_best", "mid_stage",
                                "stages", "progress_bytes", "train_config", "model_config"})
            if (!state.contains(key))
                throw BadInputError(path, std::string("is not a resumable checkpoint: its state lacks '") + key + "'");
    } catch (const nlohmann::json::exception& e) {
        throw BadInputError(path, std::string("is not a resumable checkpoint: its state is not JSON (") + e.what() + ")");
    }
    if (state.at("train_config") != identity.trainConfig || state.at("model_config") != identity.modelConfig)
        throw BadInputError(path, "the run was started with another training or model config");
    // Checkpoints from before the kinds existed were made from the tensors.
    const std::string kind = state.contains("data_fingerprint_kind") && state.at("data_fingerprint_kind").is_string()
                                 ? state.at("data_fingerprint_kind").get<std::string>()
                                 : "tensors";
    if (state.contains("data_fingerprint") && kind != identity.fingerprintKind && !identity.allowOtherData)
        throw BadInputError(path, "the run's data set was identified by another rule (\"" + kind +
                                      "\", as an older EIView wrote it; this one uses \"" + identity.fingerprintKind +
                                      "\"), so it cannot be compared; resume with --resume-other-data if the manifest "
                                      "and its images are unchanged");
    if (state.contains("data_fingerprint") && state.at("data_fingerprint") != identity.dataFingerprint &&
        !identity.allowOtherData)
        throw BadInputError(path, "the run was started on another data set (other studies, labels or splits); resuming "
                                  "would mix two trainings. Start a new run, or resume anyway with --resume-other-data");
    TrainingState s;
    try {
        s.stageIndex = state.at("stage_index").get<int>();
        s.epochsDone = state.at("epochs_done").get<int>();
        s.iteration = state.at("iteration").get<long long>();
        s.best = state.at("best").get<double>();
        s.bestEpoch = state.at("best_epoch").get<int>();
        s.sinceBest = state.at("since_best").get<int>();
        s.midStage = state.at("mid_stage").get<bool>();
        s.stages = state.at("stages");
        if (progressBytes)
            *progressBytes = state.at("progress_bytes").get<std::uintmax_t>();
    } catch (const nlohmann::json::exception& e) {
        throw BadInputError(path, std::string("is not a resumable checkpoint: a state value has the wrong type (") + e.what() + ")");
    }
    for (const auto& [name, t] : file.tensors) {
        const auto slash = name.find('/');
        const std::string kind = name.substr(0, slash), rest = name.substr(slash + 1);
        if (kind == "done") {
            const auto slash2 = rest.find('/');
            s.finished[rest.substr(0, slash2)][rest.substr(slash2 + 1)] = t.to(torch::kFloat);
        } else if (kind == "cur") {
            s.current[rest] = t.to(torch::kFloat);
        } else if (kind == "mom") {
            s.momentum[rest] = t.to(torch::kFloat);
        } else if (kind == "sq") {
            s.secondMoment[rest] = t.to(torch::kFloat);
        } else if (kind == "best") {
            s.bestParams[rest] = t.to(torch::kFloat);
        }
    }
    return s;
}

void writeCheckpoint(const std::string& path, const TrainingState& s, bool mid, int atStage, std::uintmax_t progressBytes,
                     const CheckpointIdentity& identity)
{
    std::map<std::string, torch::Tensor> tensors;
    for (const auto& [stage, params] : s.finished)
        for (const auto& [name, t] : params)
            tensors["done/" + stage + "/" + name] = t;
    if (mid) {
        for (const auto& [name, t] : s.current)
            tensors["cur/" + name] = t;
        for (const auto& [name, t] : s.momentum)
            if (t.defined())
                tensors["mom/" + name] = t;
        for (const auto& [name, t] : s.secondMoment)
            if (t.defined())
                tensors["sq/" + name] = t;
        for (const auto& [name, t] : s.bestParams)
            tensors["best/" + name] = t;
    }
    const nlohmann::json state{{"stage_index", atStage}, {"epochs_done", s.epochsDone}, {"iteration", s.iteration},
                               {"best", s.best}, {"best_epoch", s.bestEpoch}, {"since_best", s.sinceBest}, {"mid_stage", mid},
                               {"stages", s.stages}, {"progress_bytes", progressBytes},
                               {"train_config", identity.trainConfig}, {"model_config", identity.modelConfig},
                               {"data_fingerprint", identity.dataFingerprint},
                               {"data_fingerprint_kind", identity.fingerprintKind}};
    writeSafetensors(path, tensors,
                     {{"format", "eiview-training-checkpoint"}, {"state", state.dump()}, {kTensorDigestKey, tensorDigest(tensors)}});
}

}  // namespace ei

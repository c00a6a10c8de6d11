// The resumable state of a training run, RUN_DIR/checkpoint.safetensors (MODEL.md
// section 5, "Resume"): the finished stages' best parameters ("done/<stage>/<name>"),
// and mid-stage the current parameters, optimiser moments and best copy ("cur/", "mom/",
// "sq/", "best/"), with the counters, configs and data fingerprint as JSON metadata
// ("state") and a digest of every tensor. Written by rank 0 alone; read from bytes, so
// that rank 0 can hand the same checkpoint to every rank of a data-parallel run.
#pragma once

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <cstdint>
#include <map>
#include <string>

namespace ei {

struct TrainingState {
    using Params = std::map<std::string, torch::Tensor>;
    int stageIndex = 0;
    int epochsDone = 0;
    long long iteration = 0;
    double best = -1;
    int bestEpoch = 0;
    int sinceBest = 0;
    bool midStage = false;
    nlohmann::json stages = nlohmann::json::array();  // summaries of the finished stages
    std::map<std::string, Params> finished;           // stage name -> best parameters
    Params current, momentum, secondMoment, bestParams;
};

// What a checkpoint must agree with to be resumed.
struct CheckpointIdentity {
    nlohmann::json trainConfig;
    nlohmann::json modelConfig;
    std::string dataFingerprint;
    bool allowOtherData = false;  // --resume-other-data
    // The rule that made dataFingerprint: "files" (the manifest's rows and file contents,
    // core/training). A checkpoint without one was made by an older build from the decoded
    // images ("tensors"). A checkpoint made under another rule cannot be compared and says so.
    std::string fingerprintKind;
};

// Parses `bytes` (the file at `path`): BadInputError naming the file for flipped bits, a
// missing or malformed state, another config, or another data set (unless allowed).
// *progressBytes gets the length progress.jsonl had when the checkpoint was written.
TrainingState parseCheckpoint(const std::string& bytes, const std::string& path, const CheckpointIdentity& identity,
                              std::uintmax_t* progressBytes);

// Writes the state atomically; `mid`: inside a stage (current / moments / best kept).
void writeCheckpoint(const std::string& path, const TrainingState& state, bool mid, int atStage,
                     std::uintmax_t progressBytes, const CheckpointIdentity& identity);

}  // namespace ei

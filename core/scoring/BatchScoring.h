// Scoring a whole data set with a model (`eiview-cli predict`, issue 17): for every study
// of a manifest, the fused probabilities (calibrated where the model carries a
// calibration, as the viewer shows them), the gate weights and each modality's own
// probabilities, as one CSV row; optionally the heat maps as .npy.
//
// Built for an archive, not a handful of studies:
// - batched: the studies of a batch go through the model together (grouped by which
//   modalities they have); the next batch's images are read while the model runs;
// - resumable: rows are appended to <out>.partial as they are scored; a run interrupted
//   (killed, cancelled, a power cut) and started again with the same model, manifest and
//   split skips the rows already there and goes on; <out> itself appears, complete and in
//   manifest order, only at the end (written atomically);
// - tolerant of a bad study: a study whose images cannot be read is listed (row number
//   and reason, never the id: it may identify a patient) in <out>.errors.csv and
//   skipped; the others are scored;
// - labels are not needed (ManifestOptions::scoring): an unlabelled archive scores, and an
//   empty modality cell is a study without that modality.
#pragma once

#include "models/JobControl.h"
#include "models/dist/DistributedOptions.h"

#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace ei {

struct ModelConfig;

struct ScoringRequest {
    std::string modelPath;
    std::string manifestPath;
    std::string split;    // "train" / "val" / "test"; "" = every row
    std::string outPath;  // RESULTS.csv
    std::string mapsDir;  // "" = no maps; else <dir>/<study>/<modality>_<kind>.npy
    std::string device = "cpu";
    std::string precision = "auto";
    int batchSize = 8;
    // One rank of a sharded run (issue 17): rank r scores pending studies r, r + N, ...;
    // rank 0 collects every batch's rows, keeps the partial file and writes the result.
    // Maps are written by the rank that scored the study (a shared folder on several
    // machines).
    DistributedOptions distributed;
};

struct ScoringSummary {
    int total = 0;    // studies to score (the split's rows)
    int resumed = 0;  // already in <out>.partial from an interrupted run
    int scored = 0;   // scored by this run
    std::vector<std::pair<int, std::string>> failures;  // manifest row (CSV line), reason
    std::string errorsPath;                             // <out>.errors.csv when failures exist
};

// The result table's columns (issue 17's contract): id, prob_<class> per class,
// gate_<modality> per modality, <modality>_prob_<class> per modality and class.
std::vector<std::string> scoringColumns(const ModelConfig& config);

// Scores the manifest. Throws ei::BadInputError / ei::ModelError before any study is
// scored when the model, the manifest or the request is unusable (every manifest problem
// listed, an output that would overwrite the manifest or the model, a partial file left
// by a run with another model, manifest, split or columns). `progress` gets (studies done,
// total) after each batch. A cancelled `control` stops between batches; what was scored
// stays in <out>.partial for the next run.
ScoringSummary scoreManifest(const ScoringRequest& request, const std::function<void(int, int)>& progress = {},
                             const JobControl* control = nullptr);

}  // namespace ei

// Fine-tuning and evaluation as jobs (the one engine behind `eiview-cli train / eval`
// and the fine-tuning wizard): read and check the manifest (every problem with its row,
// before any training), load the images with the project's loaders, run models/train/Trainer,
// save the model (.eimodel with `training` metadata: data set fingerprint, metrics,
// date, version) and the stage-1 models into the run folder. No LibTorch in this header:
// ui/ includes it.
//
// Run folder: model.eimodel, stage1_<modality>.eimodel (ei / late), metrics.json
// (val and test metrics of model.eimodel), progress.jsonl (JSON lines),
// checkpoint.safetensors (resume state), train_config.json.
#pragma once

#include "core/jobs/WorkerQueue.h"
#include "models/JobControl.h"
#include "models/dist/DistributedOptions.h"
#include "models/train/Calibration.h"
#include "models/train/Metrics.h"

#include <QString>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

namespace ei {

struct TrainingRequest {
    std::string manifestPath;
    std::string configPath;     // TRAIN.json
    std::string configJson;     // used instead of configPath when not empty (the wizard)
    std::string backbonePath;   // canonical backbone safetensors; empty = random weights from the seed
    std::string outDir;
    bool resume = false;
    bool resumeOnOtherData = false;  // resume although the data set differs from the checkpoint's
    std::string precision;      // overrides the config's "precision" when not empty (train --precision)
    // Memory for decoded training images, per process (train --cache-mb); -1: the
    // trainer's default (4096). 0 reads every batch's images from disk.
    long long dataCacheMb = -1;
    // One rank of a data-parallel run (issue 17) when distributed.enabled(): rank 0 writes
    // the run folder and the model, the other ranks only train (models/dist/DataParallel.h).
    DistributedOptions distributed;
};

struct TrainingReport {
    std::string modelPath;
    std::string summaryJson;  // trainer summary + metrics, as written to metrics.json
    EvalMetrics val, test;    // test.n == 0 when the manifest has no test split
    TemperatureScaling calibration;  // fitted on val and stored in the model (empty: none)
};

// Throws ei::Error (BadInput for manifest / config problems, with every manifest
// problem listed) or ei::Cancelled.
TrainingReport runTraining(const TrainingRequest& request, const std::function<void(const std::string& jsonLine)>& onEvent,
                           const JobControl* control = nullptr);

struct EvaluationRequest {
    std::string modelPath;
    std::string manifestPath;
    std::string split = "test";
    bool scoreLogits = false;     // rank AP / AUC on logits (as the official code)
    std::string predictionsPath;  // optional CSV: id, one probability per class, label(s)
    std::string device = "cpu";
    std::string precision = "auto";  // models/Precision.h
};

EvalMetrics runEvaluation(const EvaluationRequest& request, const JobControl* control = nullptr);

// `eiview-cli calibrate`: temperature scaling (models/train/Calibration.h) of a model
// fitted on request.split (val by default) of a manifest, written with the same tensors
// to outPath (a referenced backbone re-anchored there); metrics of that split before and
// after. A model imported from the paper's code or trained before calibration existed
// gets calibrated this way.
struct CalibrationRun {
    TemperatureScaling scaling;
    EvalMetrics metrics;
};
CalibrationRun calibrateModel(const EvaluationRequest& request, const std::string& outPath,
                              const JobControl* control = nullptr);

// What the wizard shows about a backbone file: its `backbone` config object as JSON text
// (family, patch_size, embed_dim, depth, ...). Throws ei::ModelError for a file that
// is not a canonical backbone.
std::string describeBackbone(const std::string& path);

// The wizard's handle on a training run: runTraining on the worker of a WorkerQueue
// (the job contract of core/jobs: ticket, status with the fraction of the run, cancel),
// JSON-lines events by queued signal, Pause / Resume.
class TrainingJob : public WorkerQueue {
    Q_OBJECT
public:
    explicit TrainingJob(QObject* parent = nullptr);
    ~TrainingJob() override;  // cancels and waits for the worker

    // Starts a run; returns its ticket (the running one's when a run is in flight).
    quint64 start(const TrainingRequest& request);
    void setPaused(bool paused);
    bool isPaused() const { return paused_; }
    void cancel();  // the current run
    void cancel(quint64 ticket) override;
    void cancelAll() override;
    bool isRunning() const { return ticket_ && isActive(ticket_); }

Q_SIGNALS:
    void eventReceived(const QString& jsonLine);
    void finished(const QString& modelPath, const QString& summaryJson);
    // failed(ticket, message) and cancelled(ticket): WorkerQueue's.

private:
    void waitWhilePaused(const JobControl& control);

    quint64 ticket_ = 0;
    std::mutex pauseMutex_;
    std::condition_variable pauseChanged_;
    bool paused_ = false;
};

}  // namespace ei

// Runs the EI model off the GUI thread: loads an InferenceRunner and calls run() on the
// worker of a WorkerQueue (one thread, so loads and runs queue in order and the worker
// owns the model), with the job contract of core/jobs (tickets, status, progress,
// cancel, a worker's exception as failed(ticket, message)). No LibTorch here.
#pragma once

#include "core/inference/InferenceResult.h"
#include "core/inference/InferenceRunner.h"
#include "core/io/Image.h"
#include "core/jobs/WorkerQueue.h"

#include <QString>
#include <QStringList>

#include <map>
#include <memory>
#include <mutex>

namespace ei {

class InferenceJob : public WorkerQueue {
    Q_OBJECT
public:
    explicit InferenceJob(QObject* parent = nullptr);
    ~InferenceJob() override;  // shutdown()

    // "auto", "cpu", then "cuda:0", "cuda:1", ... for every CUDA device LibTorch sees.
    static QStringList availableDevices();

    // Loads the model (or keeps the loaded one when path, device and precision are
    // unchanged) on the worker. Emits modelReady or failed. Returns the ticket the signals
    // carry. precision: "auto", "fp32", "tf32", "bf16", "fp16" (models/Precision.h).
    quint64 loadModel(const QString& path, const QString& device, const QString& precision = QStringLiteral("auto"));
    // The precisions offered for a device: auto, fp32, bf16; tf32 and fp16 on CUDA.
    static QStringList availablePrecisions(const QString& device);

    // Runs the loaded model on these inputs (copied). Emits progress, then finished,
    // failed or cancelled with the returned ticket.
    quint64 run(std::map<std::string, Image> inputs, bool computeMaps = true);
    // Pixel attributions (InferenceRunner::attribute) of the loaded model on these inputs.
    // Emits progress, then attributed, failed or cancelled.
    quint64 attribute(std::map<std::string, Image> inputs, InferenceRunner::AttributionRequest request);

    // Cancels every task, waits for the worker and frees the model. Call before
    // QApplication returns (LibTorch may crash at exit otherwise).
    void shutdown();

    bool hasModel() const;

Q_SIGNALS:
    void modelReady(quint64 ticket, const ei::ModelSummary& summary, const QString& resolvedDevice);
    void finished(quint64 ticket, std::shared_ptr<const ei::InferenceResult> result);
    void attributed(quint64 ticket, std::shared_ptr<const ei::AttributionResult> result);

private:
    struct Shared;  // the runner and its lock, shared with the worker tasks
    std::shared_ptr<Shared> shared_;
};

}  // namespace ei

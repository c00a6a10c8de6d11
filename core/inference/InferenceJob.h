// Runs the EI model off the GUI thread: loads an InferenceRunner and calls run() on one
// worker thread (a private one-thread pool, so loads and runs queue in order and the
// worker owns the model), reports progress by queued signal, cancels through the
// JobControl flag and delivers a worker's exception as a message. No LibTorch here.
#pragma once

#include "core/io/Image.h"
#include "core/inference/InferenceResult.h"
#include "core/inference/InferenceRunner.h"

#include <QObject>
#include <QString>
#include <QStringList>

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

class QThreadPool;

namespace ei {

class InferenceJob : public QObject {
    Q_OBJECT
public:
    explicit InferenceJob(QObject* parent = nullptr);
    ~InferenceJob() override;  // shutdown()

    // "auto", "cpu", then "cuda:0", "cuda:1", ... for every CUDA device LibTorch sees.
    static QStringList availableDevices();

    // Loads the model (or keeps the loaded one when path and device are unchanged) on the
    // worker. Emits modelReady or failed. Returns the ticket the signals carry.
    quint64 loadModel(const QString& path, const QString& device);

    // Runs the loaded model on these inputs (copied). Emits progress, then finished,
    // failed or cancelled with the returned ticket.
    quint64 run(std::map<std::string, Image> inputs, bool computeMaps = true);

    // Cancels every queued and running task (each throws ei::Cancelled at its next
    // checkpoint; a queued one never starts).
    void cancel();
    bool isBusy() const { return pending_ > 0; }

    // Waits for the worker and frees the model. Call before QApplication returns
    // (LibTorch may crash at exit otherwise); the destructor calls it too.
    void shutdown();

    bool hasModel() const;

Q_SIGNALS:
    void modelReady(quint64 ticket, const ei::ModelSummary& summary, const QString& resolvedDevice);
    void progress(quint64 ticket, double fraction, const QString& stage);
    void finished(quint64 ticket, std::shared_ptr<const ei::InferenceResult> result);
    void failed(quint64 ticket, const QString& message);
    void cancelled(quint64 ticket);
    void busyChanged(bool busy);

private:
    struct Shared;  // the runner and its lock, shared with the worker tasks
    // A task runs on the worker and returns what to emit on the GUI thread when it is done.
    using Task = std::function<std::function<void()>(const JobControl&)>;
    quint64 submit(const std::shared_ptr<std::atomic<bool>>& flag, Task task);
    void taskEnded();

    std::shared_ptr<Shared> shared_;
    QThreadPool* pool_ = nullptr;
    std::vector<std::shared_ptr<std::atomic<bool>>> flags_;
    quint64 nextTicket_ = 1;
    int pending_ = 0;
};

}  // namespace ei

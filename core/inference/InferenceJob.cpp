// See InferenceJob.h. Every signal is emitted on the GUI thread: the worker posts a
// lambda to this object (queued), so receivers never see a half-finished state and
// never need locks.
#include "core/inference/InferenceJob.h"

#include "models/Error.h"

#include <QMetaObject>
#include <QThreadPool>

#include <torch/cuda.h>

namespace ei {

struct InferenceJob::Shared {
    std::mutex mutex;  // held by the worker while it uses the runner
    std::unique_ptr<InferenceRunner> runner;
    QString path;
    QString requestedDevice;
};

InferenceJob::InferenceJob(QObject* parent) : QObject(parent), shared_(std::make_shared<Shared>())
{
    pool_ = new QThreadPool(this);
    pool_->setMaxThreadCount(1);  // loads and runs queue in order; one owner of the model
    pool_->setExpiryTimeout(-1);  // keep the thread: LibTorch keeps per-thread state
}

InferenceJob::~InferenceJob() { shutdown(); }

QStringList InferenceJob::availableDevices()
{
    QStringList devices{QStringLiteral("auto"), QStringLiteral("cpu")};
    const int n = torch::cuda::is_available() ? static_cast<int>(torch::cuda::device_count()) : 0;
    for (int k = 0; k < n; ++k)
        devices << QStringLiteral("cuda:%1").arg(k);
    return devices;
}

bool InferenceJob::hasModel() const
{
    std::lock_guard<std::mutex> lock(shared_->mutex);
    return shared_->runner != nullptr;
}

quint64 InferenceJob::submit(const std::shared_ptr<std::atomic<bool>>& flag, Task task)
{
    const quint64 ticket = nextTicket_++;
    flags_.push_back(flag);
    if (pending_++ == 0)
        Q_EMIT busyChanged(true);
    pool_->start([this, ticket, flag, task = std::move(task)] {
        JobControl control;
        control.cancelFlag = flag.get();
        control.onProgress = [this, ticket](double fraction, const std::string& stage) {
            const QString text = QString::fromStdString(stage);
            QMetaObject::invokeMethod(this, [this, ticket, fraction, text] { Q_EMIT progress(ticket, fraction, text); },
                                      Qt::QueuedConnection);
        };
        // taskEnded() first: whoever reacts to the result already sees the job idle.
        auto deliver = [this](std::function<void()> emitIt) {
            QMetaObject::invokeMethod(this, [this, emitIt = std::move(emitIt)] {
                taskEnded();
                emitIt();
            }, Qt::QueuedConnection);
        };
        try {
            if (control.cancelled())
                throw Cancelled();
            deliver(task(control));
        } catch (const Cancelled&) {
            deliver([this, ticket] { Q_EMIT cancelled(ticket); });
        } catch (const std::exception& e) {
            // ei::Error carries "file: problem"; LibTorch's c10::Error its own text.
            const QString message = QString::fromStdString(e.what());
            deliver([this, ticket, message] { Q_EMIT failed(ticket, message); });
        } catch (...) {
            deliver([this, ticket] { Q_EMIT failed(ticket, tr("unknown error in the inference worker")); });
        }
    });
    return ticket;
}

void InferenceJob::taskEnded()
{
    if (--pending_ == 0) {
        flags_.clear();
        Q_EMIT busyChanged(false);
    }
}

quint64 InferenceJob::loadModel(const QString& path, const QString& device)
{
    auto flag = std::make_shared<std::atomic<bool>>(false);
    auto shared = shared_;
    const quint64 ticket = nextTicket_;
    return submit(flag, [this, shared, path, device, ticket](const JobControl& control) {
        std::lock_guard<std::mutex> lock(shared->mutex);
        if (!shared->runner || shared->path != path || shared->requestedDevice != device) {
            shared->runner.reset();  // free the old model before loading the next one
            control.checkpoint(0.0, "loading model");
            shared->runner = std::make_unique<InferenceRunner>(path.toStdString(), device.toStdString());
            shared->path = path;
            shared->requestedDevice = device;
        }
        const ModelSummary summary = shared->runner->summary();
        const QString resolved = QString::fromStdString(shared->runner->device());
        return std::function<void()>([this, ticket, summary, resolved] { Q_EMIT modelReady(ticket, summary, resolved); });
    });
}

quint64 InferenceJob::run(std::map<std::string, Image> inputs, bool computeMaps)
{
    auto flag = std::make_shared<std::atomic<bool>>(false);
    auto shared = shared_;
    auto in = std::make_shared<std::map<std::string, Image>>(std::move(inputs));
    const quint64 ticket = nextTicket_;
    return submit(flag, [this, shared, in, computeMaps, ticket](const JobControl& control) {
        std::lock_guard<std::mutex> lock(shared->mutex);
        if (!shared->runner)
            throw UsageError("no model is loaded: open a model (.eimodel) first");
        auto result = std::make_shared<const InferenceResult>(shared->runner->run(*in, computeMaps, control));
        return std::function<void()>([this, ticket, result] { Q_EMIT finished(ticket, result); });
    });
}

void InferenceJob::cancel()
{
    for (auto& f : flags_)
        f->store(true);
}

void InferenceJob::shutdown()
{
    cancel();
    pool_->waitForDone();
    std::lock_guard<std::mutex> lock(shared_->mutex);
    shared_->runner.reset();
    shared_->path.clear();
}

}  // namespace ei

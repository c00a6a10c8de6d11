// See InferenceJob.h.
#include "core/inference/InferenceJob.h"

#include "models/Error.h"

#include <QFileInfo>

#include <torch/cuda.h>

namespace ei {

struct InferenceJob::Shared {
    mutable std::mutex mutex;  // held by the worker while it uses the runner
    std::unique_ptr<InferenceRunner> runner;
    QString path;
    QString requestedDevice;
    QString requestedPrecision;
};

InferenceJob::InferenceJob(QObject* parent) : WorkerQueue(parent), shared_(std::make_shared<Shared>()) {}

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

QStringList InferenceJob::availablePrecisions(const QString& device)
{
    QStringList out{QStringLiteral("auto"), QStringLiteral("fp32"), QStringLiteral("bf16")};
    if (device != QLatin1String("cpu") && torch::cuda::is_available())
        out << QStringLiteral("tf32") << QStringLiteral("fp16");
    return out;
}

quint64 InferenceJob::loadModel(const QString& path, const QString& device, const QString& precision)
{
    auto shared = shared_;
    return submit(tr("Loading the model %1").arg(QFileInfo(path).fileName()),
                  [this, shared, path, device, precision](const JobControl& control) -> Deliver {
        std::lock_guard<std::mutex> lock(shared->mutex);
        if (!shared->runner || shared->path != path || shared->requestedDevice != device ||
            shared->requestedPrecision != precision) {
            shared->runner.reset();  // free the old model before loading the next one
            control.checkpoint(0.0, "loading model");
            shared->runner =
                std::make_unique<InferenceRunner>(path.toStdString(), device.toStdString(), precision.toStdString());
            shared->path = path;
            shared->requestedDevice = device;
            shared->requestedPrecision = precision;
        }
        const ModelSummary summary = shared->runner->summary();
        const QString resolved = QString::fromStdString(shared->runner->device());
        return [this, summary, resolved](quint64 ticket) { Q_EMIT modelReady(ticket, summary, resolved); };
    });
}

quint64 InferenceJob::run(std::map<std::string, Image> inputs, bool computeMaps)
{
    auto shared = shared_;
    auto in = std::make_shared<std::map<std::string, Image>>(std::move(inputs));
    return submit(tr("Inference"), [this, shared, in, computeMaps](const JobControl& control) -> Deliver {
        std::lock_guard<std::mutex> lock(shared->mutex);
        if (!shared->runner)
            throw UsageError("no model is loaded: open a model (.eimodel) first");
        auto result = std::make_shared<const InferenceResult>(shared->runner->run(*in, computeMaps, control));
        return [this, result](quint64 ticket) { Q_EMIT finished(ticket, result); };
    });
}

quint64 InferenceJob::attribute(std::map<std::string, Image> inputs, InferenceRunner::AttributionRequest request)
{
    auto shared = shared_;
    auto in = std::make_shared<std::map<std::string, Image>>(std::move(inputs));
    return submit(tr("Pixel attribution"), [this, shared, in, request](const JobControl& control) -> Deliver {
        std::lock_guard<std::mutex> lock(shared->mutex);
        if (!shared->runner)
            throw UsageError("no model is loaded: open a model (.eimodel) first");
        auto result = std::make_shared<const AttributionResult>(shared->runner->attribute(*in, request, control));
        return [this, result](quint64 ticket) { Q_EMIT attributed(ticket, result); };
    });
}

void InferenceJob::shutdown()
{
    WorkerQueue::shutdown();
    std::lock_guard<std::mutex> lock(shared_->mutex);
    shared_->runner.reset();
    shared_->path.clear();
}

}  // namespace ei

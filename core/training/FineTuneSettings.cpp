// See FineTuneSettings.h.
#include "core/training/FineTuneSettings.h"

#include "core/data/Manifest.h"
#include "core/io/ImageLoader.h"

#include <QDateTime>
#include <QDir>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>

namespace ei {

FineTuneSettings::FineTuneSettings(QObject* parent) : QObject(parent)
{
    checker_ = new WorkerQueue(this);
    connect(checker_, &WorkerQueue::failed, this, [this](quint64 ticket, const QString& message) {
        if (ticket != checkTicket_)
            return;
        checkTicket_ = 0;
        manifestProblems_ = {message};
        Q_EMIT manifestChecked();
    });
    connect(checker_, &WorkerQueue::cancelled, this, [this](quint64 ticket) {
        if (ticket == checkTicket_)
            checkTicket_ = 0;
    });
}

FineTuneSettings::~FineTuneSettings() { checker_->shutdown(); }

void FineTuneSettings::setManifestPath(const QString& path)
{
    manifestPath_ = path;
    manifest_.reset();
    manifestProblems_.clear();
    if (checkTicket_)
        checker_->cancel(checkTicket_);
    checkTicket_ = 0;
    if (!QFileInfo(path).isFile()) {
        if (!path.isEmpty())
            manifestProblems_ << tr("%1: no such file").arg(path);
        Q_EMIT manifestChecked();
        return;
    }
    checkTicket_ = checker_->submit(tr("Checking the data set %1").arg(QFileInfo(path).fileName()),
                                    [this, path](const JobControl& control) -> WorkerQueue::Deliver {
        ManifestOptions options;
        int opened = 0;
        options.checkImage = [&](const std::string& file) {
            control.checkpoint(0.0, "image " + std::to_string(++opened));
            loadImage(file);
        };
        auto manifest = std::make_shared<const Manifest>(Manifest::read(path.toStdString(), options));
        return [this, manifest](quint64 ticket) {
            if (ticket != checkTicket_)
                return;
            checkTicket_ = 0;
            manifest_ = manifest;
            for (const auto& p : manifest->problems())
                manifestProblems_ << QString::fromStdString(p.text());
            Q_EMIT manifestChecked();
        };
    });
    Q_EMIT manifestChecked();  // "checking" now
}

bool FineTuneSettings::manifestReady() const { return manifest_ && manifestProblems_.isEmpty(); }

QStringList FineTuneSettings::modalities() const
{
    QStringList out;
    if (manifest_)
        for (const auto& m : manifest_->modalities())
            out << QString::fromStdString(m);
    return out;
}

void FineTuneSettings::setBackbonePath(const QString& path)
{
    backbonePath_ = path;
    backboneConfig_ = {};
    backboneProblem_.clear();
    try {
        const std::string text = describeBackbone(path.toStdString());
        backboneConfig_ = QJsonDocument::fromJson(QByteArray::fromStdString(text)).object();
    } catch (const std::exception& e) {
        backboneProblem_ = path.isEmpty() ? tr("no backbone chosen") : QString::fromUtf8(e.what());
    }
    Q_EMIT backboneChanged();
}

QString FineTuneSettings::backboneDescription() const
{
    if (backboneConfig_.isEmpty())
        return backboneProblem_;
    return QStringLiteral("%1, patch %2, width %3, depth %4")
        .arg(backboneConfig_["family"].toString())
        .arg(backboneConfig_["patch_size"].toInt())
        .arg(backboneConfig_["embed_dim"].toInt())
        .arg(backboneConfig_["depth"].toInt());
}

int FineTuneSettings::inputSize(const QString& modality) const
{
    const auto it = sizes_.find(modality);
    return it == sizes_.end() ? 448 : it->second;
}

void FineTuneSettings::setInputSize(const QString& modality, int size) { sizes_[modality] = size; }

QStringList FineTuneSettings::validate() const
{
    QStringList problems;
    if (isCheckingManifest())
        problems << tr("the data set is still being checked");
    else if (!manifest_)
        problems << tr("no data set: choose a manifest (CSV)");
    problems << manifestProblems_;
    if (backboneConfig_.isEmpty())
        problems << tr("backbone: %1").arg(backboneProblem_.isEmpty() ? tr("no backbone chosen") : backboneProblem_);
    const QStringList parts = ranks.split(',', Qt::SkipEmptyParts);
    if (parts.isEmpty())
        problems << tr("MoR ranks: give at least one, e.g. 2,4,8");
    for (const QString& r : parts) {
        bool ok = false;
        const int v = r.trimmed().toInt(&ok);
        if (!ok || v < 1)
            problems << tr("MoR ranks: '%1' is not a positive whole number").arg(r.trimmed());
    }
    const int patch = backboneConfig_["patch_size"].toInt();
    for (const QString& m : modalities())
        if (patch > 0 && inputSize(m) < patch)
            problems << tr("%1: input size %2 is smaller than the patch (%3)").arg(m).arg(inputSize(m)).arg(patch);
    if (fusion != QLatin1String("ei") && fusion != QLatin1String("late") && fusion != QLatin1String("unimodal"))
        problems << tr("fusion must be ei, late or unimodal");
    if (recipe.baseLr > recipe.maxLr)
        problems << tr("the base learning rate (%1) is above the peak (%2)").arg(recipe.baseLr).arg(recipe.maxLr);
    if (recipe.batchSize < 1 || recipe.maxEpochs < 1 || recipe.patience < 1)
        problems << tr("batch size, epochs and patience must be at least 1");
    return problems;
}

QString FineTuneSettings::toTrainConfigJson() const
{
    QJsonArray modalityArray;
    for (const QString& m : modalities())
        modalityArray.append(QJsonObject{{"name", m}, {"size", QJsonArray{inputSize(m), inputSize(m)}}});
    QJsonArray rankArray, alphaArray;
    for (const auto& r : ranks.split(',', Qt::SkipEmptyParts)) {
        rankArray.append(r.trimmed().toInt());
        alphaArray.append(2 * r.trimmed().toInt());
    }
    QJsonObject intObject{{"insert_layer", insertLayer}};
    if (acquireLayer > 0)
        intObject["acquire_layer"] = acquireLayer;
    const QJsonObject model{{"modalities", modalityArray}, {"fusion", fusion},
                            {"mor", QJsonObject{{"ranks", rankArray}, {"alphas", alphaArray}}}, {"int", intObject}};
    const FineTuneRecipe& r = recipe;
    const QJsonObject j{
        {"model", model},
        {"seed", r.seed},
        {"batch_size", r.batchSize},
        {"max_epochs", r.maxEpochs},
        {"patience", r.patience},
        {"device", r.device},
        {"precision", r.precision},
        {"modality_dropout", r.modalityDropout},
        {"calibrate", r.calibrate},
        {"optimizer", QJsonObject{{"kind", r.optimizer}, {"base_lr", r.baseLr}, {"max_lr", r.maxLr},
                                  {"momentum", r.momentum}, {"weight_decay", r.weightDecay}}},
        {"schedule", QJsonObject{{"kind", r.schedule}}},
        {"loss", QJsonObject{{"lambda1", r.lambda1}, {"lambda2", r.lambda2}}},
        {"augment", QJsonObject{{"rotation", r.rotation}, {"edge_crop", r.edgeCrop}, {"flip", r.flip},
                                {"color_jitter", r.colorJitter}}}};
    return QString::fromUtf8(QJsonDocument(j).toJson(QJsonDocument::Compact));
}

TrainingRequest FineTuneSettings::request(const QString& outDir) const
{
    TrainingRequest request;
    request.manifestPath = manifestPath_.toStdString();
    request.configJson = toTrainConfigJson().toStdString();
    request.backbonePath = backbonePath_.toStdString();
    request.outDir = outDir.toStdString();
    return request;
}

QString FineTuneSettings::defaultRunFolder() const
{
    if (manifestPath_.isEmpty())
        return {};
    return QFileInfo(manifestPath_).absoluteDir().filePath(
        QStringLiteral("runs/run-") + QDateTime::currentDateTimeUtc().toString(QStringLiteral("yyyyMMdd-HHmmss")));
}

}  // namespace ei

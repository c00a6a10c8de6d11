// What the fine-tuning wizard edits, without widgets (ITK-SNAP's ImageIOWizardModel: "the
// wizard is just a collection of buttons and callbacks"): the data set (its manifest,
// checked on a worker with every image opened), the backbone and the model on top of it,
// and the training recipe with the paper's defaults. validate() says what stops a run;
// toTrainConfigJson() is the TRAIN.json of MODEL.md section 5 that the run uses, the same
// file `eiview-cli train --config` reads.
#pragma once

#include "core/training/TrainingJob.h"

#include <QJsonObject>
#include <QObject>
#include <QString>
#include <QStringList>

#include <map>
#include <memory>

namespace ei {

class Manifest;

struct FineTuneRecipe {
    int batchSize = 8;        // paper: 8
    int maxEpochs = 200;      // per stage; paper: 200
    int patience = 10;        // validations without a better val mAP; paper: 10
    int seed = 0;
    QString optimizer = QStringLiteral("sgd");    // "sgd" (the paper's) or "adamw"
    QString schedule = QStringLiteral("cyclic");  // "cyclic" (the official runs) or "cosine"
    double maxLr = 1e-3;
    double baseLr = 1e-5;
    double momentum = 0.95;   // SGD momentum; AdamW's beta1
    double weightDecay = 1e-4;
    double lambda1 = 0.3;     // auxiliary heads
    double lambda2 = 0.1;     // gate supervision
    bool rotation = true, edgeCrop = true, flip = true, colorJitter = true;
    QString device = QStringLiteral("auto");
    QString precision = QStringLiteral("auto");  // models/Precision.h
    double modalityDropout = 0.0;  // chance a fusion batch runs without one modality
    bool calibrate = true;         // fit temperature scaling on val afterwards
};

class FineTuneSettings : public QObject {
    Q_OBJECT
public:
    explicit FineTuneSettings(QObject* parent = nullptr);
    ~FineTuneSettings() override;

    // ---- data set: read and checked on a worker (every image opened, so that unreadable
    // ones show now); manifestChecked follows. A newer check makes older ones moot.
    void setManifestPath(const QString& path);
    QString manifestPath() const { return manifestPath_; }
    bool isCheckingManifest() const { return checkTicket_ != 0; }
    Job* checkJob() const { return checker_; }  // for task lists
    std::shared_ptr<const Manifest> manifest() const { return manifest_; }  // nullptr until read
    QStringList manifestProblems() const { return manifestProblems_; }       // by row, or the reason it could not be read
    bool manifestReady() const;
    QStringList modalities() const;  // the manifest's modality columns

    // ---- model
    void setBackbonePath(const QString& path);  // reads its config (header only)
    QString backbonePath() const { return backbonePath_; }
    QJsonObject backboneConfig() const { return backboneConfig_; }  // empty when unusable
    QString backboneProblem() const { return backboneProblem_; }
    QString backboneDescription() const;  // "dinov2, patch 14, width 384, depth 12"
    int inputSize(const QString& modality) const;  // square size; default 448 (the paper's)
    void setInputSize(const QString& modality, int size);
    QString fusion = QStringLiteral("ei");  // "ei", "late", "unimodal"
    QString ranks = QStringLiteral("2,4,8");  // MoR ranks; alphas are twice them
    int acquireLayer = 0;  // 0: the last block, normed
    int insertLayer = 0;

    // ---- recipe
    FineTuneRecipe recipe;

    // What stops a run (empty: ready): the manifest, the backbone, the ranks, the sizes
    // against the patch, the learning rates.
    QStringList validate() const;
    QString toTrainConfigJson() const;
    // The request the run page starts (validate() first).
    TrainingRequest request(const QString& outDir) const;
    // <manifest folder>/runs/run-<UTC time>.
    QString defaultRunFolder() const;

Q_SIGNALS:
    void manifestChecked();
    void backboneChanged();

private:
    QString manifestPath_;
    std::shared_ptr<const Manifest> manifest_;
    QStringList manifestProblems_;
    quint64 checkTicket_ = 0;
    WorkerQueue* checker_ = nullptr;
    QString backbonePath_;
    QJsonObject backboneConfig_;
    QString backboneProblem_;
    std::map<QString, int> sizes_;
};

}  // namespace ei

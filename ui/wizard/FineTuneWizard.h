// The fine-tuning wizard (QWizard): data set (CSV, preview, problems, class counts),
// model (backbone file and its family, sizes per modality, MoR ranks, fusion, INT
// layers), training settings (the paper's defaults, each explained in a tooltip), run
// (stage, live loss and validation-mAP curves, ETA, Pause / Cancel, device) and results
// (per-class metrics, PR / ROC curves, where the model was saved, "open in the viewer").
// The values and their checks are core/training/FineTuneSettings; the training itself is
// core/training/TrainingJob on a worker thread: the same engine as `eiview-cli train`.
#pragma once

#include <QString>
#include <QWizard>

namespace ei {

class FineTuneSettings;
class TrainingJob;

class FineTuneWizard : public QWizard {
    Q_OBJECT
public:
    enum PageId { DataSetPageId, ModelPageId, SettingsPageId, RunPageId, ResultsPageId };

    explicit FineTuneWizard(QWidget* parent = nullptr);
    ~FineTuneWizard() override;

    FineTuneSettings* settings() const { return settings_; }
    // The TRAIN.json the settings describe (model + recipe), as the run page starts it.
    QString trainConfigJson() const;
    TrainingJob* job() const { return job_; }
    // The saved model and the run's summary after a successful run ("" before).
    QString modelPath() const { return modelPath_; }
    QString summaryJson() const { return summaryJson_; }

Q_SIGNALS:
    void openModelRequested(const QString& modelPath);

private:
    FineTuneSettings* settings_ = nullptr;
    TrainingJob* job_ = nullptr;
    QString modelPath_;
    QString summaryJson_;
};

}  // namespace ei

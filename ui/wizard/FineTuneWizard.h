// The fine-tuning wizard (QWizard): data set (CSV, preview, problems, class counts),
// model (backbone file and its family, sizes per modality, MoR ranks, fusion, INT
// layers), training settings (the paper's defaults, each explained in a tooltip), run
// (stage, live loss and validation-mAP curves, ETA, Pause / Cancel, device) and results
// (per-class metrics, PR / ROC curves, where the model was saved, "open in the viewer").
// The training itself is core/training/TrainingJob on a worker thread: the same engine as
// `eiview-cli train`.
#pragma once

#include <QString>
#include <QWizard>

namespace ei {

class TrainingJob;

class FineTuneWizard : public QWizard {
    Q_OBJECT
public:
    enum PageId { DataSetPageId, ModelPageId, SettingsPageId, RunPageId, ResultsPageId };

    explicit FineTuneWizard(QWidget* parent = nullptr);
    ~FineTuneWizard() override;

    // The TRAIN.json the settings describe (model + recipe), as the run page starts it.
    QString trainConfigJson() const;
    QString modelPath() const;  // the saved model after a successful run ("" before)
    TrainingJob* job() const;

    struct Private;  // shared by the pages (FineTuneWizard.cpp)

Q_SIGNALS:
    void openModelRequested(const QString& modelPath);

private:
    Private* d;
};

}  // namespace ei

// See FineTuneWizard.h.
#include "ui/wizard/FineTuneWizard.h"

#include "core/training/FineTuneSettings.h"
#include "core/training/TrainingJob.h"
#include "ui/wizard/WizardPages.h"

namespace ei {

FineTuneWizard::FineTuneWizard(QWidget* parent) : QWizard(parent)
{
    setWindowTitle(tr("Fine-tune a model"));
    settings_ = new FineTuneSettings(this);
    job_ = new TrainingJob(this);
    connect(job_, &TrainingJob::finished, this, [this](const QString& model, const QString& summary) {
        modelPath_ = model;
        summaryJson_ = summary;
    });
    setPage(DataSetPageId, makeDataSetPage(settings_));
    setPage(ModelPageId, makeModelPage(settings_));
    setPage(SettingsPageId, makeSettingsPage(settings_));
    setPage(RunPageId, makeRunPage(settings_, job_));
    setPage(ResultsPageId, makeResultsPage(this));
}

FineTuneWizard::~FineTuneWizard()
{
    delete job_;  // cancels and waits for the worker before the pages go
    job_ = nullptr;
}

QString FineTuneWizard::trainConfigJson() const { return settings_->toTrainConfigJson(); }

}  // namespace ei

// The fine-tuning wizard's pages, each a view of core/training/FineTuneSettings (the
// values and their checks live there): SetupPages.cpp has the data set, model and
// settings pages; RunPages.cpp the run and results pages.
#pragma once

class QWizardPage;

namespace ei {

class FineTuneSettings;
class FineTuneWizard;
class TrainingJob;

QWizardPage* makeDataSetPage(FineTuneSettings* settings);
QWizardPage* makeModelPage(FineTuneSettings* settings);
QWizardPage* makeSettingsPage(FineTuneSettings* settings);
QWizardPage* makeRunPage(FineTuneSettings* settings, TrainingJob* job);
QWizardPage* makeResultsPage(FineTuneWizard* wizard);

}  // namespace ei

// "Several machines": the wizard's way to start a run on other machines (issue 17). It
// shows the exact command for each node (core/training/RemoteRun: launchPlan), rank 0
// first, and on "Write TRAIN.json and watch" writes the run's TRAIN.json beside the run
// folder and asks the run page to follow rank 0's progress there.
#pragma once

#include "core/training/TrainingJob.h"

#include <QDialog>

class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QPushButton;
class QSpinBox;

namespace ei {

class RemoteRunDialog : public QDialog {
    Q_OBJECT
public:
    RemoteRunDialog(TrainingRequest request, QWidget* parent = nullptr);

Q_SIGNALS:
    // TRAIN.json is written: follow `runDir` (where rank 0 will write progress.jsonl).
    void watchRequested(const QString& runDir);

private:
    QStringList machines() const;  // the hosts field, split at blanks and commas
    void refresh();
    void writeAndWatch();

    TrainingRequest request_;
    QLineEdit* hosts_;
    QSpinBox* port_;
    QPlainTextEdit* commands_;
    QLabel* note_;
    QPushButton* write_;
};

}  // namespace ei

// The one place in the window that lists running work (ITK-SNAP's ProgressReportWidget):
// a row per task of core/jobs/TaskList (title, stage, progress bar, Cancel), shown only
// once a task has run for TaskList::showAfterMs so quick ones never flash; finished tasks stay
// listed with their outcome (a failure's message) until cleared.
#pragma once

#include <QWidget>

class QLabel;
class QTimer;
class QVBoxLayout;

namespace ei {

class TaskList;
struct JobStatus;

class TaskPanel : public QWidget {
    Q_OBJECT
public:
    explicit TaskPanel(TaskList* tasks, QWidget* parent = nullptr);

    int visibleRows() const;  // tests

private:
    void refresh();
    QWidget* makeRow(const JobStatus& status);

    TaskList* tasks_;
    QVBoxLayout* rows_ = nullptr;
    QLabel* empty_ = nullptr;
    QTimer* delay_ = nullptr;
};

}  // namespace ei

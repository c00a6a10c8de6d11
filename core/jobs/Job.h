// The one contract of long-running work in EIView: loading files, loading a model,
// inference, training (and next, network transfers). A Job starts tasks; each task has a
// ticket, unique in the process, and a JobStatus that the job reports by signal on the
// GUI thread whenever it changes (KDE's KJob and Slicer's command-line module status are
// the models). Cancelling is not failing: a cancelled task ends in Cancelled, never in
// Failed, and no error is shown for it.
#pragma once

#include <QMetaType>
#include <QObject>
#include <QString>

namespace ei {

enum class JobState { Queued, Running, Cancelled, Failed, Done };

// "queued", "running", "cancelled", "failed", "done".
QString jobStateName(JobState state);

struct JobStatus {
    quint64 ticket = 0;
    QString title;            // what the task does, for a task list ("Loading 3 files")
    JobState state = JobState::Queued;
    double fraction = 0.0;    // [0, 1]
    QString message;          // the current stage; the error when Failed
    qint64 startedMs = 0;     // when it started running (ms since the epoch); 0 while queued

    bool isFinished() const { return state == JobState::Cancelled || state == JobState::Failed || state == JobState::Done; }
};

class Job : public QObject {
    Q_OBJECT
public:
    using QObject::QObject;

    // Asks the task to stop at its next checkpoint (a queued one never starts). Unknown or
    // finished tickets are ignored.
    virtual void cancel(quint64 ticket) = 0;
    virtual void cancelAll() = 0;

    // A new ticket, unique among every job of the process.
    static quint64 newTicket();

Q_SIGNALS:
    void statusChanged(const ei::JobStatus& status);
};

}  // namespace ei

Q_DECLARE_METATYPE(ei::JobStatus)

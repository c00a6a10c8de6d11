// Every task of the jobs it watches, for the one place in the window that lists running
// work (ITK-SNAP's ProgressReportWidget): active tasks in the order they started, then
// the last few finished ones (a failure stays readable after the fact). Widget-free:
// ui/panels/TaskPanel shows it; tests read it directly.
#pragma once

#include "core/jobs/Job.h"

#include <QObject>
#include <QPointer>
#include <QVector>

#include <map>

namespace ei {

class TaskList : public QObject {
    Q_OBJECT
public:
    explicit TaskList(QObject* parent = nullptr);

    // Follows the job's statusChanged; the job may be deleted first.
    void watch(Job* job);

    // Active tasks (oldest first), then finished ones (newest first, at most keepFinished).
    QVector<JobStatus> tasks() const;
    QVector<JobStatus> activeTasks() const;
    // What views show at nowMs: the active tasks that have run for showAfterMs, then the
    // finished ones. *recheckInMs (when given): in how many ms a task now hidden becomes
    // due, -1 when none is waiting.
    QVector<JobStatus> shownTasks(qint64 nowMs, qint64* recheckInMs = nullptr) const;
    bool isBusy() const { return !active_.empty(); }
    void cancel(quint64 ticket);
    void clearFinished();

    static constexpr int keepFinished = 8;
    // How long a task runs before views show it: quick ones never flash (MITK: 250 ms).
    static constexpr int showAfterMs = 250;

Q_SIGNALS:
    void changed();

private:
    void update(Job* job, const JobStatus& status);

    struct Entry {
        JobStatus status;
        QPointer<Job> job;
    };
    std::map<quint64, Entry> active_;  // tickets grow: map order is start order
    QVector<JobStatus> finished_;      // newest first
};

}  // namespace ei

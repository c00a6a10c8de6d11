// See TaskList.h.
#include "core/jobs/TaskList.h"

#include <algorithm>

namespace ei {

TaskList::TaskList(QObject* parent) : QObject(parent) {}

void TaskList::watch(Job* job)
{
    connect(job, &Job::statusChanged, this, [this, job](const JobStatus& s) { update(job, s); });
    connect(job, &QObject::destroyed, this, [this] {
        // A deleted job's tasks cannot report any more: drop them.
        const std::size_t before = active_.size();
        for (auto it = active_.begin(); it != active_.end();)
            it = it->second.job ? std::next(it) : active_.erase(it);
        if (active_.size() != before)
            Q_EMIT changed();
    });
}

void TaskList::update(Job* job, const JobStatus& status)
{
    if (status.isFinished()) {
        active_.erase(status.ticket);
        finished_.prepend(status);
        while (finished_.size() > keepFinished)
            finished_.removeLast();
    } else {
        active_[status.ticket] = {status, job};
    }
    Q_EMIT changed();
}

QVector<JobStatus> TaskList::activeTasks() const
{
    QVector<JobStatus> out;
    for (const auto& [ticket, e] : active_)
        out << e.status;
    return out;
}

QVector<JobStatus> TaskList::tasks() const { return activeTasks() + finished_; }

QVector<JobStatus> TaskList::shownTasks(qint64 nowMs, qint64* recheckInMs) const
{
    QVector<JobStatus> out;
    qint64 due = -1;
    for (const auto& [ticket, e] : active_) {
        // A queued task is due showAfterMs after it starts running, at the earliest.
        const qint64 wait = e.status.startedMs == 0 ? showAfterMs : e.status.startedMs + showAfterMs - nowMs;
        if (e.status.startedMs != 0 && wait <= 0)
            out << e.status;
        else
            due = due < 0 ? wait : std::min(due, wait);
    }
    if (recheckInMs)
        *recheckInMs = due;
    return out + finished_;
}

void TaskList::cancel(quint64 ticket)
{
    const auto it = active_.find(ticket);
    if (it != active_.end() && it->second.job)
        it->second.job->cancel(ticket);
}

void TaskList::clearFinished()
{
    finished_.clear();
    Q_EMIT changed();
}

}  // namespace ei

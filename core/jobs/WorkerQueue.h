// A Job that runs its tasks, in order, on one worker thread of its own (a private
// one-thread pool, so the worker may own state such as a loaded model). A task is a
// function of a JobControl (progress and the cancel flag) that runs on the worker and
// returns what to do on the GUI thread (given its ticket) when it has succeeded; its exception becomes
// failed(ticket, message), ei::Cancelled becomes cancelled(ticket). Every signal is
// emitted on the thread that owns the queue (the GUI thread), so receivers never see a
// half-finished state and never need locks. InferenceJob, LoadJob and TrainingJob are
// WorkerQueues; the window shows all of them through one TaskList.
#pragma once

#include "core/jobs/Job.h"
#include "models/JobControl.h"

#include <atomic>
#include <functional>
#include <map>
#include <memory>

class QThreadPool;

namespace ei {

class WorkerQueue : public Job {
    Q_OBJECT
public:
    using Deliver = std::function<void(quint64 ticket)>;  // runs on the GUI thread
    using Task = std::function<Deliver(const JobControl&)>;

    explicit WorkerQueue(QObject* parent = nullptr);
    ~WorkerQueue() override;  // shutdown()

    // Queues a task; returns its ticket. `title` names it in task lists.
    quint64 submit(const QString& title, Task task);

    void cancel(quint64 ticket) override;
    void cancelAll() override;
    bool isBusy() const { return !tasks_.empty(); }
    bool isActive(quint64 ticket) const { return tasks_.count(ticket) > 0; }

    // Cancels every task and waits for the worker. Call before QApplication returns.
    void shutdown();

Q_SIGNALS:
    void progress(quint64 ticket, double fraction, const QString& stage);
    void failed(quint64 ticket, const QString& message);
    void cancelled(quint64 ticket);
    void busyChanged(bool busy);

protected:
    // The current status of an active task; the worker's progress updates it. Subclasses
    // may set the message (e.g. "paused") and re-emit.
    void updateStatus(quint64 ticket, const std::function<void(JobStatus&)>& change);

private:
    void ended(quint64 ticket, JobState state, const QString& message);

    struct Pending {
        std::shared_ptr<std::atomic<bool>> cancelFlag;
        JobStatus status;
    };
    QThreadPool* pool_ = nullptr;
    std::map<quint64, Pending> tasks_;  // queued or running
};

}  // namespace ei

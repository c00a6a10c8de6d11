// See WorkerQueue.h. The worker posts lambdas to this object (queued), so that status
// and results arrive on the GUI thread in the order the worker produced them.
#include "core/jobs/WorkerQueue.h"

#include "models/Error.h"

#include <QDateTime>
#include <QMetaObject>
#include <QThreadPool>

#include <algorithm>

namespace ei {

QString jobStateName(JobState state)
{
    switch (state) {
    case JobState::Queued: return QStringLiteral("queued");
    case JobState::Running: return QStringLiteral("running");
    case JobState::Cancelled: return QStringLiteral("cancelled");
    case JobState::Failed: return QStringLiteral("failed");
    case JobState::Done: return QStringLiteral("done");
    }
    return {};
}

quint64 Job::newTicket()
{
    static std::atomic<quint64> next{1};
    return next.fetch_add(1);
}

WorkerQueue::WorkerQueue(QObject* parent) : Job(parent)
{
    qRegisterMetaType<ei::JobStatus>();
    pool_ = new QThreadPool(this);
    pool_->setMaxThreadCount(1);  // tasks queue in order; one owner of the worker's state
    pool_->setExpiryTimeout(-1);  // keep the thread: LibTorch keeps per-thread state
}

WorkerQueue::~WorkerQueue() { shutdown(); }

void WorkerQueue::updateStatus(quint64 ticket, const std::function<void(JobStatus&)>& change)
{
    const auto it = tasks_.find(ticket);
    if (it == tasks_.end())
        return;
    change(it->second.status);
    Q_EMIT statusChanged(it->second.status);
}

quint64 WorkerQueue::submit(const QString& title, Task task)
{
    const quint64 ticket = newTicket();
    auto flag = std::make_shared<std::atomic<bool>>(false);
    const bool wasIdle = tasks_.empty();
    Pending& entry = tasks_[ticket];
    entry.cancelFlag = flag;
    entry.status.ticket = ticket;
    entry.status.title = title;
    Q_EMIT statusChanged(entry.status);
    if (wasIdle)
        Q_EMIT busyChanged(true);

    pool_->start([this, ticket, flag, task = std::move(task)] {
        const auto post = [this](std::function<void()> f) { QMetaObject::invokeMethod(this, std::move(f), Qt::QueuedConnection); };
        JobControl control;
        control.cancelFlag = flag.get();
        control.onProgress = [this, ticket, post](double fraction, const std::string& stage) {
            const QString text = QString::fromStdString(stage);
            post([this, ticket, fraction, text] {
                updateStatus(ticket, [&](JobStatus& s) {
                    s.fraction = std::clamp(fraction, 0.0, 1.0);
                    s.message = text;
                });
                Q_EMIT progress(ticket, fraction, text);
            });
        };
        if (flag->load()) {  // cancelled while queued: never starts
            post([this, ticket] { ended(ticket, JobState::Cancelled, {}); });
            return;
        }
        const qint64 startedMs = QDateTime::currentMSecsSinceEpoch();
        post([this, ticket, startedMs] {
            updateStatus(ticket, [&](JobStatus& s) {
                s.state = JobState::Running;
                s.startedMs = startedMs;
            });
        });
        try {
            Deliver deliver = task(control);
            post([this, ticket, deliver = std::move(deliver)] {
                ended(ticket, JobState::Done, {});
                if (deliver)
                    deliver(ticket);
            });
        } catch (const Cancelled&) {
            post([this, ticket] { ended(ticket, JobState::Cancelled, {}); });
        } catch (const std::exception& e) {
            // ei::Error carries "file: problem"; LibTorch's c10::Error its own text.
            const QString message = QString::fromStdString(e.what());
            post([this, ticket, message] { ended(ticket, JobState::Failed, message); });
        } catch (...) {
            post([this, ticket] { ended(ticket, JobState::Failed, tr("unknown error in the worker")); });
        }
    });
    return ticket;
}

void WorkerQueue::ended(quint64 ticket, JobState state, const QString& message)
{
    const auto it = tasks_.find(ticket);
    if (it == tasks_.end())
        return;
    JobStatus status = it->second.status;
    status.state = state;
    if (state == JobState::Done)
        status.fraction = 1.0;
    status.message = message;
    // The queue is idle (and says so) before anyone reacts to the outcome.
    tasks_.erase(it);
    Q_EMIT statusChanged(status);
    if (tasks_.empty())
        Q_EMIT busyChanged(false);
    if (state == JobState::Cancelled)
        Q_EMIT cancelled(ticket);
    else if (state == JobState::Failed)
        Q_EMIT failed(ticket, message);
}

void WorkerQueue::cancel(quint64 ticket)
{
    const auto it = tasks_.find(ticket);
    if (it != tasks_.end())
        it->second.cancelFlag->store(true);
}

void WorkerQueue::cancelAll()
{
    for (auto& [ticket, task] : tasks_)
        task.cancelFlag->store(true);
}

void WorkerQueue::shutdown()
{
    cancelAll();
    pool_->waitForDone();
}

}  // namespace ei

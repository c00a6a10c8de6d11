// The job contract (core/jobs): a WorkerQueue's tasks go queued -> running -> done /
// failed / cancelled, in order, on the GUI thread; a cancelled queued task never runs; a
// running one stops at its next checkpoint; a failure carries its message; tickets are
// unique across queues; the TaskList shows every watched job and keeps finished tasks.
#include "core/jobs/TaskList.h"
#include "core/jobs/WorkerQueue.h"
#include "models/Error.h"
#include "tests/TestRegistry.h"

#include <QSignalSpy>
#include <QThread>
#include <QtTest>

#include <atomic>

using namespace ei;

class JobsTest : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void statesFollowTheContract()
    {
        WorkerQueue queue;
        std::vector<std::pair<quint64, JobState>> seen;
        connect(&queue, &Job::statusChanged, [&](const JobStatus& s) {
            if (seen.empty() || seen.back() != std::make_pair(s.ticket, s.state))
                seen.emplace_back(s.ticket, s.state);
        });
        QSignalSpy busy(&queue, &WorkerQueue::busyChanged);
        int delivered = 0;
        const quint64 ok = queue.submit("adds", [](const JobControl& c) -> WorkerQueue::Deliver {
            c.checkpoint(0.5, "half");
            return [](quint64) {};
        });
        const quint64 bad = queue.submit("fails", [](const JobControl&) -> WorkerQueue::Deliver {
            throw BadInputError("scan.dcm", "truncated");
        });
        const quint64 last = queue.submit("delivers", [&](const JobControl&) -> WorkerQueue::Deliver {
            return [&delivered](quint64) { ++delivered; };
        });
        QVERIFY(ok != bad && bad != last);
        QSignalSpy failed(&queue, &WorkerQueue::failed);
        QTRY_VERIFY(!queue.isBusy());
        QCOMPARE(delivered, 1);
        QCOMPARE(failed.size(), 1);
        QCOMPARE(failed.first().at(0).toULongLong(), bad);
        QCOMPARE(failed.first().at(1).toString(), QString("scan.dcm: truncated"));
        QCOMPARE(busy.size(), 2);  // busy once, idle once
        // Per ticket: queued, running, then the outcome, in that order.
        const auto statesOf = [&](quint64 t) {
            std::vector<JobState> out;
            for (const auto& [ticket, state] : seen)
                if (ticket == t)
                    out.push_back(state);
            return out;
        };
        QCOMPARE(statesOf(ok), (std::vector<JobState>{JobState::Queued, JobState::Running, JobState::Done}));
        QCOMPARE(statesOf(bad), (std::vector<JobState>{JobState::Queued, JobState::Running, JobState::Failed}));
        QCOMPARE(statesOf(last), (std::vector<JobState>{JobState::Queued, JobState::Running, JobState::Done}));
    }

    void cancelStopsRunningAndQueuedTasks()
    {
        WorkerQueue queue;
        TaskList list;
        list.watch(&queue);
        std::atomic<bool> started{false}, secondRan{false};
        const quint64 running = queue.submit("loops", [&](const JobControl& c) -> WorkerQueue::Deliver {
            started = true;
            for (int i = 0; i < 100000; ++i) {
                c.checkpoint(i / 100000.0, "looping");
                QThread::msleep(1);
            }
            return {};
        });
        const quint64 queued = queue.submit("waits", [&](const JobControl&) -> WorkerQueue::Deliver {
            secondRan = true;
            return {};
        });
        QSignalSpy cancelled(&queue, &WorkerQueue::cancelled);
        QTRY_VERIFY(started.load());
        QCOMPARE(list.activeTasks().size(), 2);
        list.cancel(queued);
        list.cancel(running);
        QTRY_COMPARE(cancelled.size(), 2);
        QVERIFY(!secondRan.load());
        QVERIFY(list.activeTasks().isEmpty());
        const auto all = list.tasks();
        QCOMPARE(all.size(), 2);
        for (const auto& t : all)
            QCOMPARE(t.state, JobState::Cancelled);
        list.clearFinished();
        QVERIFY(list.tasks().isEmpty());
    }

    void viewsShowATaskOnlyAfterItHasRunAWhile()
    {
        WorkerQueue queue;
        TaskList list;
        list.watch(&queue);
        std::atomic<bool> release{false};
        const quint64 ticket = queue.submit("waits", [&](const JobControl& c) -> WorkerQueue::Deliver {
            while (!release.load()) {
                c.checkpoint(0.5, "waiting");
                QThread::msleep(1);
            }
            return {};
        });
        qint64 recheck = 0;
        QVERIFY(list.shownTasks(0, &recheck).isEmpty());  // queued: not yet
        QCOMPARE(recheck, qint64(TaskList::showAfterMs));
        QTRY_VERIFY(!list.activeTasks().isEmpty() && list.activeTasks().first().startedMs > 0);
        const qint64 started = list.activeTasks().first().startedMs;
        QVERIFY(list.shownTasks(started + 10, &recheck).isEmpty());
        QCOMPARE(recheck, qint64(TaskList::showAfterMs - 10));
        const auto shown = list.shownTasks(started + TaskList::showAfterMs, &recheck);
        QCOMPARE(shown.size(), 1);
        QCOMPARE(shown.first().ticket, ticket);
        QCOMPARE(recheck, qint64(-1));
        release = true;
        QTRY_VERIFY(!list.isBusy());
        QCOMPARE(list.shownTasks(started).size(), 1);  // finished ones are always listed
    }

    void ticketsAreUniqueAcrossJobs()
    {
        WorkerQueue a, b;
        TaskList list;
        list.watch(&a);
        list.watch(&b);
        const auto noop = [](const JobControl&) -> WorkerQueue::Deliver { return {}; };
        const quint64 ta = a.submit("a", noop), tb = b.submit("b", noop);
        QVERIFY(ta != tb);
        QCOMPARE(list.activeTasks().size(), 2);  // queued at once
        QTRY_VERIFY(!list.isBusy());
        QCOMPARE(list.tasks().size(), 2);
        for (const auto& t : list.tasks())
            QCOMPARE(t.state, JobState::Done);
    }
};

EI_REGISTER_TEST(JobsTest);
#include "JobsTest.moc"

// core/training/RemoteRun: the launch commands of a run on several machines (exact text,
// quoting, refusals) and ProgressFollower on a progress.jsonl written in pieces, with a
// line cut in the middle and a file cut back by a resume.
#include "core/training/RemoteRun.h"
#include "models/Error.h"
#include "tests/TestRegistry.h"

#include <QFile>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest>

class RemoteRunTest : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void launchCommands()
    {
        ei::TrainingRequest request;
        request.manifestPath = "/data/archive/manifest.csv";
        request.backbonePath = "/data/dinov2.safetensors";
        request.outDir = "/shared/runs/knee 01";
        request.configJson = R"({"batch_size": 8})";
        const ei::LaunchPlan plan = ei::launchPlan(request, {"node0", "node1", "node2"}, 29511);
        QCOMPARE(plan.configPath, QString("/shared/runs/knee 01.train.json"));
        QCOMPARE(plan.commands.size(), 3);
        QCOMPARE(plan.commands[0],
                 QString("MASTER_ADDR=node0 MASTER_PORT=29511 WORLD_SIZE=3 RANK=0 LOCAL_RANK=0 eiview-cli train "
                         "--manifest /data/archive/manifest.csv --config '/shared/runs/knee 01.train.json' "
                         "--backbone /data/dinov2.safetensors --out '/shared/runs/knee 01'  # on node0"));
        QVERIFY(plan.commands[2].startsWith("MASTER_ADDR=node0 MASTER_PORT=29511 WORLD_SIZE=3 RANK=2 "));
        QVERIFY(plan.commands[2].endsWith("# on node2"));
        QCOMPARE(ei::shellWord("it's"), QString("'it'\\''s'"));

        QVERIFY_THROWS_EXCEPTION(ei::UsageError, ei::launchPlan(request, {}, 29500));
        QVERIFY_THROWS_EXCEPTION(ei::UsageError, ei::launchPlan(request, {"node 0"}, 29500));
        QVERIFY_THROWS_EXCEPTION(ei::UsageError, ei::launchPlan(request, {"node0"}, 70000));

        QTemporaryDir dir;
        request.outDir = dir.filePath("run").toStdString();
        ei::writeLaunchConfig(request, ei::launchPlan(request, {"node0"}, 29500));
        QFile written(dir.filePath("run.train.json"));
        QVERIFY(written.open(QIODevice::ReadOnly));
        QCOMPARE(written.readAll(), QByteArray(R"({"batch_size": 8})" "\n"));
    }

    void followsProgressAsItIsWritten()
    {
        QTemporaryDir dir;
        ei::ProgressFollower follower;
        QSignalSpy events(&follower, &ei::ProgressFollower::eventReceived);
        QSignalSpy restarted(&follower, &ei::ProgressFollower::restarted);
        follower.follow(dir.path(), 60000);  // polled by hand below
        QCOMPARE(events.count(), 0);  // no file yet: rank 0 has not started
        QFile log(dir.filePath("progress.jsonl"));
        QVERIFY(log.open(QIODevice::WriteOnly | QIODevice::Append));
        log.write("{\"event\":\"stage_start\"}\n{\"event\":\"st");
        log.flush();
        follower.poll();
        QCOMPARE(events.count(), 1);  // the cut line waits for its end
        log.write("ep\",\"loss\":1}\n");
        log.flush();
        follower.poll();
        follower.poll();
        QCOMPARE(events.count(), 2);
        QCOMPARE(events.at(1).at(0).toString(), QString("{\"event\":\"step\",\"loss\":1}"));
        log.close();
        QVERIFY(log.resize(24));  // a resume cuts the log back to its checkpoint
        follower.poll();
        QCOMPARE(restarted.count(), 1);
        QCOMPARE(events.count(), 3);  // read again from the start
        QCOMPARE(events.at(2).at(0).toString(), QString("{\"event\":\"stage_start\"}"));
    }
};

#include "RemoteRunTest.moc"
EI_REGISTER_TEST(RemoteRunTest);

// Killed mid-write (kill -9 at moments spread over the write), `eiview-cli init` never
// leaves a short or damaged model under the target name: the target is absent, or the
// previous complete file, or the new complete file. Issue 12, "crash safety"; training's
// kill and --resume are tested in tests/training/TrainerTest.
#include "models/io/EiModelFile.h"
#include "models/io/Safetensors.h"
#include "tests/TestRegistry.h"
#include "tests/ProcessSignal.h"

#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <csignal>

namespace {

// The digest of a model's tensors (the file's metadata may hold a date).
std::string tensorsOf(const QString& path) { return ei::tensorDigest(ei::readSafetensors(path.toStdString()).tensors); }

}  // namespace

class CrashSafetyTest : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void killedWritesLeaveWholeFilesOnly()
    {
        QTemporaryDir dir;
        const QString config = dir.filePath("config.json");
        QFile f(config);
        QVERIFY(f.open(QIODevice::WriteOnly));
        // ~40 MB of weights: writing takes long enough to be interrupted part-way.
        f.write(R"({"backbone": {"family": "dinov2", "patch_size": 16, "embed_dim": 384, "depth": 6, "num_heads": 6,
                                  "pos_grid": [4, 4]},
                    "modalities": [{"name": "CFP", "size": [64, 64]}, {"name": "OCT", "size": [64, 64]}],
                    "classes": ["a", "b"]})");
        f.close();
        const QString target = dir.filePath("model.eimodel");
        auto run = [&](int killAfterMs) {
            QProcess p;
            p.start(ei::test::cliPath(), {"init", "--config", config, "--seed", "1", "--out", target});
            if (!p.waitForStarted(30000))
                return -2;
            if (killAfterMs >= 0) {
                QTest::qWait(killAfterMs);
                ei::test::signalIfRunning(p, SIGKILL);
            }
            p.waitForFinished(120000);
            return p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
        };
        // How long a whole run takes; the kills are spread over it.
        QElapsedTimer timer;
        timer.start();
        QCOMPARE(run(-1), 0);
        const int whole = int(timer.elapsed());
        const std::string complete = tensorsOf(target);
        QVERIFY(ei::EiModelFile::read(target.toStdString()).model);
        QFile::remove(target);

        int killed = 0;
        for (int i = 0; i < 10; ++i) {
            const int at = whole * (i + 1) / 11;
            const bool hadFile = QFile::exists(target);
            if (run(at) == -1)
                ++killed;
            if (QFile::exists(target)) {
                // whatever is there is a whole model: the tensors of an uninterrupted run
                QCOMPARE(tensorsOf(target), complete);
            } else {
                QVERIFY(!hadFile);  // an existing model is never lost
            }
        }
        QVERIFY2(killed >= 3, qPrintable(QString("only %1 runs were killed before they ended").arg(killed)));
        // Nothing but the target and hidden temporary files of killed writers.
        for (const QString& name : QDir(dir.path()).entryList(QDir::Files | QDir::Hidden))
            QVERIFY2(name == "config.json" || name == "model.eimodel" || name.startsWith(".model.eimodel.tmp"), qPrintable(name));
    }
};

EI_REGISTER_TEST(CrashSafetyTest);
#include "CrashSafetyTest.moc"

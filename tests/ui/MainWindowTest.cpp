// The whole window on a real (tiny, random) model made by `eiview-cli init`: automatic
// slot assignment, a run on the worker whose numbers the charts show and which match
// `eiview-cli infer` on the same files, overlays that toggle, the result cache, Cancel,
// an empty slot reported before the run, and the export (PNG + JSON).
#include "core/inference/InferenceJob.h"
#include "tests/TestRegistry.h"
#include "ui/window/MainWindow.h"
#include "ui/panels/OverlayPanel.h"
#include "ui/panels/PredictionPanel.h"
#include "ui/panels/StudyPanel.h"
#include "ui/viewer/Viewport.h"
#include "ui/viewer/ViewportGrid.h"

#include <QCoreApplication>
#include <QImage>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest>

using namespace ei;

namespace {

QJsonObject readJson(const QString& path)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return {};
    return QJsonDocument::fromJson(f.readAll()).object();
}

QString runCli(const QStringList& args)
{
    QProcess p;
    p.start(ei::test::cliPath(), args);
    if (!p.waitForFinished(300000))
        return QStringLiteral("timed out");
    if (p.exitCode() != 0)
        return QString::fromLocal8Bit(p.readAllStandardError());
    return {};
}

}  // namespace

class MainWindowTest : public QObject {
    Q_OBJECT
    QTemporaryDir dir_;
    QString model_, cfp_, oct_;

private Q_SLOTS:
    void initTestCase()
    {
        QCoreApplication::setOrganizationName(QStringLiteral("EIViewTests"));  // keep the user's settings apart
        QVERIFY(dir_.isValid());
        const QString config = dir_.filePath("config.json");
        QFile f(config);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(R"({"backbone": {"family": "dinov2", "patch_size": 16, "embed_dim": 32, "depth": 2, "num_heads": 2,
                                  "pos_grid": [4, 4]},
                    "modalities": [{"name": "CFP", "kind": "image", "size": [60, 60]},
                                   {"name": "OCT", "kind": "image", "size": [64, 48]}],
                    "classes": ["normal", "dryAMD", "wetAMD"],
                    "adapter": {"per_pair": true, "hidden": 16, "norm": true}})");
        f.close();
        model_ = dir_.filePath("tiny.eimodel");
        const QString err = runCli({"init", "--config", config, "--seed", "3", "--random-adapters", "--out", model_});
        QVERIFY2(err.isEmpty(), qPrintable(err));

        QImage cfp(90, 80, QImage::Format_RGB888);
        for (int y = 0; y < 80; ++y)
            for (int x = 0; x < 90; ++x)
                cfp.setPixelColor(x, y, QColor(200 - x, 60 + y, (x * y) % 255));
        cfp_ = dir_.filePath("CFP_patient.png");
        QVERIFY(cfp.save(cfp_));
        QImage oct(70, 50, QImage::Format_Grayscale8);
        for (int y = 0; y < 50; ++y)
            for (int x = 0; x < 70; ++x)
                oct.scanLine(y)[x] = uchar((x * 3 + y * 5) % 256);
        oct_ = dir_.filePath("OCT_patient.png");
        QVERIFY(oct.save(oct_));
    }

    void runShowsTheEnginesNumbers()
    {
        MainWindow w;
        w.resize(1400, 900);
        w.show();
        QSignalSpy loaded(&w, &MainWindow::modelLoaded);
        w.setDevice("cpu");
        w.openModel(model_);
        QVERIFY(loaded.wait(60000));
        QCOMPARE(w.slotNames(), QStringList({"CFP", "OCT"}));
        QVERIFY(w.openFiles({oct_, cfp_}).isEmpty());  // reverse order: the file names decide
        QCOMPARE(QString::fromStdString(w.slotImage("CFP")->sourcePath).section('/', -1), QString("CFP_patient.png"));
        QCOMPARE(w.slotImage("OCT")->channels, 1);

        QSignalSpy done(&w, &MainWindow::inferenceFinished);
        QSignalSpy failed(&w, &MainWindow::inferenceFailed);
        QVERIFY(w.runInference());
        QVERIFY2(done.wait(120000), failed.isEmpty() ? "no result" : qPrintable(failed.first().first().toString()));
        auto r = w.currentResult();
        QVERIFY(r);
        QCOMPARE(int(r->fusedProbs.size()), 3);

        // The charts show the result's numbers...
        const QVector<double> fused = w.predictionPanel()->seriesValues("fused");
        QCOMPARE(fused.size(), 3);
        for (int i = 0; i < 3; ++i)
            QVERIFY(std::abs(fused[i] - r->fusedProbs[i]) < 1e-7);
        const QVector<double> gate = w.predictionPanel()->gateValues();
        QCOMPARE(gate.size(), 2);
        for (int i = 0; i < 2; ++i)
            QVERIFY(std::abs(gate[i] - r->gate[i]) < 1e-7);
        const QVector<double> oct = w.predictionPanel()->seriesValues("OCT");
        for (int i = 0; i < 3; ++i)
            QVERIFY(std::abs(oct[i] - r->modalities[1].probs[i]) < 1e-7);

        // ...and those are the engine's numbers for these files, as the CLI computes them.
        const QString json = dir_.filePath("cli.json");
        const QString err = runCli({"infer", "--model", model_, "--device", "cpu", "--input", "CFP=" + cfp_, "--input",
                                    "OCT=" + oct_, "--json", json});
        QVERIFY2(err.isEmpty(), qPrintable(err));
        const QJsonObject cli = readJson(json);
        const QJsonArray cliFused = cli["fused"].toObject()["probs"].toArray();
        const QJsonArray cliGate = cli["gate"].toArray();
        QCOMPARE(cliFused.size(), 3);
        for (int i = 0; i < 3; ++i)
            QVERIFY2(std::abs(cliFused[i].toDouble() - fused[i]) < 1e-5, qPrintable(QString::number(cliFused[i].toDouble() - fused[i])));
        for (int i = 0; i < 2; ++i)
            QVERIFY(std::abs(cliGate[i].toDouble() - gate[i]) < 1e-5);

        // Overlays: every viewport has a map; toggling changes the rendered pixels.
        Viewport* v = w.viewportGrid()->viewport("CFP");
        QVERIFY(v && v->currentMap());
        QVERIFY(v->availableMapKinds().contains("cls"));
        QVERIFY(v->availableMapKinds().contains("delta"));
        QVERIFY(v->availableMapKinds().contains("int_OCT"));
        const QImage on = v->grab().toImage();
        w.toggleOverlay();
        QVERIFY(!v->overlaySettings().visible);
        const QImage off = v->grab().toImage();
        QVERIFY(on != off);
        w.toggleOverlay();
        QCOMPARE(v->grab().toImage(), on);

        // The same study again comes from the cache, at once.
        QCOMPARE(w.cacheSize(), 1);
        done.clear();
        QVERIFY(w.runInference());
        QCOMPARE(done.size(), 1);  // emitted synchronously: no worker involved
        QCOMPARE(w.currentResult(), r);

        // Export: PNG of the viewports + JSON with the same numbers; identifiers only if asked.
        const QString png = dir_.filePath("export.png"), report = dir_.filePath("export.json");
        QString error;
        QVERIFY2(w.exportTo(png, report, false, &error), qPrintable(error));
        const QImage shot(png);
        QCOMPARE(shot.size(), w.viewportGrid()->size());
        const QJsonObject rep = readJson(report);
        const QJsonArray repFused = rep["fused"].toObject()["probs"].toArray();
        for (int i = 0; i < 3; ++i)
            QVERIFY(std::abs(repFused[i].toDouble() - r->fusedProbs[i]) < 1e-6);
        QCOMPARE(rep["device"].toString(), QString("cpu"));
        QCOMPARE(rep["gate"].toArray().size(), 2);
        QVERIFY(!rep["model"].toObject()["fingerprint_sha256"].toString().isEmpty());
        QVERIFY(!rep["inputs"].toArray()[0].toObject().contains("patient"));
        QVERIFY(w.exportTo(png, report, true, &error));
        QVERIFY(readJson(report)["inputs"].toArray()[0].toObject().contains("patient"));
        w.shutdown();
    }

    void emptySlotIsReportedBeforeTheRun()
    {
        MainWindow w;
        QSignalSpy loaded(&w, &MainWindow::modelLoaded);
        w.openModel(model_);
        QVERIFY(loaded.wait(60000));
        QVERIFY(w.openFiles({cfp_}).isEmpty());
        QSignalSpy refused(&w, &MainWindow::runRefused);
        QVERIFY(!w.runInference());
        QCOMPARE(refused.size(), 1);
        QVERIFY(refused.first().first().toString().contains("OCT"));
        QVERIFY(w.messageText().contains("OCT"));
        QVERIFY(!w.isRunning());
        w.shutdown();
    }

    void cancelStopsARun()
    {
        MainWindow w;
        QSignalSpy loaded(&w, &MainWindow::modelLoaded);
        w.openModel(model_);
        QVERIFY(loaded.wait(60000));
        QVERIFY(w.openFiles({cfp_, oct_}).isEmpty());
        QSignalSpy cancelled(&w, &MainWindow::inferenceCancelled);
        QSignalSpy done(&w, &MainWindow::inferenceFinished);
        QVERIFY(w.runInference());
        QVERIFY(w.isRunning());
        w.cancelInference();
        QVERIFY(cancelled.wait(60000));
        QCOMPARE(done.size(), 0);
        QVERIFY(!w.currentResult());
        QTRY_VERIFY(!w.isRunning());
        QCOMPARE(w.cacheSize(), 0);
        // and the window still works afterwards
        QVERIFY(w.runInference());
        QVERIFY(done.wait(120000));
        QVERIFY(w.currentResult());
        w.shutdown();
    }

    void badFilesAreReportedNotFatal()
    {
        MainWindow w;
        const QString bad = dir_.filePath("broken.png");
        QFile f(bad);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("\x89PNG not really");
        f.close();
        const QStringList problems = w.openFiles({bad});
        QCOMPARE(problems.size(), 1);
        QVERIFY(problems.first().contains("broken.png"));
        QVERIFY(w.messageText().contains("broken.png"));
        QSignalSpy failed(&w, &MainWindow::modelFailed);
        w.openModel(bad);
        QVERIFY(failed.wait(60000));
        QVERIFY(w.messageText().contains("broken.png"));
    }
};

EI_REGISTER_TEST(MainWindowTest);
#include "MainWindowTest.moc"

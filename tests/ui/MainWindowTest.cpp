// The whole window on a real (tiny, random) model made by `eiview-cli init`: a run on the
// worker whose numbers the charts show and which match `eiview-cli infer` on the same
// files, overlays that toggle, the export (PNG + JSON), and the notice line showing the
// session's messages. The study logic itself (placement, cache, cancel, loading) is
// tested without widgets in tests/core/StudySessionTest.
#include "core/jobs/TaskList.h"
#include "core/study/StudySession.h"
#include "core/view/Measurement.h"
#include "ui/panels/TaskPanel.h"
#include "tests/TestRegistry.h"
#include "tests/TinyStudy.h"
#include "ui/window/MainWindow.h"
#include "ui/panels/MeasurementPanel.h"
#include "ui/panels/OverlayPanel.h"
#include "ui/panels/PredictionPanel.h"
#include "ui/panels/StudyPanel.h"
#include "ui/viewer/Viewport.h"
#include "ui/viewer/ViewportGrid.h"

#include <QComboBox>
#include <QCoreApplication>
#include <QImage>
#include <QJsonArray>
#include <QMenu>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QPushButton>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTemporaryDir>
#include <QtTest>

#include <cmath>

using namespace ei;

namespace {

QJsonObject readJson(const QString& path)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return {};
    return QJsonDocument::fromJson(f.readAll()).object();
}

}  // namespace

class MainWindowTest : public QObject {
    Q_OBJECT
    QTemporaryDir dir_;
    QString model_, cfp_, oct_;

    // The window shown at 1400 x 900 with the tiny model loaded on the CPU.
    bool showWithModel(MainWindow& w)
    {
        w.resize(1400, 900);
        w.show();
        QSignalSpy loaded(&w, &MainWindow::modelLoaded);
        w.setDevice("cpu");
        w.openModel(model_);
        return loaded.wait(60000);
    }

private Q_SLOTS:
    void initTestCase()
    {
        QCoreApplication::setOrganizationName(QStringLiteral("EIViewTests"));  // keep the user's settings apart
        QVERIFY(dir_.isValid());
        test::TinyStudy tiny;
        const QString err = test::makeTinyStudy(dir_.path(), tiny);
        QVERIFY2(err.isEmpty(), qPrintable(err));
        model_ = tiny.model;
        cfp_ = tiny.cfp;
        oct_ = tiny.oct;
    }

    void runShowsTheEnginesNumbers()
    {
        MainWindow w;
        QVERIFY(showWithModel(w));
        QCOMPARE(w.slotNames(), QStringList({"CFP", "OCT"}));
        QCOMPARE(test::openAndWait(w, {oct_, cfp_}), QStringList());  // reverse order: the file names decide
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
        const QString err = test::runCli({"infer", "--model", model_, "--device", "cpu", "--input", "CFP=" + cfp_, "--input",
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
        // Issue 13, #16: one viewport is offered only its own maps (no "[INT] from" itself).
        QVERIFY(w.overlayPanel()->mapKinds().contains("int_CFP"));  // all viewports: OCT has it
        auto* target = w.overlayPanel()->findChild<QComboBox*>("targetCombo");
        QVERIFY(target);
        target->setCurrentIndex(target->findData("CFP"));
        QCOMPARE(w.overlayPanel()->mapKinds(), v->availableMapKinds());
        QVERIFY(!w.overlayPanel()->mapKinds().contains("int_CFP"));
        target->setCurrentIndex(target->findData(QString()));
        QVERIFY(w.overlayPanel()->mapKinds().contains("int_CFP"));

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
        // Issue 13, #12: the PNG is the viewports without the active frame and the empty
        // background around the images, over a footer that states the result.
        const QImage shot(png);
        QVERIFY(!shot.isNull());
        QVERIFY(shot.height() > 60);
        const QRgb accent = QColor(0x5b, 0x9b, 0xd5).rgb();
        for (int x = 0; x < shot.width(); ++x)
            QVERIFY(shot.pixel(x, 0) != accent);
        for (int y = 0; y < shot.height(); ++y)
            QVERIFY(shot.pixel(0, y) != accent);
        int footerInk = 0;  // text drawn in the footer (its last 50 rows)
        for (int y = shot.height() - 50; y < shot.height(); ++y)
            for (int x = 0; x < shot.width(); ++x)
                footerInk += shot.pixel(x, y) != shot.pixel(0, shot.height() - 1);
        QVERIFY2(footerInk > 200, qPrintable(QString::number(footerInk)));
        const QJsonObject rep = readJson(report);
        const QJsonArray repFused = rep["fused"].toObject()["probs"].toArray();
        for (int i = 0; i < 3; ++i)
            QVERIFY(std::abs(repFused[i].toDouble() - r->fusedProbs[i]) < 1e-6);
        QCOMPARE(rep["device"].toString(), QString("cpu"));
        // what ran (auto: bf16 on a CPU with AMX, else fp32), as the CLI runs it
        QVERIFY(r->precision == "fp32" || r->precision == "bf16");
        QCOMPARE(rep["precision"].toString(), QString::fromStdString(r->precision));
        QCOMPARE(cli["precision"].toString(), QString::fromStdString(r->precision));
        QCOMPARE(rep["gate"].toArray().size(), 2);
        // Issue 16: how far to trust it travels with the result.
        const QJsonObject trust = rep["uncertainty"].toObject();
        QCOMPARE(trust["calibrated"].toBool(), false);  // `init` makes no calibration
        const double g0 = r->gate[0], g1 = r->gate[1];
        QVERIFY(std::abs(trust["gate_entropy"].toDouble() + g0 * std::log(g0) + g1 * std::log(g1)) < 1e-5);
        QVERIFY(std::abs(trust["gate_evenness"].toDouble() - trust["gate_entropy"].toDouble() / std::log(2.0)) < 1e-9);
        QVERIFY(!trust["gate"].toString().isEmpty());
        QCOMPARE(rep["fused"].toObject()["probs_uncalibrated"].toArray(), rep["fused"].toObject()["probs"].toArray());
        QVERIFY(w.predictionPanel()->uncertaintyText().contains("Not calibrated"));
        QVERIFY(!rep["model"].toObject()["fingerprint_sha256"].toString().isEmpty());
        QVERIFY(!rep["inputs"].toArray()[0].toObject().contains("patient"));
        QVERIFY(w.exportTo(png, report, true, &error));
        QVERIFY(readJson(report)["inputs"].toArray()[0].toObject().contains("patient"));

        // A measurement drawn with the mouse shows in the panel and goes into the PDF.
        Viewport* cfp = w.viewportGrid()->viewport("CFP");
        w.viewportGrid()->setActiveViewport(cfp);
        w.focusActiveViewport();
        QTest::keyClick(&w, Qt::Key_B);  // rectangle tool
        QCOMPARE(cfp->tool(), Viewport::Tool::Rectangle);
        const QPoint a = cfp->imageToWidget(QPointF(4, 4)).toPoint(), b = cfp->imageToWidget(QPointF(24, 20)).toPoint();
        QTest::mousePress(cfp, Qt::LeftButton, {}, a);
        QTest::mouseMove(cfp, b);
        QTest::mouseRelease(cfp, Qt::LeftButton, {}, b);
        QCOMPARE(w.measurementPanel()->count(), 1);
        QVERIFY2(w.measurementPanel()->text(0).contains("Rectangle: area"), qPrintable(w.measurementPanel()->text(0)));
        QVERIFY(w.measurementPanel()->text(0).contains("heat map mean"));
        const QString pdf = dir_.filePath("export.pdf");
        QVERIFY2(w.exportTo(png, report, false, &error, pdf), qPrintable(error));
        QCOMPARE(readJson(report)["measurements"].toArray().size(), 1);
        QProcess text;
        text.start("pdftotext", {"-layout", pdf, "-"});
        QVERIFY(text.waitForFinished(30000));
        const QString pdfText = QString::fromUtf8(text.readAllStandardOutput());
        QVERIFY2(pdfText.contains("EIView result"), qPrintable(pdfText));
        QVERIFY(pdfText.contains("Intended use"));
        QVERIFY(pdfText.contains("Rectangle: area"));
        QVERIFY(pdfText.contains(QString::fromStdString(r->modelFingerprint).left(16)));
        QProcess info;
        info.start("pdfinfo", {pdf});
        QVERIFY(info.waitForFinished(30000));
        QVERIFY(QString::fromUtf8(info.readAllStandardOutput()).contains(QRegularExpression("Pages:\\s+1\\b")));
        // Delete from the panel.
        w.measurementPanel()->selectRow(0);
        for (QPushButton* button : w.measurementPanel()->findChildren<QPushButton*>())
            if (button->text() == "Delete")
                button->click();
        QCOMPARE(w.measurementPanel()->count(), 0);
        QVERIFY(w.session()->measurements()->all().isEmpty());

        // Issue 15: the precision box reloads the model in the other precision than auto's
        // (fp32 and bf16 on the CPU); the status bar says what runs, the run is a new one
        // (not the first result from the cache) and close to it.
        auto* precision = w.findChild<QComboBox*>("precisionBox");
        QVERIFY(precision);
        QCOMPARE(precision->currentData().toString(), QString("auto"));
        const QString other = r->precision == "bf16" ? "fp32" : "bf16";
        QSignalSpy loaded(&w, &MainWindow::modelLoaded);
        precision->setCurrentIndex(precision->findData(other));
        Q_EMIT precision->activated(precision->currentIndex());
        QVERIFY(loaded.wait(60000));
        QCOMPARE(w.runsOnText(), "CPU, " + other);
        done.clear();
        QVERIFY(w.runInference());
        QVERIFY(done.wait(120000));
        auto low = w.currentResult();
        QVERIFY(low && low != r);
        QCOMPARE(QString::fromStdString(low->precision), other);
        QCOMPARE(w.cacheSize(), 2);
        for (int i = 0; i < 3; ++i)
            QVERIFY(std::abs(low->fusedProbs[i] - r->fusedProbs[i]) <= 0.02);
        w.shutdown();
    }

    void pixelAttributionsOnDemand()
    {
        // Run, then ask for the pixels that drove "lesion": computed on the worker with
        // progress, shown as its own overlay kind in every viewport, summarised in the
        // panel and carried by the export.
        MainWindow w;
        QVERIFY(showWithModel(w));
        QCOMPARE(test::openAndWait(w, {cfp_, oct_}), QStringList());
        auto* button = w.findChild<QPushButton*>("attributionButton");
        QVERIFY(button && !button->isEnabled());  // nothing to explain yet
        QSignalSpy done(&w, &MainWindow::inferenceFinished);
        QVERIFY(w.runInference());
        QVERIFY(done.wait(120000));
        QTRY_VERIFY(button->isEnabled());
        auto* classes = w.findChild<QComboBox*>("attributionClass");
        QCOMPARE(classes->count(), 3);
        classes->setCurrentIndex(1);
        w.findChild<QSpinBox*>("attributionSteps")->setValue(4);
        QSignalSpy attributed(w.session(), &StudySession::attributionFinished);
        QSignalSpy progress(w.session(), &StudySession::runProgress);
        QTest::mouseClick(button, Qt::LeftButton);
        QVERIFY(attributed.wait(120000));
        QVERIFY(progress.count() > 0);
        const auto r = w.currentResult();
        QVERIFY(r && r->attribution);
        QCOMPARE(r->attribution->targetIndex, 1);
        QCOMPARE(r->attribution->steps, 4);
        for (const char* slot : {"CFP", "OCT"}) {
            Viewport* v = w.viewportGrid()->viewport(slot);
            QVERIFY(v->availableMapKinds().contains("ig"));
            QCOMPARE(v->overlaySettings().kind, QString("ig"));
            QVERIFY(v->currentMap() && v->currentMap()->patch == 1);
        }
        const QString status = w.findChild<OverlayPanel*>()->attributionStatus();
        QVERIFY2(status.contains("completeness gap"), qPrintable(status));
        QString error;
        QVERIFY2(w.exportTo(dir_.filePath("ig.png"), dir_.filePath("ig.json"), false, &error), qPrintable(error));
        const QJsonObject j = readJson(dir_.filePath("ig.json"));
        QCOMPARE(j["attribution"].toObject()["steps"].toInt(), 4);
        QCOMPARE(j["attribution"].toObject()["modalities"].toArray().size(), 2);
    }

    void aStudyWithoutOctSaysSoEverywhere()
    {
        // The OCT was not taken: the run uses CFP alone, and the panel, the gate chart, the
        // empty viewport and the export all say the prediction was computed without it.
        MainWindow w;
        QVERIFY(showWithModel(w));
        QCOMPARE(test::openAndWait(w, {cfp_}), QStringList());
        QSignalSpy done(&w, &MainWindow::inferenceFinished);
        QVERIFY(w.runInference());
        QVERIFY(done.wait(120000));
        auto r = w.currentResult();
        QVERIFY(r);
        QCOMPARE(r->missing(), std::vector<std::string>{"OCT"});
        PredictionPanel* panel = w.predictionPanel();
        QVERIFY(panel->missingNoticeText().contains("Computed without OCT"));
        QCOMPARE(panel->gateValues(), QVector<double>{1.0});      // only what was used
        QVERIFY(!panel->seriesNames().contains("OCT"));
        QVERIFY(panel->seriesNames().contains("CFP"));
        QVERIFY(w.viewportGrid()->viewport("OCT")->emptySlotText().contains("computed without it"));
        QVERIFY(w.viewportGrid()->viewport("CFP")->currentMap());

        const QString png = dir_.filePath("without-oct.png");
        QString error;
        QVERIFY2(w.exportTo(png, dir_.filePath("without-oct.json"), false, &error), qPrintable(error));
        const QJsonObject j = readJson(dir_.filePath("without-oct.json"));
        QCOMPARE(j["missing"].toArray(), QJsonArray({"OCT"}));
        QVERIFY(j["uncertainty"].toObject()["gate_entropy"].isNull());  // one modality: no choice to measure
        QCOMPARE(j["uncertainty"].toObject()["gate"].toString(), QString("Only CFP was available to the fusion"));
        QCOMPARE(j["modalities"].toArray().size(), 1);

        // With the OCT added the notice goes with the old result.
        QCOMPARE(test::openAndWait(w, {oct_}), QStringList());
        QVERIFY(panel->missingNoticeText().isEmpty());
        QVERIFY(!w.viewportGrid()->viewport("OCT")->emptySlotText().contains("computed without it"));
    }

    void shortcutsActOnTheActiveViewport()
    {
        // Issue 13, #1 and #2: Alt+1..9 worked only after the presets menu had been opened,
        // and then on the viewport active at that time; L left the panel's checkbox as it was.
        MainWindow w;
        w.resize(1200, 800);
        w.show();
        QVERIFY(QTest::qWaitForWindowActive(&w));
        QCOMPARE(test::openAndWait(w, {cfp_, oct_}), QStringList());
        Viewport* first = w.viewportGrid()->viewport("Image 1");
        Viewport* second = w.viewportGrid()->viewport("Image 2");
        QVERIFY(first && second);
        const double firstWidth = first->windowWidth(), secondWidth = second->windowWidth();
        w.viewportGrid()->setActiveViewport(second);
        QTest::keyClick(&w, Qt::Key_3, Qt::AltModifier);  // "Auto contrast (1-99 %)" for photos
        QVERIFY2(second->windowWidth() < secondWidth, qPrintable(QString::number(second->windowWidth())));
        QCOMPARE(first->windowWidth(), firstWidth);
        w.viewportGrid()->setActiveViewport(first);
        QTest::keyClick(&w, Qt::Key_3, Qt::AltModifier);
        QVERIFY(first->windowWidth() < firstWidth);

        QVERIFY(!w.overlayPanel()->linked());
        QTest::keyClick(&w, Qt::Key_L);
        QVERIFY(w.viewportGrid()->linked());
        QVERIFY(w.overlayPanel()->linked());
        QTest::keyClick(&w, Qt::Key_L);
        QVERIFY(!w.viewportGrid()->linked());
        QVERIFY(!w.overlayPanel()->linked());
        w.shutdown();
    }

    void viewMenuDrivesLayoutOrientationAndFocus()
    {
        MainWindow w;
        w.resize(1200, 800);
        w.show();
        QVERIFY(QTest::qWaitForWindowActive(&w));
        QCOMPARE(test::openAndWait(w, {cfp_, oct_}), QStringList());
        ViewportGrid* grid = w.viewportGrid();
        Viewport* first = grid->viewport("Image 1");
        Viewport* second = grid->viewport("Image 2");
        grid->setActiveViewport(first);
        w.focusActiveViewport();

        // Z maximises the active viewport and brings the grid back.
        QTest::keyClick(&w, Qt::Key_Z);
        QCOMPARE(grid->maximized(), first);
        QTRY_VERIFY(!second->isVisible());
        QTest::keyClick(&w, Qt::Key_Z);
        QVERIFY(!grid->maximized());
        QTRY_VERIFY(second->isVisible());
        grid->setGridLayout(ViewportGrid::Layout::Column);
        QTRY_VERIFY(second->geometry().top() >= first->geometry().bottom());
        // The Layout menu marks the current choice.
        int layoutMenus = 0;
        for (QMenu* menu : w.findChildren<QMenu*>())
            if (menu->title() == "&Layout") {
                ++layoutMenus;
                Q_EMIT menu->aboutToShow();
                QStringList checked;
                for (QAction* a : menu->actions())
                    if (a->isChecked())
                        checked << a->text();
                QCOMPARE(checked, QStringList{QString::fromUtf8("One &column (N \u00d7 1)")});
            }
        QCOMPARE(layoutMenus, 1);
        QCOMPARE(ViewportGrid::shapeFor(3, ViewportGrid::Layout::TwoByTwo), std::make_pair(2, 2));

        // Orientation keys act on the active viewport only.
        QTest::keyClick(&w, Qt::Key_BracketRight);
        QCOMPARE(first->rotation(), 1);
        QCOMPARE(second->rotation(), 0);
        QTest::keyClick(&w, Qt::Key_H);
        QVERIFY(first->flipped());
        QTest::keyClick(&w, Qt::Key_I, Qt::ControlModifier);
        QVERIFY(first->inverted());
        QTest::keyClick(&w, Qt::Key_0, Qt::ControlModifier);
        QVERIFY(!first->flipped() && !first->inverted() && first->rotation() == 0);

        // Issue 13, #6: with the views unlinked, + zooms the active one; Shift+F fits all.
        QTest::keyClick(&w, Qt::Key_Plus);
        grid->setActiveViewport(second);
        QTest::keyClick(&w, Qt::Key_Plus);
        QVERIFY(!first->fitting() && !second->fitting());
        QTest::keyClick(&w, Qt::Key_F, Qt::ShiftModifier);
        QVERIFY(first->fitting() && second->fitting());

        // Issue 13, #19: after a dialog the keys act on the image again.
        w.overlayPanel()->findChild<QComboBox*>("targetCombo")->setFocus();
        int dialogHeight = -1;
        QTimer::singleShot(200, [&dialogHeight] {
            if (QWidget* box = QApplication::activeModalWidget()) {
                dialogHeight = box->height();
                box->close();
            }
        });
        QTest::keyClick(&w, Qt::Key_F1);
        // The list fits the screen (it scrolls) instead of running off it.
        QVERIFY(dialogHeight > 0 && dialogHeight <= w.screen()->availableGeometry().height());
        QTRY_COMPARE(w.focusWidget(), static_cast<QWidget*>(second));
        w.shutdown();
    }

    void groundTruthMaskBesideTheMap()
    {
        MainWindow w;
        w.resize(1200, 800);
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        QSignalSpy loaded(&w, &MainWindow::modelLoaded);
        w.setDevice("cpu");
        w.openModel(model_);
        QVERIFY(loaded.wait(60000));
        QCOMPARE(test::openAndWait(w, {cfp_, oct_}), QStringList());
        QSignalSpy done(&w, &MainWindow::inferenceFinished);
        QVERIFY(w.runInference());
        QVERIFY(done.wait(120000));

        Viewport* cfp = w.viewportGrid()->viewport("CFP");
        const Image* image = cfp->image();
        QImage maskPng(image->width, image->height, QImage::Format_Grayscale8);  // left half: label 1
        maskPng.fill(0);
        for (int y = 0; y < image->height; ++y)
            for (int x = 0; x < image->width / 2; ++x)
                maskPng.setPixel(x, y, qRgb(1, 1, 1));
        const QString maskPath = dir_.filePath("cfp-mask.png");
        QVERIFY(maskPng.save(maskPath));
        w.viewportGrid()->setActiveViewport(cfp);
        QSignalSpy maskChanged(w.session(), &StudySession::maskChanged);
        QVERIFY(w.openMask(maskPath) != 0);
        QVERIFY(maskChanged.wait(30000));
        QVERIFY(cfp->mask());
        QVERIFY2(w.overlayPanel()->maskReadout().contains("hottest 10 %"), qPrintable(w.overlayPanel()->maskReadout()));
        // The outline is drawn in label 1's colour; K: filled, then hidden.
        w.setOverlayVisible(false);
        auto labelled = [cfp] {
            const QImage shot = cfp->grab().toImage();
            const QColor c = Viewport::labelColor(1);
            int n = 0;
            for (int y = 0; y < shot.height(); ++y)
                for (int x = 0; x < shot.width(); ++x) {
                    const QColor p = shot.pixelColor(x, y);
                    n += std::abs(p.red() - c.red()) < 30 && std::abs(p.green() - c.green()) < 30 && std::abs(p.blue() - c.blue()) < 30;
                }
            return n;
        };
        const int outline = labelled();
        QVERIFY2(outline > 20, qPrintable(QString::number(outline)));
        w.focusActiveViewport();
        QTest::keyClick(&w, Qt::Key_K);
        QCOMPARE(cfp->maskStyle(), Viewport::MaskStyle::Fill);
        QTest::keyClick(&w, Qt::Key_K);
        QCOMPARE(cfp->maskStyle(), Viewport::MaskStyle::Hidden);
        QCOMPARE(labelled(), 0);
        // A mask that does not fit is reported by name; the mask goes with its image.
        const QString bad = dir_.filePath("empty-mask.png");
        maskPng.fill(0);
        QVERIFY(maskPng.save(bad));
        w.openMask(bad);
        QTRY_VERIFY_WITH_TIMEOUT(w.messageText().contains("empty-mask.png"), 30000);
        w.clearSlot("CFP");
        QVERIFY(!w.session()->mask("CFP"));
        QCOMPARE(w.overlayPanel()->maskReadout(), QString());
        w.shutdown();
    }

    void badFilesAreReportedNotFatal()
    {
        MainWindow w;
        const QString bad = dir_.filePath("broken.png");
        QVERIFY(test::writeBytes(bad, "\x89PNG not really"));
        const QStringList problems = test::openAndWait(w, {bad});
        QCOMPARE(problems.size(), 1);
        QVERIFY(problems.first().contains("broken.png"));
        QVERIFY(w.messageText().contains("broken.png"));
        QSignalSpy failed(&w, &MainWindow::modelFailed);
        w.openModel(bad);
        QVERIFY(failed.wait(60000));
        QVERIFY(w.messageText().contains("broken.png"));
        // The failed load stays readable in the task list.
        const auto tasks = w.session()->tasks()->tasks();
        QVERIFY(!tasks.isEmpty());
        QCOMPARE(tasks.first().state, JobState::Failed);
        QVERIFY(tasks.first().message.contains("broken.png"));
        QVERIFY(w.taskPanel()->visibleRows() >= 1);
        w.shutdown();
    }
};

EI_REGISTER_TEST(MainWindowTest);
#include "MainWindowTest.moc"

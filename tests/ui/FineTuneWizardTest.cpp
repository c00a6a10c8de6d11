// The fine-tuning wizard driven offscreen through every page on a tiny run: a broken
// manifest blocks the first page with its problems listed, a good one shows counts;
// the backbone's family is detected; the run page trains (loss curve filled, stage
// and device shown) and the results page lists per-class metrics and where the
// model was saved.
#include "core/training/FineTuneSettings.h"
#include "core/training/TrainingJob.h"
#include "tests/TestRegistry.h"
#include "tests/TinyStudy.h"
#include "ui/wizard/FineTuneWizard.h"
#include "ui/QCustomPlotInclude.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDialog>
#include <QPlainTextEdit>
#include <QProcess>
#include <QRandomGenerator>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QPushButton>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QtTest>

#include <nlohmann/json.hpp>

#include <fstream>
#include <memory>

namespace ei {

class FineTuneWizardTest : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void walksThroughAllPagesOnATinyRun()
    {
        QTemporaryDir dir;
        test::writeTinyTrainingSet(dir.path(), 16);
        std::ofstream(dir.filePath("bad.csv").toStdString()) << "id,split,label,CFP\n1,train,x,data/img/none.png\n";

        FineTuneWizard wizard;
        QSignalSpy openSpy(&wizard, &FineTuneWizard::openModelRequested);
        wizard.show();
        QCOMPARE(wizard.currentId(), int(FineTuneWizard::DataSetPageId));
        auto* manifestEdit = wizard.findChild<QLineEdit*>("manifestEdit");
        manifestEdit->setText(dir.filePath("bad.csv"));
        auto* problems = wizard.findChild<QListWidget*>("problemsList");
        QTRY_VERIFY(!wizard.settings()->isCheckingManifest());  // checked on a worker
        QVERIFY(problems->count() >= 2);
        QVERIFY(problems->item(0)->text().startsWith("row 2"));
        QVERIFY(!wizard.button(QWizard::NextButton)->isEnabled());

        manifestEdit->setText(dir.filePath("data/manifest.csv"));
        QVERIFY(wizard.settings()->isCheckingManifest());
        QVERIFY(!wizard.button(QWizard::NextButton)->isEnabled());  // not before the check is done
        QTRY_VERIFY_WITH_TIMEOUT(wizard.button(QWizard::NextButton)->isEnabled(), 60000);
        QCOMPARE(problems->count(), 0);
        QVERIFY(wizard.findChild<QLabel*>("classCountsLabel")->text().contains("train"));
        QVERIFY(wizard.findChild<QTableWidget*>("previewTable")->rowCount() > 0);
        QVERIFY(wizard.button(QWizard::NextButton)->isEnabled());
        wizard.next();

        QCOMPARE(wizard.currentId(), int(FineTuneWizard::ModelPageId));
        QVERIFY(!wizard.button(QWizard::NextButton)->isEnabled());  // no backbone yet
        wizard.findChild<QLineEdit*>("backboneEdit")->setText(dir.filePath("backbone.safetensors"));
        QVERIFY2(wizard.findChild<QLabel*>("familyLabel")->text().contains("dinov2"),
                 qPrintable(wizard.findChild<QLabel*>("familyLabel")->text()));
        wizard.findChild<QSpinBox*>("sizeSpin_CFP")->setValue(32);
        wizard.findChild<QSpinBox*>("sizeSpin_OCT")->setValue(32);
        wizard.findChild<QComboBox*>("fusionCombo")->setCurrentText("late");
        wizard.next();

        QCOMPARE(wizard.currentId(), int(FineTuneWizard::SettingsPageId));
        auto* epochs = wizard.findChild<QSpinBox*>("epochsSpin");
        QCOMPARE(epochs->value(), 200);  // the paper's default
        QVERIFY(!epochs->toolTip().isEmpty());
        epochs->setValue(1);
        wizard.findChild<QComboBox*>("deviceCombo")->setCurrentText("cpu");
        auto* optimizer = wizard.findChild<QComboBox*>("optimizerCombo");
        QCOMPARE(optimizer->currentText(), QString("sgd"));  // the paper's
        optimizer->setCurrentText("adamw");
        auto* dropout = wizard.findChild<QDoubleSpinBox*>("dropoutSpin");
        QCOMPARE(dropout->value(), 0.0);  // the paper's recipe has none
        QVERIFY(!dropout->toolTip().isEmpty());
        dropout->setValue(0.3);
        const auto config = nlohmann::json::parse(wizard.trainConfigJson().toStdString());
        QCOMPARE(config["model"]["fusion"].get<std::string>(), std::string("late"));
        QCOMPARE(config["max_epochs"].get<int>(), 1);
        QCOMPARE(config["optimizer"]["momentum"].get<double>(), 0.95);
        QCOMPARE(config["optimizer"]["kind"].get<std::string>(), std::string("adamw"));
        QCOMPARE(config["modality_dropout"].get<double>(), 0.3);
        QCOMPARE(config["calibrate"].get<bool>(), true);
        wizard.next();

        QCOMPARE(wizard.currentId(), int(FineTuneWizard::RunPageId));
        QVERIFY(!wizard.button(QWizard::NextButton)->isEnabled());
        wizard.findChild<QLineEdit*>("outEdit")->setText(dir.filePath("run"));
        QSignalSpy progress(wizard.job(), &TrainingJob::progress);
        QTest::mouseClick(wizard.findChild<QPushButton*>("startButton"), Qt::LeftButton);
        QTRY_VERIFY_WITH_TIMEOUT(wizard.button(QWizard::NextButton)->isEnabled(), 600000);
        // The job's fraction of the run (the page's ETA uses it) only grows, up to the end.
        QVERIFY(progress.count() > 0);
        for (int i = 1; i < progress.count(); ++i)
            QVERIFY(progress.at(i).at(1).toDouble() >= progress.at(i - 1).at(1).toDouble());
        QCOMPARE(progress.last().at(1).toDouble(), 1.0);
        QVERIFY(wizard.findChild<QLabel*>("deviceLabel")->text().contains("cpu"));
        auto* plot = wizard.findChild<QCustomPlot*>("lossPlot");
        QVERIFY(plot->graph(0)->dataCount() > 0);  // loss per step
        QVERIFY(plot->graph(1)->dataCount() >= 2);  // val mAP before and after an epoch
        // Issue 13, #8: stages are marked (a line and a name each), the loss axis is
        // logarithmic, and the chart is dark like the window.
        QVERIFY2(plot->itemCount() >= 2, qPrintable(QString::number(plot->itemCount())));
        QCOMPARE(plot->yAxis->scaleType(), QCPAxis::stLogarithmic);
        QVERIFY(plot->toPixmap(200, 120).toImage().pixelColor(3, 3).lightness() < 60);
        QVERIFY(QFile::exists(wizard.modelPath()));
        wizard.next();

        QCOMPARE(wizard.currentId(), int(FineTuneWizard::ResultsPageId));
        auto* table = wizard.findChild<QTableWidget*>("resultsTable");
        QCOMPARE(table->rowCount(), 3);  // two classes + the mean
        QCOMPARE(table->item(0, 0)->text(), QString("lesion"));
        auto* roc = wizard.findChild<QCustomPlot*>("curvePlot");
        QCOMPARE(roc->plottableCount(), 2);  // one ROC curve per class, from (0, 0) to (1, 1)
        auto* rocCurve = qobject_cast<QCPCurve*>(roc->plottable(0));
        QVERIFY(rocCurve && rocCurve->dataCount() >= 2);
        QCOMPARE(rocCurve->data()->at(0)->key, 0.0);
        QCOMPARE(rocCurve->data()->at(rocCurve->dataCount() - 1)->value, 1.0);
        QVERIFY(roc->toPixmap(200, 120).toImage().pixelColor(3, 3).lightness() < 60);
        auto* pr = wizard.findChild<QCustomPlot*>("prPlot");
        QCOMPARE(pr->plottableCount(), 2);  // one PR curve per class
        auto* prCurve = qobject_cast<QCPCurve*>(pr->plottable(0));
        QVERIFY(prCurve && prCurve->dataCount() >= 1);
        // Issue 13, #8: it starts at recall 0 with precision 1, not at (0, 0).
        QCOMPARE(prCurve->data()->at(0)->key, 0.0);
        QCOMPARE(prCurve->data()->at(0)->value, 1.0);
        for (int i = 1; i < prCurve->dataCount(); ++i)
            QVERIFY(prCurve->data()->at(i)->key > 0 && prCurve->data()->at(i)->value > 0);
        // The reliability diagram: before and after the calibration fitted on val.
        auto* reliability = wizard.findChild<QCustomPlot*>("reliabilityPlot");
        QCOMPARE(reliability->plottableCount(), 2);
        QCOMPARE(reliability->plottable(1)->name(), QString("calibrated"));
        QVERIFY(qobject_cast<QCPCurve*>(reliability->plottable(0))->dataCount() >= 1);
        const QString calibration = wizard.findChild<QLabel*>("calibrationLabel")->text();
        QVERIFY2(calibration.contains("ECE") && calibration.contains("without CFP"), qPrintable(calibration));
        QVERIFY(wizard.findChild<QLabel*>("savedLabel")->text().contains("model.eimodel"));
        QTest::mouseClick(wizard.findChild<QPushButton*>("openButton"), Qt::LeftButton);
        QCOMPARE(openSpy.count(), 1);
        QCOMPARE(openSpy.at(0).at(0).toString(), wizard.modelPath());
    }

    // Issue 17: "Several machines..." prints one command per node; run as printed (two
    // real ranks on loopback), rank 0's progress is followed into the same curves.
    void launchesOnSeveralMachinesAndWatchesRankZero()
    {
        QTemporaryDir dir;
        test::writeTinyTrainingSet(dir.path(), 16);
        FineTuneWizard wizard;
        wizard.show();
        wizard.findChild<QLineEdit*>("manifestEdit")->setText(dir.filePath("data/manifest.csv"));
        QTRY_VERIFY_WITH_TIMEOUT(wizard.button(QWizard::NextButton)->isEnabled(), 60000);
        wizard.next();
        wizard.findChild<QLineEdit*>("backboneEdit")->setText(dir.filePath("backbone.safetensors"));
        wizard.findChild<QSpinBox*>("sizeSpin_CFP")->setValue(32);
        wizard.findChild<QSpinBox*>("sizeSpin_OCT")->setValue(32);
        wizard.next();
        wizard.findChild<QSpinBox*>("epochsSpin")->setValue(1);
        wizard.findChild<QComboBox*>("deviceCombo")->setCurrentText("cpu");
        wizard.next();
        QCOMPARE(wizard.currentId(), int(FineTuneWizard::RunPageId));
        const QString run = dir.filePath("shared run");  // a blank: the commands must quote it
        wizard.findChild<QLineEdit*>("outEdit")->setText(run);

        QTest::mouseClick(wizard.findChild<QPushButton*>("remoteButton"), Qt::LeftButton);
        auto* dialog = wizard.findChild<QDialog*>("remoteRunDialog");
        QVERIFY(dialog && dialog->isVisible());
        QVERIFY(!dialog->findChild<QPushButton*>("writeWatchButton")->isEnabled());  // no machine named yet
        dialog->findChild<QLineEdit*>("hostsEdit")->setText("127.0.0.1, 127.0.0.1");
        dialog->findChild<QSpinBox*>("portSpin")->setValue(20000 + QRandomGenerator::global()->bounded(20000));
        const QStringList lines =
            dialog->findChild<QPlainTextEdit*>("launchCommands")->toPlainText().split('\n', Qt::SkipEmptyParts);
        QCOMPARE(lines.size(), 2);
        QVERIFY2(lines[1].contains("WORLD_SIZE=2 RANK=1") && lines[1].contains("'" + run + "'"), qPrintable(lines[1]));
        QTest::mouseClick(dialog->findChild<QPushButton*>("writeWatchButton"), Qt::LeftButton);
        QVERIFY(QFile::exists(run + ".train.json"));
        QVERIFY(wizard.findChild<QPushButton*>("watchButton")->isChecked());

        // Each line as the user would paste it on its machine (eiview-cli from this build).
        std::vector<std::unique_ptr<QProcess>> ranks;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert("PATH", QFileInfo(test::cliPath()).absolutePath() + ":" + env.value("PATH"));
        for (const QString& line : lines) {
            ranks.push_back(std::make_unique<QProcess>());
            ranks.back()->setProcessEnvironment(env);
            ranks.back()->start("bash", {"-c", line});
        }
        auto* stage = wizard.findChild<QLabel*>("stageLabel");
        QTRY_VERIFY_WITH_TIMEOUT(stage->text().startsWith("finished: rank 0 wrote"), 300000);
        for (auto& rank : ranks) {
            QVERIFY(rank->state() == QProcess::NotRunning || rank->waitForFinished(60000));
            QVERIFY2(rank->exitCode() == 0, rank->readAllStandardError().constData());
        }
        QVERIFY(QFile::exists(run + "/model.eimodel"));
        QVERIFY2(wizard.findChild<QLabel*>("deviceLabel")->text().contains("2 ranks"),
                 qPrintable(wizard.findChild<QLabel*>("deviceLabel")->text()));
        auto* plot = wizard.findChild<QCustomPlot*>("lossPlot");
        int steps = 0;
        QFile progress(run + "/progress.jsonl");
        QVERIFY(progress.open(QIODevice::ReadOnly));
        for (const QByteArray& l : progress.readAll().split('\n'))
            steps += l.contains("\"event\":\"step\"");
        QCOMPARE(plot->graph(0)->dataCount(), steps);  // every step of rank 0's log, once
        QVERIFY(plot->graph(1)->dataCount() >= 2);
    }
};

}  // namespace ei

using FineTuneWizardTest = ei::FineTuneWizardTest;
EI_REGISTER_TEST(FineTuneWizardTest);
#include "FineTuneWizardTest.moc"

